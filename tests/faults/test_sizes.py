"""Faults of size and shape: files and editor buffers that are huge, long, deep or malformed.

Indexing a file costs work in proportion to its size, whatever its shape: a chain of
100,000 attributes, a header of 50,000 parameters, an import of thousands of names from a
long dotted module, a long line of f-strings or of definitions, code nested deeper than the
stack. These tests never time anything: they count the work the time was spent on (Python
lines run, list positions parso's sibling searches scan, characters of the keys resolution
looks up) or measure what is stored, at a size n and at 4n, and require 4n to cost at most
RATIO times n (the same work at 16 times was the fault: its square).

An open document larger than maxFileSizeKb is treated as such a file on disk: skipped with
its reason, its outline empty at once, the server serving on. A lone UTF-16 surrogate in
an open document (JSON carries them) is read as U+FFFD and never becomes an internal error.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import parso.grammar
import parso.python.tokenize
import pytest
from aurora_lsp.config import Settings
from aurora_lsp.index import chunker
from aurora_lsp.index.builder import MAX_CHAIN_SEGMENTS, MAX_DEFINITION_DEPTH, MAX_DOTTED_CHARS, SIGNATURE_MAX_CHARS
from aurora_lsp.index.chunker import chunk_file, chunk_text
from aurora_lsp.index.resolve import Resolver, SymbolTable, resolve_edges
from aurora_lsp.index.scan import SKIP_TOO_LARGE
from aurora_lsp.records import FileSymbols, RefSource
from aurora_lsp.workspace.service import WorkspaceService
from lsp_client import TIMEOUT, eventually, outline, request, run_cli, start_server, symbols
from lsprotocol import types

RATIO = 6  # linear work grows 4 times from n to 4n; quadratic work 16 times


def lines_run(action: Callable[[], object]) -> int:
    """Python lines executed by `action` (sys.settrace): work counted, not timed."""
    count = 0

    def trace(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        action()
    finally:
        sys.settrace(previous)
    return count


def assert_linear(work: Callable[[int], int], n: int) -> None:
    work(n)  # warm: grammar, caches
    small, large = work(n), work(4 * n)
    assert large <= RATIO * max(small, 1), (n, small, large)


def chunked(source: str) -> Callable[[], object]:
    """Both readers: Python's parser (files on disk), parso (buffers, and what Python cannot compile)."""
    return lambda: (chunk_file("m.py", source.encode(), "m", False), chunk_text("m.py", source, "m", False))


# -- reference chains ------------------------------------------------------------------


def test_a_long_attribute_chain_is_stored_capped(tmp_path: Path) -> None:
    """The issue's case: `return a.b.b.b…` took 6 s at 20,000 names, minutes at 100,000."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "chain.py").write_text("def f():\n    return a" + ".b" * 20_000 + "\n")
    service = WorkspaceService.open(root, Settings(database_path=str(tmp_path / "index.sqlite3")))
    try:
        service.refresh()
        [source] = service.db.ref_sources(["chain.py"])
    finally:
        service.close()
    assert source.refs == ("r:a" + ".b" * (MAX_CHAIN_SEGMENTS - 1),)


def test_an_uncapped_chain_from_an_older_index_is_resolved_in_linear_work() -> None:
    """Resolution tries every prefix of a chain: the characters of the keys it looks up."""

    class CountedDict(dict[str, str]):
        looked_up = 0

        def get(self, key: str, default: Any = None) -> Any:
            CountedDict.looked_up += len(key)
            return super().get(key, default)

    def key_characters(n: int) -> int:
        table = SymbolTable()
        table.add_file(FileSymbols("m.py", "m", {"a": "pkg.a"}, ()))
        table.add_file(FileSymbols("pkg.py", "pkg", {}, ()))
        table.add_chunk("m.py::f", "m.py", "f", "function", None)
        table.add_chunk("pkg.py::a", "pkg.py", "a", "function", None)
        resolver = Resolver(table)
        table.qualnames = {path: CountedDict(names) for path, names in table.qualnames.items()}
        table.modules = CountedDict(table.modules)
        CountedDict.looked_up = 0
        source = RefSource("m.py::f", "m.py", "f", "function", ("r:a" + ".b" * n, "c:local" + ".b" * n))
        assert list(resolve_edges(resolver, [source])) == [("m.py::f", "pkg.py::a", "reference", "import")]
        return CountedDict.looked_up

    assert_linear(key_characters, 2_000)


def test_a_long_import_is_stored_capped_and_read_in_linear_work() -> None:
    """parso's get_paths copied the module's path once per imported name."""

    def source(n: int) -> str:
        names = ", ".join(f"n{i}" for i in range(n))
        return "from " + "a." * n + f"m import ({names})\nimport " + ".".join(["p"] * n) + " as q\n"

    parsed = chunk_file("m.py", source(5_000).encode())
    assert parsed.imports["n4999"] == ".".join(["a"] * MAX_CHAIN_SEGMENTS)
    assert parsed.imports["q"] == ".".join(["p"] * MAX_CHAIN_SEGMENTS)
    assert all(len(target) <= MAX_DOTTED_CHARS for target in parsed.imports.values())
    assert_linear(lambda n: lines_run(chunked(source(n))), 300)


# -- headers, decorators and lines -----------------------------------------------------


class _ScannedList(list[Any]):
    """A node's children that count the positions list.index scans (parso's sibling searches)."""

    scanned = 0

    def index(self, value: Any, *bounds: Any) -> int:
        found = super().index(value, *bounds)
        _ScannedList.scanned += found + 1
        return found


class _CountingGrammar:
    """parso's grammar, whose trees count their sibling searches."""

    def __init__(self, grammar: Any) -> None:
        self.grammar = grammar

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        module = self.grammar.parse(*args, **kwargs)
        pending = [module]
        while pending:
            node = pending.pop()
            node.children = _ScannedList(node.children)
            pending.extend(child for child in node.children if hasattr(child, "children"))
        return module


