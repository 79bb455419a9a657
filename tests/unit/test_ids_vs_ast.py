"""Chunk ids and ranges on real code, checked against an independent reference built on `ast`.

The reference follows CONTRACT.md's id rules: one chunk for every ClassDef, FunctionDef
and AsyncFunctionDef at any depth; the qualified name joins the names of the enclosing
defs and classes with `.`; a repeated qualified name in one file gets `#2`, `#3`, ... in
source order. A chunk starts at its first decorator (or at `def`/`async`/`class`) and
ends where ast says the definition ends. It deliberately shares no code with the chunker
(not even `aurora_lsp.convert`).
"""

from __future__ import annotations

import ast
import functools
import importlib
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest
from aurora_lsp.index.chunker import chunk_file
from aurora_lsp.records import ParsedChunk

# Installed packages (a whole directory each) and single stdlib modules. dataclasses and
# traceback contain `match` statements, which parso 0.8 does not know.
PACKAGES = ["jedi", "parso", "sqlite_utils", "pathspec", "json", "asyncio", "email"]
MODULES = ["dataclasses", "traceback", "typing"]

_DEF_TYPES = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_HEADER = re.compile(r"(?:async\s+def|def|class)\s+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Ref:
    """What the ast reference expects of one chunk."""

    qualname: str
    kind: str
    parent: str | None  # qualified name with any #n, like the id
    start_line: int
    start_char: int
    end_line: int
    end_char: int  # UTF-16
    sel: tuple[int, int] | None  # None when the name is not on the def line (backslash)
    decorators: int
    docstring: str
    signature: str | None  # None when the header could not be read back


def _decode(data: bytes) -> str:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def _utf16(line: str, code_points: int) -> int:
    return len(line[:code_points].encode("utf-16-le")) // 2


def _utf8_to_utf16(line: str, byte_col: int) -> int:
    return _utf16(line, len(line.encode("utf-8")[:byte_col].decode("utf-8")))


def _header_signature(lines: list[str], node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """`def name(params) -> ret` / `class Name(bases)` on one line, as the chunker documents it:
    tokens joined by one space where the source had space between them (none just inside
    brackets or before `,` `:`), comments dropped."""
    body_start = (node.body[0].lineno, node.body[0].col_offset)
    start = (node.lineno, node.col_offset)
    source = "".join(lines[start[0] - 1 : body_start[0]])
    depth = 0
    parts: list[str] = []
    previous_end: tuple[int, int] | None = None
    previous = ""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    try:
        for token in tokens:
            row, col = token.start[0] + start[0] - 1, token.start[1]
            if (row, col) < start:
                continue
            if (row, col) >= body_start:
                return None
            if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                continue
            if token.type == tokenize.OP:
                if token.string in "([{":
                    depth += 1
                elif token.string in ")]}":
                    depth -= 1
                elif token.string == ":" and depth == 0:
                    break
            end = (token.end[0] + start[0] - 1, token.end[1])
            spaced = previous_end is not None and (row, col) != previous_end
            if parts and spaced and previous not in ("(", "[") and token.string not in (")", "]", ",", ":"):
                parts.append(" ")
            parts.append(token.string)
            previous, previous_end = token.string, end
    except tokenize.TokenError:
        return None
    signature = _SPACES.sub(" ", "".join(parts)).strip()
    if len(signature) > 400:
        signature = signature[:399] + "…"
    return signature


def reference_chunks(data: bytes) -> dict[str, Ref]:
    """id qualname (with #n) -> Ref, from ast alone."""
    tree = ast.parse(data)
    lines = _LINE.findall(_decode(data))
    seen: dict[str, int] = {}
    out: dict[str, Ref] = {}

    def visit(node: ast.AST, prefix: str, parent: str | None, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _DEF_TYPES):
                visit(child, prefix, parent, in_class)
                continue
            qualname = prefix + child.name
            count = seen.get(qualname, 0) + 1
            seen[qualname] = count
            key = qualname if count == 1 else f"{qualname}#{count}"
            if isinstance(child, ast.ClassDef):
                kind = "class"
            else:
                kind = "method" if in_class else "function"
            start_line = min([child.lineno] + [d.lineno for d in child.decorator_list]) - 1
            def_line = lines[child.lineno - 1]
            # only whitespace precedes a definition on its line: bytes == code points == UTF-16
            header = _HEADER.match(def_line, child.col_offset)
            end_line = child.end_lineno - 1  # type: ignore[operator]
            out[key] = Ref(
                qualname=qualname,
                kind=kind,
                parent=parent,
                start_line=start_line,
                start_char=child.col_offset,
                end_line=end_line,
                end_char=_utf8_to_utf16(lines[end_line], child.end_col_offset),  # type: ignore[arg-type]
                sel=(child.lineno - 1, _utf16(def_line, header.end())) if header else None,
                decorators=len(child.decorator_list),
                docstring=ast.get_docstring(child) or "",
                signature=_header_signature(lines, child),
            )
            visit(child, qualname + ".", key, isinstance(child, ast.ClassDef))

    visit(tree, "", None, False)
    return out


def _source_files(name: str) -> list[Path]:
    module = importlib.import_module(name)
    origin = Path(module.__file__)  # type: ignore[arg-type]
    if origin.name == "__init__.py":
        return sorted(origin.parent.rglob("*.py"))
    return [origin]


@dataclass(frozen=True)
class Compared:
    path: Path
    reference: dict[str, Ref]
    chunks: dict[str, ParsedChunk]  # id qualname (with #n) -> chunk
    problems: tuple[str, ...]


@functools.cache
def _compare(path: Path) -> Compared | None:
    data = path.read_bytes()
    try:
        reference = reference_chunks(data)
    except (SyntaxError, ValueError):
        return None  # not Python this interpreter reads; none expected
    parsed = chunk_file("pkg/" + path.name, data)
    chunks = {chunk.id.partition("::")[2]: chunk for chunk in parsed.chunks}
    return Compared(path, reference, chunks, parsed.problems)


@functools.cache
def _compared(name: str) -> list[Compared]:
    files = _source_files(name)
    assert files, f"no source files found for {name}"
    compared = [c for c in map(_compare, files) if c is not None]
    assert len(compared) == len(files), f"ast could not parse {len(files) - len(compared)} file(s) of {name}"
    return compared


def _report(failures: list[str]) -> str:
    shown = failures[:40]
    more = f"\n... and {len(failures) - len(shown)} more" if len(failures) > len(shown) else ""
    return "\n".join(shown) + more


@pytest.mark.parametrize("name", PACKAGES + MODULES)
def test_ids_and_lines_match_ast(name: str) -> None:
    failures: list[str] = []
    total = 0
    for compared in _compared(name):
        reference, chunks = compared.reference, compared.chunks
        total += len(reference)
        where = f"{compared.path} {compared.problems or ''}"
        if list(chunks) != list(reference):
            missing = [key for key in reference if key not in chunks]
            extra = [key for key in chunks if key not in reference]
            if missing or extra:
                failures.append(f"{where}: missing {missing[:10]} extra {extra[:10]}")
            else:
                failures.append(f"{where}: ids in another order")
        for key, ref in reference.items():
            chunk = chunks.get(key)
            if chunk is None:
                continue
            got = (chunk.start_line, chunk.end_line)
            if got != (ref.start_line, ref.end_line):
                failures.append(f"{where}: {key} lines {got} != ast {(ref.start_line, ref.end_line)}")
    assert total > 0
    assert not failures, _report(failures)


@pytest.mark.parametrize("name", PACKAGES + MODULES)
def test_columns_kinds_parents_and_docstrings_match_ast(name: str) -> None:
    failures: list[str] = []
    for compared in _compared(name):
        for key, ref in compared.reference.items():
            chunk = compared.chunks.get(key)
            if chunk is None:
                continue  # reported by test_ids_and_lines_match_ast
            expected: dict[str, object] = {
                "qualname": ref.qualname,
                "kind": ref.kind,
                "parent": f"pkg/{compared.path.name}::{ref.parent}" if ref.parent else None,
                "start_char": ref.start_char,
                "end_char": ref.end_char,
                "decorators": ref.decorators,
                "docstring": ref.docstring,
            }
            got: dict[str, object] = {field: getattr(chunk, field) for field in expected}
            got["decorators"] = len(chunk.decorators)
            if ref.sel is not None:
                expected["sel"] = ref.sel
                got["sel"] = (chunk.sel_line, chunk.sel_char)
            for field in expected:
                if got[field] != expected[field]:
                    failures.append(f"{compared.path}: {key} {field} {got[field]!r:.80} != ast {expected[field]!r:.80}")
    assert not failures, _report(failures)


@pytest.mark.parametrize("name", PACKAGES + MODULES)
def test_signatures_are_the_definition_headers(name: str) -> None:
    failures: list[str] = []
    for compared in _compared(name):
        for key, ref in compared.reference.items():
            chunk = compared.chunks.get(key)
            if chunk is None:
                continue
            signature = chunk.signature
            if ref.signature is not None:
                ok = signature == ref.signature
                expected = ref.signature
            else:  # a comment inside the header: at least the keyword and the name come first
                keyword = "class" if ref.kind == "class" else "def"
                ok = bool(re.match(rf"(async )?{keyword} {re.escape(chunk.name)}\b", signature))
                expected = f"{keyword} {chunk.name}..."
            if not ok:
                failures.append(f"{compared.path}: {key} signature {signature!r:.90} != {expected!r:.90}")
    assert not failures, f"{len(failures)} wrong signature(s):\n" + _report(failures)


# -- syntax parso 0.8 may not know ---------------------------------------------------------

NEWER_SYNTAX = {
    "match_statement": """import sys

match sys.argv[1:]:
    case [name]:
        def greet():
            return name
    case _:
        class Fallback:
            def run(self):
                match self:
                    case Fallback():
                        pass

def after():
    pass
""",
    "except_star": """try:
    pass
except* ValueError:
    def handler():
        pass

def after():
    pass
""",
    "walrus_and_positional_only": """def f(a, /, b, *, c):
    if (n := len(b)) > 1:
        def g():
            return n
    return c

def after():
    pass
""",
    # PEP 646 (Python 3.11): star-unpacking in subscripts and *args annotations
    "pep646_star_unpacking": """from typing import Generic, TypeVarTuple

Ts = TypeVarTuple("Ts")

class Array(Generic[*Ts]):
    def shape(self) -> tuple[*Ts]:
        pass

def call(*args: *Ts) -> None:
    pass

def after():
    pass
""",
}


@pytest.mark.parametrize("snippet", sorted(NEWER_SYNTAX))
def test_newer_syntax_ids_and_ranges_match_ast(snippet: str) -> None:
    data = NEWER_SYNTAX[snippet].encode()
    reference = reference_chunks(data)
    parsed = chunk_file("m.py", data)
    got = {
        chunk.id.partition("::")[2]: (chunk.kind, chunk.start_line, chunk.start_char, chunk.end_line, chunk.end_char)
        for chunk in parsed.chunks
    }
    expected = {
        key: (ref.kind, ref.start_line, ref.start_char, ref.end_line, ref.end_char) for key, ref in reference.items()
    }
    assert got == expected, f"problems: {parsed.problems}"


def test_reference_follows_the_contract() -> None:
    """The reference itself, on a snippet whose answer is known."""
    source = b"""class C:
    @property
    def x(self): pass
    @x.setter
    def x(self, v): pass
    def m(self):
        def inner(): pass
        return inner
if X:
    async def f(): pass
else:
    def f(): pass
"""
    reference = reference_chunks(source)
    assert list(reference) == ["C", "C.x", "C.x#2", "C.m", "C.m.inner", "f", "f#2"]
    assert reference["C.x#2"].start_line == 3 and reference["C.x#2"].parent == "C"
    assert reference["C.m.inner"].kind == "function" and reference["C.m"].kind == "method"
    assert reference["f"].signature == "async def f()"
    assert (reference["C.m"].start_line, reference["C.m"].end_line) == (5, 7)
