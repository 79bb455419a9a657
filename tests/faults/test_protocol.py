"""Faults of the LSP lifecycle: the process's exit status follows the specification."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsp_client import TIMEOUT, RawSession


async def _exit_status(shop: Path, tmp_path: Path, shutdown_first: bool) -> int:
    session = await RawSession.start()
    await session.initialize(shop, tmp_path / "index.sqlite3")
    if shutdown_first:
        answer = await session.request("shutdown", None)
        assert "error" not in answer
    session.send({"method": "exit"})
    return await asyncio.wait_for(session.process.wait(), TIMEOUT)


@pytest.mark.asyncio
@pytest.mark.parametrize(("shutdown_first", "status"), [(True, 0), (False, 1)])
async def test_exit_status_says_whether_shutdown_came_first(
    shop: Path, tmp_path: Path, shutdown_first: bool, status: int
) -> None:
    """LSP: "The server should exit with success code 0 if the shutdown request has been
    received before; otherwise with error code 1." pygls swallows the status it sets."""
    assert await _exit_status(shop, tmp_path, shutdown_first) == status
