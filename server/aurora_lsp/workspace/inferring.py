"""jedi on the open documents, driven from the event loop: a pass over each indexed version,
and the definition at a position. jedi itself runs on its own thread (its calls cannot be
interrupted, so each is kept small); the edges a pass finds go to the writer, the indexer.

- After each refresh, every open document whose version has no pass yet gets one, once that
  version has stood QUIET_SECONDS (so none runs during a typing burst): its
  attribute names are resolved in steps of STEP_SECONDS, one pass at a time, so a
  definition waits behind one step at most (a documentSymbol never does); a pass stops after
  PASS_SECONDS of its own. A newer version cancels
  the pass of an older one; the indexer drops a pass whose version is no longer indexed.
- A closed document's pass is forgotten and its chunks get back their static edges.
- `goto` (open documents only: a request on another file answers from the edges) waits
  GOTO_SECONDS for jedi; after that the caller answers without it (the jedi call finishes
  on its thread and is dropped).
"""

from __future__ import annotations

import asyncio
import logging

from aurora_lsp.index.inferred import Goto, text_hash
from aurora_lsp.workspace.service import WorkspaceService
from aurora_lsp.workspace.threads import Threads

STEP_SECONDS = 0.05  # the longest one step of a pass holds the jedi thread (plus one jedi call)
PASS_SECONDS = 60.0  # a pass still running after this long stops with what it has
# A pass starts once its version has stood this long: starting one parses the buffer with jedi
# (0.3-0.5 s for Django's query.py), work thrown away if the buffer changes again.
QUIET_SECONDS = 1.0
# How long a definition or a context request waits for jedi: a warm goto takes 1 ms (p50),
# 14 ms (p95) on Django (benchmarks/jedi_bench.py); a first one in a large file parses it.
GOTO_SECONDS = 0.25

logger = logging.getLogger(__name__)
Key = tuple[WorkspaceService, str]  # a folder and a workspace-relative path


class Inference:
    """The passes of jedi over open documents (event loop only)."""

    def __init__(self, threads: Threads) -> None:
        self.threads = threads
        self._running: dict[Key, tuple[str, asyncio.Task[None]]] = {}  # the version a pass is for
        self._done: dict[Key, str] = {}  # the version whose edges were written
        # One pass steps at a time: with every open document's pass queueing steps on the
        # outline thread, a definition waited behind all of them (30 open Django files: p50
        # 250 ms, the timeout); now it waits behind one step at most.
        self._stepping = asyncio.Lock()

    def after_refresh(self, service: WorkspaceService, buffers: dict[str, str]) -> None:
        """Start a pass for each open document whose version has none; forget closed ones."""
        for path, text in sorted(buffers.items()):
            key, version = (service, path), text_hash(text)
            running = self._running.get(key)
            if self._done.get(key) == version or (running is not None and running[0] == version):
                continue
            if running is not None:
                running[1].cancel()
            task = asyncio.ensure_future(self._pass(service, path, text, version))
            self._running[key] = (version, task)
        for key in [k for k in {*self._running, *self._done} if k[0] is service and k[1] not in buffers]:
            self.forget(key)

    def outdated(self, service: WorkspaceService, path: str) -> None:
        """A newer version of a document arrived: its running pass stops now, not at the next
        refresh. The indexer would refuse its edges anyway, and meanwhile its steps compete for
        the GIL with the outline of the new version (edit -> documentSymbol on Django's query.py)."""
        running = self._running.pop((service, path), None)
        if running is not None:
            running[1].cancel()

    def forget(self, key: Key) -> None:
        running = self._running.pop(key, None)
        if running is not None:
            running[1].cancel()
        self._done.pop(key, None)
        service, path = key
        self.threads.submit(service.forget_inferred, path)
        self.threads.submit(service.forget_document, path)

    def close(self, service: WorkspaceService) -> None:
        """A folder goes: its passes stop."""
        for key in [k for k in self._running if k[0] is service]:
            self._running.pop(key)[1].cancel()
        for key in [k for k in self._done if k[0] is service]:
            del self._done[key]

    async def _pass(self, service: WorkspaceService, path: str, text: str, version: str) -> None:
        key = (service, path)
        loop = asyncio.get_running_loop()
        try:
            await asyncio.sleep(QUIET_SECONDS)  # a newer version cancels this pass meanwhile
            async with self._stepping:
                inference = await self.threads.run(service.start_inference, path, text)
                deadline = loop.time() + PASS_SECONDS
                while not await self.threads.run(service.continue_inference, inference, STEP_SECONDS):
                    if loop.time() > deadline:
                        logger.info("jedi pass of %s stopped after %.0f s", path, PASS_SECONDS)
                        break
            counts = await self.threads.run(service.record_inferred, inference.inferred)
            if counts is not None:  # None: another version is indexed now
                self._done[key] = version
        except asyncio.CancelledError:
            raise
        except Exception:  # a task nobody awaits: say what failed instead of losing it
            logger.exception("jedi pass of %s failed", path)
        finally:
            running = self._running.get(key)
            if running is not None and running[0] == version:
                del self._running[key]

    async def goto(self, service: WorkspaceService, path: str, text: str, line: int, character: int) -> Goto | None:
        """jedi's definitions at a position, or None if jedi took longer than GOTO_SECONDS."""
        try:
            return await asyncio.wait_for(
                self.threads.run(service.goto, path, text, line, character), timeout=GOTO_SECONDS
            )
        except asyncio.TimeoutError:
            logger.info("jedi took over %.1f s at %s:%d", GOTO_SECONDS, path, line + 1)
            return None
