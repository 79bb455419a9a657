"""Start-up: what each of Aurora's entry points pays before it does its work.

    python benchmarks/startup_bench.py                  # about 1 minute on 2 cores
    python benchmarks/startup_bench.py --repeat 9

Every figure is a fresh process of the virtualenv's interpreter, --repeat times, the median
(and the minimum, the least disturbed by other work on the machine):

  import        `python -X importtime -c "import aurora_lsp.cli"` (what every command
                loads before it parses its arguments) and `... aurora_lsp.features` (what
                the language server loads): the total, the costliest modules (each
                module's least self time over the runs) and which heavy packages loaded
  commands      wall and CPU seconds (the process and its children, getrusage) from spawn
                to exit of `aurora-lsp --version` and of `symbols`, `context` (a question,
                and a file and line) and `stats` on the Django 5.2.19 wheel, indexed once
                beforehand into a temporary database: as shipped (a no-change refresh
                first) and with --no-refresh; `python -c pass` for the interpreter alone
  initialize    `aurora-lsp` over stdio, raw JSON-RPC: from spawn to the `initialize`
                result, with the server's CPU by then (/proc)
  restart       issue 18's "complete workspace/symbol after a restart": spawn the server on
                the indexed database (indexOnStartup as shipped: a no-change refresh runs),
                `initialize`, `initialized`, then "get_response" every 50 ms until the answer
                holds BaseHandler.get_response; wall, CPU and the server's RSS at the
                `initialize` result and at the complete answer
  open document the same restart, then didOpen + documentSymbol of django/db/models/query.py:
                the server's RSS then, and once jedi's pass over the document is done (the
                server's CPU stops rising for 2 s; at most 120 s), with the CPU it took

With --baseline COMMIT, the commands, initialize and restart figures are measured for that
commit's server too (its `server/` tree from `git archive`, on PYTHONPATH, with a database it
indexed itself), each repetition alternating the two, so that before and after share the
machine's load.

    python benchmarks/startup_bench.py --baseline 3c8f4b6

Results go to benchmarks/results/startup.json with machine facts and versions.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.aurora import console_command
from harness.paths import RESULTS as RESULTS_DIR
from harness.proc import status_kb
from harness.raw_lsp import Launch, RawServer, baseline_launch
from harness.report import new_report, warn_if_code_changed, write_report
from harness.workspaces import WHEELS, wheel_workspace

WORKSPACE = "django"
RESULTS = RESULTS_DIR / "startup.json"
HEAVY = ("lsprotocol", "pygls", "cattrs", "sqlite_utils", "parso", "jedi", "multiprocessing", "asyncio", "click",
         "dateutil", "pathspec", "platformdirs", "attrs")  # fmt: skip
IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")
COMPLETE_QUERY, COMPLETE_NAME, COMPLETE_FILE = "get_response", "get_response", "django/core/handlers/base.py"
COMPLETE_TIMEOUT = 60.0
POLL_SECONDS = 0.05  # as lsp_bench.py polls
OPEN_DOCUMENT = "django/db/models/query.py"
SETTLED_SECONDS = 3.0  # jedi's pass starts 1 s after the refresh of the opened document
SETTLE_TIMEOUT = 180.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall and CPU seconds of one process (and the children it waited for), spawn to exit."""
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command} exited with {done.returncode}: {done.stderr[-500:]}")
    return {"wall_seconds": wall, "cpu_seconds": _children_cpu() - cpu}


