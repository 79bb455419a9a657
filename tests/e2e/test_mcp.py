"""`aurora-lsp mcp` through a real MCP client: the official SDK's stdio client and session.

Each test starts the server as an agent would (a subprocess on stdio), on a copy of a
fixture workspace and a database in tmp_path, and checks what the agent gets back: the tool
list, answers as text and structured content, tool errors for bad arguments, budgets kept.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aurora_lsp.tokens import count_tokens
from lsp_client import AURORA, TIMEOUT, start_server, stats_of

# the MCP SDK is the aurora-lsp[mcp] extra, which the [test] extra installs: missing, these fail
from mcp.client.session import ClientSession  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402
from mcp_types import CallToolResult  # noqa: E402

TOOLS = {"context", "symbols", "related", "stats"}


@asynccontextmanager
async def mcp_session(
    command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> AsyncIterator[ClientSession]:
    """An initialized MCP session with the server that `command` starts."""
    parameters = StdioServerParameters(command=command[0], args=command[1:], env=env, cwd=cwd)
    async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def aurora_mcp(root: Path, db: Path, *options: str) -> list[str]:
    return [*AURORA, "mcp", str(root), "--db", str(db), *options]


def compact(structured: dict[str, Any]) -> str:
    """Structured content as VS Code and Claude Code put it before the model: JSON."""
    return json.dumps(structured, ensure_ascii=False, separators=(",", ":"))


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1 and result.content[0].type == "text"
    return result.content[0].text


async def call(session: ClientSession, tool: str, **arguments: Any) -> tuple[str, dict[str, Any]]:
    """A tool call that must succeed: its text and its structured content."""
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return text_of(result), result.structured_content


async def eventually(check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    """Call `check` (a coroutine function) until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "mcp.sqlite3"


@pytest.mark.asyncio
async def test_four_tools_with_typed_schemas_in_under_1500_tokens(shop: Path, db: Path) -> None:
    async with mcp_session(aurora_mcp(shop, db)) as session:
        listed = (await session.list_tools()).tools
        wire = json.dumps([tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in listed])
    assert {tool.name for tool in listed} == TOOLS
    assert count_tokens(wire) <= 1500, count_tokens(wire)
    schemas = {tool.name: tool.input_schema for tool in listed}
    budget = schemas["context"]["properties"]["budget"]
    assert budget["type"] == "integer" and budget["default"] == 2000 and budget["maximum"] == 20_000
    assert schemas["context"]["properties"]["line"]["minimum"] == 1
    assert schemas["symbols"]["required"] == ["query"] and schemas["related"]["required"] == ["symbol"]
    assert schemas["stats"]["properties"] == {}
    for tool in listed:
        assert tool.description and len(tool.description) < 300, tool.name
        assert tool.annotations is not None and tool.annotations.read_only_hint
        assert "title" not in json.dumps(tool.input_schema), "pydantic's titles are left out"


@pytest.mark.asyncio
async def test_context_by_position_and_question(shop: Path, db: Path) -> None:
    async with mcp_session(aurora_mcp(shop, db)) as session:
        # line 30 is `def total_cents` counted from 1 (0-based 30 would be the nested line_total)
        text, answer = await call(session, "context", file="shop/models/cart.py", line=30, budget=600)
        assert answer["focus"] == "shop/models/cart.py::Cart.total_cents"
        assert answer["tokenBudget"] == 600 and answer["usedTokens"] <= 600
        assert answer["usedTokens"] == sum(item["tokens"] for item in answer["items"])
        first = answer["items"][0]
        assert first["id"] == answer["focus"] and first["detail"] == "full" and first["why"].startswith("the focus")
        assert set(first) == {"id", "detail", "lines", "text", "tokens", "why"}, "what an agent acts on, from 1"
        assert first["lines"] == [30, 34]
        assert count_tokens(text) <= 600
        assert "## shop/models/cart.py::Cart.total_cents · full · lines 30–34\nwhy: the focus" in text
        for item in answer["items"]:
            assert item["id"] in text and item["why"] in text
        # an absolute path inside the workspace, and a question beside it
        _, both = await call(
            session, "context", file=str(shop / "shop/services/pricing.py"), line=18, question="discount"
        )
        assert both["focus"] == "shop/services/pricing.py::total_price"
        _, asked = await call(session, "context", question="apply a discount to a price")
        assert asked["focus"] is None
        assert "shop/services/pricing.py::apply_discount" in [item["id"] for item in asked["items"]]
        _, limited = await call(session, "context", question="cart", limit=2)
        assert len(limited["items"]) == 2


