"""Faults of database ownership: only Aurora's own damaged database is ever moved aside.

A mistyped `databasePath` / `--db` that names a source file, an empty `__init__.py`, a
document or someone else's (even damaged) SQLite database is refused with one line and
left byte for byte as it was, with no `-wal` or `-shm` beside it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lsp_client import request, run_cli, start_server
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
    return [*cases, other]


def _state(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


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
