"""AuroraServer: the pygls language server that owns Aurora's services. No global server.

It keeps the settings, the workspace folders (each with its own database), the texts of
open documents, and the indexing state; features/ registers the LSP handlers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, default_converter
from pygls.protocol.json_rpc import JsonRPCNotification
from pygls.uris import to_fs_path

from aurora_lsp import __version__
from aurora_lsp.config import Settings, settings_from_wire, settings_to_wire
from aurora_lsp.context.retrieve import ContextRequest, merge_answers, shown_events
from aurora_lsp.folders import Folder, Threads
from aurora_lsp.index.chunker import chunk_text, forget_buffer
from aurora_lsp.records import ParsedFile

logger = logging.getLogger(__name__)

# Edits and file events within this window are folded into one refresh.
REFRESH_DEBOUNCE_SECONDS = 0.15
# What a malformed message becomes once answered: a notification nobody handles.
MALFORMED_MESSAGE = "$/aurora/malformed"


def strict_converter() -> cattrs.Converter:
    """pygls's converter, except that a string field given a number is InvalidParams, not "42"."""
    converter: cattrs.Converter = default_converter()  # type: ignore[no-untyped-call]

    def strict_str(value: object, _type: object) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return value

    converter.register_structure_hook(str, strict_str)
    return converter