@pytest.mark.asyncio
async def test_symbols_best_first_with_ids_that_related_takes(shop: Path, db: Path) -> None:
    async with mcp_session(aurora_mcp(shop, db)) as session:
        text, found = await call(session, "symbols", query="cart.total")
        first = found["items"][0]
        assert found["query"] == "cart.total"
        assert first["id"] == "shop/models/cart.py::Cart.total_cents" and first["kind"] == "method"
        assert first["lines"] == [30, 34] and first["signature"] == "def total_cents(self) -> int"
        assert first["why"] == "word starts"
        assert text.splitlines()[1].startswith("- shop/models/cart.py::Cart.total_cents (method, lines 30–34")
        _, fuzzy = await call(session, "symbols", query="subcents", limit=1)
        assert [item["id"] for item in fuzzy["items"]] == ["shop/models/cart.py::CartLine.subtotal_cents"]
        text, none = await call(session, "symbols", query="NoSuchThingAnywhere")
        assert none["items"] == [] and "No definition matches" in text


@pytest.mark.asyncio
async def test_related_callers_callees_bases_and_subclasses(shop: Path, db: Path) -> None:
    async with mcp_session(aurora_mcp(shop, db)) as session:
        text, record = await call(session, "related", symbol="Record")
        assert record["subject"]["id"] == "shop/models/base.py::Record"
        subclasses = {item["id"] for item in record["items"] if item["relation"] == "subclasses"}
        assert subclasses == {"shop/models/base.py::Product", "shop/models/cart.py::Cart"}
        assert record["totals"]["subclasses"] == 2
        assert "subclasses (2):" in text
        _, total_price = await call(session, "related", symbol="shop/services/pricing.py::total_price")
        callees = {item["id"]: item for item in total_price["items"] if item["relation"] == "callees"}
        assert set(callees) >= {"shop/services/pricing.py::apply_discount", "shop/models/cart.py::Cart.total_cents"}
        assert callees["shop/services/pricing.py::apply_discount"]["why"].startswith("called by total_price")
        assert all(
            set(item) == {"id", "kind", "lines", "text", "relation", "how", "why"} for item in total_price["items"]
        )
        assert callees["shop/services/pricing.py::apply_discount"]["text"].startswith("def apply_discount(")
        _, total_cents = await call(session, "related", symbol="Cart.total_cents")
        callers = [item["id"] for item in total_cents["items"] if item["relation"] == "callers"]
        assert callers == ["shop/services/pricing.py::total_price"]
        _, cart = await call(session, "related", symbol="Cart")
        assert [item["id"] for item in cart["items"] if item["relation"] == "bases"] == ["shop/models/base.py::Record"]
        _, limited = await call(session, "related", symbol="Record", limit=1)
        assert len([item for item in limited["items"] if item["relation"] == "subclasses"]) == 1
        assert limited["totals"]["subclasses"] == 2


def _git(repo: Path, *args: str) -> None:
    environment = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
                   "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip
    subprocess.run(["git", *args], cwd=repo, env=environment, capture_output=True, check=True)


