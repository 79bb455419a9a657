"""Learning from the workspace's git history, in the background, one folder at a time.

Three steps on three threads: the writer reads the head mined last (meta `history_head`),
the history thread mines what is new (index/history.py: git subprocesses and parsing, no
database), the writer adds the counts in one transaction. A rewritten history, or a rename
among the new commits (the stored counts hold the old path), is mined again from scratch.
With the `history` setting off the stored counts are dropped, so no learned link is used.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable

from aurora_lsp.context.learned import COMMITS_KEY
from aurora_lsp.index.history import Mined, mine
from aurora_lsp.workspace.service import WorkspaceService
from aurora_lsp.workspace.threads import HISTORY, WRITER, Threads, runs_on

logger = logging.getLogger(__name__)

HEAD_KEY = "history_head"


@runs_on(WRITER)
def stored_head(service: WorkspaceService) -> str | None:
    """The commit mined up to, or None (never mined, or the setting is off: counts dropped)."""
    if not service.settings.current.history:
        if service.db.get_meta(HEAD_KEY) is not None:
            with service.db.transaction():
                service.db.clear_history()
                service.db.db.execute("DELETE FROM meta WHERE key IN (?, ?)", [HEAD_KEY, COMMITS_KEY])
        return None
    return service.db.get_meta(HEAD_KEY) or ""


@runs_on(HISTORY)
def mine_new(
    service: WorkspaceService,
    since: str,
    stop: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> Mined | None:
    """The counts of the commits after `since` (all, when empty or when they must be counted again)."""
    mined = mine(service.root, since or None, stop=stop, progress=progress)
    if mined is not None and since and mined.renamed and not mined.rebuilt:
        mined = mine(service.root, None, stop=stop, progress=progress)  # older counts hold a path that is now another
        if mined is not None:
            mined.rebuilt = True
    return mined


@runs_on(WRITER)
def store(service: WorkspaceService, mined: Mined, since: str) -> None:
    """Add the counts (or, rebuilt, replace them) and remember the head, in one transaction."""
    db = service.db
    with db.transaction():
        if (db.get_meta(HEAD_KEY) or "") != since and not mined.rebuilt:
            return  # another run stored first
        commits = 0 if mined.rebuilt else int(db.get_meta(COMMITS_KEY) or 0)
        if mined.rebuilt:
            db.clear_history()
        changes = [*mined.chunk_changes.items(), *mined.file_changes.items()]
        db.add_history(changes, [(a, b, n, mined.weights[a, b]) for (a, b), n in mined.pairs.items()])
        db.set_meta(COMMITS_KEY, str(commits + mined.commits))
        db.set_meta(HEAD_KEY, mined.head)
    logger.info(
        "history of %s: %d commits read, %d counted, %d too large%s",
        service.root,
        mined.seen,
        mined.commits,
        mined.skipped,
        "" if mined.complete else " (stopped at a bound)",
    )


def learn_now(service: WorkspaceService, progress: Callable[[int], None] | None = None) -> Mined | None:
    """All three steps in the calling thread (the command line, tests, benchmarks); `progress`
    is told how many commits were read so far."""
    since = stored_head(service)
    if since is None:
        return None
    mined = mine_new(service, since, progress=progress)
    if mined is not None and mined.head != since:
        store(service, mined, since)
    return mined


async def learn(threads: Threads, services: Iterable[WorkspaceService], stop: threading.Event) -> None:
    """The three steps for each folder on their threads; a failure is a log line."""
    for service in list(services):
        if stop.is_set():
            return
        try:
            since = await threads.run(stored_head, service)
            if since is None:
                continue
            mined = await threads.run(mine_new, service, since, stop)
            if mined is not None and mined.head != since and not stop.is_set():
                await threads.run(store, service, mined, since)
        except Exception as error:  # learning is optional: it never stops the server
            if stop.is_set():
                return  # shutting down: the database may have closed under this run; nothing is lost
            logger.warning("history of %s not learned: %s", service.root, error)


class Learner:
    """At most one learning run at a time, another queued behind it if asked meanwhile."""

    def __init__(self, threads: Threads) -> None:
        self.threads = threads
        self.stopping = threading.Event()  # set at shutdown: a run in progress ends at its next commit
        self._task: asyncio.Task[None] | None = None
        self._services: list[WorkspaceService] = []
        self._again = False

    def schedule(self, services: Iterable[WorkspaceService]) -> None:
        self._services = list(services)
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while not self.stopping.is_set():
            self._again = False
            await learn(self.threads, self._services, self.stopping)
            if not self._again:
                return

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    def stop(self) -> None:
        self.stopping.set()
