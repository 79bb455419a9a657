"""The chunker's two walks agree: a file on disk (read with Python's `ast`) gives exactly the
records an editor buffer of the same text (read with parso) gives, field for field.

Files on disk are chunked with `ast` first, buffers with parso (`chunker.py`): if the walks
differed, a file's chunks, refs and imports would change when it is opened or closed.
`benchmarks/walk_equivalence.py` runs the same comparison over Django, sympy and pytest.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import _pytest
import pytest
from aurora_lsp.index import chunker, chunker_ast
from aurora_lsp.index.chunker import NotPythonSource, chunk_file, chunk_text
from aurora_lsp.records import ParsedChunk, ParsedFile

FIXTURES = Path(__file__).parents[1] / "fixtures" / "workspaces"
PARSO_CANNOT_READ = "chunked with ast"  # the problem chunk_text reports when parso fails on valid code


def differences(on_disk: ParsedFile, buffer: ParsedFile) -> list[str]:
    """Every field in which the two answers differ, one line each."""
    found: list[str] = []
    disk_ids, buffer_ids = [c.id for c in on_disk.chunks], [c.id for c in buffer.chunks]
    if disk_ids != buffer_ids:
        found.append(f"ids: ast {disk_ids} parso {buffer_ids}")
    buffer_chunks = {chunk.id: chunk for chunk in buffer.chunks}
    for chunk in on_disk.chunks:
        other = buffer_chunks.get(chunk.id)
        for field in dataclasses.fields(ParsedChunk) if other is not None else ():
            mine, theirs = getattr(chunk, field.name), getattr(other, field.name)
            if mine != theirs:
                found.append(f"{chunk.id} {field.name}: ast {mine!r} parso {theirs!r}")
    for field in ("path", "content_hash", "imports", "star_imports", "problems"):
        if getattr(on_disk, field) != getattr(buffer, field):
            found.append(f"{on_disk.path} {field}: ast {getattr(on_disk, field)!r} parso {getattr(buffer, field)!r}")
    return found


def compare(root: Path, module_prefix: str = "") -> tuple[int, list[str]]:
    """Both walks over every file of `root`: the files compared, and every difference."""
    compared = 0
    found: list[str] = []
    for file in sorted(root.rglob("*.py")):
        relative = file.relative_to(root)
        parts = (
            [module_prefix, *relative.with_suffix("").parts] if module_prefix else list(relative.with_suffix("").parts)
        )
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        data = file.read_bytes()
        try:
            on_disk = chunk_file(relative.as_posix(), data, module, is_package)
        except NotPythonSource:
            continue  # binary: refused whichever way it comes
        buffer = chunk_text(relative.as_posix(), data.decode("utf-8"), module, is_package)
        if any(PARSO_CANNOT_READ in problem for problem in buffer.problems):
            continue  # parso cannot read this valid code: both answers come from ast
        compared += 1
        found += differences(on_disk, buffer)
    return compared, found


def test_the_walks_agree_on_every_file_of_the_fixture_workspaces() -> None:
    compared, found = 0, []
    for workspace in sorted(FIXTURES.iterdir()):
        count, differing = compare(workspace)
        compared, found = compared + count, found + differing
    assert compared >= 10
    assert found == []


def test_the_walks_agree_on_every_file_of_pytest() -> None:
    """Real code of every shape: the installed `_pytest` package, 70-odd files."""
    compared, found = compare(Path(_pytest.__file__).parent, "_pytest")
    assert compared >= 60
    assert found == [], "\n".join(found[:20])


# Each construct here once made the walks differ (benchmarks/walk_equivalence.py found them
# in Django, sympy and pytest).
TRICKY = '''import os.path
import sage.all as sage
from . import sibling as near
from ..parent import *


@register  # a comment after a decorator
class Holder(Base[Item], metaclass=Meta):
    def method(self, *args, **kwargs):
        """Doc."""
        ", ".join(args).upper()
        (self.left + self.right).expand()
        rows[0].values.append(args)
        if isinstance(query := self.rhs, Query):
            query.run()
        wrapped = (Wrapper(args))
        wrapped.close()
        built = (self.factory).build(kwargs)
        built.finish()
        made = Maker(args)
        made.go()
        print(f"{self.hidden} {unseen()}")
        del leftover
        (plain).attribute
        (first.second)(third)
        super().method(*args)
        return lambda *rest, **more: (rest, more, os.path.join(*rest))
'''


def test_the_walks_agree_on_the_constructs_that_once_differed() -> None:
    on_disk = chunk_file("pkg/mod.py", TRICKY.encode(), "pkg.mod", False)
    buffer = chunk_text("pkg/mod.py", TRICKY, "pkg.mod", False)
    assert differences(on_disk, buffer) == []
    holder, method = on_disk.chunks
    assert holder.decorators == ("register",)
    assert {"b:Base", "r:Item", "b:Meta", "d:register"} <= set(holder.refs)
    assert on_disk.imports == {"os": "os", "sage": "sage.all", "near": "pkg.sibling"}
    assert on_disk.star_imports == ("parent",)
    # no bare `join`, `expand` or `upper`; names inside f-strings are not read by either walk
    assert method.refs == (
        "c:.close",  # `wrapped = (Wrapper(args))`: parso reads the parentheses as an atom, no type
        "c:.finish",
        "c:.run",  # `query := ...` inside the call's arguments binds `query`
        "c:Maker",
        "c:Maker>go",
        "c:Wrapper",
        "c:isinstance",
        "c:os.path.join",
        "c:print",
        "c:super.method",
        "r:.values",  # an attribute after a subscript
        "r:Query",
        "r:first.second",
        "r:leftover",  # `del` uses the name
        "r:plain",
        "r:rows",
        "r:self.factory",
        "r:self.left",
        "r:self.rhs",
        "r:self.right",
        "r:third",
    )


def test_a_file_on_disk_is_read_by_ast_unless_larger_than_ast_max_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """parso reads a file past the limit (its tree takes half of ast's memory there): the same records."""
    parsed_by_ast: list[str] = []

    def counting_parse_module(text: str, path: str) -> ast.Module | None:
        parsed_by_ast.append(path)
        return chunker_ast.parse_module(text, path)

    monkeypatch.setattr(chunker, "parse_module", counting_parse_module)
    small = chunk_file("pkg/mod.py", TRICKY.encode(), "pkg.mod", False)
    assert parsed_by_ast == ["pkg/mod.py"]
    monkeypatch.setattr(chunker, "AST_MAX_BYTES", len(TRICKY) - 1)
    large = chunk_file("pkg/mod.py", TRICKY.encode(), "pkg.mod", False)
    assert parsed_by_ast == ["pkg/mod.py"]  # parso read it, and found no error to send it back to ast
    assert differences(small, large) == []
