"""documentSymbol parses open documents on a thread of its own, never behind a refresh."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from aurora_lsp.features import create_server
from aurora_lsp.workspace.threads import WRITER, runs_on


def test_an_open_document_is_parsed_while_the_writer_thread_is_busy(tmp_path: Path) -> None:
    server = create_server()
    uri = (tmp_path / "typing.py").as_uri()
    server.documents.buffers[uri] = (3, "class Cart:\n    def total(self):\n        return 0\n")
    refresh_running = threading.Event()
    release = threading.Event()

    @runs_on(WRITER)
    def long_refresh() -> None:  # what a 1.8 s refresh on sympy looks like to the writer thread
        refresh_running.set()
        release.wait(30)

    busy = server.threads.submit(long_refresh)
    try:
        assert refresh_running.wait(5)

        async def outline() -> list[str]:
            parsed = await asyncio.wait_for(server.documents.parsed(uri), timeout=20)
            assert parsed is not None
            return [chunk.qualname for chunk in parsed.chunks]

        assert asyncio.run(outline()) == ["Cart", "Cart.total"]
        assert not busy.done()  # answered while the writer thread was still taken
    finally:
        release.set()
        busy.result(timeout=30)
        server.threads.shutdown()
