"""Indexing benchmark: Aurora against pinned real code, with jedi and parso as peers.

    python benchmarks/index_bench.py                  # Django and sympy, one repetition
    python benchmarks/index_bench.py --only django --repeat 3
    python benchmarks/index_bench.py --phases cold --jedi none   # the cold index and its floor only

Each workspace is a pinned wheel (harness/workspaces.py) fetched with `pip download
--no-deps`, checked against its sha256 and unpacked under benchmarks/.cache/ (reused when
already there; file times are kept from the archive, as `unzip` does). Every measurement
runs in a fresh Python process of its own, so that the peak RSS figures belong to that
run alone:

  cold         Workspace.open + refresh() into a fresh temporary database
  refresh      the same, again, in a new process (a restart with nothing changed)
  memory       every chunk read into the in-memory tier with chunks.warm()
  memory-trace the same warm() measured with tracemalloc, for comparison
  jedi         jedi.Script(path=...).get_names(all_scopes=True, definitions=True) per
               file, one process (what jedi-language-server does for document symbols),
               with an empty jedi cache folder (a first start, like Aurora's cold index)
  parso        a bare parso parse of every file, one process

and, for every workspace, the floor a cold index is judged against (harness/floor.py):
Python's `ast.parse` of every file in one fresh process, three times before the phases and
three times after (the medians of the six), so that the cold index's CPU-seconds have a
ratio to it measured in the same run (issue 18's target: sympy ≤ 10× the floor).

Peers read exactly the files Aurora's scan selects. Results (every run, plus medians when
--repeat > 1) go to benchmarks/results/index.json with machine facts and versions.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.aurora import importable, stop_forkserver
from harness.floor import ast_floor
from harness.machine import loadavg_1min, machine_facts, versions
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import timestamp, warn_if_code_changed, write_json
from harness.stats import field_medians
from harness.workspaces import WHEELS, wheel_workspace

RESULTS = RESULTS_DIR / "index.json"
DEFAULT_WORKSPACES = ("django", "sympy")

# What the team wants to know about (Django).
TARGETS = {
    "django_cold_seconds_max": 5.0,
    "django_refresh_seconds_max": 0.5,
    "django_resident_bytes_max": 12 * 1024 * 1024,
    "sympy_cold_cpu_over_floor_cpu_max": 10.0,
}
PHASES = ("cold", "refresh", "memory", "memory-trace", "parso")

# Room for every chunk of any workspace here: warm() must not evict.
WARM_BUDGET_MB = 4096.0
WARM_MAX_CHUNKS = 10_000_000
CHILD_TIMEOUT_S = 3600
MIB = 1024 * 1024


# -- measurements, each run in a child process ---------------------------------------------


def _rusage() -> dict[str, Any]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "peak_rss_bytes": me.ru_maxrss * 1024,
        "children_peak_rss_bytes": children.ru_maxrss * 1024,
        "cpu_seconds": me.ru_utime + me.ru_stime,
        "children_cpu_seconds": children.ru_utime + children.ru_stime,
    }


def _settings(db: str, warm: bool = False) -> Any:
    from harness.aurora import Settings

    if warm:
        return Settings(database_path=db, memory_budget_mb=WARM_BUDGET_MB, max_chunks=WARM_MAX_CHUNKS)
    return Settings(database_path=db)


def _index_run(root: Path, db: str, *, cold: bool) -> dict[str, Any]:
    from harness.aurora import RACY_WINDOW_NS, Workspace

    if cold:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    workspace = Workspace.open(root, _settings(db))
    opened = time.perf_counter()
    states = workspace.db.file_states()
    trusted = sum(1 for s in states.values() if s.checked_ns - s.mtime_ns > RACY_WINDOW_NS)
    before_refresh = time.perf_counter()
    report = workspace.refresh()
    refreshed = time.perf_counter()
    size_open = workspace.db.size_bytes()
    workspace.close()
    closed = time.perf_counter()
    size_closed = sum(Path(db + s).stat().st_size for s in ("", "-wal", "-shm") if Path(db + s).exists())
    server_stopped = stop_forkserver()
    seconds = (opened - started) + (refreshed - before_refresh)
    return {
        "seconds": seconds,
        "open_seconds": opened - started,
        "refresh_seconds": refreshed - before_refresh,
        "indexer_reported_seconds": report.seconds,
        "close_seconds": closed - refreshed,
        "files": report.files,
        "chunks": report.chunks,
        "edges": report.edges,
        "changed": report.changed,
        "unchanged": report.unchanged,
        "removed": report.removed,
        "stat_trusted_files": trusted,
        "skipped": dict(report.skipped),
        "files_with_problems": len(report.problems),
        "chunks_per_second": report.chunks / seconds if seconds else None,
        "db_bytes": size_closed,
        "db_bytes_before_close": size_open,
        "worker_processes": os.cpu_count(),
        "children_rss_complete": server_stopped,
        **_rusage(),
    }


def child_cold(root: Path, db: str) -> dict[str, Any]:
    return _index_run(root, db, cold=True)


def child_refresh(root: Path, db: str) -> dict[str, Any]:
    return _index_run(root, db, cold=False)


def _rss_now() -> int:
    from harness.aurora import process_rss_bytes

    return process_rss_bytes()


def child_memory(root: Path, db: str) -> dict[str, Any]:
    from harness.aurora import Workspace

    with Workspace.open(root, _settings(db, warm=True)) as workspace:
        chunks = workspace.db.counts()["chunks"]
        gc.collect()
        rss_before = _rss_now()
        started = time.perf_counter()
        read = workspace.chunks.warm()
        seconds = time.perf_counter() - started
        gc.collect()
        rss_after = _rss_now()
        tier = workspace.chunks.tier
        resident = tier.resident_bytes
        result = {
            "chunks": chunks,
            "warm_read": read,
            "resident_chunks": len(tier),
            "evictions": tier.evictions,
            "all_resident": len(tier) == chunks and tier.evictions == 0,
            "resident_bytes": resident,
            "bytes_per_chunk": resident / len(tier) if len(tier) else None,
            "warm_seconds": seconds,
            "rss_delta_bytes": rss_after - rss_before,
        }
    return {**result, **_rusage()}


def child_memory_trace(root: Path, db: str) -> dict[str, Any]:
    import tracemalloc

    from harness.aurora import Workspace

    with Workspace.open(root, _settings(db, warm=True)) as workspace:
        gc.collect()
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        workspace.chunks.warm()
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tier = workspace.chunks.tier
        result = {
            "resident_chunks": len(tier),
            "tracemalloc_warm_bytes": after - before,
            "tracemalloc_warm_peak_bytes": peak - before,
            "tracemalloc_bytes_per_chunk": (after - before) / len(tier) if len(tier) else None,
            "tier_resident_bytes": tier.resident_bytes,
        }
    return {**result, **_rusage()}


def _peer_files(root: Path) -> list[str]:
    from harness.aurora import scan_workspace

    return [f.absolute for f in scan_workspace(root).files]


def child_jedi(root: Path, db: str) -> dict[str, Any]:
    import jedi

    files = _peer_files(root)
    cache = tempfile.mkdtemp(prefix="aurora-bench-jedi-")
    jedi.settings.cache_directory = cache
    names = 0
    failures: dict[str, int] = {}
    examples: list[str] = []
    try:
        started = time.perf_counter()
        for path in files:
            try:
                names += len(jedi.Script(path=path).get_names(all_scopes=True, definitions=True))
            except Exception as error:  # jedi's own failures are counted, as an editor would log them
                kind = type(error).__name__
                failures[kind] = failures.get(kind, 0) + 1
                if len(examples) < 5:
                    examples.append(f"{os.path.relpath(path, root)}: {kind}: {error}")
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {
        "seconds": seconds,
        "files": len(files),
        "names": names,
        "failed_files": sum(failures.values()),
        "failures": failures,
        "failure_examples": examples,
        **_rusage(),
    }


def child_parso(root: Path, db: str) -> dict[str, Any]:
    import parso
    from parso.utils import python_bytes_to_unicode

    files = _peer_files(root)
    grammar = parso.load_grammar()
    total_bytes = 0
    started = time.perf_counter()
    for path in files:
        with open(path, "rb") as handle:
            data = handle.read()
        total_bytes += len(data)
        text = python_bytes_to_unicode(data, errors="replace")
        grammar.parse(text, error_recovery=True, cache=False)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "files": len(files),
        "bytes": total_bytes,
        "mb_per_second": total_bytes / MIB / seconds if seconds else None,
        **_rusage(),
    }


CHILDREN = {
    "cold": child_cold,
    "refresh": child_refresh,
    "memory": child_memory,
    "memory-trace": child_memory_trace,
    "jedi": child_jedi,
    "parso": child_parso,
}


def run_child(mode: str, root: Path, db: str) -> dict[str, Any]:
    """One measurement in a fresh process; adds the wall time and whole-tree peak RSS seen from here."""
    with tempfile.NamedTemporaryFile(prefix="aurora-bench-", suffix=".json", delete=False) as out:
        out_path = out.name
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--root", str(root), "--db", db,
               "--out", out_path]  # fmt: skip
    load_before = loadavg_1min()
    started = time.perf_counter()
    process = subprocess.Popen(command)
    deadline = started + CHILD_TIMEOUT_S
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.01)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    try:
        if process.returncode != 0:
            raise SystemExit(f"{mode} on {root.name} failed (exit {process.returncode})")
        with open(out_path, encoding="utf-8") as handle:
            result: dict[str, Any] = json.load(handle)
    finally:
        os.unlink(out_path)
    result["process_wall_seconds"] = wall
    result["loadavg_1min_before"] = load_before
    result["loadavg_1min_after"] = loadavg_1min()
    result["process_tree_peak_rss_bytes"] = usage.ru_maxrss * 1024
    return result


# -- the driver ----------------------------------------------------------------------------


def run_phases(name: str, root: Path, phases: list[str], repeat: int) -> dict[str, list[dict[str, Any]]]:
    """Every phase `repeat` times, each repetition on a fresh database, each phase in a child process."""
    runs: dict[str, list[dict[str, Any]]] = {phase: [] for phase in phases}
    for index in range(repeat):
        folder = tempfile.mkdtemp(prefix=f"aurora-bench-{name}-")
        db = os.path.join(folder, "index.sqlite3")
        try:
            for phase in phases:
                print(f"[{name} {index + 1}/{repeat}] {phase} …", file=sys.stderr, flush=True)
                result = run_child(phase, root, db)
                runs[phase].append(result)
                print(f"[{name} {index + 1}/{repeat}] {phase}: {_brief(phase, result)}", file=sys.stderr, flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return runs


def aurora_summary(
    name: str, root: Path, wheel: Path, medians: dict[str, dict[str, Any]], floor: dict[str, Any]
) -> dict[str, Any]:
    """Aurora's figures, and its ratios to the parso peer and the ast floor, from the medians of the phases run."""
    cold, refresh = medians.get("cold", {}), medians.get("refresh", {})
    memory, trace, parso_run = medians.get("memory", {}), medians.get("memory-trace", {}), medians.get("parso", {})
    cold_cpu = cold["cpu_seconds"] + cold["children_cpu_seconds"] if cold else None
    summary: dict[str, Any] = {
        "root": str(root),
        "wheel": wheel.name,
        "wheel_sha256": WHEELS[name]["sha256"],
        "files": cold.get("files"),
        "source_bytes": floor["bytes"],
        "chunks": cold.get("chunks"),
        "edges": cold.get("edges"),
        "cold_seconds": cold.get("seconds"),
        "cold_process_wall_seconds": cold.get("process_wall_seconds"),
        "cold_chunks_per_second": cold.get("chunks_per_second"),
        "cold_peak_rss_bytes": cold.get("peak_rss_bytes"),
        "cold_workers_peak_rss_bytes": cold.get("children_peak_rss_bytes"),
        "cold_cpu_seconds": cold_cpu,
        "cold_loadavg_1min": cold.get("loadavg_1min_after"),
        "floor_files": floor["files"],
        "floor_seconds": floor["wall_seconds"],
        "floor_cpu_seconds": floor["cpu_seconds"],
        "ratio_cold_over_floor": _ratio(cold.get("seconds"), floor["wall_seconds"]),
        "ratio_cold_cpu_over_floor_cpu": _ratio(cold_cpu, floor["cpu_seconds"]),
        "refresh_seconds": refresh.get("seconds"),
        "refresh_process_wall_seconds": refresh.get("process_wall_seconds"),
        "refresh_peak_rss_bytes": refresh.get("peak_rss_bytes"),
        "refresh_changed": refresh.get("changed"),
        "refresh_stat_trusted_files": refresh.get("stat_trusted_files"),
        "db_bytes": cold.get("db_bytes"),
        "resident_bytes": memory.get("resident_bytes"),
        "resident_bytes_per_chunk": memory.get("bytes_per_chunk"),
        "resident_all_chunks": memory.get("all_resident"),
        "tracemalloc_warm_bytes": trace.get("tracemalloc_warm_bytes"),
        "tracemalloc_bytes_per_chunk": trace.get("tracemalloc_bytes_per_chunk"),
        "warm_seconds": memory.get("warm_seconds"),
        "warm_rss_delta_bytes": memory.get("rss_delta_bytes"),
        "parso_seconds": parso_run.get("seconds"),
        "parso_peak_rss_bytes": parso_run.get("peak_rss_bytes"),
        "ratio_cold_over_parso": _ratio(cold.get("seconds"), parso_run.get("seconds")),
        "ratio_cold_cpu_over_parso_cpu": _ratio(cold_cpu, parso_run.get("cpu_seconds")),
    }
    return summary


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def floor_around(root: Path, phases: Any) -> tuple[dict[str, Any], Any]:
    """The ast floor three times before `phases()` runs and three times after; the medians of the six."""
    before = ast_floor(root)
    result = phases()
    after = ast_floor(root)
    runs = before["runs"] + after["runs"]
    floor = {**before, **{key: field_medians(runs)[key] for key in ("wall_seconds", "cpu_seconds")}}
    floor["method"] += "; three runs before the phases and three after, median of the six"
    floor["before_phases"] = {k: v for k, v in before.items() if k != "runs"}
    floor["after_phases"] = {k: v for k, v in after.items() if k != "runs"}
    floor["runs"] = runs
    return floor, result


