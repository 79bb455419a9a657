"""The command line as people and scripts use it: real processes, real files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from lsp_client import run_cli


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.sqlite3")


def test_index_prints_one_summary_line_and_refreshes(shop: Path, db: str) -> None:
    first = run_cli("index", str(shop), "--db", db)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Indexed 6 files, 21 chunks, 16 edges")
    assert "6 re-chunked" in lines[0] and "skipped 4" in lines[0] and "1 binary" in lines[0]
    again = run_cli("index", str(shop), "--db", db, "--json")
    report = json.loads(again.stdout)
    assert report["changed"] == 0 and report["unchanged"] == 6 and report["chunks"] == 21
    assert report["skipped"]["ignored by .gitignore"] == 2
    assert report["database"]["path"] == db and report["database"]["bytes"] > 0


def test_index_learns_from_the_git_history_incrementally(shop: Path, db: str) -> None:
    environment = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
                   "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=shop, env={**os.environ, **environment}, capture_output=True, check=True)

    outside = json.loads(run_cli("index", str(shop), "--db", db, "--json").stdout)
    assert outside["history"] is None  # not a repository: nothing to learn, no error
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "first")
    pricing = shop / "shop/services/pricing.py"
    pricing.write_text(pricing.read_text().replace("else 1.1", "else 1.2").replace("(product)", "(product) "))
    git("commit", "-q", "-am", "rates and lines")
    first = run_cli("index", str(shop), "--db", db)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("; learned from 2 commits of git history (2 new)")
    assert len(first.stdout.strip().splitlines()) == 1
    pricing.write_text(pricing.read_text().replace("else 1.2", "else 1.3"))
    git("commit", "-q", "-am", "rate")
    again = json.loads(run_cli("index", str(shop), "--db", db, "--json").stdout)
    assert again["history"]["commits"] == 3 and again["history"]["newCommits"] == 1
    skipped = json.loads(run_cli("index", str(shop), "--db", db, "--json", "--no-history").stdout)
    assert skipped["history"] is None
    with sqlite3.connect(db) as con:  # skipping a run keeps what was learned
        assert con.execute("SELECT value FROM meta WHERE key = 'history_commits'").fetchone() == ("3",)
        pairs = con.execute("SELECT n FROM history_pairs WHERE a LIKE '%fetch_exchange_rate' AND b LIKE '%make_line'")
        assert pairs.fetchone() == (2,)


def test_symbols_fuzzy_best_first(shop: Path, db: str) -> None:
    result = run_cli("symbols", str(shop), "cart.total", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert items[0]["id"] == "shop/models/cart.py::Cart.total_cents"
    assert items[0]["containerName"] == "Cart"
    assert items[0]["range"]["start"] == {"line": 29, "character": 4}
    assert items[0]["uri"].startswith("file://") and items[0]["uri"].endswith("shop/models/cart.py")
    fuzzy = json.loads(run_cli("symbols", str(shop), "subcents", "--db", db, "--json").stdout)
    assert fuzzy[0]["qualifiedName"] == "CartLine.subtotal_cents"
    exact = run_cli("symbols", str(shop), "Cart", "--db", db)
    first_line = exact.stdout.splitlines()[0].split()
    assert first_line[:2] == ["class", "Cart"] and first_line[2] == "shop/models/cart.py:17"


def test_stats_json_has_the_contract_fields(shop: Path, db: str) -> None:
    result = run_cli("stats", str(shop), "--db", db, "--json", "--memory-budget-mb", "5")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    for key in (
        "files",
        "chunks",
        "residentChunks",
        "residentBytes",
        "memoryBudgetBytes",
        "maxChunks",
        "evictions",
        "hits",
        "misses",
        "processRssBytes",
        "database",
        "indexing",
    ):
        assert key in stats, key
    assert stats["chunks"] == 21 and stats["residentChunks"] == 21
    assert 0 < stats["residentBytes"] <= stats["memoryBudgetBytes"] == 5 * 1024 * 1024
    assert stats["indexing"]["state"] == "idle" and stats["database"]["path"] == db


def test_default_database_lives_in_the_user_cache(shop: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache-home"
    result = run_cli("index", str(shop), env={"XDG_CACHE_HOME": str(cache)})
    assert result.returncode == 0, result.stderr
    databases = list(cache.glob("aurora-lsp/workspaces/shop-*.sqlite3"))
    assert len(databases) == 1
    assert not list(shop.rglob("*.sqlite3*"))  # nothing written into the workspace


def test_bad_path_is_one_clear_line(tmp_path: Path, db: str) -> None:
    result = run_cli("index", str(tmp_path / "nope"), "--db", db)
    assert result.returncode == 1
    assert result.stderr.strip() == f"aurora-lsp: error: no such folder: {tmp_path / 'nope'}"
    assert "Traceback" not in result.stderr


def test_a_damaged_database_is_moved_aside_with_one_line(shop: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.sqlite3"
    assert run_cli("index", str(shop), "--db", str(broken)).returncode == 0
    damaged = bytearray(broken.read_bytes())
    damaged[100:4196] = b"\x00garbage" * 512  # Aurora's header, then garbage over the schema page
    broken.write_bytes(bytes(damaged))
    for side in tmp_path.glob("broken.sqlite3-*"):
        side.unlink()
    result = run_cli("symbols", str(shop), "Cart", "--db", str(broken))
    assert result.returncode == 0, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot use database" in result.stderr and "moved to broken.sqlite3.damaged-" in result.stderr
    assert result.stdout.startswith("class    Cart ")
    assert [p.read_bytes() for p in tmp_path.glob("broken.sqlite3.damaged-*")] == [bytes(damaged)]


def test_someone_elses_database_is_one_clear_line(shop: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (text)")
    result = run_cli("symbols", str(shop), "Cart", "--db", str(other))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"aurora-lsp: error: {other} is a SQLite database, but not Aurora's"]


def test_usage_errors_exit_2(shop: Path) -> None:
    assert run_cli("bogus").returncode == 2
    assert run_cli("index").returncode == 2
    assert run_cli("index", str(shop), "--max-chunks", "lots").returncode == 2
    assert run_cli("stats", str(shop), "--memory-budget-mb", "-3").returncode == 2


def test_context_at_a_position_and_for_a_query(shop: Path, db: str) -> None:
    focused = run_cli(
        "context",
        str(shop),
        "--db",
        db,
        "--file",
        "shop/services/pricing.py",
        "--line",
        "19",
        "--json",
        "--budget",
        "500",
    )
    assert focused.returncode == 0, focused.stderr
    answer = json.loads(focused.stdout)
    assert answer["focus"] == "shop/services/pricing.py::total_price"  # line 19, 1-based, is inside it
    assert answer["tokenBudget"] == 500 and 0 < answer["usedTokens"] <= 500
    ids = [item["id"] for item in answer["items"]]
    assert "shop/models/cart.py::Cart.total_cents" in ids
    # the same file, absolute, from another directory; and a human-readable listing
    readable = run_cli(
        "context", str(shop), "--db", db, "--file", str(shop / "shop/services/pricing.py"), "--line", "19"
    )
    assert readable.returncode == 0, readable.stderr
    assert readable.stdout.startswith("focus: shop/services/pricing.py::total_price")
    assert "total_cents" in readable.stdout and "calls Cart.total_cents" in readable.stdout
    pasted = run_cli("context", str(shop), "--db", db, "--query", "exchange rate", "--text", "--limit", "1")
    assert pasted.stdout.startswith("# shop/services/pricing.py::fetch_exchange_rate")
    assert "async def fetch_exchange_rate(currency: str) -> float:" in pasted.stdout


def test_context_usage_errors_exit_2_and_outside_files_exit_1(shop: Path, db: str, tmp_path: Path) -> None:
    for args in (
        ["context", str(shop)],
        ["context", str(shop), "--file", "shop/services/pricing.py"],
        ["context", str(shop), "--query", "x", "--budget", "0"],
        ["context", str(shop), "--file", "shop/services/pricing.py", "--line", "0"],
    ):
        result = run_cli(*args, "--db", db)
        assert result.returncode == 2, (args, result.stderr)
        assert "error" in result.stderr
    outside = tmp_path / "elsewhere.py"
    outside.write_text("def f():\n    pass\n")
    result = run_cli("context", str(shop), "--db", db, "--file", str(outside), "--line", "1")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "not inside the workspace" in result.stderr


def _message(body: dict[str, object]) -> str:
    text = json.dumps(body)
    return f"Content-Length: {len(text)}\r\n\r\n{text}"


INITIALIZE = _message({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})


def test_the_log_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "aurora.log"
    served = run_cli("serve", "--log-file", str(log), input=INITIALIZE, timeout=60)
    assert '"serverInfo"' in served.stdout  # stdout carries JSON-RPC, and only that
    assert oct(log.stat().st_mode & 0o777) == oct(0o600)
    logged = log.read_text()
    assert "aurora-lsp 0.1.0 serving over stdio" in logged
    assert "pygls.protocol" not in logged  # not every JSON-RPC message (pygls logs them at INFO)


HOSTILE_NAMES = [
    "x'); DROP TABLE chunks;--.py",
    'quote"and\\backslash.py',
    "new\nline.py",
    "escape\x1b[2Jclear.py",
    "ünïcødé 𝔘.py",
    "100%_like_.py",
]


def test_hostile_file_names_cannot_break_the_index_or_the_output(tmp_path: Path, db: str) -> None:
    root = tmp_path / "hostile"
    root.mkdir()
    for index, name in enumerate(HOSTILE_NAMES):
        (root / name).write_text(f"def target_{index}():\n    return {index}\n")
    (root / ".gitignore").write_text("[\n!\n\\\n**/***\n#\n\x00\n")  # hostile patterns ignore nothing
    indexed = run_cli("index", str(root), "--db", db, "--json")
    assert indexed.returncode == 0, indexed.stderr
    assert json.loads(indexed.stdout)["files"] == len(HOSTILE_NAMES)
    for index, name in enumerate(HOSTILE_NAMES):
        found = run_cli("symbols", str(root), f"target_{index}", "--db", db, "--json", "--no-refresh")
        assert [item["id"] for item in json.loads(found.stdout)][:1] == [f"{name}::target_{index}"]
        readable = run_cli("symbols", str(root), f"target_{index}", "--db", db, "--no-refresh")
        lines = readable.stdout.splitlines()
        assert len(lines) == 1 and "\x1b" not in readable.stdout  # one line, no escape sequence
        focused = run_cli("context", str(root), "--db", db, "--file", name, "--line", "2", "--json", "--no-refresh")
        assert json.loads(focused.stdout)["focus"] == f"{name}::target_{index}"
    with sqlite3.connect(db) as connection:  # the tables are all still there
        assert connection.execute("SELECT count(*) FROM chunks").fetchone()[0] == len(HOSTILE_NAMES)


@pytest.mark.parametrize("args", [["--stdio"], ["serve", "--stdio"]])
def test_clients_that_pass_stdio_get_the_server(args: list[str]) -> None:
    """vscode-languageclient's TransportKind.stdio and other clients append --stdio."""
    served = run_cli(*args, input=INITIALIZE, timeout=60)
    assert '"serverInfo"' in served.stdout, served.stderr
