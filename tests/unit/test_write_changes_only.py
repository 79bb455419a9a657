"""Rewriting a file writes only what changed: chunks whose text stays keep their rows, keys,
texts and full-text rows; only their place is updated (issue 18). The result must still
equal a fresh index of the same files, row for row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aurora_lsp.index.chunker import chunk_file
from aurora_lsp.records import FileRecord
from aurora_lsp.store.sqlite import SqliteStore
from conftest import dump_index

SOURCE = '''import os


class Shape:
    """A shape with an area."""

    def area(self):
        return 0

    def name(self):
        return "shape"


def helper():
    def inner():
        return os.sep
    return inner()


def gone():
    return 1
'''


def _record(source: str) -> FileRecord:
    data = source.encode()
    return FileRecord(chunk_file("m.py", data, "m"), len(data), 0, 0, "m")


def _write(store: SqliteStore, source: str) -> int:
    """Write m.py with this source; the rows SQLite changed doing it."""
    before = store.db.conn.total_changes
    with store.transaction():
        store.write_files([_record(source)])
    return store.db.conn.total_changes - before


def _keys(store: SqliteStore) -> dict[str, int]:
    return {str(q): int(k) for k, q in store.db.execute("SELECT key, qualname FROM chunks")}


def _fresh_dump(tmp_path: Path, source: str) -> dict[str, list[tuple[object, ...]]]:
    fresh = SqliteStore(tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}.sqlite3")
    try:
        _write(fresh, source)
        return fresh.dump()
    finally:
        fresh.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "index.sqlite3")
    yield opened
    opened.close()


def test_an_unchanged_file_rewrites_only_its_own_row(store: SqliteStore, tmp_path: Path) -> None:
    assert _write(store, SOURCE) > 6  # 6 chunks, their texts and full-text rows, the file
    assert _write(store, SOURCE) == 1  # the file's row (its stat); no chunk, text or full-text row


def test_chunks_that_only_moved_are_updated_in_place(store: SqliteStore, tmp_path: Path) -> None:
    _write(store, SOURCE)
    keys = _keys(store)
    moved = "# a comment that moves every definition down a line\n" + SOURCE
    assert _write(store, moved) == 1 + len(keys)  # the file, and one update of each chunk's place
    assert _keys(store) == keys
    assert store.dump() == _fresh_dump(tmp_path, moved)


def test_a_new_chunk_ahead_a_changed_one_and_a_vanished_one(store: SqliteStore, tmp_path: Path) -> None:
    _write(store, SOURCE)
    keys = _keys(store)
    edited = (
        "def first():\n    return 0\n\n\n"  # every chunk after it one further in the file's order
        + SOURCE.replace('"""A shape with an area."""', '"""A shape.\n\n    Longer now."""')  # area's span moves
        .replace('return "shape"', 'return "a shape"')  # Shape.name and Shape change
        .replace("def gone():\n    return 1\n", "")
    )
    _write(store, edited)
    after = _keys(store)
    assert "gone" not in after
    assert "first" in after and after["first"] not in keys.values()
    assert {q: after[q] for q in keys if q != "gone"} == {q: k for q, k in keys.items() if q != "gone"}
    assert store.dump() == _fresh_dump(tmp_path, edited)
    assert store.full_text("gone", 10) == []
    assert [hit for hit, _ in store.body_text("longer", 10)] == ["m.py::Shape"]


def test_a_kept_chunk_gets_its_edges_again_and_keeps_those_into_it(tmp_path: Path, workspace_factory) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("def thing():\n    return 'a'\n")
    (root / "b.py").write_text("def thing():\n    return 'b'\n")
    body = "\n\ndef helper():\n    return thing()\n"
    (root / "mod.py").write_text("from a import thing\n" + body)
    (root / "user.py").write_text("from mod import helper\n\n\ndef use():\n    return helper()\n")
    workspace = workspace_factory(root)
    workspace.refresh()
    store = workspace.db
    assert [dst for dst, _, _ in store.dependencies("mod.py::helper")] == ["a.py::thing"]
    key = _keys(store)["helper"]

    (root / "mod.py").write_text("from b import thing\n" + body)  # helper's text stays; what it calls does not
    workspace.refresh()
    assert _keys(store)["helper"] == key
    assert [dst for dst, _, _ in store.dependencies("mod.py::helper")] == ["b.py::thing"]
    assert [src for src, _, _ in store.dependents("mod.py::helper")] == ["user.py::use"]
    assert store.dump() == dump_index(root, tmp_path / "fresh.sqlite3")


def test_a_new_name_reads_only_the_files_that_spell_it(tmp_path: Path, workspace_factory, monkeypatch) -> None:
    """A function that appears changes the guesses for its name: the chunks whose refs spell it
    are found by SQLite and resolved again, without reading every chunk's refs."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("def old():\n    return 1\n")
    (root / "b.py").write_text("def use(x):\n    return x.fresh()\n")
    (root / "c.py").write_text("def other():\n    return 2\n")
    (root / "d.py").write_text("from c import other\n\n\ndef call():\n    return other()\n")
    workspace = workspace_factory(root)
    workspace.refresh()
    store = workspace.db
    assert store.dependencies("b.py::use") == []
    every_chunk_read: list[str | None] = []
    read_every_chunk = store.iter_ref_sources

    def counted(kind: str | None = None, batch: int = 2000) -> object:
        if kind is None:
            every_chunk_read.append(kind)
        return read_every_chunk(kind, batch)

    monkeypatch.setattr(store, "iter_ref_sources", counted)
    with (root / "a.py").open("a") as appended:
        appended.write("\n\ndef fresh():\n    return 3\n")
    workspace.refresh()
    assert every_chunk_read == []
    assert [dst for dst, _, _ in store.dependencies("b.py::use")] == ["a.py::fresh"]
    assert [dst for dst, _, _ in store.dependencies("d.py::call")] == ["c.py::other"]
    monkeypatch.undo()
    assert store.dump() == dump_index(root, tmp_path / "fresh.sqlite3")


NESTED = """def helper():
    return 0


def outer():
    def helper():
        return 1

    def inner():
        return helper()

    return inner()
"""


def test_a_kept_chunk_whose_enclosing_name_vanished_is_resolved_again(tmp_path: Path, workspace_factory) -> None:
    """inner's text stays, but the helper it called, defined beside it, is gone: it calls the
    module's helper now. Only the changed member name says so (the module's own names did not change)."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "mod.py").write_text(NESTED)
    workspace = workspace_factory(root)
    workspace.refresh()
    store = workspace.db
    assert [dst for dst, _, _ in store.dependencies("mod.py::outer.inner")] == ["mod.py::outer.helper"]
    key = _keys(store)["outer.inner"]

    (root / "mod.py").write_text(NESTED.replace("    def helper():\n        return 1\n\n", ""))
    workspace.refresh()
    assert _keys(store)["outer.inner"] == key
    assert [dst for dst, _, _ in store.dependencies("mod.py::outer.inner")] == ["mod.py::helper"]
    assert store.dump() == dump_index(root, tmp_path / "fresh.sqlite3")
