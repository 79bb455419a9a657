"""The two tiers behind one small API: a bounded LRU of chunks in memory, SQLite behind it.

Every chunk lives in SQLite; the memory tier holds the recently used ones within
`maxChunks` and `memoryBudgetMb`. A chunk evicted from memory is read back from SQLite
when asked for, so eviction loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from aurora_lsp.records import Chunk, ChunkId, ChunkRow, row_size
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

    def text(self, chunk_id: str) -> str | None:
        return self.db.chunk_text(chunk_id)

    def docstring(self, chunk_id: str) -> str | None:
        return self.db.chunk_docstring(chunk_id)

    def dependencies(self, chunk_id: str) -> list[tuple[str, str, str]]:
        return self.db.dependencies(chunk_id)

    def dependents(self, chunk_id: str) -> list[tuple[str, str, str]]:
        return self.db.dependents(chunk_id)

    def resize(self, max_chunks: int, memory_budget_bytes: int) -> None:
        self.tier.resize(max_chunks, memory_budget_bytes)

    def memory_figures(self) -> dict[str, int]:
        tier = self.tier
        return {
            "residentChunks": len(tier),
            "residentBytes": tier.resident_bytes,
            "memoryBudgetBytes": tier.max_bytes,
            "maxChunks": tier.max_entries,
            "evictions": tier.evictions,
            "hits": tier.hits,
            "misses": tier.misses,
        }

    def close(self) -> None:
        """Release the memory tier and close the database."""
        self.tier.clear()
        self.db.close()
