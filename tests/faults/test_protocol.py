"""Faults of the LSP lifecycle: the process's exit status follows the specification."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsp_client import TIMEOUT, RawSession, run_cli


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


@pytest.mark.asyncio
async def test_numbers_past_their_range_are_invalid_params_and_serving_goes_on(shop: Path, tmp_path: Path) -> None:
    session = await RawSession.start()
    try:
        await session.initialize(shop, tmp_path / "index.sqlite3")
        while (await session.request("aurora/stats", None))["result"]["indexing"]["lastRunSeconds"] is None:
            await asyncio.sleep(0.1)
        huge = 10**400  # a JSON number Python reads, but no budget, limit or position can be
        for params in (
            {"query": "cart", "tokenBudget": huge},
            {"query": "cart", "limit": huge},
            {"textDocument": {"uri": (shop / "x.py").as_uri()}, "position": {"line": huge, "character": 0}},
            {"textDocument": {"uri": (shop / "x.py").as_uri()}, "position": {"line": 0, "character": 2**31}},
        ):
            answer = await session.request("aurora/context", params)
            assert answer["error"]["code"] == -32602, (params, answer)
        answer = await session.request("aurora/context", {"query": "cart total", "tokenBudget": 1_000_000})
        assert "result" in answer and answer["result"]["items"]
    finally:
        session.process.kill()
        await session.process.wait()


@pytest.mark.parametrize("option", [["--budget", str(10**400)], ["--limit", str(10**30)], ["--line", str(10**30)]])
def test_the_command_line_calls_numbers_past_their_range_usage_errors(shop: Path, option: list[str]) -> None:
    done = run_cli("context", str(shop), "--file", "shop/models/cart.py", "--line", "3", *option)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("limit", ["0", "-3", str(10**30)])
def test_symbols_limit_past_its_range_is_a_usage_error(shop: Path, limit: str) -> None:
    done = run_cli("symbols", str(shop), "Cart", "--limit", limit)
    assert done.returncode == 2 and "--limit must be from 1" in done.stderr, done.stderr
