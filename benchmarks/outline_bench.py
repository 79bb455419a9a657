"""documentSymbol while jedi works on the open document (Django's query.py), raw JSON-RPC.

    python benchmarks/outline_bench.py --baseline 3c8f4b6       # about 3 minutes on 2 cores
    python benchmarks/outline_bench.py --gc-threshold2 1000     # full collections 100x rarer

Each run restarts the server on the Django 5.2.19 wheel indexed beforehand, opens query.py,
asks its documentSymbol, and waits --settle seconds (its refresh is done and jedi's pass over
it has started: it starts 1 s after the refresh), then one of two phases (the server's RSS
at its end is recorded too):

  edits        --edits edits --edit-pause s apart, each a function appended at the end, timed from
               didChange to the documentSymbol answer that shows the new function
  during-pass  --requests documentSymbol requests 0.1 s apart on the unchanged document

Versions run alternately within each repetition: the current tree, --baseline COMMIT (its
server/ tree from `git archive`, with a database it indexed itself) and, with
--gc-threshold2 N, the current tree with `gc.set_threshold(700, 10, N)` (Python's default
third value is 10). Results: benchmarks/results/outline.json with machine facts and load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.aurora import console_command
from harness.paths import RESULTS as RESULTS_DIR
from harness.raw_lsp import Launch, RawServer, baseline_launch
from harness.report import new_report, warn_if_code_changed, write_report
from harness.workspaces import wheel_workspace

WORKSPACE = "django"
DOCUMENT = "django/db/models/query.py"
RESULTS = RESULTS_DIR / "outline.json"
REQUEST_PAUSE_SECONDS = 0.1
EDIT_TIMEOUT_SECONDS = 30.0


def gc_launch(threshold2: int) -> Launch:
    """The current server with Python's third collection threshold set before it starts."""
    code = (f"import gc, runpy, sys; gc.set_threshold(700, 10, {threshold2}); sys.argv = ['aurora-lsp']; "
            "runpy.run_module('aurora_lsp', run_name='__main__')")  # fmt: skip
    return Launch((sys.executable, "-c", code))


def _symbol_names(answer: list[dict[str, Any]] | None) -> set[str]:
    return {symbol["name"] for symbol in answer or []}


def one_run(
    root: Path, db: Path, launch: Launch, phase: str, count: int, settle: float, pause: float
) -> tuple[list[float], float]:
    """Milliseconds of each timed documentSymbol of one fresh server, and its RSS (MiB) at the end."""
    server = RawServer(root, db, index_on_startup=True, launch=launch)
    path = root / DOCUMENT
    uri, text = path.as_uri(), path.read_text(encoding="utf-8")
    timings: list[float] = []
    try:
        server.initialize()
        server.notify("initialized", {})
        document = {"uri": uri, "languageId": "python", "version": 1, "text": text}
        server.notify("textDocument/didOpen", {"textDocument": document})
        asked = {"textDocument": {"uri": uri}}
        server.request("textDocument/documentSymbol", asked)
        time.sleep(settle)
        for number in range(count):
            if phase == "during-pass":
                started = time.perf_counter()
                server.request("textDocument/documentSymbol", asked)
                timings.append((time.perf_counter() - started) * 1000)
                time.sleep(REQUEST_PAUSE_SECONDS)
                continue
            lines = text.split("\n")
            end = {"line": len(lines) - 1, "character": len(lines[-1])}
            name, added = f"added_{number}", f"\n\ndef added_{number}(value):\n    return value\n"
            text += added
            started = time.perf_counter()
            server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": number + 2},
                          "contentChanges": [{"range": {"start": end, "end": end}, "text": added}]})  # fmt: skip
            while name not in _symbol_names(server.request("textDocument/documentSymbol", asked)):
                if time.perf_counter() - started > EDIT_TIMEOUT_SECONDS:
                    raise RuntimeError(f"{name} not in documentSymbol after {EDIT_TIMEOUT_SECONDS} s")
            timings.append((time.perf_counter() - started) * 1000)
            time.sleep(pause)
        rss_mib = server.rss_mib()
    finally:
        server.close()
    return timings, rss_mib


def summary(timings: list[float]) -> dict[str, Any]:
    ordered = sorted(timings)
    return {
        "requests": len(ordered),
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[max(0, round(0.95 * len(ordered)) - 1)],
        "max_ms": ordered[-1],
        "all_ms": [round(value, 1) for value in ordered],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", metavar="COMMIT", help="also this commit's server, alternating")
    parser.add_argument("--gc-threshold2", type=int, help="also the current server with this third gc threshold")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each phase per version")
    parser.add_argument("--edits", type=int, default=10, help="edits per run")
    parser.add_argument("--edit-pause", type=float, default=0.6,
                        help="seconds between edits (over 1 s, jedi starts a pass over each version)")  # fmt: skip
    parser.add_argument("--requests", type=int, default=30, help="documentSymbol requests per during-pass run")
    parser.add_argument("--settle", type=float, default=2.5, help="seconds after the first documentSymbol")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    root, wheel = wheel_workspace(WORKSPACE)
    root = root.resolve()
    report = new_report(
        "outline",
        ("jedi", "parso"),
        workspace={"root": str(root), "wheel": wheel.name, "document": DOCUMENT},
        settings={key: value for key, value in vars(args).items() if key != "output"},
        loadavg_at_start=os.getloadavg(),
    )
    with tempfile.TemporaryDirectory(prefix="aurora-outline-bench-") as state:
        launches = {"current": Launch(tuple(console_command()))}
        if args.baseline:
            launches[f"baseline {args.baseline}"] = baseline_launch(args.baseline, Path(state))
        if args.gc_threshold2:
            launches[f"gc threshold2 {args.gc_threshold2}"] = gc_launch(args.gc_threshold2)
        dbs: dict[str, Path] = {}
        for label, launch in launches.items():  # one database per server code (schemas differ)
            dbs[label] = Path(state) / f"{'baseline' if label.startswith('baseline') else 'current'}.sqlite3"
            if not dbs[label].exists():
                subprocess.run([*launch.command, "index", str(root), "--db", str(dbs[label])], capture_output=True,
                               check=True, env=launch.environment())  # fmt: skip
        timings: dict[str, dict[str, list[float]]] = {label: {"edits": [], "during-pass": []} for label in launches}
        rss: dict[str, dict[str, list[float]]] = {label: {"edits": [], "during-pass": []} for label in launches}
        for _ in range(args.repeat):
            for phase, count in (("edits", args.edits), ("during-pass", args.requests)):
                for label, launch in launches.items():
                    found, rss_mib = one_run(root, dbs[label], launch, phase, count, args.settle, args.edit_pause)
                    timings[label][phase] += found
                    rss[label][phase].append(round(rss_mib, 1))
    report["results"] = {label: {phase: {**summary(values), "rss_mib_at_end": rss[label][phase]}
                                 for phase, values in by_phase.items()}
                         for label, by_phase in timings.items()}  # fmt: skip
    write_report(report, args.output, started)
    for label, by_phase in report["results"].items():
        for phase, figures in by_phase.items():
            print(f"{label:<22} {phase:<12} median {figures['median_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  "
                  f"max {figures['max_ms']:7.1f} ms  ({figures['requests']} requests; RSS at the end "
                  f"{', '.join(f'{mib:.0f}' for mib in figures['rss_mib_at_end'])} MiB)")  # fmt: skip
    warn_if_code_changed(report)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