def summary(runs: list[dict[str, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in runs[0]:
        values = [run[key] for run in runs]
        out[key] = statistics.median(values)
        if key.endswith("_seconds"):
            out[key.replace("_seconds", "_min_seconds")] = min(values)
    out["runs"] = runs
    return out


def importtime(module: str, repeat: int) -> dict[str, Any]:
    """`python -X importtime -c "import module"`, `repeat` times: totals, the costliest modules, what loaded."""
    totals: list[float] = []
    self_us: dict[str, int] = {}
    cumulative_us: dict[str, int] = {}
    loaded: list[str] = []
    for _ in range(repeat):
        code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                              check=True)  # fmt: skip
        loaded = done.stdout.split()
        for line in done.stderr.splitlines():
            match = IMPORTTIME.match(line)
            if match is None:
                continue
            name, own, total = match[4], int(match[1]), int(match[2])
            self_us[name] = min(self_us.get(name, own), own)
            cumulative_us[name] = min(cumulative_us.get(name, total), total)
            if name == module:
                totals.append(total / 1e6)
    packages: dict[str, float] = {}
    for name, own in self_us.items():
        top = name.split(".")[0]
        packages[top] = packages.get(top, 0.0) + own / 1000
    return {
        "command": f'python -X importtime -c "import {module}"',
        "total_seconds_median": statistics.median(totals),
        "total_seconds_min": min(totals),
        "modules_loaded": len(loaded),
        "heavy_loaded": [name for name in HEAVY if name in loaded],
        "packages_self_ms_of_least": dict(sorted(packages.items(), key=lambda kv: -kv[1])[:15]),
        "modules_cumulative_ms_of_least": {
            name: us / 1000 for name, us in sorted(cumulative_us.items(), key=lambda kv: -kv[1])[:25]
        },
    }


def initialize_once(root: Path, db: Path, launch: Launch) -> dict[str, float]:
    """Spawn the server, send `initialize`, time its result; then shut it down."""
    server = RawServer(root, db, index_on_startup=False, launch=launch)
    try:
        server.initialize()
        return server.figures()
    finally:
        server.close()


def _complete(answer: list[dict[str, Any]]) -> bool:
    """The issue's complete answer: BaseHandler.get_response of django/core/handlers/base.py."""
    return any(symbol["name"] == COMPLETE_NAME and symbol["location"]["uri"].endswith(COMPLETE_FILE)
               for symbol in answer or [])  # fmt: skip


def restart_until_complete(server: RawServer) -> dict[str, Any]:
    """`initialize`, `initialized`, then the complete query every 50 ms until it is complete."""
    server.initialize()
    figures: dict[str, Any] = {"initialize": server.figures()}
    server.notify("initialized", {})
    polls = 0
    while True:
        polls += 1
        if _complete(server.request("workspace/symbol", {"query": COMPLETE_QUERY})):
            break
        if server.since_start() > COMPLETE_TIMEOUT:
            raise RuntimeError(f"no complete answer in {COMPLETE_TIMEOUT} s")
        time.sleep(POLL_SECONDS)
    figures["complete"] = {**server.figures(), "polls": polls}
    return figures


def restart_once(root: Path, db: Path, launch: Launch) -> dict[str, Any]:
    server = RawServer(root, db, index_on_startup=True, launch=launch)
    try:
        return restart_until_complete(server)
    finally:
        server.close()


def open_document_once(root: Path, db: Path, launch: Launch) -> dict[str, Any]:
    """A restart, then the issue's open document: RSS at its outline and after jedi's pass over it."""
    server = RawServer(root, db, index_on_startup=True, launch=launch)
    try:
        figures = restart_until_complete(server)
        path = root / OPEN_DOCUMENT
        uri = path.as_uri()
        opened_cpu = server.cpu()
        server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                                "text": path.read_text(encoding="utf-8")}})  # fmt: skip
        server.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        figures["outline"] = server.figures()
        last, still_since = server.cpu(), time.perf_counter()
        while time.perf_counter() - still_since < SETTLED_SECONDS and server.since_start() < SETTLE_TIMEOUT:
            time.sleep(0.5)
            if (now := server.cpu()) > last + 0.02:
                last, still_since = now, time.perf_counter()
        figures["settled"] = {**server.figures(), "cpu_seconds_since_open": server.cpu() - opened_cpu,
                              "peak_rss_mib": status_kb(server.process.pid)[1] / 1024}  # fmt: skip
        return figures
    finally:
        server.close()


def commands(root: Path, db: Path, launch: Launch) -> dict[str, list[str]]:
    aurora = list(launch.command)
    on = [str(root), "--db", str(db)]
    found = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "aurora-lsp --version": [*aurora, "--version"],
    }
    for refresh in ([], ["--no-refresh"]):
        suffix = " --no-refresh" if refresh else ""
        found[f"symbols get_response{suffix}"] = [*aurora, "symbols", *on, "get_response", *refresh]
        found[f"context --query{suffix}"] = [*aurora, "context", *on, "--query", "queryset filter lookup", *refresh]
        found[f"context --file --line{suffix}"] = [*aurora, "context", *on, "--file", "django/db/models/query.py",
                                                   "--line", "300", *refresh]  # fmt: skip
        found[f"stats{suffix}"] = [*aurora, "stats", *on, *refresh]
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per figure")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--baseline", metavar="COMMIT", help="also measure this commit's server, alternating")
    return parser.parse_args(argv)


