"""The services of one workspace folder inside the language server, and their threads.

Three threads own everything that blocks: the *indexer* thread owns the writing
connection (refreshes, access events), the *reader* thread owns a second connection and
the memory tier (symbol, context and stats queries), and the *outline* thread parses
open documents for documentSymbol. SQLite in WAL mode lets the reader answer from what
is already indexed while the indexer writes. The outline thread is the only user of
parso's process-wide cache of editor trees (its diff parser; the indexer parses without
a cache), and with a thread of its own the outline no longer waits behind a refresh:
during a typing burst on sympy it had waited 1.8 s, the length of one refresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from aurora_lsp.config import Settings
from aurora_lsp.context.retrieve import ContextEngine, ContextRequest
from aurora_lsp.index.indexer import IndexReport, Progress
from aurora_lsp.records import Chunk, ChunkId
from aurora_lsp.search import SymbolMatch, search_symbols
from aurora_lsp.store.chunks import ChunkStore
from aurora_lsp.store.sqlite import SqliteStore
from aurora_lsp.workspace import Workspace

T = TypeVar("T")


class Threads:
    """The three single-thread executors every folder shares."""

    def __init__(self) -> None:
        self.indexer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aurora-indexer")
        self.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aurora-reader")
        self.outline = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aurora-outline")

    async def on_indexer(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.indexer, function, *args)

    async def on_reader(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.reader, function, *args)

    async def on_outline(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.outline, function, *args)

    def shutdown(self) -> None:
        self.indexer.shutdown(wait=True, cancel_futures=True)
        self.reader.shutdown(wait=True, cancel_futures=True)
        self.outline.shutdown(wait=True, cancel_futures=True)


class Folder:
    """One workspace folder: its writer (indexer thread) and reader (reader thread) sides."""

    def __init__(self, root: Path, settings: Settings, primary: bool) -> None:
        self.root = root
        self.settings = settings
        self.primary = primary  # the first folder uses `databasePath` as given
        self.writer: Workspace | None = None
        self.reader_db: SqliteStore | None = None
        self.reader_chunks: ChunkStore | None = None
        self.last_report: IndexReport | None = None

    # -- indexer thread -----------------------------------------------------------------

    def open_writer(self) -> None:
        self.writer = Workspace.open(self.root, self.settings, self.primary)

    def refresh(self, progress: Progress | None, full: bool, buffers: dict[str, str]) -> IndexReport:
        assert self.writer is not None
        self.writer.indexer.exclude = self.settings.exclude
        self.writer.indexer.max_file_size_kb = self.settings.max_file_size_kb
        self.last_report = self.writer.refresh(progress, full=full, buffers=buffers)
        return self.last_report

    def record_accesses(self, events: list[tuple[str, float, str]]) -> None:
        if self.writer is not None:
            self.writer.record_accesses(events)

    def close_writer(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    # -- reader thread ------------------------------------------------------------------

    def open_reader(self) -> None:
        assert self.writer is not None, "the writer opens (and repairs) the database first"
        path, memory_name = self.writer.db.location
        self.reader_db = SqliteStore(path, memory_name=memory_name)
        self.reader_chunks = ChunkStore(self.reader_db, self.settings.max_chunks, self.settings.memory_budget_bytes)

    def follow_writer(self) -> None:
        """Reopen the reader when the writer moved to another database (the disk filled up)."""
        if self.writer is None or self.reader_chunks is None or self.reader_db is None:
            return
        if self.reader_db.location == self.writer.db.location:
            return
        max_chunks, max_bytes = self.reader_chunks.tier.max_entries, self.reader_chunks.tier.max_bytes
        self.close_reader()
        self.open_reader()
        self.resize(max_chunks, max_bytes)

    def search(self, query: str, limit: int) -> list[tuple[SymbolMatch, Chunk, str]]:
        """(match, chunk, container name) for the best `limit` chunks."""
        assert self.reader_db is not None and self.reader_chunks is not None
        found: list[tuple[SymbolMatch, Chunk, str]] = []
        matches = search_symbols(self.reader_db, query, limit)
        chunks = {chunk.id: chunk for chunk in self.reader_chunks.get_many(match.id for match in matches)}
        for match in matches:
            chunk = chunks.get(match.id)
            if chunk is None:
                continue
            container = ChunkId.plain_qualname(chunk.parent) if chunk.parent else ""
            found.append((match, chunk, container))
        return found

    def context(self, request: ContextRequest, now: float) -> dict[str, Any]:
        assert self.reader_chunks is not None
        return ContextEngine(self.root, self.reader_chunks).answer(request, now)

    def stored_chunks(self, path: str) -> list[Chunk]:
        assert self.reader_chunks is not None
        return list(self.reader_chunks.chunks_in_file(path))

    def figures(self) -> dict[str, Any]:
        assert self.reader_db is not None and self.reader_chunks is not None
        counts = self.reader_db.counts()
        return {
            "files": counts["files"],
            "chunks": counts["chunks"],
            **self.reader_chunks.memory_figures(),
            "database": {"path": str(self.reader_db.path), "bytes": self.reader_db.size_bytes()},
        }

    def forget_files(self, paths: list[str]) -> None:
        if self.reader_chunks is not None:
            self.reader_chunks.forget_files(paths)

    def resize(self, max_chunks: int, budget_bytes: int) -> None:
        if self.reader_chunks is not None:
            self.reader_chunks.resize(max_chunks, budget_bytes)

    def close_reader(self) -> None:
        if self.reader_chunks is not None:
            self.reader_chunks.close()
            self.reader_chunks = None
            self.reader_db = None
