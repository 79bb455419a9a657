"""The chunker on tricky code: exact ids, kinds, ranges and fields.

Positions are 0-based LSP positions with UTF-16 columns (see CONTRACT.md). Each test
states the whole expected answer for its snippet, so that a broken feature shows up as
a wrong id, a wrong number or a missing field rather than passing by accident.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from aurora_lsp.index.chunker import NotPythonSource, chunk_file, chunk_text, content_hash, decode_source
from aurora_lsp.records import Chunk, ParsedChunk, ParsedFile, summarize
from aurora_lsp.tokens import count_tokens

PATH = "pkg/mod.py"


def parse(source: str | bytes) -> ParsedFile:
    if isinstance(source, bytes):
        return chunk_file(PATH, source, module="pkg.mod")
    return chunk_text(PATH, source, module="pkg.mod")


def by_id(parsed: ParsedFile) -> dict[str, ParsedChunk]:
    return {chunk.id.partition("::")[2]: chunk for chunk in parsed.chunks}


def ids(parsed: ParsedFile) -> list[str]:
    return [chunk.id.partition("::")[2] for chunk in parsed.chunks]


def rng(chunk: ParsedChunk) -> tuple[int, int, int, int]:
    return (chunk.start_line, chunk.start_char, chunk.end_line, chunk.end_char)


def sel(chunk: ParsedChunk) -> tuple[int, int]:
    return (chunk.sel_line, chunk.sel_char)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# -- decorators ------------------------------------------------------------------------

DECORATED = '''import functools

@functools.lru_cache(maxsize=None)
@register
def f(a, b=1):
    """Doc."""
    return a


@dataclass(frozen=True)
class Point:
    x: int
'''


def test_decorated_function_range_starts_at_first_decorator() -> None:
    parsed = parse(DECORATED)
    assert ids(parsed) == ["f", "Point"]
    f = by_id(parsed)["f"]
    assert f.id == "pkg/mod.py::f"
    assert f.qualname == "f" and f.name == "f" and f.kind == "function"
    assert rng(f) == (2, 0, 6, 12)  # from `@functools...` to the end of `return a`
    assert sel(f) == (4, 4)  # the name `f` on the def line
    assert f.decorators == ("functools.lru_cache(maxsize=None)", "register")
    assert f.signature == "def f(a, b=1)"
    assert f.docstring == "Doc."
    assert f.parent is None
    assert f.text == '@functools.lru_cache(maxsize=None)\n@register\ndef f(a, b=1):\n    """Doc."""\n    return a\n'
    assert "d:functools.lru_cache" in f.refs and "d:register" in f.refs
    assert parsed.problems == ()


def test_decorated_class_range_and_decorators() -> None:
    point = by_id(parse(DECORATED))["Point"]
    assert point.kind == "class"
    assert rng(point) == (9, 0, 11, 10)
    assert sel(point) == (10, 6)
    assert point.decorators == ("dataclass(frozen=True)",)
    assert point.signature == "class Point"
    assert point.text.startswith("@dataclass(frozen=True)\nclass Point:")


def test_decorated_method_range_and_multiline_decorator() -> None:
    source = (
        "class C:\n"
        "    @app.route(\n"
        '        "/x",\n'
        "        methods=['GET'],\n"
        "    )\n"
        "    @staticmethod\n"
        "    def handler(request):\n"
        "        return request\n"
    )
    handler = by_id(parse(source))["C.handler"]
    assert handler.kind == "method"
    assert handler.parent == "pkg/mod.py::C"
    assert rng(handler) == (1, 4, 7, 22)
    assert sel(handler) == (6, 8)
    assert handler.decorators == ("app.route( \"/x\", methods=['GET'], )", "staticmethod")
    assert handler.signature == "def handler(request)"


# -- nesting -----------------------------------------------------------------------------

NESTED = """class Outer:
    def method(self):
        def inner():
            class Deep:
                def leaf(self):
                    pass
            return Deep
        return inner

    class Inner:
        def m(self): pass

    if FLAG:
        def conditional_method(self):
            pass


def top():
    def helper():
        pass
    return helper
