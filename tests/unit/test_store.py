"""The two tiers over a real SQLite file: schema, eviction and read-back, text, full text."""

from __future__ import annotations

import gc
import shutil
import sqlite3
from pathlib import Path

import pytest
from aurora_lsp.index.chunker import chunk_file
from aurora_lsp.records import resident_size
from aurora_lsp.store.chunks import ChunkStore
from aurora_lsp.store.sqlite import SCHEMA_VERSION, SqliteStore, StoreError


def indexed_shop(shop: Path, workspace_factory) -> tuple[object, list[str]]:
    workspace = workspace_factory(shop)
    workspace.refresh()
    ids = [row[0] for row in workspace.db.symbol_rows()]
    return workspace, ids


def test_schema_version_and_wal(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.sqlite3")
    assert store.schema_version() == SCHEMA_VERSION
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"files", "chunks", "edges", "accesses", "meta", "chunks_fts"} <= set(store.db.table_names())
    store.close()
    again = SqliteStore(tmp_path / "a.sqlite3")  # reopening migrates nothing and keeps data
    assert again.schema_version() == SCHEMA_VERSION
    again.close()


# The `shop` workspace as schema 7's Aurora indexed it (commit 3c8f4b6), with three uses and
# some history recorded: a real database of the schema before this one.
SCHEMA_7 = Path(__file__).parents[1] / "fixtures" / "databases" / "shop-schema-7.sqlite3"


def test_a_schema_7_database_migrates_and_answers_the_same(shop: Path, tmp_path: Path, workspace_factory) -> None:
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(SCHEMA_7, path)
    old = sqlite3.connect(path)
    old_files = old.execute(
        "SELECT path, hash, module, imports, star_imports, problems, chunk_count FROM files ORDER BY path"
    ).fetchall()
    old_chunks = old.execute("SELECT * FROM chunks ORDER BY id").fetchall()
    old_edges = old.execute("SELECT src, dst, kind, how FROM edges ORDER BY src, dst").fetchall()
    old_uses = old.execute("SELECT chunk_id, at, event FROM accesses ORDER BY chunk_id, at").fetchall()
    old_found = old.execute(
        "SELECT chunks.id, bm25(chunks_fts) AS score FROM chunks_fts JOIN chunks ON chunks.rowid = chunks_fts.rowid"
        " WHERE chunks_fts MATCH 'price OR cart' ORDER BY score"
    ).fetchall()
    old_body = old.execute(
        "SELECT chunks.id, bm25(chunks_body_fts) AS score FROM chunks_body_fts JOIN chunks"
        " ON chunks.rowid = chunks_body_fts.rowid WHERE chunks_body_fts MATCH 'total OR cents' ORDER BY score"
    ).fetchall()
    old.close()
    assert len(old_chunks) > 20 and old_edges and len(old_uses) == 3

    workspace = workspace_factory(shop, "old.sqlite3")  # opening it migrates it
    store = workspace.db
    assert store.schema_version() == SCHEMA_VERSION == 8
    dump = store.dump()
    assert dump["files"] == old_files
    assert dump["chunks"] == old_chunks  # ids, parents, texts and refs, column for column
    assert dump["edges"] == old_edges
    uses = sorted(
        (chunk_id, at, event) for chunk_id in {u[0] for u in old_uses} for at, event in store.accesses(chunk_id)
    )
    assert uses == sorted(old_uses)  # uses and history are keyed by id: they stay
    assert store.history_rows()["pairs"] == 2
    found = store.full_text("price OR cart", 100)
    assert [chunk_id for chunk_id, _ in found] == [chunk_id for chunk_id, _ in old_found]
    assert [score for _, score in found] == pytest.approx([score for _, score in old_found])
    body = store.body_text("total OR cents", 100)  # ranked as before: a term's hits are counted without content
    assert [chunk_id for chunk_id, _ in body] == [chunk_id for chunk_id, _ in old_body]
    assert [score for _, score in body] == pytest.approx([score for _, score in old_body])
    assert len({score for _, score in body}) > 1 and all(score < 0 for _, score in body)
    assert all(store.chunk_text(row[0]) == row[19] for row in old_chunks)
    plan = " ".join(
        str(row[3])
        for row in store.db.execute(
            "EXPLAIN QUERY PLAN SELECT f.path, c.qualname, c.number FROM chunks c JOIN files f ON f.key = c.file"
            " WHERE c.name >= ? COLLATE NOCASE AND c.name < ? COLLATE NOCASE LIMIT 5",
            ["to", "tp"],
        )
    )
    assert "COVERING INDEX chunks_name_nocase" in plan  # workspace/symbol's prefix step reads no chunk row

    report = workspace.refresh()  # the files are as they were indexed: nothing to chunk again
    assert report.changed == 0 and report.removed == 0
    assert store.dump() == dump


