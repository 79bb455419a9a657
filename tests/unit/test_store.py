"""The two tiers over a real SQLite file: schema, eviction and read-back, text, full text."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path

import pytest
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


def test_a_schema_3_index_is_migrated_and_symbol_prefixes_read_only_an_index(
    shop: Path, tmp_path: Path, workspace_factory
) -> None:
    workspace, ids = indexed_shop(shop, workspace_factory)
    before = workspace.db.name_prefix_candidates("to", 100)
    path = workspace.db.path
    workspace.close()
    connection = sqlite3.connect(path)  # as schema 3 left it: names only
    connection.execute("DROP INDEX chunks_name_nocase")
    connection.execute("CREATE INDEX chunks_name_nocase ON chunks (name COLLATE NOCASE)")
    connection.execute("PRAGMA user_version = 3")
    connection.commit()
    connection.close()
    store = SqliteStore(path)
    assert store.schema_version() == SCHEMA_VERSION == 7
    assert sorted(store.name_prefix_candidates("to", 100)) == sorted(before)
    assert {qualname for _, qualname in before} >= {"total_price", "Cart.total_cents"}
    plan = " ".join(
        str(row[3])
        for row in store.db.execute(
            "EXPLAIN QUERY PLAN SELECT id, qualname FROM chunks WHERE name >= ? COLLATE NOCASE"
            " AND name < ? COLLATE NOCASE LIMIT 5",
            ["to", "tp"],
        )
    )
    assert "COVERING INDEX chunks_name_nocase" in plan
    store.close()


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