"""


def test_nested_functions_and_classes_qualnames_parents_kinds() -> None:
    parsed = parse(NESTED)
    assert ids(parsed) == [
        "Outer",
        "Outer.method",
        "Outer.method.inner",
        "Outer.method.inner.Deep",
        "Outer.method.inner.Deep.leaf",
        "Outer.Inner",
        "Outer.Inner.m",
        "Outer.conditional_method",
        "top",
        "top.helper",
    ]
    chunks = by_id(parsed)
    expected = {
        # qualname: (kind, parent qualname or None, range, selection)
        "Outer": ("class", None, (0, 0, 14, 16), (0, 6)),
        "Outer.method": ("method", "Outer", (1, 4, 7, 20), (1, 8)),
        "Outer.method.inner": ("function", "Outer.method", (2, 8, 6, 23), (2, 12)),
        "Outer.method.inner.Deep": ("class", "Outer.method.inner", (3, 12, 5, 24), (3, 18)),
        "Outer.method.inner.Deep.leaf": ("method", "Outer.method.inner.Deep", (4, 16, 5, 24), (4, 20)),
        "Outer.Inner": ("class", "Outer", (9, 4, 10, 25), (9, 10)),
        "Outer.Inner.m": ("method", "Outer.Inner", (10, 8, 10, 25), (10, 12)),
        "Outer.conditional_method": ("method", "Outer", (13, 8, 14, 16), (13, 12)),
        "top": ("function", None, (17, 0, 20, 17), (17, 4)),
        "top.helper": ("function", "top", (18, 4, 19, 12), (18, 8)),
    }
    for qualname, (kind, parent, expected_range, expected_sel) in expected.items():
        chunk = chunks[qualname]
        assert chunk.qualname == qualname
        assert chunk.name == qualname.rpartition(".")[2]
        assert chunk.kind == kind, qualname
        assert chunk.parent == (f"{PATH}::{parent}" if parent else None), qualname
        assert rng(chunk) == expected_range, qualname
        assert sel(chunk) == expected_sel, qualname


def test_parent_of_a_repeated_class_is_its_numbered_id() -> None:
    source = "class A: pass\nclass A: pass\nclass A:\n    def m(self): pass\n    def m(self): pass\n"
    parsed = parse(source)
    assert ids(parsed) == ["A", "A#2", "A#3", "A.m", "A.m#2"]
    chunks = by_id(parsed)
    assert chunks["A#2"].qualname == "A" and chunks["A#3"].qualname == "A"
    assert chunks["A.m"].parent == "pkg/mod.py::A#3"
    assert chunks["A.m#2"].parent == "pkg/mod.py::A#3"
    assert chunks["A.m#2"].qualname == "A.m"
    assert rng(chunks["A#2"]) == (1, 0, 1, 13)
    assert rng(chunks["A.m#2"]) == (4, 4, 4, 21)


def test_deeply_nested_definitions() -> None:
    depth = 95  # CPython allows at most 100 indentation levels
    source = "".join("    " * i + f"def f{i}():\n" for i in range(depth)) + "    " * depth + "pass\n"
    parsed = parse(source)
    assert len(parsed.chunks) == depth
    last = parsed.chunks[-1]
    assert last.qualname == ".".join(f"f{i}" for i in range(depth))
    assert last.parent == f"{PATH}::" + ".".join(f"f{i}" for i in range(depth - 1))
    assert rng(last) == (depth - 1, 4 * (depth - 1), depth, 4 * depth + 4)
    assert parsed.problems == ()


# -- repeated names ----------------------------------------------------------------------


def test_property_getter_and_setter() -> None:
    source = """class C:
    @property
    def x(self):
        return self._x

    @x.setter
    def x(self, value):
        self._x = value
"""
    parsed = parse(source)
    assert ids(parsed) == ["C", "C.x", "C.x#2"]
    chunks = by_id(parsed)
    getter, setter = chunks["C.x"], chunks["C.x#2"]
    assert getter.qualname == setter.qualname == "C.x"
    assert getter.name == setter.name == "x"
    assert getter.kind == setter.kind == "method"
    assert getter.parent == setter.parent == "pkg/mod.py::C"
    assert getter.decorators == ("property",)
    assert setter.decorators == ("x.setter",)
    assert rng(getter) == (1, 4, 3, 22)
    assert rng(setter) == (5, 4, 7, 23)
    assert sel(getter) == (2, 8) and sel(setter) == (6, 8)
    assert getter.signature == "def x(self)"
    assert setter.signature == "def x(self, value)"


def test_overload_stubs_and_implementation() -> None:
    source = """from typing import overload

