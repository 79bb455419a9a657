"""Load over loopback: many clients' worth of requests against one Aurora server, with edits.

Starts `aurora-lsp serve --tcp` on 127.0.0.1 over the pinned Django 5.2.19 wheel (a fresh
database), connects one pygls client, and once the index is idle runs CLIENTS concurrent
request loops (workspace/symbol, aurora/context by focus and by query, aurora/stats,
documentSymbol of an edited file) while an editor task keeps changing that file (a change every 0.1 s by default). It
checks that no request fails and no update is lost (the last edit shows in documentSymbol
and, after the refresh, in workspace/symbol), and writes requests per second and latency
percentiles per method to benchmarks/results/load.json with the machine and versions.

    . .venv/bin/activate
    python benchmarks/load_bench.py                    # 16 clients x 100 requests, about 1 minute
    python benchmarks/load_bench.py --clients 32 --requests 200
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import random
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from harness.aurora import module_command
from harness.lsp import plain
from harness.machine import machine_facts, versions
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import timestamp, write_json
from harness.stats import floor_rank_summary
from harness.workspaces import wheel_workspace

RESULTS = RESULTS_DIR / "load.json"
EDITED = "django/utils/text.py"
QUERIES = ["get_response", "QuerySet.filter", "csrf", "Field.clean", "render", "migrate", "url", "Model.save"]
QUESTIONS = ["queryset filter lookup", "csrf token middleware", "template variable resolve", "password hasher"]
KINDS = ["workspace/symbol", "context focus", "context query", "aurora/stats", "documentSymbol"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def definitions(root: Path, rng: random.Random, count: int) -> list[tuple[str, int]]:
    """(uri, 0-based line) of `count` definitions: a random file, then a random class/def in it."""
    files = sorted(root.rglob("*.py"))
    found: list[tuple[str, int]] = []
    while len(found) < count:
        path = rng.choice(files)
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        if nodes:
            found.append((path.as_uri(), rng.choice(nodes).lineno - 1))
    return found


async def connect(port: int, deadline: float) -> LanguageClient:
    client = LanguageClient("load-bench", "1")
    while True:
        try:
            await client.start_tcp("127.0.0.1", port)
            return client
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def initialize(client: LanguageClient, root: Path, work: Path) -> float:
    """`initialize` with a fresh database; the seconds until aurora/stats says idle with chunks."""
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=root.as_uri(),
            initialization_options={"databasePath": str(work / "index.sqlite3")},
        )
    )
    client.initialized(types.InitializedParams())
    started = time.monotonic()
    while True:
        stats = plain(await client.protocol.send_request_async("aurora/stats", None))
        if stats["indexing"]["state"] == "idle" and stats["chunks"] > 0:
            break
        await asyncio.sleep(0.2)
    return time.monotonic() - started


@dataclass
class Load:
    """The request loops and the editor against one connected client, and what they saw."""

    client: LanguageClient
    edited_uri: str
    text: str
    focuses: list[tuple[str, int]]
    edit_interval: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    edits: dict[str, int] = field(default_factory=lambda: {"version": 1, "marker": -1})
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def editor(self) -> None:
        """Appends a new function every --edit-interval seconds (0.1: ten changes a second)."""
        marker = 0
        while not self.stop.is_set():
            line = len(self.text.splitlines()) + 2 * marker
            end = types.Position(line, 0)
            self.edits["version"] += 1
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(version=self.edits["version"], uri=self.edited_uri),
                    [
                        types.TextDocumentContentChangePartial(
                            range=types.Range(end, end), text=f"def load_marker_{marker}(): pass\n\n"
                        )
                    ],
                )
            )
            self.edits["marker"] = marker
            marker += 1
            await asyncio.sleep(self.edit_interval)

    def request(self, kind: str, pick: random.Random) -> Any:
        """The awaitable of one request of this kind, its parameters drawn from `pick`."""
        client = self.client
        if kind == "workspace/symbol":
            return client.workspace_symbol_async(types.WorkspaceSymbolParams(query=pick.choice(QUERIES)))
        if kind == "context focus":
            uri, line = pick.choice(self.focuses)
            params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": 0}}
            return client.protocol.send_request_async("aurora/context", params)
        if kind == "context query":
            return client.protocol.send_request_async("aurora/context", {"query": pick.choice(QUESTIONS)})
        if kind == "aurora/stats":
            return client.protocol.send_request_async("aurora/stats", None)
        return client.text_document_document_symbol_async(
            types.DocumentSymbolParams(types.TextDocumentIdentifier(self.edited_uri))
        )

    async def one(self, kind: str, seed: int) -> None:
        call = self.request(kind, random.Random(seed))
        begun = time.perf_counter()
        try:
            await asyncio.wait_for(call, 60)
        except Exception as error:  # counted, reported
            self.errors.append(f"{kind}: {type(error).__name__}: {error}")
            return
        self.latencies.setdefault(kind, []).append((time.perf_counter() - begun) * 1000)

    async def client_loop(self, number: int, requests: int) -> None:
        pick = random.Random(number)
        for request in range(requests):
            await self.one(pick.choice(KINDS), number * 100_000 + request)

    async def run(self, clients: int, requests: int) -> float:
        """Every client loop at once while the editor edits; the seconds the loops took."""
        editing = asyncio.ensure_future(self.editor())
        load_started = time.perf_counter()
        await asyncio.gather(*(self.client_loop(number, requests) for number in range(clients)))
        load_seconds = time.perf_counter() - load_started
        self.stop.set()
        await editing
        return load_seconds


async def lost_updates(client: LanguageClient, edited_uri: str, last: int) -> tuple[bool, bool]:
    """Whether the last edit is missing from documentSymbol, and from workspace/symbol after up to 60 s."""
    outline = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(edited_uri))
    )
    names = [symbol.name for symbol in outline or []]
    lost_in_outline = f"load_marker_{last}" not in names
    deadline = time.monotonic() + 60
    lost_in_index = True
    while time.monotonic() < deadline:
        found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=f"load_marker_{last}"))
        if found and found[0].name == f"load_marker_{last}":
            lost_in_index = False
            break
        await asyncio.sleep(0.2)
    return lost_in_outline, lost_in_index


async def drive(client: LanguageClient, root: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Index, the load with edits, the lost-update checks and shutdown, over one connected client."""
    index_seconds = await initialize(client, root, work)
    edited_uri = (root / EDITED).as_uri()
    text = (root / EDITED).read_text()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(edited_uri, "python", 1, text))
    )
    rng = random.Random(11)
    load = Load(client, edited_uri, text, definitions(root, rng, 100), args.edit_interval)
    load_seconds = await load.run(args.clients, args.requests)
    lost_in_outline, lost_in_index = await lost_updates(client, edited_uri, load.edits["marker"])
    final_stats = plain(await client.protocol.send_request_async("aurora/stats", None))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {"index_seconds": index_seconds, "load": load, "load_seconds": load_seconds,
            "lost_in_outline": lost_in_outline, "lost_in_index": lost_in_index,
            "final_stats": final_stats}  # fmt: skip


