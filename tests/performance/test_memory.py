"""The seed's five memory tests, on real chunks (the stdlib), measured with tracemalloc.

The seed promised < 100 MB for 10,000 chunks and measured 15.5 MB; Aurora's resident
tier must hold 10,000 chunks in ≤ 10 MB, ≤ 1 KB a chunk, grow linearly, say honestly
what it holds, and give memory back on close().
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

from aurora_lsp.store.chunks import ChunkStore
from aurora_lsp.store.sqlite import SqliteStore

MB = 1024 * 1024


def chunk_ids(db: SqliteStore, count: int) -> list[str]:
    ids = [row[0] for row in db.symbol_rows()]
    assert len(ids) >= count
    return ids[:count]


def measure_load(db: SqliteStore, ids: list[str]) -> tuple[ChunkStore, int]:
    """Load `ids` into a fresh tier; return it and the bytes tracemalloc saw it keep."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store = ChunkStore(db, max_chunks=10**6, memory_budget_bytes=10**10)
        for chunk_id in ids:
            store.get(chunk_id)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return store, after - before


def test_ten_thousand_chunks_resident_in_ten_mb(stdlib_store: SqliteStore) -> None:
    store, traced = measure_load(stdlib_store, chunk_ids(stdlib_store, 10_000))
    assert len(store.tier) == 10_000
    assert traced <= 10 * MB, f"{traced / MB:.2f} MB"
    # honest accounting: what the tier says it holds is what tracemalloc saw (within 10%)
    assert abs(store.tier.resident_bytes - traced) <= 0.10 * traced, (store.tier.resident_bytes, traced)


def test_sqlite_backed_store_with_ten_thousand_chunks(stdlib_store: SqliteStore) -> None:
    """All 10,000 chunks reachable through a tier that keeps only 1,000 of them."""
    ids = chunk_ids(stdlib_store, 10_000)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store = ChunkStore(stdlib_store, max_chunks=1_000, memory_budget_bytes=100 * MB)
        found = sum(1 for chunk_id in ids if store.get(chunk_id) is not None)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert found == 10_000
    assert len(store.tier) == 1_000 and store.tier.evictions == 9_000
    assert kept <= 1.5 * MB, f"{kept / MB:.2f} MB"
    assert all(store.get(chunk_id) is not None for chunk_id in ids[:100])  # evicted, read back


def test_bytes_per_chunk_at_most_one_kb(stdlib_store: SqliteStore) -> None:
    store, traced = measure_load(stdlib_store, chunk_ids(stdlib_store, 10_000))
    assert traced / 10_000 <= 1024, traced / 10_000
    assert store.tier.resident_bytes / 10_000 <= 1024


def test_growth_is_linear(stdlib_store: SqliteStore) -> None:
    ids = chunk_ids(stdlib_store, 10_000)
    sizes = {n: measure_load(stdlib_store, ids[:n])[1] for n in (1_000, 2_000, 5_000, 10_000)}
    assert 1.8 <= sizes[2_000] / sizes[1_000] <= 2.2, sizes
    assert 1.8 <= sizes[10_000] / sizes[5_000] <= 2.2, sizes
    assert 2.25 <= sizes[5_000] / sizes[2_000] <= 2.75, sizes  # 2.5 times the chunks


def test_close_releases_memory(stdlib_db: Path) -> None:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        db = SqliteStore(stdlib_db)
        store = ChunkStore(db, max_chunks=10**6, memory_budget_bytes=10**10)
        for chunk_id in chunk_ids(db, 10_000):
            store.get(chunk_id)
        gc.collect()
        loaded = tracemalloc.get_traced_memory()[0] - before
        store.close()
        gc.collect()
        remaining = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert loaded > 1 * MB
    assert (loaded - remaining) / loaded >= 0.90, (loaded, remaining)