@pytest.mark.parametrize(
    "header",
    [
        lambda n: "def f(" + ", ".join(f"p{i}" for i in range(n)) + "):\n    pass\n",
        lambda n: "def f(" + ", ".join(f"p{i}: int = 0" for i in range(n)) + ") -> None:\n    pass\n",
        lambda n: "class C(" + ", ".join(f"B{i}" for i in range(n)) + "):\n    pass\n",
    ],
    ids=["parameters", "annotated parameters", "bases"],
)
def test_a_header_of_many_parts_is_read_in_linear_work(monkeypatch: pytest.MonkeyPatch, header: Any) -> None:
    """The issue's case: a 50,000-parameter signature took 19 s (get_next_leaf's list.index)."""
    monkeypatch.setattr(chunker, "_grammar", _CountingGrammar(chunker.load_grammar()))

    def work(n: int) -> int:
        _ScannedList.scanned = 0
        return lines_run(chunked(header(n))) + _ScannedList.scanned

    assert_linear(work, 1_000)
    [chunk] = chunk_file("m.py", header(50_000).encode()).chunks
    assert len(chunk.signature) == SIGNATURE_MAX_CHARS and chunk.signature.endswith("…")
    assert chunk.signature.startswith(header(3)[:12])


def test_many_decorators_in_code_read_with_ast_take_linear_work() -> None:
    """ast.get_source_segment splits the whole file again for each decorator."""

    def source(n: int) -> str:  # a `match` body: parso 0.8 cannot read it, so ast does
        body = "    match x:\n        case _:\n            pass\n"
        return "".join(f"@d{i}(a.b)\n" for i in range(n)) + "def f(x):\n" + body

    [chunk] = chunk_file("m.py", source(3).encode()).chunks
    assert chunk.decorators == ("d0(a.b)", "d1(a.b)", "d2(a.b)")
    assert_linear(lambda n: lines_run(chunked(source(n))), 300)


def test_a_long_line_of_fstrings_is_not_rescanned_per_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """parso's tokenizer copies and rescans the rest of the line for each token in an f-string."""
    real_tokenize = parso.python.tokenize.tokenize_lines
    rescanned = 0

    def counting_tokenize(lines: Any, **kwargs: Any) -> Any:
        nonlocal rescanned
        depth = 0
        for token in real_tokenize(lines, **kwargs):
            if token.type == parso.python.tokenize.FSTRING_START:
                depth += 1
            elif token.type == parso.python.tokenize.FSTRING_END:
                depth -= 1
            elif depth:
                line, column = token.start_pos
                rescanned += len(lines[line - 1]) - column
            yield token

    monkeypatch.setattr(parso.grammar, "tokenize_lines", counting_tokenize)

    def source(n: int) -> str:
        fields = "{x.y}" * n
        one_line = f"    y = f'{fields}' + f'{{x}}'\n"
        over_lines = f'    return f"""\n{fields}\n"""\n'  # an f-string begun on a short line
        return "def f(x=f'{a}'):\n" + one_line + over_lines

    def work(n: int) -> int:
        nonlocal rescanned
        rescanned = 0
        chunk_text("m.py", source(n))  # a buffer: parso reads it
        return rescanned

    assert_linear(work, 1_000)
    # parso sees plain strings there, but the chunks are those of its own reading of them
    code = source(300) + "def g(y=f'{b}' " + "+ 'x'" * 300 + '):\n    "Doc."\n'
    parsed = chunk_text("m.py", code)
    monkeypatch.setattr(chunker, "LONG_LINE_CHARS", 10**9)
    assert parsed == chunk_text("m.py", code)
    assert parsed.chunks[1].signature.startswith("def g(y=f'{b}' + 'x'")
    assert parsed.chunks[1].docstring == "Doc."