async def run(args: argparse.Namespace) -> dict[str, Any]:
    root = wheel_workspace("django")[0]
    work = Path(tempfile.mkdtemp(prefix="aurora-load-"))
    port = free_port()
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
    server = subprocess.Popen(
        [*module_command(), "serve", "--tcp", "--port", str(port), "--log-file", str(work / "log")], env=env
    )
    try:
        client = await connect(port, time.monotonic() + 30)
        seen = await drive(client, root, work, args)
    finally:
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return result(seen, args)


def result(seen: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    load: Load = seen["load"]
    everything = sorted(value for values in load.latencies.values() for value in values)
    count = len(everything)
    return {
        "benchmark": "load",
        "timestamp": timestamp(),
        "workspace": "Django 5.2.19 wheel",
        "clients": args.clients,
        "requests_per_client": args.requests,
        "edit_interval_seconds": args.edit_interval,
        "index_seconds": round(seen["index_seconds"], 2),
        "edits": load.edits["version"] - 1,
        "requests": count,
        "errors": load.errors,
        "lost_update_in_document_symbol": seen["lost_in_outline"],
        "lost_update_in_workspace_symbol": seen["lost_in_index"],
        "seconds": round(seen["load_seconds"], 2),
        "requests_per_second": round(count / seen["load_seconds"], 1),
        "overall": floor_rank_summary(everything),
        "by_method": {kind: floor_rank_summary(values) for kind, values in sorted(load.latencies.items())},
        "server_rss_bytes_at_end": seen["final_stats"]["processRssBytes"],
        "machine": machine_facts(),
        "versions": versions(),
        "loadavg_at_end": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent request loops (default 16)")
    parser.add_argument("--requests", type=int, default=100, help="requests per loop (default 100)")
    parser.add_argument("--edit-interval", type=float, default=0.1, help="seconds between edits (default 0.1)")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    write_json(result, RESULTS)
    print(
        f"{result['requests']} requests from {args.clients} clients with {result['edits']} edits in "
        f"{result['seconds']} s: {result['requests_per_second']} requests/s, p50 {result['overall']['p50_ms']} ms, "
        f"p99 {result['overall']['p99_ms']} ms; errors {len(result['errors'])}; lost updates: "
        f"documentSymbol {result['lost_update_in_document_symbol']}, "
        f"workspace/symbol {result['lost_update_in_workspace_symbol']}"
    )
    for kind, figures in result["by_method"].items():
        print(f"  {kind:<18} n={figures['count']:<5} p50 {figures['p50_ms']:>7} ms  p99 {figures['p99_ms']:>8} ms")
    print(f"→ {RESULTS}")
    return 1 if result["errors"] or result["lost_update_in_document_symbol"] or result[
        "lost_update_in_workspace_symbol"] else 0  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
