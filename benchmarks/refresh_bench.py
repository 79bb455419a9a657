"""Refresh benchmark: a refresh of N changed files against a cold index of the same N files,
and a real branch switch (sympy 1.13.3 -> 1.14.0) against a cold index of the new tree.

    python benchmarks/refresh_bench.py                  # Django N = 10, 100, half; the sympy switch
    python benchmarks/refresh_bench.py --counts 10 --counts 50 --repeat 3 --no-switch
    python benchmarks/refresh_bench.py --switch-only
    python benchmarks/refresh_bench.py --edit body --counts 1 --counts 10 --no-switch \
        --output benchmarks/results/refresh-body.json         # an edit inside function bodies
    python benchmarks/refresh_bench.py --counts 10 --counts half --no-switch --profile \
        --output benchmarks/results/refresh-profile.json    # where a refresh's CPU goes

The Django wheel (harness/workspaces.py) is copied to a temporary folder and indexed cold.
Then N of its files (a fixed random sample) get a new function appended, and the index is
refreshed. Against that: a cold index of a tree holding only those N changed files, and a
cold index of the whole tree. Every index and refresh runs in a fresh Python process of its
own (Workspace.open + refresh, as index_bench.py measures), with its wall time and the
CPU-seconds of the process and its parsing workers. Targets: a refresh of N files never
slower than a cold index of them; a refresh of half the tree (a branch switch) at most half
a cold index of the whole.

The branch switch: the sympy 1.13.3 wheel (pinned, sha256-checked, harness/workspaces.py) is
copied and indexed cold; then the copy is made 1.14.0's as `git checkout` would (files whose
bytes differ rewritten, new ones added, vanished ones deleted, the rest untouched) and
refreshed; against that, a cold index of the 1.14.0 tree. Target (issue 18): the refresh at
most half that cold index, in CPU-seconds. The refreshed index's edges are checked to equal
the cold index's. Results go to benchmarks/results/refresh.json with machine and versions.
"""

from __future__ import annotations

import argparse
import cProfile
import filecmp
import hashlib
import json
import os
import pstats
import random
import re
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
from harness.workspaces import WHEELS, wheel_workspace

RESULTS = RESULTS_DIR / "refresh.json"
DEFAULT_COUNTS = ("10", "100", "half")
SEED = 18
SWITCH = ("sympy-1.13.3", "sympy")  # harness/workspaces.py's names: from this tree to that one
APPENDED = "\n\ndef appended_by_refresh_bench():\n    return 1\n"
FIRST_RETURN = re.compile(r"^([ \t]+)return\b", re.MULTILINE)


def edit(path: Path, kind: str) -> None:
    """`append`: a new function at the end. `body`: a statement before the first `return`
    inside a function (a comment at the end where there is none), the edit a person makes
    most: no definition or import changes."""
    text = path.read_text(encoding="utf-8")
    if kind == "append":
        text += APPENDED
    else:
        found = FIRST_RETURN.search(text)
        text = (
            text[: found.start()] + f"{found.group(1)}pass\n" + text[found.start() :]
            if found
            else text + "\n# edited by refresh_bench\n"
        )
    path.write_text(text, encoding="utf-8")


def child(root: Path, db: str, digest: bool, profile: bool) -> dict[str, Any]:
    """Workspace.open + refresh() of root in db, in this (fresh) process; with `digest`, a
    sha256 of its edges afterwards (outside the measured time); with `profile`, the refresh
    under cProfile (this process only: parsing workers are not in it)."""
    from harness.aurora import Settings, Workspace

    started = time.perf_counter()
    workspace = Workspace.open(root, Settings(database_path=db))
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    report = workspace.refresh()
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    stop_forkserver()  # its workers' CPU then counts in RUSAGE_CHILDREN
    me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    found: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": me.ru_utime + me.ru_stime + workers.ru_utime + workers.ru_stime,
        "cpu_seconds_workers": workers.ru_utime + workers.ru_stime,
        "files": report.files,
        "chunks": report.chunks,
        "edges": report.edges,
        "changed": report.changed,
        "removed": report.removed,
        "resolved_sources": report.resolved_sources,
    }
    if digest:
        found["edges_sha256"] = edges_digest(workspace)
    if profiler is not None:
        found["profile"] = top_functions(profiler)
    workspace.close()
    return found


def top_functions(profiler: cProfile.Profile, count: int = 30) -> list[dict[str, Any]]:
    """The functions with the most cumulative time (cProfile's seconds, inflated by its
    overhead: read them as shares), Aurora's own and SQLite's calls."""
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "aurora_lsp" in filename or "sqlite3" in name or "sqlite3.Cursor" in name:
            where = filename.split("aurora_lsp/")[-1] if "aurora_lsp" in filename else filename
            rows.append({"function": f"{where}:{line}({name})", "calls": calls, "own": own, "cumulative": cumulative})
    rows.sort(key=lambda row: -row["cumulative"])
    return rows[:count]


def edges_digest(workspace: Any) -> str:
    """sha256 of every edge (source id, target id, kind, how), in order."""
    ids = sorted(source.id for source in workspace.db.iter_ref_sources())
    edges: set[tuple[str, str, str, str]] = set()
    for start in range(0, len(ids), 400):
        batch = set(ids[start : start + 400])
        edges.update(tuple(edge) for edge in workspace.db.links(sorted(batch)) if edge[0] in batch)
    return hashlib.sha256(json.dumps(sorted(edges)).encode()).hexdigest()