class AuroraProtocol(LanguageServerProtocol):
    """pygls logs a request whose params do not structure and never answers it; we answer.

    JSON-RPC lets a request leave out `params` (Neovim does for `aurora/stats`); pygls
    then fails to build the message, so a missing `params` is read as null.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" in data and "method" in data and "params" not in data:
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "method" not in data:
                raise
            if "id" in data:
                self._send_response(data["id"], error=error.to_response_error())
            logger.warning("malformed params for %s: %s", data.get("method"), error)
            return JsonRPCNotification(method=MALFORMED_MESSAGE, jsonrpc="2.0", params=None)

    def handle_message(self, message: Any) -> Any:
        """After `shutdown`, a request gets InvalidRequest as LSP asks (pygls would drop it unanswered)."""
        method = getattr(message, "method", None)
        if self._shutdown and method not in (None, types.EXIT) and getattr(message, "id", None) is not None:
            error = JsonRpcInvalidRequest(f"the server is shutting down; {method} is not served")
            self._send_response(message.id, error=error.to_response_error())
            return None
        return super().handle_message(message)


class AuroraServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("aurora-lsp", __version__, protocol_cls=AuroraProtocol, converter_factory=strict_converter)
        self.settings = Settings()
        self._wire_settings: dict[str, Any] = {}
        self.threads = Threads()
        self.folders: dict[Path, Folder] = {}
        self.indexing: dict[str, Any] = {"state": "idle", "done": 0, "total": 0, "lastRunSeconds": None}
        self.buffers: dict[str, tuple[int, str]] = {}  # uri -> (version, text) of open documents
        self.parsed: dict[str, tuple[int, ParsedFile]] = {}  # uri -> (version, chunks) of open documents
        self._refresh_task: asyncio.Task[None] | None = None
        self._refresh_lock = asyncio.Lock()
        self._folders_ready: asyncio.Event | None = None

    @property
    def folders_ready(self) -> asyncio.Event:
        """Set once `initialized` has opened the workspace folders; requests wait for it."""
        if self._folders_ready is None:
            self._folders_ready = asyncio.Event()
        return self._folders_ready

    # -- settings -----------------------------------------------------------------------

    def apply_settings(self, raw: object) -> bool:
        """Take settings from the wire; warn once per bad value. True if indexing must rerun."""
        merged = {**self._wire_settings, **raw} if isinstance(raw, dict) else raw  # later sources win
        settings, warnings = settings_from_wire(merged)
        for warning in warnings:
            self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, warning))
        if not isinstance(raw, dict):
            return False
        self._wire_settings = settings_to_wire(settings)  # bad values are now their defaults: told once
        old = self.settings
        self.settings = settings
        for folder in self.folders.values():
            folder.settings = settings
        return (old.exclude, old.max_file_size_kb) != (settings.exclude, settings.max_file_size_kb)

    async def resize_tiers(self) -> None:
        """The budget is the server's: folders share it equally."""
        share = max(1, len(self.folders))
        for folder in self.folders.values():
            budget = self.settings.memory_budget_bytes // share
            await self.threads.on_reader(folder.resize, self.settings.max_chunks // share, budget)

    # -- folders ------------------------------------------------------------------------

    async def add_folder(self, uri: str) -> Folder | None:
        path = to_fs_path(uri)
        if path is None:
            return None
        root = Path(path).resolve()
        if root in self.folders or not root.is_dir():
            return self.folders.get(root)
        folder = Folder(root, self.settings, primary=not self.folders)
        try:
            await self.threads.on_indexer(folder.open_writer)
            await self.threads.on_reader(folder.open_reader)
        except Exception as error:  # a database that cannot be used must not stop the server
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"Aurora: {error}"))
            return None
        self.tell_notice(folder)
        self.folders[root] = folder
        await self.resize_tiers()
        return folder

    def tell_notice(self, folder: Folder) -> None:
        """Say once what happened to a folder's database (moved aside, kept in memory)."""
        writer = folder.writer
        if writer is not None and writer.notice:
            logger.warning("%s", writer.notice)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, writer.notice))
            writer.notice = None

    async def remove_folder(self, uri: str) -> None:
        path = to_fs_path(uri)
        folder = self.folders.pop(Path(path).resolve(), None) if path else None
        if folder is not None:
            await self.threads.on_reader(folder.close_reader)
            await self.threads.on_indexer(folder.close_writer)
            await self.resize_tiers()

    def locate(self, uri: str) -> tuple[Folder, str] | None:
        """The folder holding a document and the document's workspace-relative path."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if path is None:
            return None
        absolute = Path(path)
        best: tuple[Folder, str] | None = None
        for root, folder in self.folders.items():
            try:
                relative = absolute.relative_to(root).as_posix()
            except ValueError:
                continue
            if best is None or len(str(root)) > len(str(best[0].root)):
                best = (folder, relative)
        return best

    # -- indexing -----------------------------------------------------------------------

    def schedule_refresh(self, delay: float = REFRESH_DEBOUNCE_SECONDS) -> None:
        """Refresh every folder soon; requests in the meantime fold into one run."""
        if self._refresh_task is not None and not self._refresh_task.done():
            self._refresh_task.cancel()
        self._refresh_task = asyncio.ensure_future(self._refresh_later(delay))

    async def _refresh_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        # From here on the run is not cancelled by a newer request (that one waits its turn):
        # cancelling mid-run would report "idle" while the indexer thread is still writing.
        self._refresh_task = None
        await self.refresh_all(full=False, show_progress=False)

    async def refresh_all(self, full: bool, show_progress: bool) -> dict[str, Any]:
        await self.folders_ready.wait()  # an edit before `initialized` is done waits for the folders
        async with self._refresh_lock:
            started = time.perf_counter()
            token = str(uuid.uuid4()) if show_progress and self._client_shows_progress() else None
            if token is not None:
                await self._begin_progress(token)
            loop = asyncio.get_running_loop()
            files = chunks = 0
            last_run = {"changed": 0, "unchanged": 0, "removed": 0}
            self.indexing.update(state="indexing", done=0, total=0)

            def progress(done: int, total: int) -> None:  # called on the indexer thread
                loop.call_soon_threadsafe(self._report_progress, token, done, total)

            try:
                for folder in list(self.folders.values()):
                    buffers = self._buffers_of(folder)
                    report = await self.threads.on_indexer(folder.refresh, progress, full, buffers)
                    files += report.files
                    chunks += report.chunks
                    for key in last_run:
                        last_run[key] += getattr(report, key)
                    changed = report.changed_paths + report.removed_paths
                    await self.threads.on_reader(folder.follow_writer)
                    await self.threads.on_reader(folder.forget_files, changed)
                    self.tell_notice(folder)
            finally:
                seconds = time.perf_counter() - started
                logger.info(
                    "refreshed %d folders: %d files, %d chunks, %s in %.3f s",
                    len(self.folders),
                    files,
                    chunks,
                    last_run,
                    seconds,
                )
                self.indexing.update(state="idle", lastRunSeconds=round(seconds, 3), lastRun=last_run)
                if token is not None:
                    self.work_done_progress.end(
                        token, types.WorkDoneProgressEnd(message=f"{files} files, {chunks} chunks in {seconds:.1f} s")
                    )
            return {"files": files, "chunks": chunks, "seconds": round(seconds, 3)}

    def _buffers_of(self, folder: Folder) -> dict[str, str]:
        buffers: dict[str, str] = {}
        for uri, (_, text) in self.buffers.items():
            located = self.locate(uri)
            if located is not None and located[0] is folder:
                buffers[located[1]] = text
        return buffers

    def _client_shows_progress(self) -> bool:
        """Work-done progress only goes to a client that said it shows it (LSP 3.15)."""
        capabilities = self.protocol.client_capabilities
        window = capabilities.window if capabilities is not None else None
        return bool(window is not None and window.work_done_progress)

    async def _begin_progress(self, token: str) -> None:
        try:
            await self.work_done_progress.create_async(token)
        except Exception:  # the client may not support work-done progress
            return
        self.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title="Aurora: indexing", percentage=0, cancellable=False)
        )

    def _report_progress(self, token: str | None, done: int, total: int) -> None:
        self.indexing.update(done=done, total=total)
        if token is None or total == 0:
            return
        if done not in (0, total) and done % 25:
            return  # a report every 25 files is enough for a progress bar
        percentage = int(100 * done / total)
        self.work_done_progress.report(
            token, types.WorkDoneProgressReport(message=f"{done}/{total} files", percentage=percentage)
        )

    # -- open documents -----------------------------------------------------------------

    async def parsed_document(self, uri: str) -> ParsedFile | None:
        """Chunks of an open document as the editor has it now (parsed once per version)."""
        buffer = self.buffers.get(uri)
        located = self.locate(uri)
        if buffer is None:
            return None
        version, text = buffer
        cached = self.parsed.get(uri)
        if cached is not None and cached[0] == version:
            return cached[1]
        path = located[1] if located is not None else Path(to_fs_path(uri) or "untitled").name
        parsed = await self.threads.on_outline(functools.partial(chunk_text, path, text, buffer_key=uri))
        if self.buffers.get(uri, (None,))[0] == version:  # drop results for stale versions
            self.parsed[uri] = (version, parsed)
        return parsed

    def close_document(self, uri: str) -> None:
        """The editor closed a document: its file is what is on disk again."""
        self.buffers.pop(uri, None)
        self.parsed.pop(uri, None)
        self.threads.outline.submit(forget_buffer, uri)
        self.schedule_refresh()

    async def record_accesses(self, folder: Folder, chunk_ids: list[str], event: str) -> None:
        """Queue the events for the indexer thread; an answer never waits for them (or a refresh)."""
        now = time.time()
        self.record_events(folder, [(chunk_id, now, event) for chunk_id in chunk_ids])

    def record_events(self, folder: Folder, events: list[tuple[str, float, str]]) -> None:
        if self.settings.record_accesses and events:
            self.threads.indexer.submit(folder.record_accesses, events)

    # -- context --------------------------------------------------------------------------

    async def context(self, uri: str | None, request: ContextRequest) -> dict[str, Any]:
        """A focus answers from its folder; a query alone from every folder, merged best first."""
        located = self.locate(uri) if uri else None
        now = time.time()
        if located is not None:
            folder, request.path = located
            targets = [folder]
        else:
            request.line = None  # a document outside the workspace has no chunks to focus on
            targets = list(self.folders.values()) if request.query else []
        answers = []
        for folder in targets:
            answer = await self.threads.on_reader(folder.context, request, now)
            self.record_events(folder, shown_events(answer, now))
            answers.append(answer)
        return merge_answers(answers, request.token_budget)

    async def close(self) -> None:
        for folder in list(self.folders.values()):
            await self.threads.on_reader(folder.close_reader)
            await self.threads.on_indexer(folder.close_writer)
        self.folders.clear()
        self.threads.shutdown()


def create_server() -> AuroraServer:
    from aurora_lsp.features import context, settings, stats, symbols, sync

    server = AuroraServer()
    for feature in (settings, sync, symbols, context, stats):
        feature.register(server)

    @server.feature(MALFORMED_MESSAGE)
    def malformed(ls: AuroraServer, params: None) -> None:
        """Already answered with InvalidParams; nothing left to do."""

    return server