def test_an_early_schema_8_layout_is_refused_as_damaged_so_it_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "early.sqlite3"
    SqliteStore(path).close()
    connection = sqlite3.connect(path)  # as schema 8 was first committed: no table of texts
    connection.execute("DROP TABLE chunk_texts")
    connection.commit()
    connection.close()
    with pytest.raises(StoreError, match="early layout of schema 8") as raised:
        SqliteStore(path)
    assert raised.value.reason == "corrupt"  # recovery.py moves it aside and starts again


def test_newer_schema_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    SqliteStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.commit()
    connection.close()
    with pytest.raises(StoreError, match="newer than this Aurora") as raised:
        SqliteStore(path)
    assert "\n" not in str(raised.value)


def test_garbage_file_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not a database" * 500)
    with pytest.raises(StoreError, match="cannot use database") as raised:
        SqliteStore(path)
    assert "\n" not in str(raised.value)


def test_someone_elses_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (text)")
    connection.commit()
    connection.close()
    with pytest.raises(StoreError, match="not Aurora's"):
        SqliteStore(path)


def test_eviction_then_reread_returns_an_equal_chunk(shop: Path, workspace_factory) -> None:
    workspace, ids = indexed_shop(shop, workspace_factory)
    first = {chunk_id: workspace.chunks.get(chunk_id) for chunk_id in ids}
    small = ChunkStore(workspace.db, max_chunks=3, memory_budget_bytes=10**9)
    for chunk_id in ids:
        small.get(chunk_id)
    assert len(small.tier) == 3
    assert small.tier.evictions == len(ids) - 3
    for chunk_id in ids:  # every evicted chunk comes back from SQLite, equal
        again = small.get(chunk_id)
        assert again == first[chunk_id]
        assert again is not first[chunk_id]
    assert small.tier.misses >= len(ids)


def test_byte_budget_bounds_the_tier(shop: Path, workspace_factory) -> None:
    workspace, ids = indexed_shop(shop, workspace_factory)
    one = workspace.chunks.get(ids[0])
    budget = 4 * resident_size(one) + 2000
    store = ChunkStore(workspace.db, max_chunks=10_000, memory_budget_bytes=budget)
    for chunk_id in ids * 2:
        assert store.get(chunk_id) is not None
        assert store.tier.resident_bytes <= budget
    assert 0 < len(store.tier) < len(ids)
    assert store.tier.evictions > 0


def test_resident_chunks_are_left_out_of_garbage_collection(shop: Path, workspace_factory) -> None:
    workspace, ids = indexed_shop(shop, workspace_factory)
    store = ChunkStore(workspace.db, max_chunks=10_000, memory_budget_bytes=10**8)
    chunks = store.get_many(ids)
    assert [chunk.id for chunk in chunks] == ids and any(chunk.decorators for chunk in chunks)
    gc.collect()
    # a full collection walks every tracked object; 50,000 resident Chunk objects made
    # each one 28 ms longer at 262K chunks
    rows = [store.tier.peek(chunk_id) for chunk_id in ids]
    assert all(row is not None and not gc.is_tracked(row) for row in rows)
    assert [store.get(chunk_id) for chunk_id in ids] == chunks


