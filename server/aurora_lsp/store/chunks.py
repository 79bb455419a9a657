"""The store's front door: a bounded LRU of chunks in memory, SQLite behind it.

Every chunk lives in SQLite; the memory tier holds the recently used ones within
`maxChunks` and `memoryBudgetMb`. A chunk evicted from memory is read back from SQLite
when asked for, so eviction loses nothing.

Everything that reads the index (symbol search, the context engine, figures) and records
uses goes through this class; only the indexer, the one writer of files and edges, holds
the SqliteStore itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from aurora_lsp.protocol import DatabaseFigures, MemoryFigures
from aurora_lsp.records import Chunk, ChunkId, ChunkRow, Event, row_size
from aurora_lsp.store.lru import LruTier
from aurora_lsp.store.sqlite import SqliteStore


class ChunkStore:
    def __init__(self, db: SqliteStore, max_chunks: int, memory_budget_bytes: int) -> None:
        self.db = db
        # rows, not Chunk objects: the collector leaves them alone (see ChunkRow)
        self.tier: LruTier[str, ChunkRow] = LruTier(max_chunks, memory_budget_bytes, row_size)

    def get(self, chunk_id: str) -> Chunk | None:
        """The chunk, from memory when resident, else read back from SQLite."""
        found = self.get_many([chunk_id])
        return found[0] if found else None

    def get_many(self, chunk_ids: Iterable[str]) -> list[Chunk]:
        """The chunks that exist, in the order asked; those not resident read in one query."""
        wanted = list(chunk_ids)
        found: dict[str, Chunk] = {}
        missing: list[str] = []
        for chunk_id in wanted:
            row = self.tier.get(chunk_id)
            if row is None:
                missing.append(chunk_id)
            else:
                found[chunk_id] = Chunk(*row)
        for chunk in self.db.get_chunks(missing):
            self.tier.put(chunk.id, chunk.row())
            found[chunk.id] = chunk
        return [found[chunk_id] for chunk_id in wanted if chunk_id in found]

    def chunks_in_file(self, path: str) -> list[Chunk]:
        """A file's chunks in source order (read together from SQLite, then kept resident)."""
        chunks = self.db.chunks_in_file(path)
        tier = self.tier
        for chunk in chunks:
            row = chunk.row()
            if tier.get(chunk.id) != row:
                tier.put(chunk.id, row)
        return chunks

    def warm(self) -> int:
        """Read chunks into memory until either bound would be passed; the number read."""
        count = 0
        tier = self.tier
        for chunk in self.db.iter_chunks():
            row = chunk.row()
            if len(tier) >= tier.max_entries or tier.resident_bytes + row_size(row) + 64 > tier.max_bytes:
                break
            tier.put(chunk.id, row)
            count += 1
        return count

    def forget_files(self, paths: Iterable[str]) -> None:
        """Drop resident chunks of files that changed or vanished (SQLite has the new truth)."""
        changed = set(paths)
        if not changed:
            return
        for chunk_id in self.tier.keys():
            if ChunkId.path(chunk_id) in changed:
                self.tier.discard(chunk_id)

    def file_hash(self, path: str) -> str | None:
        """The content hash of a file as indexed; None if the index does not hold it."""
        return self.db.file_hash(path)

    def text(self, chunk_id: str) -> str | None:
        return self.db.chunk_text(chunk_id)

    def docstring(self, chunk_id: str) -> str | None:
        return self.db.chunk_docstring(chunk_id)

    def dependencies(self, chunk_id: str) -> list[tuple[str, str, str]]:
        return self.db.dependencies(chunk_id)

    def dependents(self, chunk_id: str) -> list[tuple[str, str, str]]:
        return self.db.dependents(chunk_id)

    # -- what search and ranking read (SQLite answers; see SqliteStore for each query) -----

    def name_candidates(self, like_pattern: str, min_length: int, limit: int) -> list[tuple[str, str]]:
        return self.db.name_candidates(like_pattern, min_length, limit)

    def name_prefix_candidates(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        return self.db.name_prefix_candidates(prefix, limit)

    def name_suffix_candidates(self, name: str, suffix: str, limit: int) -> list[tuple[str, str]]:
        return self.db.name_suffix_candidates(name, suffix, limit)

    def exact_name_candidates(self, query: str, limit: int) -> list[tuple[str, str]]:
        return self.db.exact_name_candidates(query, limit)

    def ids_named(self, names: Sequence[str], limit: int) -> list[str]:
        return self.db.ids_named(names, limit)

    def paths_ending(self, suffix: str, limit: int) -> list[str]:
        return self.db.paths_ending(suffix, limit)

    def body_text(self, match: str, limit: int) -> list[tuple[str, float]]:
        return self.db.body_text(match, limit)

    def body_ids(self, match: str, limit: int) -> list[str]:
        return self.db.body_ids(match, limit)

    def body_term_chunk_counts(self, terms: Sequence[str]) -> dict[str, int]:
        return self.db.body_term_chunk_counts(terms)

    def full_text(self, match: str, limit: int) -> list[tuple[str, float]]:
        return self.db.full_text(match, limit)

    def term_chunk_counts(self, terms: Sequence[str]) -> dict[str, int]:
        return self.db.term_chunk_counts(terms)

    def links(self, chunk_ids: Sequence[str]) -> list[tuple[str, str, str, str]]:
        return self.db.links(chunk_ids)

    def children(self, chunk_ids: Sequence[str]) -> list[tuple[str, str]]:
        return self.db.children(chunk_ids)

    # -- the git history (learned associations) -------------------------------------------

    def history_partners(self, keys: Sequence[str], limit: int) -> list[tuple[str, str, int, float]]:
        return self.db.history_partners(keys, limit)

    def history_changes(self, keys: Sequence[str]) -> dict[str, int]:
        return self.db.history_changes(keys)

    # -- uses ----------------------------------------------------------------------------

    def access_history(self, chunk_ids: Sequence[str]) -> dict[str, list[tuple[float, str]]]:
        return self.db.access_history(chunk_ids)

    def recently_accessed(self, since: float, limit: int, ignored_event: str = "") -> list[str]:
        return self.db.recently_accessed(since, limit, ignored_event)

    def last_access_times(self, events: Iterable[Event]) -> dict[tuple[str, str], float]:
        """(chunk id, kind of use) -> when it was last recorded, for these events' chunks and kinds."""
        listed = list(events)
        ids = sorted({chunk_id for chunk_id, _, _ in listed})
        last: dict[tuple[str, str], float] = {}
        for kind in sorted({kind for _, _, kind in listed}):
            for chunk_id, at in self.db.last_access_times(ids, kind).items():
                last[(chunk_id, kind)] = at
        return last

    def record_accesses(self, events: Sequence[Event]) -> None:
        """Write uses, in one transaction."""
        if events:
            with self.db.transaction():
                self.db.record_accesses(events)

    # -- figures and lifetime ----------------------------------------------------------

    @property
    def location(self) -> tuple[Path, str | None]:
        """What another connection needs to open the same database: (path, memory name)."""
        return self.db.location

    def counts(self) -> dict[str, int]:
        return self.db.counts()

    def get_meta(self, key: str) -> str | None:
        return self.db.get_meta(key)

    def database_figures(self) -> DatabaseFigures:
        return DatabaseFigures(path=str(self.db.path), bytes=self.db.size_bytes())

    def resize(self, max_chunks: int, memory_budget_bytes: int) -> None:
        self.tier.resize(max_chunks, memory_budget_bytes)

    def memory_figures(self) -> MemoryFigures:
        tier = self.tier
        return MemoryFigures(
            resident_chunks=len(tier),
            resident_bytes=tier.resident_bytes,
            memory_budget_bytes=tier.max_bytes,
            max_chunks=tier.max_entries,
            evictions=tier.evictions,
            hits=tier.hits,
            misses=tier.misses,
        )

    def close(self) -> None:
        """Release the memory tier and close the database."""
        self.tier.clear()
        self.db.close()