@pytest.mark.asyncio
async def test_related_learns_what_the_git_history_changed_together(shop: Path, db: Path) -> None:
    """The MCP server mines the workspace's history after its refresh, as the language server does."""
    _git(shop, "init", "-q", "-b", "main")
    _git(shop, "add", "-A")
    _git(shop, "commit", "-q", "-m", "first")
    pricing = shop / "shop/services/pricing.py"
    for rate in ("1.2", "1.3"):  # fetch_exchange_rate and make_line change together twice
        text = pricing.read_text().replace("else 1.1" if rate == "1.2" else "else 1.2", f"else {rate}")
        pricing.write_text(text.replace("CartLine(product)", f"CartLine(product)  # {rate}"))
        _git(shop, "commit", "-q", "-am", f"rate {rate}")

    async with mcp_session(aurora_mcp(shop, db)) as session:

        async def changed_with() -> list[dict[str, Any]]:
            _, answer = await call(session, "related", symbol="shop/services/pricing.py::fetch_exchange_rate")
            return [item for item in answer["items"] if item["relation"] == "changedWith"]

        found = await eventually(changed_with)
    assert found, "no changedWith relation after the history was mined"
    assert found[0]["id"] == "shop/services/pricing.py::make_line"
    assert found[0]["why"] == "changed together with fetch_exchange_rate in 3 of 3 commits"
    assert found[0]["how"] == "history"


@pytest.mark.asyncio
async def test_stats(shop: Path, db: Path) -> None:
    async with mcp_session(aurora_mcp(shop, db)) as session:
        text, stats = await call(session, "stats")
    assert stats["files"] == 6 and stats["chunks"] == 21 and stats["edges"] == 16
    assert stats["database"]["path"] == str(db)
    assert "6 files, 21 definitions (chunks), 16 links" in text


@pytest.mark.asyncio
async def test_bad_arguments_get_tool_errors_and_the_server_goes_on(shop: Path, db: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("def f():\n    pass\n")
    bad_calls: list[tuple[str, dict[str, Any], str]] = [
        ("context", {}, "give a `question`"),
        ("context", {"question": "   "}, "give a `question`"),
        ("context", {"file": "shop/models/cart.py"}, "needs a `line`"),
        ("context", {"line": 3, "question": "cart"}, "needs a `file`"),
        ("context", {"file": "shop/models/cart.py", "line": 0}, "greater than or equal to 1"),
        ("context", {"file": "shop/nope.py", "line": 1}, "no such file in the workspace: shop/nope.py"),
        ("context", {"file": str(outside), "line": 1}, "is not inside the workspace"),
        ("context", {"file": "../outside.py", "line": 1}, "is not inside the workspace"),
        ("context", {"question": "cart", "budget": "lots"}, "budget"),
        ("context", {"question": "cart", "budget": 249}, "budget"),
        ("context", {"question": "cart", "limit": 1000}, "limit"),
        ("symbols", {}, "query"),
        ("symbols", {"query": ""}, "query"),
        ("symbols", {"query": "cart", "limit": -1}, "limit"),
        ("related", {"symbol": "shop/models/cart.py::NoSuchClass"}, "no chunk has the id"),
        ("related", {"symbol": 42}, "symbol"),
        ("no_such_tool", {}, "no_such_tool"),
    ]
    async with mcp_session(aurora_mcp(shop, db)) as session:
        for tool, arguments, message in bad_calls:
            result = await session.call_tool(tool, arguments)
            assert result.is_error, (tool, arguments, text_of(result))
            assert message in text_of(result), (tool, arguments, text_of(result))
        _, answer = await call(session, "context", question="cart")
    assert answer["items"], "the server still answers after the errors"


@pytest.mark.asyncio
async def test_a_huge_budget_is_capped_and_no_answer_passes_its_budget(tmp_path: Path, db: Path) -> None:
    """A workspace of some 90,000 tokens of matching code: every answer stays within its budget."""
    root = tmp_path / "big"
    for module in range(30):
        package = root / "big"
        package.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"def compute_value_{module}_{n}(amount, rate):\n"
            f'    """Compute the value of an amount at a rate, step {n}."""\n'
            + "".join(f"    amount = amount * rate + {k}  # compute value step {k}\n" for k in range(20))
            + "    return amount\n\n\n"
            for n in range(12)
        )
        (package / f"values_{module}.py").write_text(body)
    async with mcp_session(aurora_mcp(root, db)) as session:
        used = {}
        for budget in (10**9, 20_001, 20_000, 2000, 500, 250):
            text, answer = await call(session, "context", question="compute value", budget=budget)
            cap = min(budget, 20_000)
            assert answer["tokenBudget"] == cap
            # the items' code, the text, and the structured content as JSON (what VS Code and
            # Claude Code give the model) each within the budget
            sizes = (answer["usedTokens"], count_tokens(text), count_tokens(compact(answer)))
            assert max(sizes) <= cap, (budget, sizes)
            if budget == 2000:  # (a small one holds a few items; the 60 question matches fill 15,000 at most)
                assert max(sizes) > cap * 0.75, ("a budget is used, not wasted", budget, sizes)
            used[budget] = answer["usedTokens"]
        assert used[10**9] == used[20_000] > used[2000] > used[500] > used[250] > 0
        for tool, arguments in (("symbols", {"query": "compute_value", "limit": 100}), ("related", {"symbol": "x"})):
            text, structured = await call(session, tool, **arguments)
            assert count_tokens(text) <= 20_000 and count_tokens(compact(structured)) <= 20_000