def test_text_docstring_and_dependencies_come_from_sqlite(shop: Path, workspace_factory) -> None:
    workspace, _ = indexed_shop(shop, workspace_factory)
    chunk_id = "shop/services/pricing.py::total_price"
    text = workspace.chunks.text(chunk_id)
    assert text is not None and text.startswith("def total_price(cart: Cart")
    assert workspace.chunks.docstring(chunk_id) == "Total of a cart in cents, after discount and tax."
    chunk = workspace.chunks.get(chunk_id)
    assert chunk.summary == "Total of a cart in cents, after discount and tax."
    deps = {target: (kind, how) for target, kind, how in workspace.chunks.dependencies(chunk_id)}
    assert deps["shop/services/pricing.py::apply_discount"] == ("call", "local")
    assert deps["shop/models/cart.py::Cart"] == ("reference", "import")
    callers = [source for source, _, _ in workspace.chunks.dependents("shop/models/base.py::Record.validate")]
    assert callers == ["shop/models/base.py::Product.__post_init__", "shop/models/base.py::Record.save"]


TRICKY = """\
class Outer:
    \"\"\"Outer, with a docstring that is not ASCII: café.\"\"\"

    class Inner:
        def method(self):
            def local():
                return "naïve"
            return local()

    def twice(self):
        return 1

    def twice(self):
        return 2


def a(): pass; def b(): pass
"""


def test_each_chunk_text_reads_back_as_chunked_and_edges_survive_a_rewrite(tmp_path: Path, workspace_factory) -> None:
    root = tmp_path / "tricky"
    root.mkdir()
    (root / "user.py").write_text("from tricky import Outer\n\n\ndef use():\n    return Outer.Inner().method()\n")
    data = TRICKY.replace("\n", "\r\n").encode()  # CRLF, nesting three deep, a repeated name, a shared line
    (root / "tricky.py").write_bytes(data)
    workspace = workspace_factory(root)
    workspace.refresh()
    store = workspace.db
    for version in (data, data.replace(b"return 2", b"return 22")):
        (root / "tricky.py").write_bytes(version)
        workspace.refresh()
        parsed = chunk_file("tricky.py", version)
        assert "tricky.py::Outer.twice#2" in {chunk.id for chunk in parsed.chunks}
        assert {chunk.id: store.chunk_text(chunk.id) for chunk in parsed.chunks} == {
            chunk.id: chunk.text for chunk in parsed.chunks
        }
        assert "user.py::use" in {source for source, _, _ in store.dependents("tricky.py::Outer.Inner")}
    inside_parent = store.db.execute("SELECT count(*) FROM chunks WHERE text_at IS NOT NULL").fetchone()[0]
    assert inside_parent >= 4  # Inner, method, local, the two twice: spans of their parents' text


def test_full_text_index_finds_names_words_and_docstrings(shop: Path, workspace_factory) -> None:
    workspace, _ = indexed_shop(shop, workspace_factory)
    by_word = [chunk_id for chunk_id, _ in workspace.db.full_text("discount", 10)]
    assert "shop/services/pricing.py::apply_discount" in by_word  # from the split name
    assert "shop/services/pricing.py::total_price" in by_word  # from the docstring
    assert [i for i, _ in workspace.db.full_text("shopping", 10)] == ["shop/models/cart.py::Cart"]


def test_close_releases_the_tier(shop: Path, workspace_factory) -> None:
    workspace, ids = indexed_shop(shop, workspace_factory)
    chunks, db = workspace.chunks, workspace.db
    chunks.get_many(ids)
    assert len(chunks.tier) == len(ids)
    workspace.close()
    assert len(chunks.tier) == 0
    for connection in (chunks, db):  # the reader's and the writer's
        with pytest.raises(sqlite3.ProgrammingError):
            connection.counts()


def test_warm_stops_at_the_byte_budget(shop: Path, workspace_factory) -> None:
    workspace, ids = indexed_shop(shop, workspace_factory)
    one = workspace.chunks.get(ids[0])
    budget = 5 * resident_size(one) + 1500
    store = ChunkStore(workspace.db, max_chunks=10_000, memory_budget_bytes=budget)
    read = store.warm()
    assert 0 < read < len(ids)
    assert store.tier.evictions == 0 and store.tier.resident_bytes <= budget