@overload
def f(x: int) -> int: ...
@overload
def f(x: str) -> str: ...
def f(x):
    return x
"""
    parsed = parse(source)
    assert ids(parsed) == ["f", "f#2", "f#3"]
    chunks = by_id(parsed)
    assert [chunks[i].signature for i in ("f", "f#2", "f#3")] == [
        "def f(x: int) -> int",
        "def f(x: str) -> str",
        "def f(x)",
    ]
    assert chunks["f"].decorators == ("overload",) and chunks["f#2"].decorators == ("overload",)
    assert chunks["f#3"].decorators == ()
    assert rng(chunks["f"]) == (2, 0, 3, 25)
    assert rng(chunks["f#2"]) == (4, 0, 5, 25)
    assert rng(chunks["f#3"]) == (6, 0, 7, 12)
    assert all(chunks[i].qualname == "f" and chunks[i].kind == "function" for i in ("f", "f#2", "f#3"))


def test_conditional_definitions_if_else_and_try_except() -> None:
    source = """import sys

if sys.platform == "win32":
    def f():
        return "nt"
else:
    def f():
        return "posix"

try:
    from fast import g
except ImportError:
    def g(x):
        return x
else:
    pass
finally:
    def g(x):
        return -x

while False:
    class K: pass
with ctx:
    class K: pass
"""
    parsed = parse(source)
    assert ids(parsed) == ["f", "f#2", "g", "g#2", "K", "K#2"]
    chunks = by_id(parsed)
    assert rng(chunks["f"]) == (3, 4, 4, 19)
    assert rng(chunks["f#2"]) == (6, 4, 7, 22)
    assert rng(chunks["g"]) == (12, 4, 13, 16)
    assert rng(chunks["g#2"]) == (17, 4, 18, 17)
    assert rng(chunks["K"]) == (21, 4, 21, 17)
    assert rng(chunks["K#2"]) == (23, 4, 23, 17)
    assert all(chunk.kind in ("function", "class") and chunk.parent is None for chunk in parsed.chunks)
    # `from fast import g` is an import, not a definition
    assert parsed.imports["g"] == "fast.g"


# -- async, lambdas ----------------------------------------------------------------------


def test_async_functions_and_methods() -> None:
    source = """async def fetch(url, *, timeout=1.0):
    await sleep(timeout)


class Client:
    async def get(self, key) -> bytes:
        async with self.lock:
            return await self.fetch(key)

    @retry(times=3)
    async def put(self, key, value):
        pass
"""
    parsed = parse(source)
    assert ids(parsed) == ["fetch", "Client", "Client.get", "Client.put"]
    chunks = by_id(parsed)
    fetch, get, put = chunks["fetch"], chunks["Client.get"], chunks["Client.put"]
    assert fetch.kind == "function" and get.kind == "method" and put.kind == "method"
    assert fetch.signature == "async def fetch(url, *, timeout=1.0)"
    assert get.signature == "async def get(self, key) -> bytes"
    assert put.signature == "async def put(self, key, value)"
    assert rng(fetch) == (0, 0, 1, 24)
    assert sel(fetch) == (0, 10)
    assert rng(get) == (5, 4, 7, 40)
    assert sel(get) == (5, 14)
    assert rng(put) == (9, 4, 11, 12)  # from the decorator, not from `async`
    assert sel(put) == (10, 14)
    assert put.decorators == ("retry(times=3)",)
    assert "c:sleep" in fetch.refs
    assert "c:self.fetch" in get.refs and "r:self.lock" in get.refs


def test_lambdas_are_not_chunks() -> None:
    source = """square = lambda x: x * x


class C:
    key = lambda self: 0

    def m(self):
        return sorted(self.items, key=lambda item: item[0])
"""
    parsed = parse(source)
    assert ids(parsed) == ["C", "C.m"]
    assert rng(by_id(parsed)["C"]) == (3, 0, 7, 59)


# -- broken and unusual input ------------------------------------------------------------


def test_syntax_error_keeps_definitions_before_and_after() -> None:
    source = """def before():
    return 1

