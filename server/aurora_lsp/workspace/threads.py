"""The threads that own everything that blocks, and the marks that say which runs where.

Five single-thread executors: the *writer* (the indexer thread) owns the writing
connection (refreshes, recorded uses); the *reader* owns a second connection and the
memory tier (symbol, context and stats queries); the *outline* thread parses open
documents for documentSymbol; the *jedi* thread runs jedi on open documents (passes and
`goto`, index/inference.py) apart from the outline, since one jedi call can take a second
and a documentSymbol during a typing burst had waited behind it (p95 1.4 s on Django's
query.py); the *history* thread mines the workspace's git history in the background
(index/history.py) and hands its counts to the writer. SQLite in WAL mode lets the reader
answer from what is already indexed while the writer writes. The outline thread is the only
user of parso's diff cache of editor buffers (jedi caches the modules it reads under their
file paths, never a buffer's key; the indexer parses without a cache), and with a thread of
its own the outline no longer waits behind a refresh: during a typing burst on sympy it had
waited 1.8 s, the length of one refresh.

A service method declares its thread with `@runs_on(WRITER)` (or READER, OUTLINE, JEDI, HISTORY);
`Threads.run` sends it there. The command line has one thread and calls the same
methods directly, one after another.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

WRITER = "writer"
READER = "reader"
OUTLINE = "outline"
JEDI = "jedi"  # jedi's Scripts and passes over open documents (index/inference.py)
HISTORY = "history"  # reads the git history (subprocesses and parsing); writes go to the writer
THREADS = (WRITER, READER, OUTLINE, JEDI, HISTORY)
_MARK = "__aurora_thread__"


def runs_on(thread: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Declare the thread a method runs on in the server."""
    if thread not in THREADS:
        raise ValueError(f"no thread named {thread!r}")

    def mark(function: Callable[P, T]) -> Callable[P, T]:
        setattr(function, _MARK, thread)
        return function

    return mark


def thread_of(function: Callable[..., object]) -> str:
    """The thread a function declared; a function that declared none is a mistake."""
    thread = getattr(function, _MARK, None)
    if thread is None:
        raise TypeError(f"{getattr(function, '__qualname__', function)!r} does not declare its thread")
    return str(thread)


class Threads:
    """The single-thread executors every folder shares."""

    def __init__(self) -> None:
        self._executors = {
            thread: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"aurora-{thread}") for thread in THREADS
        }

    async def run(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a declared method on its thread and wait for it without blocking the loop."""
        executor = self._executors[thread_of(method)]
        call = functools.partial(method, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    def submit(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue a declared method on its thread without waiting (uses, forgetting a buffer)."""
        return self._executors[thread_of(method)].submit(method, *args, **kwargs)

    def shutdown(self) -> None:
        for executor in self._executors.values():
            executor.shutdown(wait=True, cancel_futures=True)