def jedi_summary(cold: dict[str, Any], jedi_run: dict[str, Any]) -> dict[str, Any]:
    """The jedi peer's figures and Aurora's ratios to them."""
    return {
        "jedi_seconds": jedi_run["seconds"],
        "jedi_names": jedi_run["names"],
        "jedi_failed_files": jedi_run["failed_files"],
        "jedi_peak_rss_bytes": jedi_run["peak_rss_bytes"],
        "ratio_cold_over_jedi": cold["seconds"] / jedi_run["seconds"],
        "ratio_cold_cpu_over_jedi_cpu": (cold["cpu_seconds"] + cold["children_cpu_seconds"]) / jedi_run["cpu_seconds"],
        "ratio_cold_peak_rss_over_jedi": cold["peak_rss_bytes"] / jedi_run["peak_rss_bytes"],
    }


def bench_workspace(name: str, repeat: int, with_jedi: bool, chosen: tuple[str, ...] = PHASES) -> dict[str, Any]:
    root, wheel = wheel_workspace(name)
    phases = [phase for phase in PHASES if phase in chosen] + (["jedi"] if with_jedi else [])
    print(f"[{name}] ast floor …", file=sys.stderr, flush=True)
    floor, runs = floor_around(root, lambda: run_phases(name, root, phases, repeat))
    medians = {phase: field_medians(results) for phase, results in runs.items()}
    summary = aurora_summary(name, root, wheel, medians, floor)
    if medians.get("jedi") is not None and "cold" in medians:
        summary.update(jedi_summary(medians["cold"], medians["jedi"]))
    if name == "sympy" and summary["ratio_cold_cpu_over_floor_cpu"] is not None:
        summary["targets"] = {
            "cold_cpu_le_10x_floor": summary["ratio_cold_cpu_over_floor_cpu"]
            <= TARGETS["sympy_cold_cpu_over_floor_cpu_max"]
        }
    if name == "django" and set(PHASES) <= set(phases):
        summary["targets"] = {
            "cold_seconds_le_5": medians["cold"]["seconds"] <= TARGETS["django_cold_seconds_max"],
            "refresh_seconds_le_0_5": medians["refresh"]["seconds"] <= TARGETS["django_refresh_seconds_max"],
            "resident_le_12_mib": medians["memory"]["resident_bytes"] <= TARGETS["django_resident_bytes_max"],
        }
    return {"summary": summary, "ast_floor": floor, "median": medians, "runs": runs}


