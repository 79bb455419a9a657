"""Scale benchmark: the memory budget on a workspace of 250,000+ chunks, and how cost grows.

    python benchmarks/scale_bench.py                       # everything (about 25 minutes on 2 cores)
    python benchmarks/scale_bench.py --only budget         # the two budget runs on the big workspace
    python benchmarks/scale_bench.py --only growth --sizes 1000,10000,50000
    python benchmarks/scale_bench.py --skip-profile        # no py-spy / tracemalloc pass
    python benchmarks/scale_bench.py --only build          # just build the workspace and count it

The workspace (benchmarks/.cache/scale/workspace/, git-ignored, reused) is built
reproducibly: one subfolder per part, namely the Python standard library of the running
interpreter (every .py file under the folder holding the `json` package, site-packages
left out; its test suites are included unless --stdlib-tests no) and the pinned wheels of
SCALE_WHEELS (harness/workspaces.py's table: `pip download --no-deps`, sha256-checked,
unpacked under benchmarks/.cache/src and hard-linked here, .py files only).

Phases (each server run is the virtualenv's `aurora-lsp` over stdio, driven by
harness/lsp.py's pytest-lsp session, with a fresh database through
`initializationOptions.databasePath` and `recordAccesses: false`):

  budget   the whole workspace, once with the default budget (memoryBudgetMb 100) and once
           with memoryBudgetMb 5. During the cold index `aurora/stats` is sampled every
           --stats-interval s while a workspace/symbol or aurora/context request is sent every
           --index-poll-interval s (someone working while it indexes); after it, in the
           request phase, `aurora/stats` is read after every request (not concurrently, so that
           it never sits in the reader thread's queue in front of a timed request). Every
           sample checks residentBytes <= memoryBudgetBytes. The process tree's RSS is
           sampled from /proc (harness.proc.TreeSampler). Reachability: --sample chunk ids drawn
           from the SQLite database (opened read-only once the index is idle), each asked
           for by workspace/symbol (its plain qualified name; if not in the answer, its bare
           name: found = a symbol of that name in that file at that start line) and by
           aurora/context at (start line, start character) of the chunk (found = focus is the
           id). Then the fixed symbol queries (SCALE_QUERIES) and the developer questions
           (QUESTIONS) for latency. Hit rate = hits / (hits + misses) of the reader's tier.
  growth   the same measurements (a smaller reachability sample, --growth-sample) on nested
           subsets of the workspace of about --sizes chunks: the parts in GROWTH_ORDER, files
           in path order, hard-linked into benchmarks/.cache/scale/subsets/<size>/ until the
           ast count of definitions reaches the size ("full" = the whole workspace; the
           budget run at 100 MB is reused for it when it ran in the same invocation). Growth
           exponents are log-log least-squares slopes; marginal costs per chunk are given per
           interval. A table, benchmarks/results/scale.json and benchmarks/results/scale.png.
  profile  the cold index of the whole workspace again under py-spy (harness/profiles.py's
           pinned py-spy, --subprocesses --threads, raw collapsed stacks) attached to the LSP server,
           summarised per process/thread; and once more in a child process (Workspace.open +
           refresh, the code the server's indexer thread runs) under tracemalloc, with a
           snapshot whenever traced memory reaches a new high (so the last one is at the
           peak), reduced to allocation sites and the Aurora functions that own them.

Memory figures are robust to other work on the machine; timings are not: every run
records the 1-minute load average before and after and the CPU other programs took.
Percentiles are nearest-rank. MiB = 1024*1024 bytes.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import collections
import contextlib
import hashlib
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_lsp.checks import LspSpecificationWarning

from harness.aurora import console_command
from harness.lsp import ServerSpec, Session, ask_context, plain_json_results, relative_path
from harness.machine import loadavg_1min, machine_facts, versions
from harness.paths import CACHE
from harness.paths import RESULTS as RESULTS_DIR
from harness.plots import ensure_matplotlib
from harness.profiles import PY_SPY_VERSION, Recording, py_spy, summarize_by_owner, summarize_snapshot
from harness.report import timestamp, warn_if_code_changed, write_report
from harness.stats import latency_summary, loglog_slope
from harness.workspaces import WHEELS, wheel_workspace

SCALE = CACHE / "scale"
ROOT = SCALE / "workspace"
SUBSETS = SCALE / "subsets"
PROFILES = SCALE / "profiles"
RESULTS = RESULTS_DIR / "scale.json"
PLOT = RESULTS_DIR / "scale.png"
MANIFEST = ".scale-part"
STDLIB = "stdlib"

# Pinned wheels (harness.workspaces.WHEELS) that join the standard library; all pure Python.
SCALE_WHEELS = (
    "django", "sympy", "twisted", "moto", "kubernetes", "networkx", "dask", "nltk", "ansible-core", "pip",
    "setuptools", "sphinx", "ipython", "textual", "bokeh", "celery", "docutils", "botocore", "prompt-toolkit",
    "pylint", "pytest", "hypothesis", "openpyxl", "astroid", "pygments",
)  # fmt: skip
# The order in which parts enter the growth subsets (a subset is a prefix of this order).
GROWTH_ORDER = ("django", STDLIB, "sympy", *[name for name in SCALE_WHEELS if name not in ("django", "sympy")])
DEFAULT_SIZES = "1000,10000,50000,100000,full"
TEST_FOLDERS = {"test", "tests", "idle_test", "testing"}

# What an editor sends across many libraries: exact names, dotted names, abbreviations, a letter.
SCALE_QUERIES = [
    "__init__", "get", "parse", "QuerySet.filter", "getresp", "HttpResponse", "Deferred.addCallback",
    "simplify", "TestCase.setUp", "loads", "visit_Name", "read_file", "Matrix", "connect", "ArgumentParser",
    "nx.shortest", "tokenize", "m", "x", "Session.request",
]  # fmt: skip
# What a developer asks in their own words, over the same libraries.
QUESTIONS = [
    "parse json from a file",
    "http request headers cookies",
    "database query filter lookup",
    "thread lock timeout",
    "matrix determinant inverse",
    "shortest path graph",
    "deferred callback errback",
    "template render context",
    "command line argument parser",
    "read write zip archive",
    "unicode decode error",
    "async event loop run until complete",
    "kubernetes pod list namespace",
    "regular expression compile match",
    "test fixture setup teardown",
    "symbolic integration",
    "socket connect retry",
    "yaml config load",
    "logging handler format",
    "sql compiler as_sql",
]

CONTEXT_BUDGET = 2000
TARGETS = {"peak_tree_rss_bytes_max": 300 * 1024 * 1024, "p95_ms_max": 100.0}
MIB = 1024 * 1024
READY_TIMEOUT_S = 3600.0


# -- the workspace -------------------------------------------------------------------------


def stdlib_folder() -> Path:
    """The folder of the running interpreter's standard library (the `json` package's parent)."""
    return Path(json.__file__).resolve().parent.parent


def _is_test(relative: str) -> bool:
    parts = relative.split("/")
    return any(part in TEST_FOLDERS for part in parts[:-1]) or parts[-1].startswith("test_")


def stdlib_files(include_tests: bool) -> list[str]:
    source = stdlib_folder()
    found = []
    for path in source.rglob("*.py"):
        relative = path.relative_to(source).as_posix()
        parts = relative.split("/")
        if "site-packages" in parts or "dist-packages" in parts or "__pycache__" in parts:
            continue
        if not include_tests and _is_test(relative):
            continue
        if path.is_file():
            found.append(relative)
    return sorted(found)


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _materialize(folder: Path, identity: dict[str, Any], files: list[tuple[Path, str]], copy: bool) -> None:
    """`folder` holding `files` (source, relative target), rebuilt unless its marker says it already does."""
    marker = folder / MANIFEST
    wanted = json.dumps(identity, sort_keys=True)
    if marker.exists() and marker.read_text(encoding="utf-8") == wanted:
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    for source, relative in files:
        target = partial / relative
        if copy:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        else:
            _link_or_copy(source, target)
    (partial / MANIFEST).write_text(wanted, encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)


def stdlib_part(include_tests: bool) -> dict[str, Any]:
    """The standard library, copied (file times kept) into its part folder."""
    source = stdlib_folder()
    relatives = stdlib_files(include_tests)
    listing = [f"{r}\t{(source / r).stat().st_size}\t{(source / r).stat().st_mtime_ns}" for r in relatives]
    folder_name = f"{STDLIB}-{platform.python_version()}"
    identity = {"part": STDLIB, "source": str(source), "tests": include_tests, "listing": _digest(listing)}
    print(f"[workspace] {folder_name}: {len(relatives)} files from {source}", file=sys.stderr, flush=True)
    _materialize(ROOT / folder_name, identity, [(source / r, r) for r in relatives], copy=True)
    return {
        "folder": folder_name,
        "source": str(source),
        "python": platform.python_version(),
        "tests_included": include_tests,
        "py_files": len(relatives),
        "test_files": sum(1 for r in relatives if _is_test(r)),
        "listing_sha256": identity["listing"],
    }


def wheel_part(name: str) -> dict[str, Any]:
    """A pinned wheel's .py files, hard-linked from its unpacked folder into its part folder."""
    spec = WHEELS[name]
    unpacked, wheel = wheel_workspace(name)
    files = sorted(p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*.py") if p.is_file())
    folder_name = wheel.name.removesuffix(".whl")
    identity = {"part": name, "wheel": wheel.name, "sha256": spec["sha256"], "files": len(files)}
    _materialize(ROOT / folder_name, identity, [(unpacked / r, r) for r in files], copy=False)
    return {
        "folder": folder_name,
        "requirement": spec["requirement"],
        "wheel": wheel.name,
        "sha256": spec["sha256"],
        "py_files": len(files),
        "test_files": sum(1 for r in files if _is_test(r)),
    }


def build_workspace(include_stdlib_tests: bool) -> dict[str, Any]:
    """The big workspace, one subfolder per part; returns what each part is."""
    ROOT.mkdir(parents=True, exist_ok=True)
    parts: dict[str, Any] = {STDLIB: stdlib_part(include_stdlib_tests)}
    for name in SCALE_WHEELS:
        parts[name] = wheel_part(name)
    wanted = {part["folder"] for part in parts.values()}
    for stray in ROOT.iterdir():  # parts of an earlier configuration
        if stray.is_dir() and stray.name not in wanted:
            shutil.rmtree(stray)
    return parts


def _definitions(data: bytes) -> int | None:
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return None
    return sum(isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) for node in ast.walk(tree))


