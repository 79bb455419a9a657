"""Open documents: their texts, their outline parses, and the refreshes their changes ask for.

An open document is what the editor has, not what is on disk: its text stands in for the
file in every refresh, and like a file it is skipped when larger than maxFileSizeKb (its
outline is then empty at once). Its outline (documentSymbol) is parsed on the outline
thread once per version, and a parse that finishes after a newer version arrived is
dropped (stale); a version that cannot be chunked keeps the last good outline. Edits and
file events within REFRESH_DEBOUNCE_SECONDS are folded into one refresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pygls.uris import to_fs_path

from aurora_lsp.config import Settings
from aurora_lsp.records import ParsedFile
from aurora_lsp.workspace.threads import OUTLINE, Threads, runs_on

if TYPE_CHECKING:
    from aurora_lsp.workspace.service import WorkspaceService

# The chunker (parso) and the indexer's modules are imported at the first open document, not
# when the server starts: a restart's first workspace/symbol answer does not wait for them.

REFRESH_DEBOUNCE_SECONDS = 0.15
logger = logging.getLogger(__name__)

Locate = Callable[[str], "tuple[WorkspaceService, str] | None"]


@runs_on(OUTLINE)
def outline(path: str, text: str, uri: str) -> ParsedFile | None:
    """Chunks of an editor buffer, with parso's diff parser keyed by the document's URI.

    None when the text cannot be chunked (as a parsing process reports such a file).
    """
    from aurora_lsp.index.chunker import chunk_text, forget_buffer

    try:
        return chunk_text(path, text, buffer_key=uri)
    except (RecursionError, MemoryError, ValueError, IndexError, AttributeError, TypeError) as error:
        forget_buffer(uri)
        logger.warning("cannot outline %s: %s: %s", uri, type(error).__name__, error)
        return None


@runs_on(OUTLINE)
def forget(uri: str) -> None:
    from aurora_lsp.index.chunker import forget_buffer

    forget_buffer(uri)


def _skipped(path: str, reason: str) -> ParsedFile:
    """The outline of a buffer that is not chunked: nothing, and why."""
    return ParsedFile(path=path, content_hash="", chunks=[], imports={}, star_imports=(), problems=(reason,))


class Debouncer:
    """Runs an async action once after a quiet spell; requests in the meantime fold into it."""

    def __init__(self, action: Callable[[], Awaitable[object]]) -> None:
        self._action = action
        self._pending: asyncio.Task[None] | None = None

    def schedule(self, delay: float = REFRESH_DEBOUNCE_SECONDS) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
        self._pending = asyncio.ensure_future(self._later(delay))

    async def _later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        # From here on the run is not cancelled by a newer request (that one waits its turn):
        # cancelling mid-run would report "idle" while the writer thread is still writing.
        self._pending = None
        try:
            await self._action()
        except Exception:  # a task nobody awaits: say what failed instead of losing it
            logger.exception("a refresh failed")


class Documents:
    """The documents open in the editor (event loop only; parsing goes to the outline thread)."""

    def __init__(self, threads: Threads, locate: Locate, refresh: Callable[[], Awaitable[object]]) -> None:
        self.threads = threads
        self.locate = locate
        self.refreshes = Debouncer(refresh)
        self.buffers: dict[str, tuple[int, str]] = {}  # uri -> (version, text)
        self._parsed: dict[str, tuple[int, ParsedFile]] = {}  # uri -> (version, chunks)

    def remember(self, uri: str, version: int, text: str) -> None:
        """The editor has this text now; a refresh will index it.

        Lone surrogates (JSON can carry them) become U+FFFD here, at the door: nothing
        after it (hashing, SQLite, UTF-16 positions) could encode them.
        """
        from aurora_lsp.index.chunker import without_surrogates

        self.buffers[uri] = (version, without_surrogates(text))
        self.refreshes.schedule()

    async def parsed(self, uri: str) -> ParsedFile | None:
        """Chunks of an open document as the editor has it now (parsed once per version)."""
        from aurora_lsp.index.indexer import over_size_limit
        from aurora_lsp.index.scan import SKIP_TOO_LARGE
        from aurora_lsp.index.worker import SKIP_CHUNKER_FAILED

        buffer = self.buffers.get(uri)
        if buffer is None:
            return None
        version, text = buffer
        located = self.locate(uri)
        path = located[1] if located is not None else Path(to_fs_path(uri) or "untitled").name
        cached = self._parsed.get(uri)
        # parsed again once its folder is known (a document opened before `initialized`): ids name the path
        if cached is not None and cached[0] == version and cached[1].path == path:
            return cached[1]
        settings = located[0].settings.current if located is not None else Settings()
        parsed: ParsedFile | None
        if over_size_limit(text, settings.max_file_size_kb):
            parsed = _skipped(path, SKIP_TOO_LARGE)
            if cached is not None:
                self.threads.submit(forget, uri)  # parso's tree of a smaller version
        else:
            parsed = await self.threads.run(outline, path, text, uri)
            if parsed is None:  # keeps its last good outline, as an index keeps a file's last good chunks
                parsed = cached[1] if cached is not None else _skipped(path, SKIP_CHUNKER_FAILED)
        if self.buffers.get(uri, (None,))[0] == version:  # drop results for stale versions
            self._parsed[uri] = (version, parsed)
        return parsed

    def close(self, uri: str) -> None:
        """The editor closed a document: its file is what is on disk again."""
        self.buffers.pop(uri, None)
        self._parsed.pop(uri, None)
        self.threads.submit(forget, uri)
        self.refreshes.schedule()

    def buffers_of(self, service: WorkspaceService) -> dict[str, str]:
        """Workspace-relative path -> text of the open documents inside one folder."""
        found: dict[str, str] = {}
        for uri, (_, text) in self.buffers.items():
            located = self.locate(uri)
            if located is not None and located[0] is service:
                found[located[1]] = text
        return found