def _brief(phase: str, result: dict[str, Any]) -> str:
    if phase in ("cold", "refresh"):
        return (
            f"{result['seconds']:.2f} s, {result['files']} files, {result['chunks']} chunks, "
            f"{result['edges']} edges, changed {result['changed']}, peak {result['peak_rss_bytes'] / MIB:.0f} MiB"
        )
    if phase == "memory":
        return f"{result['resident_bytes'] / MIB:.2f} MiB resident, {result['bytes_per_chunk']:.0f} B/chunk"
    if phase == "memory-trace":
        return f"tracemalloc {result['tracemalloc_warm_bytes'] / MIB:.2f} MiB"
    if phase == "jedi":
        return f"{result['seconds']:.2f} s, {result['names']} names, {result['failed_files']} files failed"
    return f"{result['seconds']:.2f} s"


# (label, summary key, format, scale) of each row of the table
TABLE_ROWS: list[tuple[str, str, str, float]] = [
    ("files", "files", "d", 1.0),
    ("chunks", "chunks", "d", 1.0),
    ("edges", "edges", "d", 1.0),
    ("cold index, s", "cold_seconds", ".2f", 1.0),
    ("cold, process wall, s", "cold_process_wall_seconds", ".2f", 1.0),
    ("cold, chunks/s", "cold_chunks_per_second", ".0f", 1.0),
    ("cold, peak RSS main, MiB", "cold_peak_rss_bytes", ".1f", MIB),
    ("cold, peak RSS workers, MiB", "cold_workers_peak_rss_bytes", ".1f", MIB),
    ("cold, CPU s (all processes)", "cold_cpu_seconds", ".2f", 1.0),
    ("ast floor, s", "floor_seconds", ".2f", 1.0),
    ("ast floor, CPU s", "floor_cpu_seconds", ".2f", 1.0),
    ("cold / ast floor (wall)", "ratio_cold_over_floor", ".2f", 1.0),
    ("cold / ast floor (CPU)", "ratio_cold_cpu_over_floor_cpu", ".2f", 1.0),
    ("no-change refresh, s", "refresh_seconds", ".3f", 1.0),
    ("refresh, process wall, s", "refresh_process_wall_seconds", ".2f", 1.0),
    ("refresh, peak RSS, MiB", "refresh_peak_rss_bytes", ".1f", MIB),
    ("database, MiB", "db_bytes", ".1f", MIB),
    ("resident (all chunks), MiB", "resident_bytes", ".2f", MIB),
    ("resident bytes/chunk", "resident_bytes_per_chunk", ".0f", 1.0),
    ("tracemalloc of warm(), MiB", "tracemalloc_warm_bytes", ".2f", MIB),
    ("tracemalloc bytes/chunk", "tracemalloc_bytes_per_chunk", ".0f", 1.0),
    ("warm(), s", "warm_seconds", ".2f", 1.0),
    ("jedi get_names, s", "jedi_seconds", ".2f", 1.0),
    ("jedi failed files", "jedi_failed_files", "d", 1.0),
    ("jedi peak RSS, MiB", "jedi_peak_rss_bytes", ".1f", MIB),
    ("parso parse, s", "parso_seconds", ".2f", 1.0),
    ("Aurora/jedi (wall)", "ratio_cold_over_jedi", ".3f", 1.0),
    ("Aurora/jedi (CPU)", "ratio_cold_cpu_over_jedi_cpu", ".3f", 1.0),
    ("Aurora/parso (wall)", "ratio_cold_over_parso", ".3f", 1.0),
    ("Aurora/parso (CPU)", "ratio_cold_cpu_over_parso_cpu", ".3f", 1.0),
]