def test_definitions_sharing_a_long_line_store_it_once_in_all() -> None:
    """parso reads `def a(): pass; def b(): pass` (Python does not); each stored the whole line."""

    def stored(n: int) -> int:
        parsed = chunk_file("m.py", ("x = '😀'; " + "; ".join(f"def f{i}(): pass" for i in range(n)) + "\n").encode())
        assert len(parsed.chunks) == n
        return sum(len(chunk.text) for chunk in parsed.chunks)

    assert_linear(stored, 1_000)
    parsed = chunk_file("m.py", "x = '😀'; def f(): pass; def g(): pass\n".encode())
    assert [(c.text, c.start_char, c.end_char) for c in parsed.chunks] == [
        ("def f(): pass;", 10, 24),  # UTF-16 columns: the emoji is two units
        ("def g(): pass\n", 25, 38),
    ]
    assert_linear(lambda n: lines_run(chunked("; ".join(f"def f{i}(): pass" for i in range(n)))), 300)


# -- depth -----------------------------------------------------------------------------

DEEP = 3_000  # more than Python's recursion limit of 1,000 frames
DEEP_CODE = {
    "decorator": "@d(" + "(" * DEEP + "x" + ")" * DEEP + ")\ndef f():\n    pass\n",
    "assignment target": "def f():\n    " + "(" * DEEP + "x" + ")" * DEEP + " = 1\n",
    "loop target": "def f():\n    for " + "[" * DEEP + "x" + "]" * DEEP + " in y:\n        pass\n",
    "annotation": "def f(x: " + "Optional[" * DEEP + "T" + "]" * DEEP + "):\n    pass\n",
}


@pytest.mark.parametrize("code", DEEP_CODE.values(), ids=DEEP_CODE.keys())
def test_code_nested_deeper_than_the_stack_is_chunked(code: str) -> None:
    for parsed in (chunk_file("m.py", code.encode()), chunk_text("m.py", code, buffer_key="file:///deep.py")):
        assert [chunk.qualname for chunk in parsed.chunks] == ["f"]
    chunker.forget_buffer("file:///deep.py")


def test_definitions_nested_past_python_s_limit_belong_to_their_enclosing_chunk() -> None:
    """Python refuses 100 levels of indentation; parso reads more, and each chunk holds its inner ones' text."""
    depth = 600
    source = "".join(" " * i + f"def f{i}(a{i}):\n" for i in range(depth)) + " " * depth + "return a599 + c.call()\n"
    parsed = chunk_file("m.py", source.encode())
    assert len(parsed.chunks) == MAX_DEFINITION_DEPTH
    deepest = parsed.chunks[-1]
    assert deepest.qualname == ".".join(f"f{i}" for i in range(MAX_DEFINITION_DEPTH))
    assert deepest.refs == ("c:c.call",)  # a599, a parameter of f599, is a local of f99 now
    assert sum(len(chunk.text) for chunk in parsed.chunks) <= MAX_DEFINITION_DEPTH * len(source)


# -- open documents: huge and malformed buffers ----------------------------------------


def _open(client: Any, path: Path, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(path.as_uri(), "python", version, text))
    )


def _change(client: Any, path: Path, version: int, text: str, where: types.Range | None = None) -> None:
    change: Any = (
        types.TextDocumentContentChangeWholeDocument(text=text)
        if where is None
        else types.TextDocumentContentChangePartial(range=where, text=text)
    )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version), [change]
        )
    )


def _skipped(shop: Path, db: Path) -> dict[str, int]:
    # the test client turns stats' reason keys into _0, _1: read them as JSON from the same database
    done = run_cli("stats", str(shop), "--db", str(db), "--json", "--no-refresh")
    assert done.returncode == 0, done.stderr
    skipped: dict[str, int] = json.loads(done.stdout)["skipped"]
    return skipped


