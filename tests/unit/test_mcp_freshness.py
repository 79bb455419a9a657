"""When the MCP server refreshes: before a call on a quick workspace, after it on a slow one,
and before the first answer on a workspace never indexed (agent.workspace.AgentWorkspace)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

# the MCP SDK is the aurora-lsp[mcp] extra, which the [test] extra installs: missing, these fail
from aurora_lsp.agent.workspace import AgentWorkspace  # noqa: E402
from aurora_lsp.config import LiveSettings, Settings
from aurora_lsp.workspace.service import WorkspaceService
from aurora_lsp.workspace.threads import Threads


async def opened(root: Path, db: Path) -> AgentWorkspace:
    workspace = AgentWorkspace(WorkspaceService(root, LiveSettings(Settings(database_path=str(db)))), Threads())
    await workspace.open()
    return workspace


async def settled(workspace: AgentWorkspace) -> None:
    while workspace.refreshing:
        await asyncio.sleep(0.01)


async def files_indexed(workspace: AgentWorkspace) -> int:
    return (await workspace.threads.run(workspace.service.figures)).files


@pytest.mark.asyncio
async def test_a_workspace_never_indexed_is_indexed_before_the_first_answer(shop: Path, tmp_path: Path) -> None:
    workspace = await opened(shop, tmp_path / "index.sqlite3")
    try:
        async with workspace.answering():
            assert await files_indexed(workspace) == 6
            assert not workspace.refreshing
    finally:
        await settled(workspace)
        await workspace.close()


@pytest.mark.asyncio
async def test_a_slow_workspace_is_refreshed_after_the_answer(shop: Path, tmp_path: Path) -> None:
    workspace = await opened(shop, tmp_path / "index.sqlite3")
    try:
        async with workspace.answering():  # the first index
            pass
        await settled(workspace)
        workspace.noop_seconds = 10.0  # as if the tree took 10 s to walk
        workspace._refresh_started = -float("inf")  # a refresh is due
        (shop / "shop" / "late.py").write_text("def late_arrival():\n    pass\n")
        async with workspace.answering():
            assert not workspace.refreshing, "the answer does not wait for, or share time with, a refresh"
            assert await files_indexed(workspace) == 6
        assert workspace.refreshing, "the refresh starts once the answer is made"
        await settled(workspace)
        assert await files_indexed(workspace) == 7
    finally:
        await workspace.close()


@pytest.mark.asyncio
async def test_a_quick_workspace_is_refreshed_before_the_answer(shop: Path, tmp_path: Path) -> None:
    workspace = await opened(shop, tmp_path / "index.sqlite3")
    try:
        async with workspace.answering():
            pass
        await settled(workspace)
        workspace._refresh_started = -float("inf")
        async with workspace.answering():  # a refresh that changes nothing measures the walk
            pass
        await settled(workspace)
        assert workspace.noop_seconds is not None
        workspace.noop_seconds = 0.0  # as if the walk took no time
        workspace._refresh_started = -float("inf")
        previous = workspace._refresh
        async with workspace.answering():
            assert workspace._refresh is not previous, "a refresh started before the answer"
        assert not workspace._due(), "and only one in the interval"
        await settled(workspace)
        async with workspace.answering():
            assert not workspace.refreshing, "within the interval no new refresh starts"
    finally:
        await settled(workspace)
        await workspace.close()
