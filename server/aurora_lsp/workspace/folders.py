"""The workspace folders of one language server: a service each, on threads they share.

Folders are added and removed as the editor says; a document belongs to the folder whose
root holds it most closely. The memory budget is the server's: folders share it equally.
A refresh runs folder after folder on the writer thread, one refresh at a time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pygls.uris import to_fs_path

from aurora_lsp.config import LiveSettings
from aurora_lsp.positions import is_utf8
from aurora_lsp.protocol import ContextAnswer, IndexingState, ReindexResult, RunCounts, Stats
from aurora_lsp.store.sqlite import busy_backoff, is_busy
from aurora_lsp.workspace import figures
from aurora_lsp.workspace.inferring import Inference
from aurora_lsp.workspace.service import Definition, SymbolHit, WorkspaceService
from aurora_lsp.workspace.threads import Threads

if TYPE_CHECKING:  # the context engine loads at the first question, not at start-up
    from aurora_lsp.context.engine import ContextRequest
    from aurora_lsp.index.indexer import IndexReport

logger = logging.getLogger(__name__)

Tell = Callable[[str], None]  # one line for the person (a warning or an error)
Progress = Callable[[int, int], None]  # (files done, files in all), on the event loop
Buffers = Callable[[WorkspaceService], dict[str, str]]


class Folders:
    """Every workspace folder of the server (event loop only; services run on their threads)."""

    def __init__(self, settings: LiveSettings, threads: Threads, warn: Tell, fail: Tell) -> None:
        self.settings = settings
        self.threads = threads
        self.services: dict[Path, WorkspaceService] = {}
        self._warn = warn
        self._fail = fail
        self._refresh_lock = asyncio.Lock()
        self._last_refresh: ReindexResult | None = None
        self._ready: asyncio.Event | None = None
        self.inference = Inference(threads)

    @property
    def ready(self) -> asyncio.Event:
        """Set once `initialized` has opened the workspace folders; requests wait for it."""
        if self._ready is None:
            self._ready = asyncio.Event()
        return self._ready

    async def add(self, uri: str) -> WorkspaceService | None:
        path = to_fs_path(uri)
        if path is None:
            return None
        root = Path(os.path.realpath(path))
        if root in self.services or not root.is_dir():
            return self.services.get(root)
        shown = Path(os.path.normpath(path))
        service = WorkspaceService(root, self.settings, primary=not self.services, shown_root=shown)
        try:
            await self.threads.run(service.open_writer)
            await self.threads.run(service.open_reader)
        except Exception as error:  # a database that cannot be used must not stop the server
            self._fail(f"Aurora: {error}")
            return None
        self._tell_notice(service)
        self.services[root] = service
        await self.resize()
        return service

    async def remove(self, uri: str) -> None:
        path = to_fs_path(uri)
        service = self.services.pop(Path(os.path.realpath(path)), None) if path else None
        if service is not None:
            self.inference.close(service)
            await self.threads.run(service.close_reader)
            await self.threads.run(service.close_writer)
            await self.resize()

    async def resize(self) -> None:
        """Share the memory budget equally between the folders."""
        settings = self.settings.current
        share = max(1, len(self.services))
        for service in self.services.values():
            await self.threads.run(service.resize, settings.max_chunks // share, settings.memory_budget_bytes // share)

    def locate(self, uri: str) -> tuple[WorkspaceService, str] | None:
        """The folder holding a document and the document's workspace-relative path.

        The document's path is made canonical first (symlinks and `..` resolved), as the
        roots are: a folder opened through a symlink still finds its files, and a URI that
        leaves the folder with `..` or a symlinked file pointing outside belongs to no folder.
        """
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if path is None:
            return None
        absolute = Path(os.path.realpath(path))
        best: tuple[WorkspaceService, str] | None = None
        for root, service in self.services.items():
            try:
                relative = absolute.relative_to(root).as_posix()
            except ValueError:
                continue
            if relative == "." or not is_utf8(relative):
                continue
            if best is None or len(str(root)) > len(str(best[0].root)):
                best = (service, relative)
        return best

    async def refresh(self, full: bool, progress: Progress | None, buffers: Buffers) -> ReindexResult:
        """Refresh every folder, one refresh at a time; an edit before `initialized` waits for the folders."""
        await self.ready.wait()
        async with self._refresh_lock:
            loop = asyncio.get_running_loop()
            started = time.perf_counter()
            files = chunks = 0

            def reported(done: int, total: int) -> None:  # called on the writer thread
                if progress is not None:
                    loop.call_soon_threadsafe(progress, done, total)

            for service in list(self.services.values()):
                report = await self._refresh_until_done(service, reported, full, buffers)
                if report is None:
                    continue  # the folder was closed while it waited
                files += report.files
                chunks += report.chunks
                await self.threads.run(service.catch_up, report)
                self.inference.after_refresh(service, buffers(service))
                self._tell_notice(service)
            seconds = round(time.perf_counter() - started, 3)
            logger.info(
                "refreshed %d folders: %d files, %d chunks in %.3f s", len(self.services), files, chunks, seconds
            )
            self._last_refresh = ReindexResult(files=files, chunks=chunks, seconds=seconds)
            return self._last_refresh

    async def _refresh_until_done(
        self, service: WorkspaceService, progress: Progress, full: bool, buffers: Buffers
    ) -> IndexReport | None:
        """A folder's refresh, tried again with backoff while another process holds the
        database's lock (a second tool, a backup, `sqlite3` in a terminal): the change lands
        once the lock is gone, and the person is told once while it waits."""
        waited = False
        for delay in busy_backoff():
            try:
                report = await self.threads.run(
                    service.refresh, progress, full=full, buffers=buffers(service), first_pass=True
                )
            except Exception as error:
                if not is_busy(error):
                    raise
                if not waited:
                    waited = True
                    label = service.database_label()
                    self._warn(f"Aurora: {label} is locked by another process; indexing waits for it")
                logger.info("database busy (%s); refreshing %s again in %.1f s", error, service.root, delay)
                await asyncio.sleep(delay)
                if service not in self.services.values():
                    return None
                continue
            if waited:
                logger.warning("database of %s free again; the index is up to date", service.root)
            return report
        return None

    async def context(self, uri: str | None, request: ContextRequest, text: str | None = None) -> ContextAnswer:
        """A focus answers from its folder; a query alone from every folder, merged best first.

        At a position in an open document (`text`), jedi resolves the name there and its
        definitions in the workspace become sources too."""
        from aurora_lsp.context.accesses import shown_events
        from aurora_lsp.context.packing import merge_answers

        located = self.locate(uri) if uri else None
        now = time.time()
        if located is not None:
            service, request.path = located
            targets = [service]
            if request.line is not None and text is not None:
                found = await self.inference.goto(service, request.path, text, request.line, request.character)
                sites = found.sites or () if found is not None else ()
                request.definitions = tuple((s.path, s.line, s.name) for s in sites if s.in_workspace)
        else:
            request.line = None  # a document outside the workspace has no chunks to focus on
            targets = list(self.services.values()) if request.query else []
        answers = []
        for service in targets:
            answer = await self.threads.run(service.context, request, now)
            self.threads.submit(service.record_uses, shown_events(answer, now))
            answers.append(answer)
        return merge_answers(answers, request.token_budget)  # none: an empty answer

    async def definition(
        self, uri: str, line: int, character: int, text: str | None
    ) -> tuple[WorkspaceService, list[Definition]] | None:
        """jedi's definitions of the name at a position of an open document (`text`), else (and
        when jedi finds nothing) the edges of the chunk there; each answer a use."""
        located = self.locate(uri)
        if located is None:
            return None
        service, path = located
        found = await self.inference.goto(service, path, text, line, character) if text is not None else None
        answer = await self.threads.run(service.definitions, path, line, character, found)
        self.record_uses(service, sorted({d.chunk_id for d in answer if d.chunk_id}), "navigate")
        return service, answer

    async def symbols(self, query: str, limit: int) -> list[tuple[WorkspaceService, SymbolHit]]:
        """Every folder's best `limit` hits for a symbol query, best first."""
        found: list[tuple[WorkspaceService, SymbolHit]] = []
        for service in list(self.services.values()):
            found.extend((service, hit) for hit in await self.threads.run(service.symbols, query, limit))
        found.sort(key=lambda pair: pair[1].match.sort_key)
        return found[:limit]

    async def stats(self) -> Stats:
        services = list(self.services.values())
        folder_figures = [await self.threads.run(service.figures) for service in services]
        indexing = figures.combined_indexing([service.indexing for service in services])
        if not services and self._last_refresh is not None:  # no folder (none could open): the run still ran
            indexing = IndexingState(last_run_seconds=self._last_refresh.seconds, last_run=RunCounts())
        return figures.stats(folder_figures, indexing, self.settings.current)

    def record_uses(self, service: WorkspaceService, chunk_ids: list[str], kind: str) -> None:
        """Queue uses for the writer thread; an answer never waits for them (or a refresh)."""
        now = time.time()
        if chunk_ids:
            self.threads.submit(service.record_uses, [(chunk_id, now, kind) for chunk_id in chunk_ids])

    def _tell_notice(self, service: WorkspaceService) -> None:
        """Say once what happened to a folder's database (moved aside, kept in memory)."""
        notice = service.take_notice()
        if notice:
            logger.warning("%s", notice)
            self._warn(notice)

    async def close(self) -> None:
        for service in list(self.services.values()):
            self.inference.close(service)
            await self.threads.run(service.close_reader)
            await self.threads.run(service.close_writer)
        self.services.clear()
