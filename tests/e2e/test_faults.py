"""Faults a language server meets in the wild, each provoked for real: a kill in the middle
of indexing, a damaged or unwritable database, two servers on one database."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from aurora_lsp.store.sqlite import APPLICATION_ID
from conftest import dump_index
from lsp_client import AURORA, request, run_cli, start_server, symbols, wait_until
from lsprotocol import types


def _files_with(db: Path, where: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            return int(connection.execute(f"SELECT count(*) FROM files {where}").fetchone()[0])
    except sqlite3.Error:
        return 0


def _index_and_kill(root: Path, db: Path, done: object, total: int) -> bool:
    """Run `aurora-lsp index`, SIGKILL it once `done(db)` is between 1 and total - 1; True if it was."""
    process = subprocess.Popen(
        [*AURORA, "index", str(root), "--db", str(db), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    killed_midway = False
    deadline = time.monotonic() + 120
    try:
        while process.poll() is None and time.monotonic() < deadline:
            count = done(db)  # type: ignore[operator]
            if 0 < count < total:
                os.killpg(process.pid, signal.SIGKILL)  # the parsing workers too
                killed_midway = True
                break
            time.sleep(0.01)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return killed_midway


def _assert_next_index_is_fresh(root: Path, db: Path, tmp_path: Path) -> None:
    """`aurora-lsp index` after the kill succeeds and leaves what a fresh index gives."""
    again = run_cli("index", str(root), "--db", str(db), timeout=300)
    assert again.returncode == 0, again.stderr
    assert dump_index(root, db, refresh=False) == dump_index(root, tmp_path / "fresh.sqlite3")


@pytest.fixture
def big_workspace(stdlib_workspace: Path, tmp_path: Path) -> Path:
    root = tmp_path / "stdlib"
    shutil.copytree(stdlib_workspace, root)
    return root


def test_a_kill_during_the_first_index_leaves_a_consistent_index(big_workspace: Path, tmp_path: Path) -> None:
    db = tmp_path / "killed.sqlite3"
    total = sum(1 for _ in big_workspace.rglob("*.py"))
    assert _index_and_kill(big_workspace, db, lambda path: _files_with(path, ""), total)
    assert 0 < _files_with(db, "") < total  # what was committed before the kill survives
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    _assert_next_index_is_fresh(big_workspace, db, tmp_path)


def test_a_kill_during_a_large_refresh_leaves_a_consistent_index(big_workspace: Path, tmp_path: Path) -> None:
    db = tmp_path / "killed.sqlite3"
    dump_index(big_workspace, db)
    with sqlite3.connect(db) as connection:
        before = dict(connection.execute("SELECT path, hash FROM files"))
    changed = sorted(big_workspace.rglob("*.py"))[:600]  # a branch switch rewriting 600 files
    for path in changed:
        with path.open("a", encoding="utf-8") as handle:
            handle.write("\n\ndef added_on_the_branch():\n    return 1\n")
    hashes = ",".join(f"'{value}'" for value in before.values())
    assert _index_and_kill(
        big_workspace, db, lambda path: _files_with(path, f"WHERE hash NOT IN ({hashes})"), len(changed)
    )
    _assert_next_index_is_fresh(big_workspace, db, tmp_path)


@pytest.mark.asyncio
async def test_a_damaged_database_is_rebuilt_and_the_user_told_once(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    # Aurora's header (SQLite's magic, Aurora's application id at offset 68), then garbage
    header = bytearray(b"SQLite format 3\x00" + bytes(84))
    header[68:72] = APPLICATION_ID.to_bytes(4, "big")
    db.write_bytes(bytes(header) + b"\xff" * 8000)
    client = await start_server(shop, db)
    try:
        assert [s.name for s in await symbols(client, "Cart")][:1] == ["Cart"]
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert len(warnings) == 1 and "moved to index.sqlite3.damaged-" in warnings[0]
    finally:
        await client.shutdown_session()
    restarted = await start_server(shop, db)
    try:
        assert [s.name for s in await symbols(restarted, "Cart")][:1] == ["Cart"]
        assert not [m for m in restarted.messages if m.type <= types.MessageType.Warning]
    finally:
        await restarted.shutdown_session()


@pytest.mark.asyncio
async def test_an_unwritable_database_location_serves_from_memory(shop: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    client = await start_server(shop, blocker / "index.sqlite3")
    try:
        stats = await wait_until(client, lambda s: s["chunks"] == 21)
        assert stats["database"]["path"] == ":memory:"
        assert [s.name for s in await symbols(client, "total_price")][:1] == ["total_price"]
        answer = await request(client, "aurora/context", {"query": "apply_discount"})
        assert answer["items"][0]["id"] == "shop/services/pricing.py::apply_discount"
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert len(warnings) == 1 and "in memory" in warnings[0]
    finally:
        await client.shutdown_session()


@pytest.mark.asyncio
async def test_two_servers_on_one_workspace_and_database(big_workspace: Path, tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    first, second = await asyncio.gather(start_server(big_workspace, db), start_server(big_workspace, db))
    try:
        for client in (first, second):
            stats = await wait_until(client, lambda s: s["chunks"] > 12_000)
            assert stats["indexing"]["state"] == "idle"
            found = await symbols(client, "JSONDecoder.decode")
            assert found and found[0].name == "decode" and found[0].location.uri.endswith("json/decoder.py")
            errors = [m.message for m in client.messages if m.type <= types.MessageType.Warning]
            assert errors == [], errors
    finally:
        await asyncio.gather(first.shutdown_session(), second.shutdown_session())
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert dump_index(big_workspace, db, refresh=False) == dump_index(big_workspace, tmp_path / "fresh.sqlite3")
