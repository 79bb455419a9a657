"""One workspace's services, without LSP: the database, the chunk store and the indexer.

The command line uses this directly; the language server holds one per workspace folder.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from aurora_lsp.config import Settings, database_path
from aurora_lsp.context.activation import ActivationParameters
from aurora_lsp.context.retrieve import ContextEngine, ContextRequest, repeats_removed, shown_events
from aurora_lsp.index.indexer import Indexer, IndexReport, Progress
from aurora_lsp.store.chunks import ChunkStore
from aurora_lsp.store.recovery import memory_notice, memory_store, open_store
from aurora_lsp.store.sqlite import SqliteStore, is_disk_full


class WorkspaceError(Exception):
    """The workspace cannot be used; the message is one line a person can act on."""


def process_rss_bytes() -> int:
    """Resident set size of this process now (Linux), else its peak."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Workspace:
    def __init__(self, root: Path, settings: Settings, db: SqliteStore, notice: str | None = None) -> None:
        self.root = root
        self.settings = settings
        # A line for the person about how the database was found (damaged, unwritable);
        # whoever shows it sets it back to None, so it is told once.
        self.notice = notice
        self._attach(db)

    def _attach(self, db: SqliteStore) -> None:
        self.db = db
        self.db_path = db.path
        self.chunks = ChunkStore(db, self.settings.max_chunks, self.settings.memory_budget_bytes)
        self.indexer = Indexer(
            self.root, db, exclude=self.settings.exclude, max_file_size_kb=self.settings.max_file_size_kb
        )

    def switch_to_memory(self, reason: str) -> None:
        """The disk cannot take the index any more: go on in memory (indexing again from scratch)."""
        old = self.db
        self.chunks.tier.clear()
        try:
            old.close()
        except sqlite3.Error:
            pass
        self._attach(memory_store())
        self.notice = memory_notice(f"cannot write the index database {old.path} ({reason})")

    @classmethod
    def open(cls, root: Path, settings: Settings | None = None, primary: bool = True) -> Workspace:
        settings = settings or Settings()
        try:
            resolved = root.expanduser().resolve(strict=True)
        except (OSError, RuntimeError):
            raise WorkspaceError(f"no such folder: {root}") from None
        if not resolved.is_dir():
            raise WorkspaceError(f"not a folder: {root}")
        opened = open_store(database_path(resolved, settings, primary))
        return cls(resolved, settings, opened.store, opened.notice)

    def refresh(
        self,
        progress: Progress | None = None,
        *,
        full: bool = False,
        workers: int | None = None,
        buffers: dict[str, str] | None = None,
    ) -> IndexReport:
        self.indexer.workers = workers
        try:
            report = self.indexer.refresh(progress, full=full, buffers=buffers)
        except sqlite3.OperationalError as error:
            if not is_disk_full(error) or self.db.memory_name is not None:
                raise
            self.switch_to_memory(str(error))
            self.indexer.workers = workers
            report = self.indexer.refresh(progress, full=True, buffers=buffers)
        self.chunks.forget_files(report.changed_paths + report.removed_paths)
        self.db.set_meta("last_skipped", json.dumps(dict(sorted(report.skipped.items()))))
        return report

    def database_figures(self) -> dict[str, object]:
        return {"path": str(self.db_path), "bytes": self.db.size_bytes()}

    def stats(self, *, warm: bool = False) -> dict[str, Any]:
        """The contract's `aurora/stats` figures; `warm` first reads chunks into memory up to the budget."""
        if warm:
            self.chunks.warm()
        counts = self.db.counts()
        last = self.db.get_meta("last_run_seconds")
        skipped = json.loads(self.db.get_meta("last_skipped") or "{}")
        return {
            "files": counts["files"],
            "chunks": counts["chunks"],
            "edges": counts["edges"],
            **self.chunks.memory_figures(),
            "processRssBytes": process_rss_bytes(),
            "database": self.database_figures(),
            "indexing": {
                "state": "idle",
                "done": counts["files"],
                "total": counts["files"],
                "lastRunSeconds": float(last) if last else None,
            },
            "skipped": skipped,
        }

    def context(
        self,
        path: str | None,
        line: int | None,
        character: int = 0,
        query: str | None = None,
        token_budget: int | None = None,
        parameters: ActivationParameters | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """The contract's `aurora/context` answer; path is workspace-relative, line 0-based."""
        request = ContextRequest(
            path, line, character, query, token_budget or self.settings.context_token_budget, limit
        )
        now = time.time()
        answer = ContextEngine(self.root, self.chunks).answer(request, now, parameters)
        if self.settings.record_accesses:
            self.record_accesses(shown_events(answer, now))
        return answer

    def record_accesses(self, events: list[tuple[str, float, str]]) -> None:
        """Record uses of chunks, each kind of use at most once per chunk in its interval."""
        if not events:
            return
        ids = sorted({chunk_id for chunk_id, _, _ in events})
        last: dict[tuple[str, str], float] = {}
        for event in {event for _, _, event in events}:
            for chunk_id, at in self.db.last_access_times(ids, event).items():
                last[(chunk_id, event)] = at
        kept = repeats_removed(events, last)
        if kept:
            with self.db.transaction():
                self.db.record_accesses(kept)

    def close(self) -> None:
        self.chunks.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