@pytest.mark.asyncio
async def test_a_workspace_without_python_files_answers_sensibly(tmp_path: Path, db: Path) -> None:
    root = tmp_path / "docs-only"
    root.mkdir()
    (root / "README.md").write_text("# Not Python\n")
    async with mcp_session(aurora_mcp(root, db)) as session:
        text, answer = await call(session, "context", question="anything at all")
        assert answer["items"] == [] and answer["usedTokens"] == 0
        assert f"Aurora has indexed no Python files under {root}" in text
        text, found = await call(session, "symbols", query="main")
        assert found["items"] == [] and "indexed no Python files" in text
        text, related = await call(session, "related", symbol="main")
        assert related["subject"] is None and "indexed no Python files" in text
        _, stats = await call(session, "stats")
        assert stats["files"] == 0 and stats["chunks"] == 0


@pytest.mark.asyncio
async def test_agent_uses_are_recorded_as_their_own_kind_without_reinforcing(shop: Path, db: Path) -> None:
    focus = "shop/models/cart.py::Cart.total_cents"
    async with mcp_session(aurora_mcp(shop, db)) as session:
        for _ in range(3):  # the same request again and again records its uses once
            await call(session, "context", file="shop/models/cart.py", line=30)
        await call(session, "related", symbol="Record")
        await call(session, "symbols", query="apply_discount")
        await call(session, "symbols", query="a")  # a partial name is no use of anything

        async def recorded() -> list[tuple[str, str]]:
            with sqlite3.connect(db) as connection:
                rows = connection.execute("SELECT chunk_id, event FROM accesses ORDER BY chunk_id, event")
                found = [(str(chunk_id), str(event)) for chunk_id, event in rows]
            return found if ("shop/services/pricing.py::apply_discount", "agent") in found else []

        uses = await eventually(recorded)
    assert uses.count((focus, "agent")) == 1
    assert ("shop/models/base.py::Record", "agent") in uses
    assert ("shop/services/pricing.py::apply_discount", "agent") in uses
    shown = [chunk_id for chunk_id, event in uses if event == "context"]
    assert shown and len(shown) == len(set(shown)), "what an answer showed counts once, as `context`"
    assert {event for _, event in uses} == {"agent", "context"}


@pytest.mark.asyncio
async def test_no_record_keeps_the_memory_read_only(shop: Path, db: Path) -> None:
    async with mcp_session(aurora_mcp(shop, db, "--no-record")) as session:
        await call(session, "context", file="shop/models/cart.py", line=30)
        await call(session, "related", symbol="Record")
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM accesses").fetchone() == (0,)


@pytest.mark.asyncio
async def test_the_index_follows_changed_files(shop: Path, db: Path) -> None:
    async with mcp_session(aurora_mcp(shop, db)) as session:
        _, before = await call(session, "symbols", query="refund_order")
        assert before["items"] == []
        with open(shop / "shop/services/pricing.py", "a") as source:
            source.write("\n\ndef refund_order(cart: Cart) -> int:\n    return -total_price(cart)\n")

        async def found() -> dict[str, Any] | None:
            _, answer = await call(session, "symbols", query="refund_order")
            return answer if answer["items"] else None

        answer = await eventually(found, timeout=20)
    assert answer is not None and answer["items"][0]["id"] == "shop/services/pricing.py::refund_order"