@pytest.mark.asyncio
async def test_a_buffer_larger_than_max_file_size_is_skipped_like_such_a_file(shop: Path, tmp_path: Path) -> None:
    """The issue's case: a 3 MB buffer of definitions took 21 s to outline, 30 MB never answered."""
    path = shop / "shop" / "big.py"
    path.write_text("def small_on_disk():\n    return 1\n")
    db = tmp_path / "index.sqlite3"
    client = await start_server(shop, db, maxFileSizeKb=64)
    try:
        assert [s.name for s in await symbols(client, "small_on_disk")] == ["small_on_disk"]
        huge = "".join(f"def big_{i}(x):\n    return x + {i}\n\n\n" for i in range(30_000))  # 1 MB
        _open(client, path, huge)
        assert await asyncio.wait_for(outline(client, path), TIMEOUT) == []

        async def skipped_like_a_file() -> bool:
            stats = await request(client, "aurora/stats", None)
            return stats["indexing"]["state"] == "idle" and not await symbols(client, "small_on_disk")

        await eventually(skipped_like_a_file)
        assert _skipped(shop, db).get(SKIP_TOO_LARGE) == 1
        assert not await symbols(client, "big_1")
        assert [s.name for s in await symbols(client, "Cart")][:1] == ["Cart"]  # still serving

        _change(client, path, 2, "def small_again():\n    return 2\n")
        assert [s.name for s in await outline(client, path)] == ["small_again"]

        async def indexed_again() -> bool:
            return [s.name for s in await symbols(client, "small_again")] == ["small_again"]

        await eventually(indexed_again)
        assert SKIP_TOO_LARGE not in _skipped(shop, db)
    finally:
        await client.shutdown_session()


@pytest.mark.asyncio
async def test_a_lone_surrogate_in_an_open_document_is_never_an_internal_error(shop: Path, tmp_path: Path) -> None:
    path = shop / "shop" / "odd.py"
    text = 'def with_surrogate():\n    return "\ud800"  # \udfff\n\n\ndef after_it():\n    return 1\n'
    client = await start_server(shop, tmp_path / "index.sqlite3")
    try:
        _open(client, path, text)
        assert [s.name for s in await outline(client, path)] == ["with_surrogate", "after_it"]
        where = types.Range(types.Position(1, 13), types.Position(1, 13))
        _change(client, path, 2, "\udc00", where)  # typed next to it, an incremental change
        assert [s.name for s in await outline(client, path)] == ["with_surrogate", "after_it"]

        async def indexed() -> bool:  # the refresh wrote the buffer to SQLite
            return [s.name for s in await symbols(client, "after_it")] == ["after_it"]

        await eventually(indexed)
        context = await request(
            client,
            "aurora/context",
            {"textDocument": {"uri": path.as_uri()}, "position": {"line": 1, "character": 12}},
        )
        assert context["focus"].endswith("odd.py::with_surrogate")
        assert any("\ufffd" in item.get("text", "") for item in context["items"])
        _change(client, path, 3, "def fixed():\n    return 1\n")
        assert [s.name for s in await outline(client, path)] == ["fixed"]
        assert (await request(client, "aurora/stats", None))["files"] >= 1  # no stale error after
    finally:
        await client.shutdown_session()


@pytest.mark.asyncio
async def test_a_buffer_parso_cannot_read_keeps_its_last_outline(shop: Path, tmp_path: Path) -> None:
    """parso's own error recovery recurses over code this deep at the end of a file."""
    path = shop / "shop" / "deep.py"
    client = await start_server(shop, tmp_path / "index.sqlite3")
    try:
        _open(client, path, "def first():\n    return 1\n")
        assert [s.name for s in await outline(client, path)] == ["first"]
        _change(client, path, 2, "def first():\n    return " + "-" * 5_000 + "x")
        assert [s.name for s in await outline(client, path)] == ["first"]
        assert [s.name for s in await symbols(client, "Cart")][:1] == ["Cart"]
    finally:
        await client.shutdown_session()


# -- encodings -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_outline_of_definitions_nested_past_python_s_limit_is_answered(shop: Path, tmp_path: Path) -> None:
    """Each level of a DocumentSymbol tree is four frames of the JSON converter's recursion."""
    path = shop / "shop" / "nested.py"
    client = await start_server(shop, tmp_path / "index.sqlite3")
    try:
        _open(client, path, "".join(" " * i + f"def f{i}():\n" for i in range(300)) + " " * 300 + "pass\n")
        found = await asyncio.wait_for(outline(client, path), TIMEOUT)  # it had never answered
        depth = 0
        while found:
            depth += 1
            assert [s.name for s in found] == [f"f{depth - 1}"]
            found = list(found[0].children or [])
        assert depth == MAX_DEFINITION_DEPTH
    finally:
        await client.shutdown_session()


def test_a_file_whose_encoding_makes_lone_surrogates_is_indexed(tmp_path: Path) -> None:
    """UTF-7 (like the escape codecs) decodes `+2AA-` to a lone surrogate, which nothing can store."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "seven.py").write_bytes(b'# coding: utf-7\ndef seven():\n    return "+2AA-"\n')
    service = WorkspaceService.open(root, Settings(database_path=str(tmp_path / "index.sqlite3")))
    try:
        report = service.refresh()
        assert report.files == 1 and not report.skipped
        assert "lone UTF-16 surrogates replaced with U+FFFD" in report.problems["seven.py"]
        [chunk] = service.file_chunks("seven.py")
    finally:
        service.close()
    assert chunk.name == "seven"
