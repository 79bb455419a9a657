"""The workspace behind the MCP tools: one WorkspaceService on its reader and writer threads,
when to refresh it (and learn from its git history, as the language server does), and what
runs on its reader thread for a tool."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aurora_lsp.agent.answers import TIER_WORDS
from aurora_lsp.context.related import RelatedAnswer, related
from aurora_lsp.index.indexer import IndexReport
from aurora_lsp.records import Event
from aurora_lsp.search import TIER_EXACT
from aurora_lsp.workspace.learning import Learner
from aurora_lsp.workspace.service import WorkspaceService
from aurora_lsp.workspace.threads import READER, Threads, runs_on

logger = logging.getLogger(__name__)
REFRESH_INTERVAL_SECONDS = 1.0
FRESH_WAIT_SECONDS = 0.05


class ArgumentError(ValueError):
    """Arguments the schema allows but that do not make sense together; the message says why."""


# -- the workspace behind the tools --------------------------------------------------------


class AgentWorkspace:
    """One workspace's service on its reader and writer threads, and when to refresh it.

    A workspace whose refresh finds nothing to do within FRESH_WAIT_SECONDS is *quick*: a
    call refreshes it first (at most once every REFRESH_INTERVAL_SECONDS) and answers from
    the fresh index. Any other is refreshed after the call has its answer, so no answer
    waits for a refresh or shares the interpreter with one; a change shows from the next
    call on. A workspace never indexed is indexed before its first answer. After each
    refresh the git history's new commits are mined in the background (the `history`
    setting; workspace/learning.py), so `related` and the context answers learn as in the
    language server.
    """

    def __init__(self, service: WorkspaceService, threads: Threads) -> None:
        self.service = service
        self.threads = threads
        self.learner = Learner(threads)
        self._refresh: asyncio.Task[IndexReport | None] | None = None
        self._refresh_started = -float("inf")
        self._indexed = False
        self.noop_seconds: float | None = None  # how long the last refresh that found no change took

    @property
    def root(self) -> Path:
        """The folder as it was named (perhaps through a symlink): what answers show."""
        return self.service.shown_root

    @property
    def refreshing(self) -> bool:
        return self._refresh is not None and not self._refresh.done()

    @property
    def quick(self) -> bool:
        return self.noop_seconds is not None and self.noop_seconds <= FRESH_WAIT_SECONDS

    async def open(self) -> None:
        """Open the database (the writer first: it repairs); index it now if it is empty."""
        await self.threads.run(self.service.open_writer)
        await self.threads.run(self.service.open_reader)
        self._tell_notice()
        self._indexed = (await self.threads.run(self.service.figures)).files > 0
        if not self._indexed:
            self._start_refresh()

    @asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        """Around one call: refresh before it (quick, or never indexed) or after it."""
        if not self._indexed:
            if not self.refreshing:
                self._start_refresh()
            assert self._refresh is not None
            await asyncio.shield(self._refresh)
        elif self.quick and self._due():
            self._start_refresh()
            assert self._refresh is not None
            await asyncio.wait([self._refresh], timeout=FRESH_WAIT_SECONDS)
        try:
            yield
        finally:
            if self._due():
                self._start_refresh()

    def _due(self) -> bool:
        return not self.refreshing and time.monotonic() - self._refresh_started >= REFRESH_INTERVAL_SECONDS

    def _start_refresh(self) -> None:
        self._refresh_started = time.monotonic()
        self._refresh = asyncio.get_running_loop().create_task(self._refreshed())

    async def _refreshed(self) -> IndexReport | None:
        started = time.perf_counter()
        try:
            report = await self.threads.run(self.service.refresh)
            await self.threads.run(self.service.catch_up, report)
        except Exception as error:  # the tools answer from the index as it is; say why once per failure
            logger.warning("aurora-lsp mcp: refreshing the index failed: %s: %s", type(error).__name__, error)
            return None
        finally:
            self._tell_notice()
        if not (report.changed or report.removed):
            self.noop_seconds = time.perf_counter() - started
        self._indexed = True
        self.learner.schedule([self.service])
        return report

    def record(self, events: list[Event]) -> None:
        """Queue uses on the writer thread; the answer does not wait for them."""
        if events:
            self.threads.submit(self.service.record_uses, events)

    def _tell_notice(self) -> None:
        notice = self.service.take_notice()
        if notice:
            logger.warning("%s", notice)

    async def close(self) -> bool:
        """Close both halves; False, leaving the writer open, while a refresh still runs on it."""
        self.learner.stop()
        await self.threads.run(self.service.close_reader)
        if self.refreshing:
            return False
        await self.threads.run(self.service.close_writer)
        self.threads.shutdown()
        return True


# -- what runs on the reader thread ----------------------------------------------------------


@runs_on(READER)
def find_related(service: WorkspaceService, symbol: str, limit: int) -> tuple[RelatedAnswer, bool]:
    """The chunks related to a chunk id or the best match for a name; True when it was named exactly."""
    if ".py::" in symbol:
        chunk = service.chunks.get(symbol)
        if chunk is None:
            raise ArgumentError(f"no chunk has the id {symbol!r}; ids come from `symbols` or `context`")
        return related(service.chunks, chunk, "the id given", symbol, limit), True
    hits = service.symbols(symbol, 5)
    if not hits:
        return RelatedAnswer(query=symbol, subject=None, items=[], totals={}), False
    best = hits[0]
    exact = best.match.tier == TIER_EXACT
    why = TIER_WORDS[best.match.tier] if exact else f"closest match ({TIER_WORDS[best.match.tier]})"
    others = [hit.chunk.id for hit in hits[1:] if hit.match.tier == best.match.tier]
    if others:
        why += f"; also: {', '.join(others)}"
    return related(service.chunks, best.chunk, why, symbol, limit), exact


async def why_empty(workspace: AgentWorkspace) -> str:
    """One line on why nothing was found: an empty workspace, or no match."""
    folder = await workspace.threads.run(workspace.service.figures)
    if folder.files == 0:
        skipped = sum(folder.skipped.values())
        more = f" ({skipped} files skipped: see `stats`)" if skipped else ""
        return f"Aurora has indexed no Python files under {workspace.root}{more}."
    return f"Nothing matched among {folder.chunks} definitions in {folder.files} files."