def print_table(results: dict[str, Any]) -> None:
    names = list(results)
    rows: list[tuple[str, list[str]]] = []
    for label, key, fmt, scale in TABLE_ROWS:
        cells = []
        for name in names:
            value = results[name]["summary"].get(key)
            cells.append("—" if value is None else format(value / scale if scale != 1.0 else value, fmt))
        rows.append((label, cells))
    width = max(len(label) for label, _ in rows)
    cell = max(12, *(len(c) for _, cells in rows for c in cells))
    print(f"{'':<{width}}  " + "  ".join(f"{n:>{cell}}" for n in names))
    for label, cells in rows:
        print(f"{label:<{width}}  " + "  ".join(f"{c:>{cell}}" for c in cells))
    for name in names:
        targets = results[name]["summary"].get("targets", {})
        if targets:
            print(f"{name} targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))


NOTES = [
    "seconds = Workspace.open + refresh() inside the process; process_wall_seconds adds interpreter start, "
    "imports and close.",
    "Aurora parses with one worker process per core; jedi and parso run in one process: see the CPU ratios.",
    "jedi runs with an empty cache folder (a first start); files jedi fails on are counted, not retried.",
    "resident_bytes is the memory tier's own accounting (LruTier.resident_bytes); tracemalloc_warm_bytes "
    "is what tracemalloc sees retained by the warm() call.",
    "MiB = 1024*1024 bytes.",
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=sorted(WHEELS), help="workspace(s) to run")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions; the report gives medians")
    parser.add_argument(
        "--jedi",
        choices=("all", "django", "none"),
        default="all",
        help="where to run the jedi peer (it takes about 2 minutes on sympy)",
    )
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated phases to run (default all: {','.join(PHASES)}); the ast floor always runs",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.child:
        if args.repeat < 1:
            parser.error("--repeat must be at least 1")
        args.phases = tuple(phase.strip() for phase in args.phases.split(",") if phase.strip())
        unknown = [phase for phase in args.phases if phase not in PHASES]
        if unknown or "cold" not in args.phases:
            parser.error(f"--phases: choose from {', '.join(PHASES)}, cold among them (not {', '.join(unknown)})")
        if not importable():
            parser.error("aurora_lsp is not importable: run with the project's virtualenv (.venv/bin/python)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        result = CHILDREN[args.child](args.root, args.db)
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(result, handle)
        return 0

    chosen = args.only or list(DEFAULT_WORKSPACES)
    versions_at_start = versions()
    results: dict[str, Any] = {}
    for name in chosen:
        with_jedi = args.jedi == "all" or (args.jedi == "django" and name == "django")
        results[name] = bench_workspace(name, args.repeat, with_jedi, args.phases)
    report = {
        "benchmark": "index",
        "timestamp": timestamp(),
        "repeat": args.repeat,
        "jedi": args.jedi,
        "phases": list(args.phases),
        # a run of older code from a worktree (PYTHONPATH=…/server) says so here
        "aurora_lsp_from": str(Path(importlib.util.find_spec("aurora_lsp").origin or "").parent),  # type: ignore[union-attr]
        "machine": machine_facts(),
        "versions": versions_at_start,
        "code_changed_during_run": versions() != versions_at_start,
        "targets": TARGETS,
        "notes": NOTES,
        "workspaces": results,
    }
    write_json(report, args.output)
    print_table(results)
    warn_if_code_changed(report)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