def print_table(report: dict[str, Any]) -> None:
    for module, info in report["import"].items():
        print(f"import {module}: {info['total_seconds_median']:.3f} s median, {info['total_seconds_min']:.3f} s least; "
              f"{info['modules_loaded']} modules; heavy: {', '.join(info['heavy_loaded']) or 'none'}")  # fmt: skip
        print("  " + ", ".join(f"{k} {v:.1f} ms" for k, v in list(info["packages_self_ms_of_least"].items())[:8]))
    width = max(len(name) for name in report["commands"])
    print(f"\n{'':<{width}}  wall s (least)   CPU s (least)")
    rows = {**report["commands"], "initialize result": report["initialize"],
            "restart: initialize result": report["restart"]["initialize"],
            "restart: complete ws/symbol": report["restart"]["complete"]}  # fmt: skip
    for name, info in rows.items():
        rss = f"   RSS {info['rss_mib']:.0f} MiB" if "rss_mib" in info else ""
        print(f"{name:<{width}}  {info['wall_seconds']:.3f} ({info['wall_min_seconds']:.3f})    "
              f"{info['cpu_seconds']:.3f} ({info['cpu_min_seconds']:.3f}){rss}")  # fmt: skip
    if "baseline" in report:
        base = report["baseline"]
        print(f"\nthe same in the same run for {base['commit']}: CPU s, then current / {base['commit']}")
        pairs = {name: (info, base["commands"][name]) for name, info in report["commands"].items()}
        pairs["initialize result"] = (report["initialize"], base["initialize"])
        pairs["restart: complete ws/symbol"] = (report["restart"]["complete"], base["restart"]["complete"])
        for name, (now, before) in pairs.items():
            ratio = now["cpu_seconds"] / before["cpu_seconds"] if before["cpu_seconds"] else float("nan")
            print(f"{name:<{width}}  {before['cpu_seconds']:.3f} -> {now['cpu_seconds']:.3f}   {ratio:.2f}   "
                  f"(wall {before['wall_seconds']:.3f} -> {now['wall_seconds']:.3f})")  # fmt: skip
    opened = report["open_document"]
    print(f"\nopen {opened['document']} after a restart: RSS {opened['outline']['rss_mib']:.0f} MiB at its outline, "
          f"{opened['settled']['rss_mib']:.0f} MiB (peak {opened['settled']['peak_rss_mib']:.0f}) once jedi's pass "
          f"is done ({opened['settled']['cpu_seconds_since_open']:.2f} CPU-s after didOpen)")  # fmt: skip


def alternate(root: Path, state: str, launches: dict[str, Launch], repeat: int) -> dict[str, dict[str, Any]]:
    """Commands, initialize and restart of each version, the versions alternating in every repetition."""
    dbs = {label: Path(state) / f"{label}.sqlite3" for label in launches}
    for label, launch in launches.items():  # each version indexes its own database (schemas differ)
        subprocess.run([*launch.command, "index", str(root), "--db", str(dbs[label])], capture_output=True, check=True,
                       env=launch.environment())  # fmt: skip
    runs: dict[str, dict[str, list[Any]]] = {label: collections.defaultdict(list) for label in launches}
    for _ in range(repeat):
        for label, launch in launches.items():
            env = launch.environment()
            for name, command in commands(root, dbs[label], launch).items():
                runs[label][name].append(timed(command, env))
            runs[label]["initialize"].append(initialize_once(root, dbs[label], launch))
            runs[label]["restart"].append(restart_once(root, dbs[label], launch))
    figures: dict[str, dict[str, Any]] = {}
    for label, by_name in runs.items():
        restarts = by_name.pop("restart")
        figures[label] = {
            "commands": {name: summary(values) for name, values in by_name.items() if name != "initialize"},
            "initialize": summary(by_name["initialize"]),
            "restart": {step: summary([run[step] for run in restarts]) for step in ("initialize", "complete")},
        }
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    root, wheel = wheel_workspace(WORKSPACE)
    root = root.resolve()
    report = new_report(
        "startup",
        ("lsprotocol", "cattrs", "attrs"),
        workspace={"root": str(root), "wheel": wheel.name, "wheel_sha256": WHEELS[WORKSPACE]["sha256"]},
        settings={"repeat": args.repeat, "baseline": args.baseline},
        loadavg_at_start=os.getloadavg(),
    )
    report["import"] = {module: importtime(module, args.repeat) for module in ("aurora_lsp.cli", "aurora_lsp.features")}
    with tempfile.TemporaryDirectory(prefix="aurora-startup-bench-") as state:
        launches = {"current": Launch(tuple(console_command()))}
        if args.baseline:
            launches["baseline"] = baseline_launch(args.baseline, Path(state))
        figures = alternate(root, state, launches, args.repeat)
        report.update(figures["current"])
        if args.baseline:
            report["baseline"] = {"commit": args.baseline, **figures["baseline"]}
        opened = open_document_once(root, Path(state) / "current.sqlite3", launches["current"])  # once: seconds of jedi
        report["open_document"] = {"document": OPEN_DOCUMENT, **opened}
    write_report(report, args.output, started)
    print_table(report)
    warn_if_code_changed(report)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
