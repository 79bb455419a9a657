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
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import index_bench  # noqa: E402  (pinned wheels, machine facts and versions are shared)

RESULTS = Path(__file__).resolve().parent / "results" / "load.json"
EDITED = "django/utils/text.py"
QUERIES = ["get_response", "QuerySet.filter", "csrf", "Field.clean", "render", "migrate", "url", "Model.save"]
QUESTIONS = ["queryset filter lookup", "csrf token middleware", "template variable resolve", "password hasher"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def definitions(root: Path, rng: random.Random, count: int) -> list[tuple[str, int]]:
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


async def run(args: argparse.Namespace) -> dict[str, Any]:
    root = index_bench.unpack("django", index_bench.fetch_wheel("django"))
    work = Path(tempfile.mkdtemp(prefix="aurora-load-"))
    port = free_port()
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
    server = subprocess.Popen(
        [sys.executable, "-m", "aurora_lsp", "serve", "--tcp", "--port", str(port), "--log-file", str(work / "log")],
        env=env,
    )
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    try:
        client = await connect(port, time.monotonic() + 30)
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
        index_seconds = time.monotonic() - started
        edited_uri = (root / EDITED).as_uri()
        text = (root / EDITED).read_text()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(edited_uri, "python", 1, text))
        )
        rng = random.Random(11)
        focuses = definitions(root, rng, 100)
        edits = {"version": 1, "marker": -1}
        stop = asyncio.Event()

        async def editor() -> None:
            """Appends a new function every --edit-interval seconds (0.1: ten changes a second)."""
            marker = 0
            while not stop.is_set():
                line = len(text.splitlines()) + 2 * marker
                end = types.Position(line, 0)
                edits["version"] += 1
                client.text_document_did_change(
                    types.DidChangeTextDocumentParams(
                        types.VersionedTextDocumentIdentifier(version=edits["version"], uri=edited_uri),
                        [
                            types.TextDocumentContentChangePartial(
                                range=types.Range(end, end), text=f"def load_marker_{marker}(): pass\n\n"
                            )
                        ],
                    )
                )
                edits["marker"] = marker
                marker += 1
                await asyncio.sleep(args.edit_interval)

        async def one(kind: str, seed: int) -> None:
            pick = random.Random(seed)
            if kind == "workspace/symbol":
                call = client.workspace_symbol_async(types.WorkspaceSymbolParams(query=pick.choice(QUERIES)))
            elif kind == "context focus":
                uri, line = pick.choice(focuses)
                params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": 0}}
                call = client.protocol.send_request_async("aurora/context", params)
            elif kind == "context query":
                call = client.protocol.send_request_async("aurora/context", {"query": pick.choice(QUESTIONS)})
            elif kind == "aurora/stats":
                call = client.protocol.send_request_async("aurora/stats", None)
            else:
                call = client.text_document_document_symbol_async(
                    types.DocumentSymbolParams(types.TextDocumentIdentifier(edited_uri))
                )
            begun = time.perf_counter()
            try:
                await asyncio.wait_for(call, 60)
            except Exception as error:  # counted, reported
                errors.append(f"{kind}: {type(error).__name__}: {error}")
                return
            latencies.setdefault(kind, []).append((time.perf_counter() - begun) * 1000)

        kinds = ["workspace/symbol", "context focus", "context query", "aurora/stats", "documentSymbol"]

        async def client_loop(number: int) -> None:
            pick = random.Random(number)
            for request in range(args.requests):
                await one(pick.choice(kinds), number * 100_000 + request)

        editing = asyncio.ensure_future(editor())
        load_started = time.perf_counter()
        await asyncio.gather(*(client_loop(number) for number in range(args.clients)))
        load_seconds = time.perf_counter() - load_started
        stop.set()
        await editing
        last = edits["marker"]
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
        final_stats = plain(await client.protocol.send_request_async("aurora/stats", None))
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    finally:
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    everything = sorted(value for values in latencies.values() for value in values)
    count = len(everything)

    def percentiles(values: list[float]) -> dict[str, float]:
        values = sorted(values)
        return {
            "count": len(values),
            "p50_ms": round(statistics.median(values), 2),
            "p95_ms": round(values[min(len(values) - 1, int(0.95 * len(values)))], 2),
            "p99_ms": round(values[min(len(values) - 1, int(0.99 * len(values)))], 2),
            "max_ms": round(values[-1], 2),
        }

    return {
        "benchmark": "load",
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "workspace": "Django 5.2.19 wheel",
        "clients": args.clients,
        "requests_per_client": args.requests,
        "edit_interval_seconds": args.edit_interval,
        "index_seconds": round(index_seconds, 2),
        "edits": edits["version"] - 1,
        "requests": count,
        "errors": errors,
        "lost_update_in_document_symbol": lost_in_outline,
        "lost_update_in_workspace_symbol": lost_in_index,
        "seconds": round(load_seconds, 2),
        "requests_per_second": round(count / load_seconds, 1),
        "overall": percentiles(everything),
        "by_method": {kind: percentiles(values) for kind, values in sorted(latencies.items())},
        "server_rss_bytes_at_end": final_stats["processRssBytes"],
        "machine": index_bench.machine_facts(),
        "versions": index_bench.versions(),
        "loadavg_at_end": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent request loops (default 16)")
    parser.add_argument("--requests", type=int, default=100, help="requests per loop (default 100)")
    parser.add_argument("--edit-interval", type=float, default=0.1, help="seconds between edits (default 0.1)")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
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
