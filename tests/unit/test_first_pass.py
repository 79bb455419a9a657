"""The first pass (Python's parser, names and ranges only) and what a refresh of changed files costs.

The first pass must give exactly the ids, kinds and ranges the full index stores, and hand
them over before the full index writes anything; a refresh of N changed files must do no
more store work than a cold index of those N files needs (rows counted, not time).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

from aurora_lsp.config import Settings
from aurora_lsp.index.indexer import Indexer
from aurora_lsp.index.worker import OutlineRow, chunk_batch, outline_batch
from aurora_lsp.workspace.service import WorkspaceService
from generated import append_function, write_generated_workspace

MODULES = 300


def _service(root: Path, db: Path) -> WorkspaceService:
    return WorkspaceService.open(root, Settings(database_path=str(db)))


def test_first_pass_rows_are_the_full_index_rows(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    paths = write_generated_workspace(root, 40)
    (root / "pkg" / "broken.py").write_text("class Kept:\n    def ok(self): pass\ndef broken(:\n", encoding="utf-8")
    paths.append("pkg/broken.py")
    outlined = outline_batch([(path, str(root / path), 1 << 20) for path in paths])
    full = chunk_batch([(path, (root / path).read_bytes(), "", False) for path in paths])
    for path, rows, parsed in zip(paths, outlined, full, strict=True):
        assert not isinstance(parsed, str)
        expected = [
            (c.id, c.kind, c.start_line, c.start_char, c.end_line, c.end_char, c.sel_line, c.sel_char, c.parent)
            for c in parsed.chunks
        ]
        if path == "pkg/broken.py":
            assert rows == [] and expected  # Python cannot parse it: the full pass (parso) finds them
        else:
            assert rows == expected and len(rows) == 8
    assert "pkg/mod3.py::helper_3#2" in {row[0] for row in outlined[3]}


def test_every_definition_is_handed_over_before_anything_is_written(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write_generated_workspace(root, MODULES)
    db = tmp_path / "index.sqlite3"
    with _service(root, db) as workspace:
        indexer = Indexer(root, workspace.db, workers=2)
        watcher = sqlite3.connect(db)
        handed: list[OutlineRow] = []
        written_meanwhile: list[int] = []

        def first_pass(rows: list[OutlineRow]) -> None:
            handed.extend(rows)
            written_meanwhile.append(watcher.execute("SELECT count(*) FROM chunks").fetchone()[0])

        indexer.first_pass = first_pass
        report = indexer.refresh()
        watcher.close()
        stored = [
            (c.id, c.kind, c.start_line, c.start_char, c.end_line, c.end_char, c.sel_line, c.sel_char, c.parent)
            for c in workspace.db.iter_chunks()
        ]
    assert len(written_meanwhile) > 1  # handed over in batches, as they come back
    assert set(written_meanwhile) == {0}
    assert report.chunks == MODULES * 8
    assert sorted(handed, key=lambda row: row[0]) == sorted(stored, key=lambda row: row[0])


def test_first_pass_answers_symbols_like_the_finished_index(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write_generated_workspace(root, MODULES)
    with _service(root, tmp_path / "index.sqlite3") as workspace:
        assert workspace.symbols("refresh_12", 10) == []
        indexer = workspace.indexer
        assert indexer is not None
        early: dict[str, list[tuple[object, ...]]] = {}

        def shown(query: str) -> list[tuple[object, ...]]:
            return [
                (h.match, h.chunk.name, h.chunk.kind, h.chunk.path, h.chunk.range, h.container)
                for h in workspace.symbols(query, 20)
            ]

        real = workspace._found_first

        def first_pass(rows: list[OutlineRow]) -> None:
            real(rows)
            if len(workspace.first_pass_names) == MODULES * 8:  # all found, nothing written yet
                early.update({query: shown(query) for query in ("refresh_12", "Order7.Line.total", "helper_5", "sve")})

        workspace._found_first = first_pass  # type: ignore[method-assign]
        workspace.refresh(workers=2, first_pass=True)
        workspace._found_first = real  # type: ignore[method-assign]
        assert len(workspace.first_pass_names) == 0  # written: SQLite answers alone again
        assert early["refresh_12"][0][1:] == (
            "refresh_12",
            "method",
            "pkg/mod12.py",
            early["refresh_12"][0][4],
            "Order12",
        )
        assert [hit[1:] for hit in early["helper_5"][:2]] == [
            ("helper_5", "function", "pkg/mod5.py", (9, 0, 11, 20), ""),
            ("helper_5", "function", "pkg/mod5.py", (14, 0, 15, 20), ""),
        ]
        for query, answer in early.items():
            assert answer and answer == shown(query)


WRITTEN_TABLES = ("chunks", "chunks_fts", "chunks_body_fts", "edges", "files")


def test_a_refresh_of_n_files_writes_only_their_rows(tmp_path: Path) -> None:
    """A refresh of N files with a function appended to each writes the new chunks and their
    edges only: the files' other chunks keep their rows and their edges (which equal a cold
    index's), and nothing else is resolved; before, every chunk using a name the files define
    (`save`, used by all 300 modules) was resolved and its edges written again, and later
    every chunk of the changed files."""
    root = tmp_path / "ws"
    paths = write_generated_workspace(root, MODULES)
    db = tmp_path / "index.sqlite3"
    with _service(root, db) as workspace:
        workspace.refresh()
    changed = paths[::30]
    for path in changed:
        append_function(root, path, "appended")
    inserts: list[str] = []
    with _service(root, db) as workspace:

        def traced(statement: str) -> None:
            # ('delete' into a full-text table takes an old row out)
            if (
                statement.startswith("INSERT INTO ")
                and statement.split()[2] in WRITTEN_TABLES
                and "'delete'" not in statement
            ):
                inserts.append(statement.split()[2])

        workspace.db.db.conn.set_trace_callback(traced)
        report = workspace.refresh()
        workspace.db.db.conn.set_trace_callback(None)
        store = workspace.db
        refreshed = {chunk.id: store.dependencies(chunk.id) for path in changed for chunk in store.chunks_in_file(path)}
    with _service(root, tmp_path / "cold.sqlite3") as cold:
        cold.refresh()
        cold_chunks = [chunk for path in changed for chunk in cold.db.chunks_in_file(path)]
        expected = {chunk.id: cold.db.dependencies(chunk.id) for chunk in cold_chunks}
    appended = [chunk_id for chunk_id in expected if chunk_id.endswith("::appended")]
    assert len(cold_chunks) == len(changed) * 9 and len(appended) == len(changed)
    assert sum(len(edges) for edges in expected.values()) > len(changed)  # the kept chunks have edges to keep
    assert refreshed == expected
    assert report.changed == len(changed) and report.resolved_sources == len(appended)
    new_edges = sum(len(expected[chunk_id]) for chunk_id in appended)
    assert Counter(inserts) == Counter(
        {"chunks": len(changed), "chunks_fts": len(changed), "chunks_body_fts": len(changed), "edges": new_edges}
    )