@pytest.mark.asyncio
async def test_shares_the_database_with_a_running_language_server(shop: Path, db: Path) -> None:
    client = await start_server(shop, db)
    try:
        async with mcp_session(aurora_mcp(shop, db)) as session:
            _, stats = await call(session, "stats")
            _, answer = await call(session, "context", question="cart total")
        assert stats["chunks"] == 21 and answer["items"]
        served = await stats_of(client)
        assert served["chunks"] == 21
    finally:
        await client.shutdown_session()


README = Path(__file__).resolve().parents[2] / "README.md"
PLACEHOLDER = "/path/to/project"


def readme_snippet(name: str) -> str:
    """The code block after `<!-- mcp-snippet: NAME -->` in the README."""
    found = re.search(rf"<!-- mcp-snippet: {name} -->\n```\w*\n(.*?)```", README.read_text(), re.DOTALL)
    assert found, f"the README has no {name} snippet"
    return found.group(1)


def snippet_server(name: str, project: Path) -> tuple[list[str], Path]:
    """The command an agent runs from the README's snippet, and the folder it runs it in."""
    if name == "claude-code":
        words = shlex.split(readme_snippet(name))
        assert words[:5] == ["claude", "mcp", "add", "aurora", "--"], words
        assert PLACEHOLDER in words
        return [str(project) if word == PLACEHOLDER else word for word in words[5:]], project.parent
    server = json.loads(readme_snippet(name))["mcpServers"]["aurora"]
    if name == "cursor":  # Cursor fills in ${workspaceFolder}
        args = [argument.replace("${workspaceFolder}", str(project)) for argument in server["args"]]
        return [server["command"], *args], project.parent
    return [server["command"], *server["args"]], project  # a project's .mcp.json: started in the project


@pytest.mark.asyncio
@pytest.mark.parametrize("snippet", ["claude-code", "cursor", "mcp-json"])
async def test_each_readme_snippet_starts_the_server(snippet: str, shop: Path, tmp_path: Path) -> None:
    """Started exactly as the README says: `aurora-lsp` from PATH, the default database."""
    command, cwd = snippet_server(snippet, shop)
    assert command[0] == "aurora-lsp"
    cache = tmp_path / "cache"
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "XDG_CACHE_HOME": str(cache)}
    before = sorted(path.name for path in shop.rglob("*"))
    async with mcp_session(command, env=env, cwd=cwd) as session:
        assert {tool.name for tool in (await session.list_tools()).tools} == TOOLS
        _, stats = await call(session, "stats")
        _, answer = await call(session, "context", question="cart total")
    assert stats["files"] == 6 and answer["items"]
    assert Path(stats["database"]["path"]).is_relative_to(cache), "the user cache, not the workspace"
    assert sorted(path.name for path in shop.rglob("*")) == before


def test_exits_when_its_client_goes_away(shop: Path, db: Path) -> None:
    """A client that closes stdin (or dies) leaves no server behind."""
    process = subprocess.Popen(
        aurora_mcp(shop, db), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdin is not None and process.stdout is not None
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "stats", "arguments": {}}},
    ]
    for message in messages:
        process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()
    answers = [json.loads(process.stdout.readline()) for _ in range(2)]
    assert answers[0]["result"]["serverInfo"]["name"] == "aurora"
    assert answers[1]["result"]["structuredContent"]["files"] == 6
    process.stdin.close()
    try:
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
    assert process.stdout.read() == "", "nothing but JSON-RPC on stdout"


def test_a_missing_sdk_is_one_line_with_the_install_command(shop: Path) -> None:
    hide_sdk = "import sys; sys.modules['mcp'] = None; from aurora_lsp.__main__ import run; sys.exit(run())"
    result = subprocess.run(
        [sys.executable, "-c", hide_sdk, "mcp", str(shop)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "aurora-lsp mcp: needs the MCP Python SDK (mcp 2.x): pip install 'aurora-lsp[mcp]'"
    ]
    assert result.stdout == ""


def test_other_commands_never_import_the_sdk() -> None:
    check = (
        "import sys; from aurora_lsp.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "assert not any(name == 'mcp' or name.startswith(('mcp.', 'mcp_types', 'pydantic')) for name in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
