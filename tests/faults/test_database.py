"""Faults of database ownership: only Aurora's own damaged database is ever moved aside.

A mistyped `databasePath` / `--db` that names a source file, an empty `__init__.py`, a
document or someone else's (even damaged) SQLite database is refused with one line and
left byte for byte as it was, with no `-wal` or `-shm` beside it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest
from lsp_client import eventually, request, run_cli, start_server, symbols
from lsprotocol import types


def _someone_elses_damaged_database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.executemany("INSERT INTO notes VALUES (?)", [("x" * 500,)] * 50)
    data = bytearray(path.read_bytes())
    data[100:4196] = b"\xde\xad\xbe\xef" * 1024
    path.write_bytes(bytes(data))


def _cases(shop: Path, tmp_path: Path) -> list[Path]:
    cases = [shop / "shop" / "services" / "pricing.py", shop / "shop" / "__init__.py", tmp_path / "report.txt"]
    cases[2].write_text("quarterly figures\n")
    (shop / "shop" / "__init__.py").write_text("")
    other = tmp_path / "theirs.sqlite3"
    _someone_elses_damaged_database(other)
    fifo = tmp_path / "pipe.sqlite3"
    os.mkfifo(fifo)  # opening it to look inside would hang
    folder = tmp_path / "folder.sqlite3"
    folder.mkdir()
    return [*cases, other, fifo, folder]


def _state(folder: Path) -> dict[str, bytes | str]:
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else oct(path.stat().st_mode)
        for path in sorted(folder.rglob("*"))
    }


def test_the_command_line_refuses_a_database_path_that_is_not_auroras(shop: Path, tmp_path: Path) -> None:
    for target in _cases(shop, tmp_path):
        before = (_state(shop), _state(tmp_path))
        done = run_cli("stats", str(shop), "--db", str(target))
        assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, (target, done.stderr)
        assert "untouched" in done.stderr and "Traceback" not in done.stderr
        assert (_state(shop), _state(tmp_path)) == before, target  # nothing renamed, written or added


@pytest.mark.asyncio
async def test_the_server_refuses_it_says_so_and_keeps_serving(shop: Path, tmp_path: Path) -> None:
    source = shop / "shop" / "models" / "cart.py"
    before = source.read_bytes()
    client = await start_server(shop, source)
    try:
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
        assert len(errors) == 1 and "untouched" in errors[0]
        assert (await request(client, "aurora/stats", None))["files"] == 0  # serving, with nothing indexed
    finally:
        await client.shutdown_session()
    assert source.read_bytes() == before
    assert sorted(p.name for p in source.parent.iterdir()) == ["__init__.py", "base.py", "cart.py"]


class _ExternalLock:
    """Another process's exclusive lock on a database (as `sqlite3` in a terminal would hold it)."""

    def __init__(self, db: Path) -> None:
        self.connection = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self.connection.execute("BEGIN EXCLUSIVE")

    def release_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.release)
        timer.start()
        return timer

    def release(self) -> None:
        self.connection.execute("ROLLBACK")
        self.connection.close()


@pytest.mark.asyncio
async def test_a_refresh_that_meets_a_long_external_lock_lands_after_it(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    client = await start_server(shop, db)
    try:
        lock = _ExternalLock(db)
        lock.release_after(8.0)  # longer than the 5 s busy timeout: the first attempt fails
        (shop / "late.py").write_text("def written_during_the_lock():\n    return 1\n")
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent((shop / "late.py").as_uri(), types.FileChangeType.Created)]
            )
        )

        async def landed() -> bool:
            return bool(await symbols(client, "written_during_the_lock"))

        await eventually(landed)
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert len(warnings) == 1 and "locked by another process" in warnings[0]
    finally:
        await client.shutdown_session()


@pytest.mark.asyncio
async def test_a_lock_held_from_before_startup_does_not_leave_a_stale_index(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    assert run_cli("index", str(shop), "--db", str(db)).returncode == 0
    (shop / "added_while_closed.py").write_text("def added_while_the_server_was_closed():\n    return 1\n")
    lock = _ExternalLock(db)
    lock.release_after(8.0)
    client = await start_server(shop, db)  # returns once the first refresh finished: after the lock
    try:
        assert await symbols(client, "added_while_the_server_was_closed")
    finally:
        await client.shutdown_session()


def test_the_command_line_waits_for_a_lock_and_says_so(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    assert run_cli("index", str(shop), "--db", str(db)).returncode == 0
    (shop / "later.py").write_text("def indexed_after_the_wait():\n    return 1\n")
    lock = _ExternalLock(db)
    lock.release_after(8.0)
    done = run_cli("symbols", str(shop), "indexed_after_the_wait", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "indexed_after_the_wait" in done.stdout and "locked by another process; waiting" in done.stderr
