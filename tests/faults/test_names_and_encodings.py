"""Faults of names and encodings: a file or folder name that is not valid UTF-8 is skipped
with its reason, and never stops the rest of the workspace from being indexed or shown."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from aurora_lsp.index.scan import SKIP_NAME_NOT_UTF8, scan_workspace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_client import request, run_cli, start_server, symbols


def _bad_names(root: Path) -> None:
    base = os.fsencode(root)
    with open(base + b"/bad\xff.py", "w") as handle:
        handle.write("def in_a_badly_named_file():\n    return 1\n")
    os.mkdir(base + b"/folder\xfe")
    with open(base + b"/folder\xfe/inner.py", "w") as handle:
        handle.write("def inner_of_a_bad_folder():\n    return 1\n")


def test_the_command_line_indexes_the_rest_and_says_what_it_skipped(shop: Path, tmp_path: Path) -> None:
    _bad_names(shop)
    db = str(tmp_path / "index.sqlite3")
    for command in (["index", "--json"], ["symbols", "Cart", "--json"], ["stats", "--json"], ["stats"]):
        done = run_cli(command[0], str(shop), *command[1:], "--db", db)
        assert done.returncode == 0, (command, done.stderr)
    report = json.loads(run_cli("index", str(shop), "--db", db, "--json").stdout)
    assert report["skipped"][SKIP_NAME_NOT_UTF8] == 2
    assert report["skippedExamples"][SKIP_NAME_NOT_UTF8] == ["bad\\xff.py", "folder\\xfe"]
    assert report["files"] == 6  # the shop's own files, all of them
    assert "class    Cart" in run_cli("symbols", str(shop), "Cart", "--db", db).stdout


@pytest.mark.asyncio
async def test_the_server_indexes_the_rest(shop: Path, tmp_path: Path) -> None:
    _bad_names(shop)
    client = await start_server(shop, tmp_path / "index.sqlite3")
    try:
        stats = await request(client, "aurora/stats", None)
        assert stats["files"] == 6
        # (the test client turns stats' reason keys into _0, _1: read them as JSON from the same database)
        same = run_cli("stats", str(shop), "--db", str(tmp_path / "index.sqlite3"), "--json", "--no-refresh")
        assert json.loads(same.stdout)["skipped"][SKIP_NAME_NOT_UTF8] == 2
        assert [s.name for s in await symbols(client, "Cart")][:1] == ["Cart"]
    finally:
        await client.shutdown_session()


names = st.binary(min_size=1, max_size=12).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(names, min_size=1, max_size=5, unique=True))
def test_file_names_as_arbitrary_bytes(tmp_path: Path, raw_names: list[bytes]) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))  # hypothesis runs many examples in one tmp_path
    base = os.fsencode(root)
    for raw in raw_names:
        with open(base + b"/" + raw + b".py", "w") as handle:
            handle.write("def f():\n    return 1\n")
    result = scan_workspace(root)
    utf8 = [raw for raw in raw_names if _decodes(raw)]
    assert len(result.files) == len(utf8)
    assert result.skipped[SKIP_NAME_NOT_UTF8] == len(raw_names) - len(utf8)
    for scanned in result.files:
        scanned.path.encode("utf-8")  # every indexed path can be a chunk id and JSON
    json.dumps(result.examples, ensure_ascii=False).encode("utf-8")


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