def broken(:
    x = = 2

def after():
    return 2

class K:
    def m(self):
        pass
"""
    parsed = parse(source)
    assert ids(parsed) == ["before", "after", "K", "K.m"]
    chunks = by_id(parsed)
    assert rng(chunks["before"]) == (0, 0, 1, 12)
    assert rng(chunks["after"]) == (6, 0, 7, 12)
    assert rng(chunks["K"]) == (9, 0, 11, 12)
    assert chunks["K.m"].parent == "pkg/mod.py::K"
    assert len(parsed.problems) == 1
    assert "syntax error" in parsed.problems[0] and "line 4" in parsed.problems[0]


def test_unclosed_bracket_keeps_definitions_after_it() -> None:
    source = "def before():\n    return 1\nx = (1,\ndef after():\n    return 2\n"
    parsed = parse(source)
    assert ids(parsed) == ["before", "after"]
    assert rng(by_id(parsed)["after"]) == (3, 0, 4, 12)
    assert len(parsed.problems) == 1 and "line 3" in parsed.problems[0]


def test_clean_file_has_no_problems() -> None:
    assert parse(NESTED).problems == ()


def test_latin1_bytes_without_cookie_still_yield_chunks() -> None:
    data = "def f():\n    return 'caf\xe9'\n\ndef g():\n    pass\n".encode("latin-1")
    parsed = parse(data)
    assert ids(parsed) == ["f", "g"]
    chunks = by_id(parsed)
    assert rng(chunks["f"]) == (0, 0, 1, 17)  # the bad byte became one U+FFFD
    assert rng(chunks["g"]) == (3, 0, 4, 8)
    assert "\ufffd" in chunks["f"].text
    assert len(parsed.problems) == 1
    assert "utf-8" in parsed.problems[0] and "byte 24" in parsed.problems[0]
    text, problems = decode_source(data)
    assert text == "def f():\n    return 'caf\ufffd'\n\ndef g():\n    pass\n"
    assert problems == parsed.problems


def test_latin1_bytes_with_coding_cookie_are_decoded() -> None:
    data = "# -*- coding: latin-1 -*-\nimport os\n\nclass \xc9t\xe9:\n    s = '\xe0\xe9\xee\xf5\xfc'\n".encode(
        "latin-1"
    )
    parsed = parse(data)
    assert parsed.problems == ()
    assert ids(parsed) == ["\xc9t\xe9"]  # Été
    ete = parsed.chunks[0]
    assert ete.id == "pkg/mod.py::Été"
    assert ete.name == "Été"
    assert rng(ete) == (3, 0, 4, 15)
    assert sel(ete) == (3, 6)
    assert ete.signature == "class Été"
    assert "àéîõü" in ete.text


def test_coding_cookie_on_second_line_after_shebang() -> None:
    data = b"#!/usr/bin/env python\n# vim: set fileencoding=latin-1 :\nX = 1\ndef f(): return '\xe9'\n"
    parsed = parse(data)
    assert parsed.problems == ()
    assert ids(parsed) == ["f"]
    assert "'é'" in parsed.chunks[0].text
    assert rng(parsed.chunks[0]) == (3, 0, 3, 19)


def test_utf8_bom_is_not_part_of_the_text() -> None:
    parsed = parse("\ufeffdef f(): pass\n".encode())
    assert ids(parsed) == ["f"]
    assert rng(parsed.chunks[0]) == (0, 0, 0, 13)
    assert sel(parsed.chunks[0]) == (0, 4)
    assert parsed.problems == ()


def test_unknown_encoding_is_reported_and_read_as_utf8() -> None:
    parsed = parse(b"# coding: no-such-codec\nX = 1\ndef f(): pass\n")
    assert ids(parsed) == ["f"]
    assert parsed.problems == ("unknown encoding 'no-such-codec'; read as UTF-8",)


def test_binary_data_with_nul_bytes_is_refused() -> None:
    data = b"def f():\n    pass\n\x00\x01\x02\xff\xfe"
    with pytest.raises(NotPythonSource):
        chunk_file(PATH, data)
    with pytest.raises(NotPythonSource):
        decode_source(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    assert issubclass(NotPythonSource, ValueError)


def test_crlf_line_endings_and_tab_indentation() -> None:
    source = (
        "class A:\r\n\tdef m(self):\r\n\t\treturn 1\r\n\r\n"
        "\t@staticmethod\r\n\tdef s():\r\n\t\tpass\r\n\r\n"
        "def f():\r\n\tpass\r\n"
    )
    parsed = parse(source.encode())
    assert ids(parsed) == ["A", "A.m", "A.s", "f"]
    chunks = by_id(parsed)
    assert rng(chunks["A"]) == (0, 0, 6, 6)
    assert rng(chunks["A.m"]) == (1, 1, 2, 10)  # a tab is one character
    assert sel(chunks["A.m"]) == (1, 5)
    assert rng(chunks["A.s"]) == (4, 1, 6, 6)
    assert sel(chunks["A.s"]) == (5, 5)
    assert rng(chunks["f"]) == (8, 0, 9, 5)  # the \r is not part of the range
    assert chunks["A.m"].text == "\tdef m(self):\r\n\t\treturn 1\r\n"
    assert chunks["f"].text == "def f():\r\n\tpass\r\n"
    assert parsed.problems == ()


def test_lone_cr_line_endings() -> None:
    # LSP (and Python) count a lone \r as a line break
    source = "class A:\r    def m(self):\r        return 1\r\rdef f():\r    pass\r"
    parsed = parse(source)
    assert ids(parsed) == ["A", "A.m", "f"]
    chunks = by_id(parsed)
    assert rng(chunks["A"]) == (0, 0, 2, 16)
    assert rng(chunks["A.m"]) == (1, 4, 2, 16)
    assert rng(chunks["f"]) == (4, 0, 5, 8)


def test_characters_that_are_not_line_breaks_for_lsp() -> None:
    # form feed, vertical tab, U+001C and U+2028 split lines for str.splitlines but not
    # for LSP or Python, so they must not shift line numbers
    source = "# sep \u2028 here\x0b\ndef f():\n    return '\x0c\x1c\u2028'\n\x0c\ndef g(): pass\n"
    parsed = parse(source)
    assert ids(parsed) == ["f", "g"]
    chunks = by_id(parsed)
    assert rng(chunks["f"]) == (1, 0, 2, 16)
    assert rng(chunks["g"]) == (4, 0, 4, 13)


def test_non_ascii_identifiers_and_utf16_columns() -> None:
    # 😀 (U+1F600), 𐌰 𐌱 (Gothic, U+10330/1) and 𠀀 (U+20000) are outside the BMP: two
    # UTF-16 units each, so UTF-16 columns differ from code-point columns after them.
    source = (
        's = "😀😀"\n'
        'class Ñandú: s = "😀😀"\n'
        "class 𐌰𐌱:\n"
        '    def 𠀀(self, a="😀"): return "é😀"\n'
        'x = "😀"; y = "😀"\n'
        "def g(a='😀😀😀'):\n"
        "    return a  # 😀\n"
    )
    parsed = parse(source.encode())
    assert ids(parsed) == ["Ñandú", "𐌰𐌱", "𐌰𐌱.𠀀", "g"]
    chunks = by_id(parsed)

    nandu = chunks["Ñandú"]
    assert nandu.id == "pkg/mod.py::Ñandú" and nandu.name == "Ñandú"
    line1 = 'class Ñandú: s = "😀😀"'
    assert len(line1) == 21 and utf16_len(line1) == 23
    assert rng(nandu) == (1, 0, 1, 23)
    assert sel(nandu) == (1, 6)

    gothic = chunks["𐌰𐌱"]
    line3 = '    def 𠀀(self, a="😀"): return "é😀"'
    assert len(line3) == 35 and utf16_len(line3) == 38
    assert rng(gothic) == (2, 0, 3, utf16_len(line3))
    assert sel(gothic) == (2, 6)
    method = chunks["𐌰𐌱.𠀀"]
    assert method.kind == "method" and method.parent == "pkg/mod.py::𐌰𐌱"
    assert rng(method) == (3, 4, 3, 38)
    assert sel(method) == (3, 8)
    assert method.signature == 'def 𠀀(self, a="😀")'

    g = chunks["g"]
    assert rng(g) == (5, 0, 6, 12)  # the comment with the emoji is not part of the range
    assert sel(g) == (5, 4)
    assert g.signature == "def g(a='😀😀😀')"
    assert parsed.problems == ()
    # the same answer for the text as for its UTF-8 bytes
    assert [(c.id, rng(c), sel(c)) for c in parse(source).chunks] == [(c.id, rng(c), sel(c)) for c in parsed.chunks]


def test_chunk_selection_range_counts_utf16_units() -> None:
    """The stored Chunk's selectionRange must end after the name in UTF-16 units too."""
    parsed = parse("class 𐌰𐌱:\n    pass\n")
    pc = parsed.chunks[0]
    chunk = Chunk(
        id=pc.id,
        kind=pc.kind,
        start_line=pc.start_line,
        start_char=pc.start_char,
        end_line=pc.end_line,
        end_char=pc.end_char,
        sel_line=pc.sel_line,
        sel_char=pc.sel_char,
        signature=pc.signature,
        summary=summarize(pc.docstring),
        decorators=pc.decorators,
        parent=pc.parent,
        content_hash=pc.content_hash,
        tokens=pc.tokens,
    )
    assert chunk.selection_range == (0, 6, 0, 10)


def test_empty_file() -> None:
    for parsed in (parse(""), parse(b"")):
        assert parsed.chunks == []
        assert parsed.problems == ()
        assert parsed.imports == {} and parsed.star_imports == ()
    assert parse(b"").content_hash == content_hash(b"")


def test_file_without_definitions() -> None:
    parsed = parse("# just a comment\n\nX = 1\nprint(X)\n")
    assert parsed.chunks == [] and parsed.problems == ()


def generated(count: int) -> str:
    """A generated module: `count` five-line functions."""
    return "".join(f"def f{i}(a, b):\n    '''Doc {i}.'''\n    c = a + b\n    return c\n\n" for i in range(count))


def lines_run_to_parse(source: str) -> tuple[int, ParsedFile]:
    """Chunk `source`, counting the Python lines run meanwhile (the chunker's and parso's): the work it took."""
    run = 0

    def trace(frame: Any, event: str, arg: Any) -> Any:
        nonlocal run
        if event == "line":
            run += 1
        return trace

    previous = sys.gettrace()  # a coverage tool or debugger gets its tracer back
    sys.settrace(trace)
    try:
        parsed = parse(source.encode())
    finally:
        sys.settrace(previous)
    return run, parsed


@pytest.mark.slow
def test_large_generated_file() -> None:
    count = 10_000
    source = generated(count)
    assert source.count("\n") == 50_000
    parsed = parse(source.encode())
    assert len(parsed.chunks) == count
    assert len({chunk.id for chunk in parsed.chunks}) == count
    first, last = parsed.chunks[0], parsed.chunks[-1]
    assert first.id == "pkg/mod.py::f0" and rng(first) == (0, 0, 3, 12)
    assert last.id == "pkg/mod.py::f9999"
    assert rng(last) == (49_995, 0, 49_998, 12)
    assert sel(last) == (49_995, 4)
    assert last.signature == "def f9999(a, b)" and last.docstring == "Doc 9999."
    assert last.text == "def f9999(a, b):\n    '''Doc 9999.'''\n    c = a + b\n    return c\n"
    assert parsed.problems == ()


def test_chunking_work_grows_linearly_with_the_file() -> None:
    """A big file costs in proportion to its size: no step of the chunker (or of parso under it)
    redoes work for every definition already seen. Counted in Python lines run, not timed, so a
    slow or busy machine cannot fail it and a quadratic step cannot hide behind a fast machine."""
    parse(generated(10))  # the grammar and parso's caches are loaded: only the file's work is counted
    small_work, small = lines_run_to_parse(generated(250))
    large_work, large = lines_run_to_parse(generated(1_000))
    assert [chunk.name for chunk in small.chunks] == [f"f{i}" for i in range(250)]
    assert [chunk.name for chunk in large.chunks] == [f"f{i}" for i in range(1_000)]
    # four times the definitions: four times the work, to within 5% (quadratic would be 16 times)
    assert large_work / 1_000 <= 1.05 * small_work / 250, (small_work, large_work)


# -- other fields ------------------------------------------------------------------------


def test_text_hash_and_tokens_follow_the_source_lines() -> None:
    source = "x = 1\n\ndef f(a):\n    '''Adds one.\n\n    More.\n    '''\n    return a + 1  # inc\n\ny = 2\n"
    f = parse(source).chunks[0]
    expected_text = "def f(a):\n    '''Adds one.\n\n    More.\n    '''\n    return a + 1  # inc\n"
    assert f.text == expected_text
    assert rng(f) == (2, 0, 7, 16)
    assert f.tokens == count_tokens(expected_text)
    assert f.content_hash == content_hash(expected_text.encode("utf-8"))
    assert f.docstring == "Adds one.\n\nMore."
    # moving the code to other lines changes neither the id nor the hash
    moved = parse("\n\n\n" + source).chunks[0]
    assert moved.id == f.id and moved.content_hash == f.content_hash and moved.start_line == 5


def test_docstrings() -> None:
    source = '''def plain():
    """
    Title.

        indented
    """

def one_liner(): 'short'

def not_first():
    x = 1
    """not a docstring"""

def fstring():
    f"""not {1} a docstring"""

def raw():
    r"""C:\\path"""

class K:
    """Class doc."""
'''
    chunks = by_id(parse(source))
    assert chunks["plain"].docstring == "Title.\n\n    indented"
    assert chunks["one_liner"].docstring == "short"
    assert chunks["not_first"].docstring == ""
    assert chunks["fstring"].docstring == ""
    assert chunks["raw"].docstring == "C:\\path"
    assert chunks["K"].docstring == "Class doc."


def test_docstring_from_implicitly_concatenated_strings() -> None:
    # Python joins adjacent literals: f.__doc__ == "Part one. Part two."
    source = 'def f():\n    "Part one. " "Part two."\n'
    assert parse(source).chunks[0].docstring == "Part one. Part two."


def test_signature_excludes_comments_before_the_definition() -> None:
    source = (
        "# -*- coding: utf-8 -*-\n"
        "def f(a):\n"
        "    pass\n"
        "\n"
        "class A(Base):\n"
        "    # why this exists\n"
        "    def m(self):\n"
        "        pass\n"
        "\n"
        "    @dec\n"
        "    # between the decorator and the def\n"
        "    async def n(self):\n"
        "        pass\n"
        "\n"
        "# a banner\n"
        "class B:\n"
        "    pass\n"
    )
    chunks = by_id(parse(source))
    assert chunks["f"].signature == "def f(a)"
    assert chunks["A"].signature == "class A(Base)"
    assert chunks["A.m"].signature == "def m(self)"
    assert chunks["A.n"].signature == "async def n(self)"
    assert chunks["B"].signature == "class B"
    # the ranges themselves start at the definition, not at the comment
    assert rng(chunks["f"])[:2] == (1, 0)
    assert rng(chunks["A.m"])[:2] == (6, 4)
    assert rng(chunks["A.n"])[:2] == (9, 4)
    assert rng(chunks["B"])[:2] == (15, 0)


def test_signature_is_squashed_and_capped() -> None:
    source = "def f(\n    a: int,\n    b: str = 'x',\n) -> dict[str, int]:\n    pass\n"
    assert parse(source).chunks[0].signature == "def f(a: int, b: str = 'x',) -> dict[str, int]"
    params = ", ".join(f"p{i}" for i in range(200))
    long_sig = parse(f"def g({params}):\n    pass\n").chunks[0].signature
    assert len(long_sig) == 400 and long_sig.endswith("…")
    assert long_sig.startswith("def g(p0, p1, ")


def test_dependency_refs() -> None:
    source = """import pkg.deco as deco_mod
from .base import Base


class Child(Base, mixins.Loggable, metaclass=Meta):
    limit = LIMIT

    @register
    @deco_mod.wrap(option=DEFAULT)
    def run(self, item):
        local = Helper()
        self.prepare(item)
        self.state.update()
        result = transform(local, item)
        return Other.CONSTANT + result

    @classmethod
    def build(cls):
        return cls.create()

    @staticmethod
    def pure(x):
        return x.value
"""
    chunks = by_id(parse(source))
    child = chunks["Child"]
    assert {"b:Base", "b:mixins.Loggable", "b:Meta", "r:LIMIT"} <= set(child.refs)
    run = chunks["Child.run"]
    assert {
        "d:register",
        "d:deco_mod.wrap",
        "r:DEFAULT",
        "c:Helper",
        "c:self.prepare",
        "c:self.state.update",
        "c:transform",
        "r:Other.CONSTANT",
    } <= set(run.refs)
    # parameters and locals are not references to other chunks
    assert not any(ref.endswith((":item", ":local", ":result", ":self")) for ref in run.refs)
    assert "c:self.create" in chunks["Child.build"].refs
    assert chunks["Child.pure"].refs == ("d:staticmethod", "r:.value")
    assert chunks["Child.run"].refs == tuple(sorted(chunks["Child.run"].refs))
