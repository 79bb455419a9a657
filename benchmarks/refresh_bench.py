"""Refresh benchmark: a refresh of N changed files against a cold index of the same N files.

    python benchmarks/refresh_bench.py                  # Django 5.2.19, N = 10, 100, half the tree
    python benchmarks/refresh_bench.py --counts 10 --counts 50 --repeat 3

The Django wheel (harness/workspaces.py) is copied to a temporary folder and indexed cold.
Then N of its files (a fixed random sample) get a new function appended, and the index is
refreshed. Against that: a cold index of a tree holding only those N changed files, and a
cold index of the whole tree. Every index and refresh runs in a fresh Python process of its
own (Workspace.open + refresh, as index_bench.py measures), with its wall time and the
CPU-seconds of the process and its parsing workers. Targets: a refresh of N files never
slower than a cold index of them; a refresh of half the tree (a branch switch) at most half
a cold index of the whole. Results go to benchmarks/results/refresh.json with machine and versions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from harness.aurora import importable, stop_forkserver
from harness.machine import loadavg_1min, machine_facts, versions
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import timestamp, warn_if_code_changed, write_report
from harness.workspaces import wheel_workspace

RESULTS = RESULTS_DIR / "refresh.json"
DEFAULT_COUNTS = ("10", "100", "half")
SEED = 18
APPENDED = "\n\ndef appended_by_refresh_bench():\n    return 1\n"


def child(root: Path, db: str) -> dict[str, Any]:
    """Workspace.open + refresh() of root in db, in this (fresh) process."""
    from harness.aurora import Settings, Workspace

    started = time.perf_counter()
    workspace = Workspace.open(root, Settings(database_path=db))
    report = workspace.refresh()
    seconds = time.perf_counter() - started
    workspace.close()
    stop_forkserver()  # its workers' CPU then counts in RUSAGE_CHILDREN
    me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": seconds,
        "cpu_seconds": me.ru_utime + me.ru_stime + workers.ru_utime + workers.ru_stime,
        "files": report.files,
        "chunks": report.chunks,
        "changed": report.changed,
        "resolved_sources": report.resolved_sources,
    }


def run_child(root: Path, db: str) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    try:
        command = [sys.executable, __file__, "--child", "--root", str(root), "--db", db, "--out", out]
        subprocess.run(command, check=True, cwd=Path(__file__).parent)
        with open(out, encoding="utf-8") as result:
            found: dict[str, Any] = json.load(result)
    finally:
        os.unlink(out)
    found["loadavg_1min"] = loadavg_1min()
    return found


def one_round(source: Path, count: str, scratch: Path) -> dict[str, Any]:
    """Cold index of a copy, N files changed, refresh; cold indexes of those N files and of the whole."""
    tree = scratch / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(source, tree)
    files = sorted(path.relative_to(tree).as_posix() for path in tree.rglob("*.py"))
    n = len(files) // 2 if count == "half" else min(int(count), len(files))
    db = str(scratch / "index.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    whole = run_child(tree, db)
    chosen = random.Random(SEED).sample(files, n)
    for path in chosen:
        with open(tree / path, "a", encoding="utf-8") as handle:
            handle.write(APPENDED)
    refresh = run_child(tree, db)
    alone = scratch / f"alone-{n}"
    shutil.rmtree(alone, ignore_errors=True)
    for path in chosen:
        (alone / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(tree / path, alone / path)
    cold_n = run_child(alone, str(scratch / f"alone-{n}.sqlite3"))
    return {"n": n, "refresh": refresh, "cold_of_n": cold_n, "cold_whole": whole}


def summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    def med(part: str, key: str) -> float:
        return float(median(r[part][key] for r in rounds))

    n = rounds[0]["n"]
    found = {"n": n, "resolved_sources": rounds[0]["refresh"]["resolved_sources"]}
    for part in ("refresh", "cold_of_n", "cold_whole"):
        found[f"{part}_seconds"] = med(part, "seconds")
        found[f"{part}_cpu_seconds"] = med(part, "cpu_seconds")
    found["refresh_cpu_per_file"] = found["refresh_cpu_seconds"] / n
    found["cold_cpu_per_file"] = found["cold_of_n_cpu_seconds"] / n
    found["ratio_refresh_over_cold_of_n_cpu"] = found["refresh_cpu_seconds"] / found["cold_of_n_cpu_seconds"]
    found["ratio_refresh_over_cold_of_n_wall"] = found["refresh_seconds"] / found["cold_of_n_seconds"]
    found["ratio_refresh_over_cold_whole_cpu"] = found["refresh_cpu_seconds"] / found["cold_whole_cpu_seconds"]
    found["target_not_slower_than_cold_of_n"] = found["refresh_cpu_seconds"] <= found["cold_of_n_cpu_seconds"]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", action="append", help="changed files: a number or 'half' (default 10, 100, half)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per count; the summary gives medians")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(child(args.root, args.db), handle)
        return 0
    if not importable():
        parser.error("aurora_lsp is not importable: run with the project's virtualenv (.venv/bin/python)")
    started = time.perf_counter()
    source, wheel = wheel_workspace("django")
    report: dict[str, Any] = {
        "benchmark": "refresh",
        "timestamp": timestamp(),
        "workspace": wheel.name,
        "machine": machine_facts(),
        "versions": versions(source_sha256=True),
        "notes": [
            "cpu_seconds: the indexing process and its parsing workers (the fork server stopped first).",
            "cold_of_n: a fresh index of a tree holding only the N changed files; cold_whole: of the whole copy.",
        ],
        "results": [],
    }
    scratch = Path(tempfile.mkdtemp(prefix="aurora-refresh-bench-"))
    try:
        for count in args.counts or DEFAULT_COUNTS:
            rounds = [one_round(source, count, scratch) for _ in range(args.repeat)]
            found = summary(rounds)
            report["results"].append({"summary": found, "rounds": rounds})
            s = found
            print(
                f"N={s['n']:>4}: refresh {s['refresh_seconds']:.2f} s / {s['refresh_cpu_seconds']:.2f} CPU-s"
                f" ({s['resolved_sources']} sources resolved), cold of N {s['cold_of_n_seconds']:.2f} s /"
                f" {s['cold_of_n_cpu_seconds']:.2f} CPU-s, ratio CPU {s['ratio_refresh_over_cold_of_n_cpu']:.2f};"
                f" cold of the whole {s['cold_whole_cpu_seconds']:.2f} CPU-s",
                flush=True,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write_report(report, args.output, started)
    warn_if_code_changed(report)
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