def run_child(root: Path, db: str, digest: bool = False, profile: bool = False) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    try:
        command = [sys.executable, __file__, "--child", "--root", str(root), "--db", db, "--out", out]
        flags = [*(["--digest"] if digest else []), *(["--profile"] if profile else [])]
        subprocess.run([*command, *flags], check=True, cwd=Path(__file__).parent)
        with open(out, encoding="utf-8") as result:
            found: dict[str, Any] = json.load(result)
    finally:
        os.unlink(out)
    found["loadavg_1min"] = loadavg_1min()
    return found


def one_round(source: Path, count: str, scratch: Path, kind: str, profile: bool = False) -> dict[str, Any]:
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
        edit(tree / path, kind)
    refresh = run_child(tree, db, profile=profile)
    alone = scratch / f"alone-{n}"
    shutil.rmtree(alone, ignore_errors=True)
    for path in chosen:
        (alone / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(tree / path, alone / path)
    alone_db = str(scratch / f"alone-{n}.sqlite3")
    for suffix in ("", "-wal", "-shm"):  # a cold index each round, not a refresh of the last one's
        Path(alone_db + suffix).unlink(missing_ok=True)
    cold_n = run_child(alone, alone_db)
    return {"n": n, "refresh": refresh, "cold_of_n": cold_n, "cold_whole": whole}


def checkout(tree: Path, target: Path) -> dict[str, int]:
    """Make `tree` hold `target`'s Python files as `git checkout` would: only files whose
    bytes differ are written, new ones added, vanished ones deleted."""
    old = {path.relative_to(tree).as_posix() for path in tree.rglob("*.py")}
    new = {path.relative_to(target).as_posix() for path in target.rglob("*.py")}
    changed = sorted(p for p in old & new if not filecmp.cmp(tree / p, target / p, shallow=False))
    for path in sorted(old - new):
        (tree / path).unlink()
    for path in [*changed, *sorted(new - old)]:
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target / path, tree / path)  # a new mtime, as a checkout gives
    return {"changed": len(changed), "added": len(new - old), "removed": len(old - new), "files": len(new)}


def branch_switch(scratch: Path, profile: bool = False) -> dict[str, Any]:
    """Cold index of the first tree, the switch, its refresh; a cold index of the second tree."""
    (first, first_wheel), (second, second_wheel) = (wheel_workspace(name) for name in SWITCH)
    tree = scratch / "switch"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(first, tree)
    db = str(scratch / "switch.sqlite3")
    cold_first = run_child(tree, db)
    files = checkout(tree, second)
    time.sleep(0.01)
    refresh = run_child(tree, db, digest=True, profile=profile)
    cold_second = run_child(tree, str(scratch / "switch-cold.sqlite3"), digest=True)
    return {
        "from": {"wheel": first_wheel.name, "sha256": WHEELS[SWITCH[0]]["sha256"]},
        "to": {"wheel": second_wheel.name, "sha256": WHEELS[SWITCH[1]]["sha256"]},
        "files": files,
        "cold_from": cold_first,
        "refresh": refresh,
        "cold_to": cold_second,
        "ratio_refresh_over_cold_to_cpu": refresh["cpu_seconds"] / cold_second["cpu_seconds"],
        "ratio_refresh_over_cold_to_wall": refresh["seconds"] / cold_second["seconds"],
        "edges_equal_cold": refresh["edges_sha256"] == cold_second["edges_sha256"],
        "target_at_most_half_cold": refresh["cpu_seconds"] <= 0.5 * cold_second["cpu_seconds"],
    }


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
    parser.add_argument("--edit", choices=("append", "body"), default="append", help="how the N files change")
    parser.add_argument("--no-switch", action="store_true", help="skip the sympy branch switch")
    parser.add_argument("--switch-only", action="store_true", help="only the sympy branch switch")
    parser.add_argument("--profile", action="store_true", help="each refresh under cProfile, its top functions kept")
    parser.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(child(args.root, args.db, args.digest, args.profile), handle)
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
            f"edit: {args.edit} (append: a new function at the end; body: a statement inside a function).",
            "switch: sympy 1.13.3 indexed, its tree made 1.14.0's as git checkout would, refreshed;"
            " cold_to: a fresh index of the 1.14.0 tree; edges_equal_cold compares sha256 of every edge.",
        ],
        "results": [],
    }
    scratch = Path(tempfile.mkdtemp(prefix="aurora-refresh-bench-"))
    try:
        for count in [] if args.switch_only else args.counts or DEFAULT_COUNTS:
            rounds = [one_round(source, count, scratch, args.edit, args.profile) for _ in range(args.repeat)]
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
        if not args.no_switch:
            switch = report["switch"] = branch_switch(scratch, args.profile)
            f, r, c = switch["files"], switch["refresh"], switch["cold_to"]
            print(
                f"switch {SWITCH[0]} -> {SWITCH[1]}: {f['changed']} changed, {f['added']} added,"
                f" {f['removed']} removed of {f['files']}; refresh {r['seconds']:.2f} s / {r['cpu_seconds']:.2f} CPU-s"
                f" ({r['resolved_sources']} of {r['chunks']} chunks resolved), cold of the new tree"
                f" {c['seconds']:.2f} s / {c['cpu_seconds']:.2f} CPU-s, ratio CPU"
                f" {switch['ratio_refresh_over_cold_to_cpu']:.2f}; edges equal: {switch['edges_equal_cold']}",
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