def file_counts(parts: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Workspace-relative path -> (bytes, ast definitions) of every file Aurora's scan selects (cached)."""
    from harness.aurora import scan_workspace

    scan = scan_workspace(ROOT)
    key = _digest([f"{f.path}\t{f.size}\t{f.mtime_ns}" for f in scan.files])
    cache = SCALE / "file_counts.json"
    if cache.exists():
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            return {path: (size, count) for path, (size, count) in cached["files"].items()}
    print(f"[workspace] counting definitions in {len(scan.files)} files with ast …", file=sys.stderr, flush=True)
    counts: dict[str, tuple[int, int]] = {}
    for scanned in scan.files:
        data = Path(scanned.absolute).read_bytes()
        counts[scanned.path] = (scanned.size, _definitions(data) or 0)
    cache.write_text(json.dumps({"key": key, "files": counts}), encoding="utf-8")
    return counts


def subset_files(parts: dict[str, Any], counts: dict[str, tuple[int, int]], target: int) -> list[str]:
    """The prefix (parts in GROWTH_ORDER, files in path order) whose ast definitions first reach `target`."""
    by_part: dict[str, list[str]] = collections.defaultdict(list)
    for path in sorted(counts):
        by_part[path.partition("/")[0]].append(path)
    chosen: list[str] = []
    total = 0
    for name in GROWTH_ORDER:
        for path in by_part.get(parts[name]["folder"], []):
            if total >= target:
                return chosen
            chosen.append(path)
            total += counts[path][1]
    return chosen


def build_subset(label: str, paths: list[str]) -> Path:
    folder = SUBSETS / label
    identity = {"subset": label, "files": _digest(paths)}
    _materialize(folder, identity, [(ROOT / p, p) for p in paths], copy=False)
    return folder


# -- one server run ------------------------------------------------------------------------


@dataclass
class RunConfig:
    stats_interval: float
    index_poll_interval: float
    rss_interval: float
    symbol_rounds: int
    query_rounds: int
    seed: int
    budget_tokens: int


@dataclass(frozen=True)
class ChunkRow:
    id: str
    path: str
    qualname: str  # without the #n of repeated definitions
    name: str
    start_line: int
    start_char: int


def read_chunks(db: Path) -> list[ChunkRow]:
    """Every chunk of the index, read from SQLite opened read-only."""
    from harness.aurora import plain_qualname, split_id

    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        rows = connection.execute("SELECT id, path, name, start_line, start_char FROM chunks ORDER BY id").fetchall()
    return [ChunkRow(cid, path, plain_qualname(split_id(cid)[1]), name, sl, sc) for cid, path, name, sl, sc in rows]


class BudgetWatch:
    """Every aurora/stats sample: residentBytes against memoryBudgetBytes, per phase."""

    def __init__(self) -> None:
        self.phases: dict[str, dict[str, Any]] = {}
        self.violations: list[dict[str, Any]] = []
        self.budget_bytes: int | None = None

    def add(self, stats: dict[str, Any], phase: str, at: float) -> None:
        resident, budget = int(stats["residentBytes"]), int(stats["memoryBudgetBytes"])
        self.budget_bytes = budget
        figures = self.phases.setdefault(phase, {"samples": 0, "max_resident_bytes": 0, "max_resident_chunks": 0})
        figures["samples"] += 1
        figures["max_resident_bytes"] = max(figures["max_resident_bytes"], resident)
        figures["max_resident_chunks"] = max(figures["max_resident_chunks"], int(stats["residentChunks"]))
        if resident > budget:
            self.violations.append({"phase": phase, "at_seconds": round(at, 3), "resident_bytes": resident,
                                    "budget_bytes": budget})  # fmt: skip

    def summary(self) -> dict[str, Any]:
        peak = max((p["max_resident_bytes"] for p in self.phases.values()), default=0)
        return {
            "budget_bytes": self.budget_bytes,
            "max_resident_bytes": peak,
            "max_share_of_budget": peak / self.budget_bytes if self.budget_bytes else None,
            "samples": sum(p["samples"] for p in self.phases.values()),
            "phases": self.phases,
            "violations": len(self.violations),
            "violation_examples": self.violations[:10],
            "never_exceeded": not self.violations,
        }


def context_at(root: Path, chunk: ChunkRow, budget: int) -> dict[str, Any]:
    return {
        "textDocument": {"uri": (root / chunk.path).as_uri()},
        "position": {"line": chunk.start_line, "character": chunk.start_char},
        "tokenBudget": budget,
    }


def symbol_found(symbols: list[Any], root: Path, chunk: ChunkRow) -> bool:
    for symbol in symbols:
        if symbol.name != chunk.name or symbol.location.range.start.line != chunk.start_line:
            continue
        if relative_path(symbol.location.uri, root) == chunk.path:
            return True
    return False


def tree_rss_bytes(session: Session) -> int:
    assert session.sampler is not None
    return session.sampler.rss_now_bytes()


class IndexPhase:
    """From `initialize` until the index is idle: stats sampled, requests sent meanwhile."""

    def __init__(self, session: Session, cfg: RunConfig, watch: BudgetWatch) -> None:
        self.session = session
        self.cfg = cfg
        self.watch = watch
        self.ready = asyncio.Event()
        self.timeline: list[dict[str, Any]] = []
        self.result: dict[str, Any] = {}

    async def run(self) -> dict[str, Any]:
        await asyncio.gather(self.sample(), self.poll())
        self.result["timeline"] = self.timeline
        return self.result

    async def sample(self) -> None:
        """aurora/stats every --stats-interval s (budget checked, timeline kept) until the index is idle."""
        session, result = self.session, self.result
        deadline = time.perf_counter() + READY_TIMEOUT_S
        while True:
            stats = await session.stats()
            at = session.since_initialize()
            tree = await asyncio.to_thread(tree_rss_bytes, session)
            self.watch.add(stats, "index", at)
            indexing = stats.get("indexing") or {}
            self.timeline.append({"t": round(at, 3), "state": indexing.get("state"), "done": indexing.get("done"),
                                  "total": indexing.get("total"), "chunks": stats["chunks"],
                                  "resident_bytes": stats["residentBytes"], "resident_chunks": stats["residentChunks"],
                                  "server_rss_bytes": stats["processRssBytes"], "tree_rss_bytes": tree})  # fmt: skip
            total = indexing.get("total") or 0
            if "chunked_at_seconds" not in result and total and indexing.get("done") == total:
                result["chunked_at_seconds"] = at
            if indexing.get("state") == "idle" and indexing.get("lastRunSeconds") is not None and stats["chunks"]:
                result["ready_seconds"] = at
                result["stats_when_ready"] = stats
                self.ready.set()
                return
            if time.perf_counter() > deadline:
                raise TimeoutError(f"still indexing after {READY_TIMEOUT_S} s: {indexing}")
            await asyncio.sleep(self.cfg.stats_interval)

    async def poll(self) -> None:
        """A workspace/symbol or aurora/context request every --index-poll-interval s while it indexes."""
        cfg = self.cfg
        symbol_s: list[float] = []
        context_s: list[float] = []
        errors: list[str] = []
        index = 0
        while not self.ready.is_set():
            if index % 2 == 0:
                seconds, _ = await self.session.symbols(SCALE_QUERIES[(index // 2) % len(SCALE_QUERIES)])
                symbol_s.append(seconds)
            else:
                params = {"query": QUESTIONS[(index // 2) % len(QUESTIONS)], "tokenBudget": cfg.budget_tokens}
                _, seconds, error = await ask_context(self.session, params)
                context_s.append(seconds)
                if error:
                    errors.append(error)
            index += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.ready.wait(), cfg.index_poll_interval)
        self.result["during_index"] = {"symbol": latency_summary(symbol_s),
                                       "context_query": latency_summary(context_s),
                                       "errors": len(errors), "error_examples": errors[:3]}  # fmt: skip


class RequestPhase:
    """Requests once the index is idle, aurora/stats read (and the budget checked) after each one."""

    def __init__(self, session: Session, root: Path, cfg: RunConfig, watch: BudgetWatch) -> None:
        self.session = session
        self.root = root
        self.cfg = cfg
        self.watch = watch

    async def checked(self) -> None:
        self.watch.add(await self.session.stats(), "requests", self.session.since_initialize())

    async def ask(self, question: str) -> tuple[Any, float, str | None]:
        return await ask_context(self.session, {"query": question, "tokenBudget": self.cfg.budget_tokens})

    async def warm_up(self) -> dict[str, Any]:
        """Not measured: one round of the symbol queries, a few questions; the stats after them."""
        for query in SCALE_QUERIES:
            await self.session.symbols(query)
        for question in QUESTIONS[:5]:
            await self.ask(question)
        await self.checked()
        return await self.session.stats()

    async def symbol_reach(
        self, chunk: ChunkRow, misses: list[dict[str, Any]], counts: dict[str, Any]
    ) -> tuple[float, str | None]:
        """(seconds of the qualified-name query, how the chunk was found: "qualname", "name" or None)."""
        seconds, symbols = await self.session.symbols(chunk.qualname)
        await self.checked()
        if symbol_found(symbols, self.root, chunk):
            return seconds, "qualname"
        _, by_bare = await self.session.symbols(chunk.name) if chunk.name != chunk.qualname else (0.0, [])
        await self.checked()
        if symbol_found(by_bare, self.root, chunk):
            return seconds, "name"
        misses.append({"id": chunk.id, "answers": len(symbols), "answers_by_name": len(by_bare),
                       "same_qualname": counts["qualname"][chunk.qualname],
                       "same_name": counts["name"][chunk.name]})  # fmt: skip
        return seconds, None

    async def reachability(
        self, sample: list[ChunkRow], counts: dict[str, Any]
    ) -> tuple[dict[str, Any], list[float], list[float]]:
        """Each sampled chunk asked for by workspace/symbol and by aurora/context at its start:
        (what was found, seconds of the qualified-name queries, seconds of the context requests)."""
        symbol_exact: list[float] = []
        focus_s: list[float] = []
        found: collections.Counter[str | None] = collections.Counter()
        symbol_misses: list[dict[str, Any]] = []
        focus_misses: list[dict[str, Any]] = []
        for chunk in sample:
            seconds, how = await self.symbol_reach(chunk, symbol_misses, counts)
            symbol_exact.append(seconds)
            found[how] += 1
            answer, seconds, error = await ask_context(self.session, context_at(self.root, chunk,
                                                                                self.cfg.budget_tokens))  # fmt: skip
            focus_s.append(seconds)
            await self.checked()
            focus = answer.get("focus") if isinstance(answer, dict) else None
            if focus == chunk.id:
                found["focus"] += 1
            else:
                focus_misses.append({"id": chunk.id, "focus": focus, "error": error,
                                     "line": chunk.start_line, "character": chunk.start_char})  # fmt: skip
        found_figures = {
            "sampled": len(sample),
            "seed": self.cfg.seed,
            "symbol_found": found["qualname"] + found["name"],
            "symbol_found_by_qualname": found["qualname"],
            "symbol_found_by_name_only": found["name"],
            "symbol_missed": len(symbol_misses),
            "symbol_misses": symbol_misses[:50],
            "focus_found": found["focus"],
            "focus_missed": len(focus_misses),
            "focus_misses": focus_misses[:50],
        }
        return found_figures, symbol_exact, focus_s

    async def fixed_symbols(self) -> tuple[list[float], dict[str, int]]:
        """--symbol-rounds rounds of SCALE_QUERIES: (seconds, each query's answer size)."""
        fixed: list[float] = []
        answers: dict[str, int] = {}
        for _ in range(self.cfg.symbol_rounds):
            for query in SCALE_QUERIES:
                seconds, symbols = await self.session.symbols(query)
                fixed.append(seconds)
                answers[query] = len(symbols)
                await self.checked()
        return fixed, answers

    async def questions(self) -> dict[str, Any]:
        """--query-rounds rounds of QUESTIONS: seconds, errors, answers over the budget."""
        query_s: list[float] = []
        errors: list[str] = []
        over_budget = 0
        for _ in range(self.cfg.query_rounds):
            for question in QUESTIONS:
                answer, seconds, error = await self.ask(question)
                query_s.append(seconds)
                await self.checked()
                if error:
                    errors.append(error)
                elif isinstance(answer, dict) and answer.get("usedTokens", 0) > self.cfg.budget_tokens:
                    over_budget += 1
        return {"seconds": query_s, "errors": errors, "over_budget": over_budget}


async def request_phase(session: Session, root: Path, db: Path, cfg: RunConfig, watch: BudgetWatch,
                        reach: int) -> dict[str, Any]:  # fmt: skip
    """Reachability of sampled chunks, then the fixed symbol queries and questions; stats after each request."""
    chunks = read_chunks(db)
    counts = {"qualname": collections.Counter(c.qualname for c in chunks),
              "name": collections.Counter(c.name for c in chunks)}  # fmt: skip
    sample = random.Random(cfg.seed).sample(chunks, min(reach, len(chunks)))
    del chunks
    phase = RequestPhase(session, root, cfg, watch)
    stats_after_warmup = await phase.warm_up()
    reachability, symbol_exact, focus_s = await phase.reachability(sample, counts)
    fixed, answers = await phase.fixed_symbols()
    questions = await phase.questions()
    return {
        "stats_after_warmup": stats_after_warmup,
        "reachability": reachability,
        "latency": {
            "symbol_fixed": latency_summary(fixed),
            "symbol_exact_qualname": latency_summary(symbol_exact),
            "context_focus": latency_summary(focus_s),
            "context_query": latency_summary(questions["seconds"]),
        },
        "symbol_answer_counts": answers,
        "context_query_errors": len(questions["errors"]),
        "context_query_error_examples": questions["errors"][:3],
        "context_used_tokens_over_budget": questions["over_budget"],
    }


async def server_run(root: Path, label: str, budget_mb: float, cfg: RunConfig, reach: int, *, requests: bool = True,
                     py_spy_path: Path | None = None, py_spy_rate: int = 100) -> dict[str, Any]:  # fmt: skip
    """One fresh server on `root` with this memory budget: the index, then (with `requests`) the requests."""
    state = Path(tempfile.mkdtemp(prefix=f"aurora-scale-{label}-"))
    db = state / "index.sqlite3"
    options = {"databasePath": str(db), "recordAccesses": False, "memoryBudgetMb": budget_mb}
    spec = ServerSpec(name="aurora", command=console_command(), has_index=True, options=lambda _state: options)
    session = Session(spec, root, state, label, sample_interval=cfg.rss_interval)
    watch = BudgetWatch()
    run: dict[str, Any] = {"label": label, "root": str(root), "initialization_options": options}
    profiler: Recording | None = None
    try:
        await session.start()
        plain_json_results(session)
        if py_spy_path is not None:
            PROFILES.mkdir(parents=True, exist_ok=True)
            profiler = Recording(py_spy_path, session.server_pid, PROFILES / f"{label}.txt", py_spy_rate)
            await asyncio.sleep(1.0)  # py-spy attaches
        await session.initialize()
        run.update(await IndexPhase(session, cfg, watch).run())
        if profiler is not None:
            run["py_spy_stderr"] = profiler.stop()
            run["py_spy_output"] = str(profiler.target)
            profiler = None
        print(f"[{label}] {run['stats_when_ready']['chunks']} chunks, {run['stats_when_ready']['files']} files "
              f"indexed in {run['ready_seconds']:.1f} s", file=sys.stderr, flush=True)  # fmt: skip
        if requests:
            run.update(await request_phase(session, root, db, cfg, watch, reach))
        run["stats_at_end"] = await session.stats()
    finally:
        if profiler is not None:
            profiler.stop()
        if session.client is not None:
            run["session"] = await session.close()
        run["database_bytes_after_close"] = sum(
            p.stat().st_size for p in state.glob("index.sqlite3*") if p.is_file()
        )  # fmt: skip
        shutil.rmtree(state, ignore_errors=True)
    run["budget"] = watch.summary()
    return run


def run_row(run: dict[str, Any], source_bytes: int | None = None) -> dict[str, Any]:
    """The figures of one run that the tables, the growth analysis and the plot use."""
    memory = run["session"]["memory"]
    end = run["stats_at_end"]
    ready = run["stats_when_ready"]
    processes = memory["processes"]
    server_pid = next(iter(processes), None)
    workers_hwm = sum(p["hwm_kb"] for pid, p in processes.items() if pid != server_pid) * 1024
    hits, misses = end["hits"], end["misses"]
    latency = run.get("latency", {})
    reach = run.get("reachability", {})
    return {
        "label": run["label"],
        "budget_mb": run["initialization_options"]["memoryBudgetMb"],
        "chunks": ready["chunks"],
        "files": ready["files"],
        "source_bytes": source_bytes,
        "index_seconds": run["ready_seconds"],
        "index_server_seconds": ready["indexing"].get("lastRunSeconds"),
        "chunking_seconds": run.get("chunked_at_seconds"),
        "after_chunking_seconds": run["ready_seconds"] - run["chunked_at_seconds"]
        if run.get("chunked_at_seconds") is not None
        else None,
        "peak_tree_rss_bytes": memory["peak_tree_rss_bytes"],
        "peak_tree_pss_bytes": memory["peak_tree_pss_bytes"],
        "server_hwm_bytes": memory["server_process_hwm_bytes"],
        "workers_hwm_sum_bytes": workers_hwm,
        "server_rss_at_end_bytes": end["processRssBytes"],
        "max_resident_bytes": run["budget"]["max_resident_bytes"],
        "resident_bytes_at_end": end["residentBytes"],
        "resident_chunks_at_end": end["residentChunks"],
        "memory_budget_bytes": end["memoryBudgetBytes"],
        "budget_never_exceeded": run["budget"]["never_exceeded"],
        "budget_samples": run["budget"]["samples"],
        "evictions": end["evictions"],
        "hits": hits,
        "misses": misses,
        "hit_rate": hits / (hits + misses) if hits + misses else None,
        "db_bytes": end["database"]["bytes"],
        "db_bytes_after_close": run["database_bytes_after_close"],
        "reach_sampled": reach.get("sampled"),
        "reach_symbol_found": reach.get("symbol_found"),
        "reach_focus_found": reach.get("focus_found"),
        **{
            f"{kind}_{p}_ms": latency.get(kind, {}).get(f"{p}_ms")
            for kind in ("symbol_fixed", "symbol_exact_qualname", "context_focus", "context_query")
            for p in ("p50", "p95")
        },  # fmt: skip
        "during_index_symbol_p95_ms": run.get("during_index", {}).get("symbol", {}).get("p95_ms"),
        "during_index_context_p95_ms": run.get("during_index", {}).get("context_query", {}).get("p95_ms"),
        "loadavg_1min_before": run["session"].get("loadavg_1min_before"),
        "loadavg_1min_after": run["session"].get("loadavg_1min_after"),
        "other_cpu_seconds": run["session"].get("other_cpu_seconds"),
        "steal_cpu_seconds": run["session"].get("steal_cpu_seconds"),
        "server_cpu_seconds": run["session"].get("server_cpu_seconds"),
    }


# -- growth analysis -----------------------------------------------------------------------

GROWTH_METRICS = (
    "index_seconds", "chunking_seconds", "after_chunking_seconds", "server_cpu_seconds", "peak_tree_rss_bytes",
    "server_hwm_bytes", "workers_hwm_sum_bytes", "db_bytes_after_close", "max_resident_bytes",
    "symbol_fixed_p95_ms", "symbol_exact_qualname_p95_ms", "context_focus_p95_ms", "context_query_p95_ms",
)  # fmt: skip


def growth_analysis(rows: list[dict[str, Any]]) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: r["chunks"])
    chunks = [r["chunks"] for r in rows]
    source = [r.get("source_bytes") or 0 for r in rows]
    found: dict[str, Any] = {}
    for key in GROWTH_METRICS:
        values = [r.get(key) for r in rows]
        if any(v is None for v in values):
            continue
        local = []
        marginal = []
        for index in range(1, len(rows)):
            x1, y1, x2, y2 = chunks[index - 1], values[index - 1], chunks[index], values[index]
            local.append(loglog_slope([x1, x2], [y1, y2]))
            marginal.append((y2 - y1) / (x2 - x1) if x2 != x1 else None)
        found[key] = {
            "slope_all": loglog_slope(chunks, values),
            "slope_from_10k": loglog_slope(
                [c for c in chunks if c >= 9000], [v for c, v in zip(chunks, values, strict=True) if c >= 9000]
            ),  # fmt: skip
            # the parts differ in bytes per chunk (docstrings, generated code): cost against source size too
            "slope_vs_source_bytes": loglog_slope(source, values),
            "local_slopes": local,
            "marginal_per_chunk": marginal,
            "intervals": [f"{a}-{b}" for a, b in zip(chunks, chunks[1:], strict=False)],
        }
    return found


# -- profiles ------------------------------------------------------------------------------


class TracemallocMonitor(threading.Thread):
    """Every 0.25 s: traced memory and RSS into a timeline, and a snapshot summary at each new high."""

    def __init__(self, rss_bytes: Callable[[], int]) -> None:
        super().__init__(name="tracemalloc-monitor", daemon=True)
        self.rss_bytes = rss_bytes
        self.phase: dict[str, Any] = {"name": "open", "done": 0, "total": 0}
        self.timeline: list[dict[str, Any]] = []
        self.best: dict[str, Any] = {"traced": 0, "summary": None, "peak": 0}
        self.halt = threading.Event()
        self.started = time.perf_counter()
        self.peak_rss: dict[str, Any] = {"bytes": 0, "at": 0.0, "phase": None}

    def progress(self, done: int, total: int) -> None:
        """Workspace.refresh's progress callback: which phase of the index is running."""
        self.phase.update(name="chunking" if done < total else "writing and resolving", done=done, total=total)

    def run(self) -> None:
        last_snapshot = 0
        while not self.halt.wait(0.25):
            current, _ = tracemalloc.get_traced_memory()
            rss = self.rss_bytes()
            at = time.perf_counter() - self.started
            phase = self.phase
            label = phase["name"] if phase["name"] != "chunking" else f"chunking {phase['done']}/{phase['total']}"
            self.timeline.append({"t": round(at, 2), "traced_bytes": current, "rss_bytes": rss, "phase": label})
            if rss > self.peak_rss["bytes"]:
                self.peak_rss.update(bytes=rss, at=at, phase=label)
            if current > max(last_snapshot * 1.2, last_snapshot + 16 * MIB):
                self.best["peak"] = max(self.best["peak"], tracemalloc.get_traced_memory()[1])
                snapshot = tracemalloc.take_snapshot()
                summary = summarize_snapshot(snapshot)
                del snapshot
                tracemalloc.reset_peak()  # what the summary itself allocated is not Aurora's
                summary.update(at_seconds=round(at, 2), phase=label, traced_bytes_when_taken=current, rss_bytes=rss)
                self.best["summary"] = summary
                last_snapshot = current

    def stop(self) -> None:
        self.halt.set()
        self.join()


def child_tracemalloc(root: Path, db: str, out: str, frames: int) -> None:
    """Workspace.open + refresh (the server's indexer code) under tracemalloc; a snapshot at each new high."""
    from harness.aurora import Settings, Workspace, process_rss_bytes

    tracemalloc.start(frames)
    monitor = TracemallocMonitor(process_rss_bytes)
    monitor.start()
    with Workspace.open(root, Settings(database_path=db, record_accesses=False)) as workspace:
        report = workspace.refresh(monitor.progress)
        monitor.phase["name"] = "done"
        seconds = time.perf_counter() - monitor.started
    monitor.stop()
    traced_peak = max(monitor.best["peak"], tracemalloc.get_traced_memory()[1])
    timeline = monitor.timeline
    result = {
        "chunks": report.chunks,
        "files": report.files,
        "edges": report.edges,
        "seconds_under_tracemalloc": seconds,
        "frames": frames,
        "traced_peak_bytes": traced_peak,
        "peak_rss_sampled": monitor.peak_rss,
        "peak_snapshot": monitor.best["summary"],
        "timeline": timeline[:: max(1, len(timeline) // 400)],
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")


def run_tracemalloc(root: Path, frames: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="aurora-scale-tracemalloc-"))
    out = folder / "result.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "tracemalloc", "--root", str(root),
               "--db", str(folder / "index.sqlite3"), "--out", str(out), "--frames", str(frames)]  # fmt: skip
    load_before = loadavg_1min()
    started = time.perf_counter()
    try:
        process = subprocess.Popen(command)
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return {"error": f"tracemalloc child failed (exit {os.waitstatus_to_exitcode(status)})"}
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result["process_wall_seconds"] = time.perf_counter() - started
    result["process_tree_peak_rss_bytes"] = usage.ru_maxrss * 1024  # the largest single descendant, per wait4
    result["loadavg_1min_before"] = load_before
    result["loadavg_1min_after"] = loadavg_1min()
    return result


# -- output --------------------------------------------------------------------------------


def _fmt(value: Any, fmt: str, scale: float = 1.0) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return format(value if scale == 1.0 else value / scale, fmt)


TABLE_ROWS = [
    ("chunks", "chunks", "d", 1.0),
    ("files", "files", "d", 1.0),
    ("source, MiB", "source_bytes", ".1f", MIB),
    ("budget, MiB", "memory_budget_bytes", ".0f", MIB),
    ("index (initialize → idle), s", "index_seconds", ".1f", 1.0),
    ("  chunking (files parsed), s", "chunking_seconds", ".1f", 1.0),
    ("  after the last file, s", "after_chunking_seconds", ".1f", 1.0),
    ("server CPU (tree), s", "server_cpu_seconds", ".1f", 1.0),
    ("peak RSS, process tree, MiB", "peak_tree_rss_bytes", ".1f", MIB),
    ("peak PSS, process tree, MiB", "peak_tree_pss_bytes", ".1f", MIB),
    ("peak RSS, server (VmHWM), MiB", "server_hwm_bytes", ".1f", MIB),
    ("peak RSS, workers (sum HWM), MiB", "workers_hwm_sum_bytes", ".1f", MIB),
    ("server RSS at end, MiB", "server_rss_at_end_bytes", ".1f", MIB),
    ("max residentBytes, MiB", "max_resident_bytes", ".2f", MIB),
    ("resident chunks at end", "resident_chunks_at_end", "d", 1.0),
    ("budget never exceeded", "budget_never_exceeded", "", 1.0),
    ("stats samples checked", "budget_samples", "d", 1.0),
    ("evictions", "evictions", "d", 1.0),
    ("hit rate", "hit_rate", ".3f", 1.0),
    ("database, MiB (after close)", "db_bytes_after_close", ".1f", MIB),
    ("reachable by symbol", "reach_symbol_found", "d", 1.0),
    ("reachable by context focus", "reach_focus_found", "d", 1.0),
    ("of sampled chunks", "reach_sampled", "d", 1.0),
    ("symbol fixed p50 / ms", "symbol_fixed_p50_ms", ".1f", 1.0),
    ("symbol fixed p95 / ms", "symbol_fixed_p95_ms", ".1f", 1.0),
    ("symbol exact qualname p50 / ms", "symbol_exact_qualname_p50_ms", ".1f", 1.0),
    ("symbol exact qualname p95 / ms", "symbol_exact_qualname_p95_ms", ".1f", 1.0),
    ("context focus p50 / ms", "context_focus_p50_ms", ".1f", 1.0),
    ("context focus p95 / ms", "context_focus_p95_ms", ".1f", 1.0),
    ("context query p50 / ms", "context_query_p50_ms", ".1f", 1.0),
    ("context query p95 / ms", "context_query_p95_ms", ".1f", 1.0),
    ("symbol p95 during index / ms", "during_index_symbol_p95_ms", ".1f", 1.0),
    ("context p95 during index / ms", "during_index_context_p95_ms", ".1f", 1.0),
    ("load avg 1 min before", "loadavg_1min_before", ".2f", 1.0),
    ("load avg 1 min after", "loadavg_1min_after", ".2f", 1.0),
    ("other programs' CPU, s", "other_cpu_seconds", ".1f", 1.0),
]


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    print(f"\n{title}")
    width = max(len(label) for label, *_ in TABLE_ROWS)
    cell = max(11, *(len(r["label"]) for r in rows))
    print(f"{'':<{width}}  " + "  ".join(f"{r['label']:>{cell}}" for r in rows))
    for label, key, fmt, scale in TABLE_ROWS:
        cells = [_fmt(r.get(key), fmt, scale) for r in rows]
        if all(c == "—" for c in cells):
            continue
        print(f"{label:<{width}}  " + "  ".join(f"{c:>{cell}}" for c in cells))


def print_growth(analysis: dict[str, Any]) -> None:
    if not analysis:
        return
    print("\ngrowth: log-log slope (1 = linear) in chunks overall, from 10K on, in source bytes; per interval")
    for key, figures in analysis.items():
        local = " ".join("—" if s is None else f"{s:.2f}" for s in figures["local_slopes"])
        overall = figures["slope_all"]
        from_10k = figures["slope_from_10k"]
        by_bytes = figures.get("slope_vs_source_bytes")
        slopes = " ".join(f"{_fmt(v, '.2f'):>6}" for v in (overall, from_10k, by_bytes))
        print(f"  {key:<30} {slopes}   [{local}]")


def print_profile(profile: dict[str, Any]) -> None:
    spy = profile.get("py_spy")
    if spy and not spy.get("missing"):
        print(f"\npy-spy, cold index of the whole workspace: {spy['samples']} samples ({spy['path']})")
        for owner, entry in spy["owners"].items():
            print(f"  {owner}: {entry['samples']} samples")
            for frame, count in entry["aurora_inclusive"][:8]:
                print(f"    {count:7d} incl  {frame}")
            for frame, count in entry["self"][:6]:
                print(f"    {count:7d} self  {frame}")
    trace = profile.get("tracemalloc")
    if trace and trace.get("peak_snapshot"):
        snap = trace["peak_snapshot"]
        print(f"\ntracemalloc, cold index in process: traced peak {trace['traced_peak_bytes'] / MIB:.1f} MiB, "
              f"RSS peak {trace['peak_rss_sampled']['bytes'] / MIB:.1f} MiB ({trace['peak_rss_sampled']['phase']}); "
              f"largest snapshot at {snap['at_seconds']} s ({snap['phase']}), "
              f"{snap['traced_bytes'] / MIB:.1f} MiB traced")  # fmt: skip
        for entry in snap["aurora_functions"][:10]:
            print(f"    {entry['bytes'] / MIB:8.1f} MiB  {entry['blocks']:9d} blocks  {entry['function']}")
        for entry in snap["sites"][:8]:
            print(f"    {entry['bytes'] / MIB:8.1f} MiB  {entry['blocks']:9d} blocks  {entry['site']}")


def _series(axis: Any, rows: list[dict[str, Any]], key: str, label: str, scale: float, marker: str) -> None:
    xs = [r["chunks"] for r in rows]
    ys = [r.get(key) for r in rows]
    points = [(x, y / scale) for x, y in zip(xs, ys, strict=True) if y]
    if points:
        axis.plot([p[0] for p in points], [p[1] for p in points], marker=marker, label=label)


def _reference(axis: Any, rows: list[dict[str, Any]], key: str, scale: float, what: str) -> None:
    """A line through the first point that grows linearly in chunks."""
    xs = [r["chunks"] for r in rows]
    ys = [r.get(key) for r in rows]
    if ys[0]:
        first = ys[0] / scale
        axis.plot([xs[0], xs[-1]], [first, first * xs[-1] / xs[0]], linestyle=":", color="grey",
                  label=f"linear in chunks (from the first {what})")  # fmt: skip


def _draw_panels(left: Any, middle: Any, right: Any, rows: list[dict[str, Any]]) -> None:
    _series(left, rows, "index_seconds", "cold index (initialize → idle)", 1.0, "o")
    _series(left, rows, "chunking_seconds", "  until every file is parsed", 1.0, "s")
    _series(left, rows, "after_chunking_seconds", "  after the last file (writes, edges)", 1.0, "^")
    _reference(left, rows, "index_seconds", 1.0, "index time")
    left.set_title("cold index, seconds")
    _series(middle, rows, "symbol_fixed_p95_ms", "workspace/symbol, fixed queries", 1.0, "s")
    _series(middle, rows, "symbol_exact_qualname_p95_ms", "workspace/symbol, exact qualified names", 1.0, "v")
    _series(middle, rows, "context_focus_p95_ms", "aurora/context, focus", 1.0, "^")
    _series(middle, rows, "context_query_p95_ms", "aurora/context, query", 1.0, "D")
    middle.axhline(TARGETS["p95_ms_max"], color="red", linewidth=0.8, linestyle="--", label="100 ms target")
    middle.set_title("warm request latency p95, ms")
    _series(right, rows, "peak_tree_rss_bytes", "peak RSS, process tree", MIB, "o")
    _series(right, rows, "server_hwm_bytes", "peak RSS, server process", MIB, "s")
    _series(right, rows, "db_bytes_after_close", "database file", MIB, "^")
    _series(right, rows, "max_resident_bytes", "max residentBytes (memory tier)", MIB, "D")
    _reference(right, rows, "db_bytes_after_close", MIB, "database size")
    right.axhline(300, color="red", linewidth=0.8, linestyle="--", label="300 MiB target (tree RSS)")
    right.set_title("memory and disk, MiB")


def draw_plot(rows: list[dict[str, Any]], path: Path, machine: dict[str, Any]) -> bool:
    if len(rows) < 2 or not ensure_matplotlib():
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(rows, key=lambda r: r["chunks"])
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 5.2))
    _draw_panels(left, middle, right, rows)
    for axis in (left, middle, right):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("chunks in the workspace")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(f"Aurora at scale ({machine.get('cpu_count')} cores, Python {machine.get('python')}; "
                    "default budget 100 MB, fresh database, recordAccesses false)", fontsize=10)  # fmt: skip
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


# -- main ----------------------------------------------------------------------------------


def carry_over(report: dict[str, Any], previous_path: Path) -> None:
    """Sections (and profile parts) this run did not redo, taken from the previous results file."""
    try:
        previous = json.loads(previous_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if previous.get("benchmark") != "scale":
        return
    carried: dict[str, Any] = {}
    earlier = (previous.get("carried_over") or {}).get("sections") or {}

    def when(section: str) -> Any:  # when the section was measured, through earlier carry-overs
        return earlier.get(section, previous.get("timestamp"))

    for section in ("budget", "growth", "profile"):
        if section not in previous:
            continue
        if section not in report:
            report[section] = previous[section]
            carried[section] = when(section)
        elif section == "profile":
            for key, value in previous["profile"].items():
                if key not in report["profile"]:
                    report["profile"][key] = value
                    carried[f"profile.{key}"] = when(f"profile.{key}") if f"profile.{key}" in earlier else when(section)
    if carried:
        report["carried_over"] = {"from": str(previous_path), "sections": carried,
                                  "previous_versions": previous.get("versions"),
                                  "previous_carried_over": previous.get("carried_over")}  # fmt: skip


def parse_sizes(text: str) -> list[int | None]:
    sizes: list[int | None] = []
    for part in text.split(","):
        part = part.strip().lower()
        if part == "full":
            sizes.append(None)
        elif part:
            sizes.append(int(float(part.replace("k", "e3"))))
    return sizes


NOTES = [
    "Every server run: the virtualenv's aurora-lsp over stdio (pytest-lsp client, VS Code capabilities), a fresh "
    "database (initializationOptions.databasePath), recordAccesses false, the default maxChunks (50000).",
    "index_seconds: `initialize` sent → aurora/stats says idle with lastRunSeconds set (sampled every "
    "--stats-interval s); chunking_seconds: until indexing.done == total (every file parsed); "
    "after_chunking_seconds: the rest (last writes, edge resolution).",
    "During the index a workspace/symbol or aurora/context (query) request goes every --index-poll-interval s, "
    "so that the memory tier is in use while the budget is checked.",
    "Budget check: residentBytes <= memoryBudgetBytes in every aurora/stats sample: every --stats-interval s "
    "during the index, after every request afterwards.",
    "Peak RSS: harness.proc.TreeSampler, summed VmRSS of the server and its descendants (the fork server and "
    "one parser per core during the index) every --rss-interval s; server_hwm_bytes is the server process's "
    "own VmHWM. Target: 300 MiB for the tree.",
    "Reachability: chunk ids drawn from the SQLite database (read-only) with random.Random(--seed); symbol found "
    "= an answer symbol with the chunk's name in its file at its start line, asked by plain qualified name, "
    "else by bare name; focus found = aurora/context at the chunk's (start_line, start_char) answers focus == id.",
    "Latency: client-side wall time, request sent to structured answer. Timings depend on other load: see "
    "loadavg_1min_before/after and other_cpu_seconds per run.",
    "Growth subsets: parts in growth_order, files in path order, until their ast definition count reaches the "
    "size; exact chunk counts are Aurora's. 'full' at growth reuses the budget-100MB run when both ran.",
    "MiB = 1024*1024 bytes.",
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("build", "budget", "growth", "profile", "report"), action="append",
                        help="phase(s) to run; default: budget, growth and profile; 'report' only reprints the "
                             "results file (tables, growth analysis, plot)")  # fmt: skip
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="growth sizes in chunks ('full' = everything)")
    parser.add_argument("--budgets", default="100,5", help="memoryBudgetMb of the budget runs")
    parser.add_argument("--sample", type=int, default=300, help="chunks checked for reachability (budget runs)")
    parser.add_argument("--growth-sample", type=int, default=100, help="chunks checked per growth size")
    parser.add_argument("--symbol-rounds", type=int, default=3, help="rounds of the fixed symbol queries")
    parser.add_argument("--query-rounds", type=int, default=2, help="rounds of the developer questions")
    parser.add_argument("--seed", type=int, default=8, help="random seed of the reachability sample")
    parser.add_argument("--stats-interval", type=float, default=0.25, help="aurora/stats sampling during the index")
    parser.add_argument("--index-poll-interval", type=float, default=0.5,
                        help="a symbol or context request this often during the index")  # fmt: skip
    parser.add_argument("--rss-interval", type=float, default=0.1, help="process tree RSS sampling, s")
    parser.add_argument("--stdlib-tests", choices=("yes", "no"), default="yes", help="include the stdlib's tests")
    parser.add_argument("--skip-profile", action="store_true", help="no py-spy and tracemalloc pass")
    parser.add_argument("--profile-size", default="full", help="chunks of the profiled workspace ('full')")
    parser.add_argument("--py-spy-rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--frames", type=int, default=8, help="tracemalloc frames kept per allocation")
    parser.add_argument("--no-tracemalloc", action="store_true", help="profile with py-spy only")
    parser.add_argument("--no-py-spy", action="store_true", help="profile with tracemalloc only")
    parser.add_argument("--fresh", action="store_true",
                        help="do not carry over the sections of --output that this run does not redo")  # fmt: skip
    parser.add_argument("--no-plot", action="store_true", help="no PNG (no matplotlib install)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--plot", type=Path, default=PLOT, help="PNG plot file")
    parser.add_argument("--child", choices=("tracemalloc",), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


@dataclass
class ScaleWorkspace:
    """The built workspace: its parts, every scanned file's (bytes, ast definitions), the totals."""

    parts: dict[str, Any]
    counts: dict[str, tuple[int, int]]
    total_definitions: int
    total_bytes: int

    def subset(self, size: int | None) -> tuple[str, Path, int, int]:
        """(label, root, source bytes, files) of the growth subset of about `size` chunks (None: all)."""
        if size is None or size >= self.total_definitions:
            return "full", ROOT, self.total_bytes, len(self.counts)
        label = f"{size // 1000}K" if size % 1000 == 0 else str(size)
        paths = subset_files(self.parts, self.counts, size)
        return label, build_subset(label, paths), sum(self.counts[p][0] for p in paths), len(paths)


def prepare_workspace(args: argparse.Namespace) -> ScaleWorkspace:
    """Build the workspace, count it (per part and in total) and say so on stderr."""
    parts = build_workspace(args.stdlib_tests == "yes")
    counts = file_counts(parts)
    for part in parts.values():
        selected = [v for p, v in counts.items() if p.partition("/")[0] == part["folder"]]
        part["scanned_files"] = len(selected)
        part["source_bytes"] = sum(v[0] for v in selected)
        part["ast_definitions"] = sum(v[1] for v in selected)
    total_definitions = sum(v[1] for v in counts.values())
    total_bytes = sum(v[0] for v in counts.values())
    print(f"[workspace] {ROOT}: {len(parts)} parts, {len(counts)} files, {total_bytes / MIB:.0f} MiB, "
          f"{total_definitions} ast definitions", file=sys.stderr, flush=True)  # fmt: skip
    for part in parts.values():
        print(f"  {part['folder']:<45} {part['scanned_files']:>6} files {part['ast_definitions']:>7} definitions"
              f" ({part['test_files']} test files)", file=sys.stderr)  # fmt: skip
    return ScaleWorkspace(parts, counts, total_definitions, total_bytes)


def new_report(args: argparse.Namespace, workspace: ScaleWorkspace, machine: dict[str, Any],
               versions_at_start: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return {
        "benchmark": "scale",
        "timestamp": timestamp(),
        "machine": machine,
        "versions": versions_at_start,
        "loadavg_at_start": os.getloadavg(),
        "settings": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k not in ("child", "root", "db", "out")
        },  # fmt: skip
        "targets": TARGETS,
        "workspace": {
            "root": str(ROOT),
            "parts": workspace.parts,
            "files": len(workspace.counts),
            "source_bytes": workspace.total_bytes,
            "ast_definitions": workspace.total_definitions,
            "growth_order": list(GROWTH_ORDER),
        },  # fmt: skip
        "queries": SCALE_QUERIES,
        "questions": QUESTIONS,
    }


def run_budgets(report: dict[str, Any], args: argparse.Namespace, cfg: RunConfig, workspace: ScaleWorkspace,
                budgets: list[float]) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The whole workspace once per --budgets entry."""
    budget_runs: dict[str, dict[str, Any]] = {}
    for budget in budgets:
        label = f"budget-{budget:g}MB"
        print(f"[{label}] whole workspace …", file=sys.stderr, flush=True)
        budget_runs[label] = asyncio.run(server_run(ROOT, label, budget, cfg, args.sample))
    report["budget"] = {
        label: {"row": run_row(run, workspace.total_bytes), "run": run} for label, run in budget_runs.items()
    }
    return budget_runs


def run_growth(report: dict[str, Any], args: argparse.Namespace, cfg: RunConfig, workspace: ScaleWorkspace,
               sizes: list[int | None], budget_runs: dict[str, dict[str, Any]]) -> None:  # fmt: skip
    """One run per --sizes entry (the budget-100MB run stands for "full" when there is one), and the analysis."""
    report["growth"] = {}
    growth_rows: list[dict[str, Any]] = []
    for size in sizes:
        label, root, source_bytes, subset_count = workspace.subset(size)
        reused = budget_runs.get("budget-100MB") if label == "full" else None
        if reused is not None:
            run = reused
            print("[growth full] reusing the budget-100MB run", file=sys.stderr, flush=True)
        else:
            print(f"[growth {label}] {subset_count} files …", file=sys.stderr, flush=True)
            run = asyncio.run(server_run(root, f"growth-{label}", 100.0, cfg, args.growth_sample))
        row = run_row(run, source_bytes)
        row["label"] = label
        row["subset_files"] = subset_count
        growth_rows.append(row)
        report["growth"][label] = {"row": row, "run": run if reused is None else "the budget-100MB run"}
    report["growth_analysis"] = growth_analysis(growth_rows)


def run_profiles(report: dict[str, Any], args: argparse.Namespace, cfg: RunConfig, workspace: ScaleWorkspace) -> None:
    """The cold index under py-spy (an LSP server run) and in process under tracemalloc."""
    executable = py_spy()
    size = parse_sizes(args.profile_size)[0]
    if size is None or size >= workspace.total_definitions:
        profile_root, profile_bytes = ROOT, workspace.total_bytes
    else:
        paths = subset_files(workspace.parts, workspace.counts, size)
        profile_root, profile_bytes = build_subset(f"{size}", paths), sum(workspace.counts[p][0] for p in paths)
    profile: dict[str, Any] = {"root": str(profile_root)}
    if not args.no_py_spy:
        print(f"[profile] cold index of {profile_root.name} under py-spy …", file=sys.stderr, flush=True)
        run = asyncio.run(server_run(profile_root, "profile-cold-index", 100.0, cfg, 0, requests=False,
                                     py_spy_path=executable, py_spy_rate=args.py_spy_rate))  # fmt: skip
        profile.update({
            "py_spy_version": PY_SPY_VERSION,
            "rate_hz": args.py_spy_rate,
            "run": run_row(run, profile_bytes),
            "timeline": run.get("timeline"),
            "py_spy": summarize_by_owner(Path(run["py_spy_output"])) if run.get("py_spy_output") else None,
        })  # fmt: skip
    if not args.no_tracemalloc:
        print("[profile] cold index in process under tracemalloc …", file=sys.stderr, flush=True)
        profile["tracemalloc"] = run_tracemalloc(profile_root, args.frames)
    report["profile"] = profile


def print_results(report: dict[str, Any], args: argparse.Namespace, machine: dict[str, Any]) -> None:
    print_table("budget runs (whole workspace)", [entry["row"] for entry in report.get("budget", {}).values()])
    growth_rows = [entry["row"] for entry in report.get("growth", {}).values()]
    print_table("growth (default budget)", growth_rows)
    print_growth(report.get("growth_analysis", {}))
    if "profile" in report:
        print_profile(report["profile"])
    plotted = False
    if growth_rows and not args.no_plot:
        plotted = draw_plot(growth_rows, args.plot, machine)
    for label, entry in report.get("budget", {}).items():
        row = entry["row"]
        rss_ok = row["peak_tree_rss_bytes"] <= TARGETS["peak_tree_rss_bytes_max"]
        reachable = row["reach_symbol_found"] == row["reach_sampled"] == row["reach_focus_found"]
        print(f"{label}: resident within budget {'met' if row['budget_never_exceeded'] else 'MISSED'}, "
              f"tree RSS <= 300 MiB {'met' if rss_ok else 'MISSED'}, "
              f"all sampled chunks reachable {'met' if reachable else 'MISSED'}")  # fmt: skip
    print(f"load average at start {report['loadavg_at_start'][0]:.2f}, at end {report['loadavg_at_end'][0]:.2f}; "
          f"wall time {report['wall_seconds']:.0f} s")  # fmt: skip
    warn_if_code_changed(report)
    print(f"written to {args.output}" + (f" and {args.plot}" if plotted else ""))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child_tracemalloc(args.root, args.db, args.out, args.frames)
        return 0
    warnings.simplefilter("ignore", LspSpecificationWarning)
    phases = args.only or ["budget", "growth", "profile"]
    if args.skip_profile and "profile" in phases:
        phases.remove("profile")
    sizes = parse_sizes(args.sizes)
    budgets = [float(b) for b in args.budgets.split(",") if b.strip()]
    cfg = RunConfig(stats_interval=args.stats_interval, index_poll_interval=args.index_poll_interval,
                    rss_interval=args.rss_interval, symbol_rounds=args.symbol_rounds,
                    query_rounds=args.query_rounds, seed=args.seed, budget_tokens=CONTEXT_BUDGET)  # fmt: skip
    wall_started = time.perf_counter()
    workspace = prepare_workspace(args)
    versions_at_start = versions(("lsprotocol", "pytest-lsp", "attrs"), source_sha256=True)
    machine = machine_facts()
    report = new_report(args, workspace, machine, versions_at_start)
    if phases == ["build"]:
        print(json.dumps(report["workspace"], indent=2))
        return 0
    budget_runs = run_budgets(report, args, cfg, workspace, budgets) if "budget" in phases else {}
    if "growth" in phases:
        run_growth(report, args, cfg, workspace, sizes, budget_runs)
    if "profile" in phases:
        run_profiles(report, args, cfg, workspace)
    if not args.fresh and args.output.exists():
        carry_over(report, args.output)
        if "growth" in report.get("carried_over", {}).get("sections", {}):
            report["growth_analysis"] = growth_analysis([entry["row"] for entry in report["growth"].values()])
    report["notes"] = NOTES
    write_report(report, args.output, wall_started)
    print_results(report, args, machine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
