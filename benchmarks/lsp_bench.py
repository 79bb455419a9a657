"""LSP benchmark: Aurora and five peers driven by the same LSP client over stdio, on pinned workspaces.

    python benchmarks/lsp_bench.py                         # the headline: 6 servers on Django
    python benchmarks/lsp_bench.py --quick --only aurora --only ty   # the whole flow, quickly
    python benchmarks/lsp_bench.py --workspace flask --workspace sympy
    python benchmarks/lsp_bench.py --only aurora --only basedpyright --workspace django --repeat 3
    python benchmarks/lsp_bench.py --profile               # also one Aurora pass on Django under py-spy
    python benchmarks/lsp_bench.py --profile-only          # only that (profiles in .cache/profiles)

Servers: Aurora; ty, pyrefly, basedpyright, jedi-language-server and python-lsp-server, each
pinned and installed on first use into a virtualenv of its own under benchmarks/.cache/peers/ so that
its dependencies never touch ours (a peer that cannot be installed or started is recorded
as unavailable, with the reason, and the run goes on). Workspaces (WORKSPACES), each pinned
by version and sha256 and unpacked by harness/workspaces.py under benchmarks/.cache/src:
the flask 3.1.3 sdist (its source tree as shipped: src/, tests/, docs/, examples/), the
Django 5.2.19 wheel and the sympy 1.14.0 wheel; the servers open a hard-linked copy outside
this repository (workspaces.outside_git: ty honours an enclosing repository's .gitignore,
which ignores benchmarks/.cache). Every server is started by pytest-lsp's
`ClientServerConfig(...).start()` (a pygls LanguageClient over stdio, with Visual Studio
Code's client capabilities), in a fresh process per phase, with a clean environment and a
fresh cache folder (XDG_CACHE_HOME: where jedi keeps its parso cache; Aurora gets a fresh
database through `initializationOptions.databasePath`). Servers alternate within each
repetition, workspace by workspace.

Phases, per workspace, server and repetition:

  cold     fresh state. Clock starts when `initialize` is sent; the workspace's complete
           query (django: "get_response", which must return BaseHandler.get_response of
           django/core/handlers/base.py) is sent as `workspace/symbol` until the answer is
           complete or the workspace's complete-timeout passes. Then, once indexing is done
           (Aurora: `aurora/stats` says "idle" with lastRunSeconds set; the peers have no
           such signal), the workspace's fixed query set is sent --symbol-repeat times, and
           --sample definitions of the workspace (every class/def/async def at any depth,
           by Python's ast; fixed --seed) are queried by their exact name: found = a result
           with that name in the right file. Each of the two loops stops asking once it has
           taken --symbol-budget seconds (the share is then over what was asked).
  restart  a second process on the same state (Aurora's database, jedi's cache): time to
           the complete answer again. Then documentSymbol on the workspace's document:
           didOpen + the first answer, --docsym-repeat warm answers at once and again
           once things have settled (1 s later, index idle), --edits isolated
           incremental edits (a small function added at the end; each edit waits until
           the previous one has settled) timed from didChange to the documentSymbol answer
           that shows the new function, then whether workspace/symbol finds it, and a
           burst of --burst-edits edits --burst-interval apart (typing).
  outline  fresh state: didOpen + documentSymbol sent right after `initialized`, i.e.
           while Aurora's first index runs.

A method the server does not advertise in its capabilities (python-lsp-server has no
workspace/symbol) is not asked: its figures are null, and the table says "n/s". A phase that
fails is recorded with its error and the run goes on; a request gets --request-timeout s.

Peak memory: a sampler thread reads /proc every --sample-interval seconds for the server
process and all its descendants (Aurora's indexer starts a fork server and one parser per
core; basedpyright's Python entry point runs node): the peak of the summed VmRSS (the
headline), the peak of the summed PSS (shared pages split between processes) and each
process's own VmHWM (kernel-kept peak).
CPU: every span of work is also given in CPU-seconds of the server's whole process tree
(proc.tree_cpu_seconds), the complete answers and `initialize` from the process's spawn; the
`ast.parse` floor (floor.py) is measured before and after the servers; peer_table.py makes
the headline (Markdown, Aurora/peer ratios, issue 18's targets) and docs/lsp-peers.png.
Latencies are client-side wall times (sending the request to a structured answer), so
all servers pay the same client costs. Percentiles are nearest-rank.
Results go to benchmarks/results/lsp.json (keyed by workspace, then server) with machine
facts, versions and load figures; it is rewritten after each workspace.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import gc
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp.checks import LspSpecificationWarning

from harness import peer_table
from harness.definitions import Definition, wheel_definitions
from harness.floor import ast_floor
from harness.lsp import REQUEST_TIMEOUT_S, SYMBOL_LIMIT, OpenDocument, ServerSpec, Session, relative_path
from harness.machine import machine_facts, versions
from harness.paths import CACHE, REPOSITORY
from harness.paths import RESULTS as RESULTS_DIR
from harness.peers import PEERS_PINNED, SERVERS, aurora_spec, peer_versions, prepare_servers, server_settings
from harness.profiles import PY_SPY_VERSION, WindowProfiler, py_spy, summarize_profile
from harness.report import timestamp, warn_if_code_changed, write_json, write_report
from harness.stats import is_number, latency_summary, median_or_none, nearest_rank
from harness.workspaces import SDISTS, WHEELS, fetch_sdist, fetch_wheel, outside_git, unpack_sdist, unpack_wheel

PROFILES = CACHE / "profiles"
RESULTS = RESULTS_DIR / "lsp.json"
PLOT = REPOSITORY / "docs" / "lsp-peers.png"
DEFAULT_WORKSPACES = ("django",)  # the headline; six servers on three workspaces take most of an hour
# --quick: a try of the whole flow in a few minutes, not figures to quote
QUICK = {"symbol_repeat": 1, "sample": 30, "symbol_budget": 15.0, "docsym_repeat": 5, "edits": 2,
         "burst_edits": 3, "no_outline": True, "complete_timeout": 20.0}  # fmt: skip
PROFILE_WORKSPACE = "django"


# -- the workspaces ------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkspaceSpec:
    """A pinned workspace and what is asked of it."""

    name: str
    archive: str  # "wheel": harness.workspaces.WHEELS; "sdist": harness.workspaces.SDISTS
    # The answer that counts as complete for the cold and restart clocks: a method (so not a
    # module-level name that a search of a few files' globals could find) defined once,
    # deep in the package, that only an index of the whole workspace holds.
    complete_query: str
    complete_file: str
    complete_container: str
    complete_why: str
    document: str  # a big module: documentSymbol, edits
    queries: tuple[str, ...]  # the warm workspace/symbol set
    complete_timeout: float  # seconds after initialize to wait for the complete answer


# What an editor sends: whole names, dotted names, abbreviations, one letter as typing starts.
FLASK_QUERIES = (
    "Flask", "Scaffold.route", "register_error_handler", "regerr", "bp.route", "Blueprint",
    "test_client", "url_for", "Request", "Response", "jsonify", "render_template",
    "Config.from_object", "dispatch_request", "AppContext", "__init__",
    "App.handle_url_build_error", "before_request", "tmpl", "m",
)  # fmt: skip
DJANGO_QUERIES = (
    "Model", "QuerySet.filter", "get_response", "getresp", "qs.filter", "Field", "save", "as_sql",
    "HttpRequest", "HttpResponse", "reverse", "ForeignKey", "CharField.formfield", "get_queryset",
    "ValidationError", "__init__", "ModelAdmin.get_urls", "migrate", "tmpl", "m",
)  # fmt: skip
SYMPY_QUERIES = (
    "Symbol", "Poly.degree", "get_general_solution", "getgensol", "dm.rref", "Expr", "subs", "doit",
    "Integral", "Derivative", "simplify", "Rational", "MatrixBase.inv", "_eval_derivative",
    "PolynomialError", "__init__", "Basic.subs", "dsolve", "mtrx", "m",
)  # fmt: skip

WORKSPACES: dict[str, WorkspaceSpec] = {
    "flask": WorkspaceSpec(
        name="flask",
        archive="sdist",
        complete_query="register_error_handler",
        complete_file="src/flask/sansio/scaffold.py",
        complete_container="Scaffold",
        complete_why="Scaffold.register_error_handler is the only definition of that name in the tree, a method "
        "of the base class of Flask and Blueprint in the deepest package folder (src/flask/sansio/). Its file "
        "is number 35 of 83 in path order, the order in which Aurora's indexer writes files (in batches): "
        "tests/ may still be on its way when the answer is complete ('index idle' gives the whole index).",
        document="src/flask/app.py",
        queries=FLASK_QUERIES,
        complete_timeout=30.0,
    ),
    "django": WorkspaceSpec(
        name="django",
        archive="wheel",
        complete_query="get_response",
        complete_file="django/core/handlers/base.py",
        complete_container="BaseHandler",
        complete_why="BaseHandler.get_response is the method every request goes through; two more methods of "
        "that name (django/contrib/staticfiles/handlers.py, django/test/testcases.py) do not count. Its file "
        "is number 565 of 885 in path order, the order in which Aurora's indexer writes files.",
        document="django/db/models/query.py",
        queries=DJANGO_QUERIES,
        complete_timeout=45.0,
    ),
    "sympy": WorkspaceSpec(
        name="sympy",
        archive="wheel",
        complete_query="get_general_solution",
        complete_file="sympy/solvers/ode/single.py",
        complete_container="SingleODESolver",
        complete_why="SingleODESolver.get_general_solution, the entry point of every single-ODE solver class, "
        "is the only definition of that name (26 more end in _get_general_solution, which fuzzy matchers "
        "also return), four folders deep; its file is number 1,295 of 1,533 in path order, the order in which "
        "Aurora's indexer writes files, so most of the workspace is written before it.",
        document="sympy/polys/polytools.py",
        queries=SYMPY_QUERIES,
        complete_timeout=120.0,
    ),
}


def prepare_workspace(workspace: WorkspaceSpec) -> tuple[Path, dict[str, Any]]:
    """The workspace's folder (fetched, checked and unpacked by harness/workspaces.py) and its pin."""
    if workspace.archive == "sdist":
        archive = fetch_sdist(workspace.name)
        root = unpack_sdist(workspace.name, archive)
        pin = SDISTS[workspace.name]
    else:
        archive = fetch_wheel(workspace.name)
        root = unpack_wheel(workspace.name, archive)
        pin = WHEELS[workspace.name]
    unpacked = root.resolve()
    return outside_git(unpacked), {"archive": archive.name, "archive_sha256": pin["sha256"], "kind": workspace.archive,
                                   "unpacked": str(unpacked)}  # fmt: skip


MIB = 1024 * 1024
# The team's targets (set for Django); judged for every server and workspace, for scale.
TARGETS = {
    "cold_complete_seconds_max": 5.0,
    "restart_complete_seconds_max": 0.5,
    "warm_symbol_p95_ms_max": 20.0,
    "document_symbol_first_ms_max": 50.0,
    "document_symbol_warm_p95_ms_max": 10.0,
    "edit_document_symbol_p95_ms_max": 50.0,
    "peak_tree_rss_bytes_max": 120 * MIB,
}


# -- what counts as found ------------------------------------------------------------------


def _location(symbol: Any) -> tuple[str, int | None]:
    location = symbol.location
    uri = location.uri
    line = location.range.start.line if getattr(location, "range", None) is not None else None
    return uri, line


def describe(symbols: list[Any], root: Path, limit: int = 5) -> list[dict[str, Any]]:
    found = []
    for symbol in symbols[:limit]:
        uri, line = _location(symbol)
        found.append(
            {"name": symbol.name, "container": symbol.container_name, "path": relative_path(uri, root), "line": line}
        )
    return found


def is_complete(symbols: list[Any], root: Path, workspace: WorkspaceSpec) -> bool:
    return any(
        s.name == workspace.complete_query and relative_path(_location(s)[0], root) == workspace.complete_file
        for s in symbols
    )


def flatten(symbols: list[Any]) -> list[Any]:
    out: list[Any] = []
    for symbol in symbols:
        out.append(symbol)
        out.extend(flatten(list(getattr(symbol, "children", None) or [])))
    return out


DEFINITION_KINDS = {types.SymbolKind.Class, types.SymbolKind.Function, types.SymbolKind.Method,
                    types.SymbolKind.Constructor}  # fmt: skip


# -- the phases ----------------------------------------------------------------------------


@dataclass
class Config:
    workspace: WorkspaceSpec
    complete_timeout: float
    poll_interval: float
    symbol_repeat: int
    symbol_budget: float
    sample: list[Definition]
    name_counts: collections.Counter[str]
    ast_counts: collections.Counter[str]
    docsym_repeat: int
    edits: int
    burst_edits: int
    burst_interval: float
    edit_symbol_timeout: float
    sample_interval: float
    request_timeout: float
    profiler: WindowProfiler | None = None  # --profile runs only


def open_session(spec: ServerSpec, root: Path, state: Path, label: str, cfg: Config) -> Session:
    session = Session(spec, root, state, label, cfg.sample_interval)
    session.request_timeout = cfg.request_timeout
    return session


@contextlib.asynccontextmanager
async def profiled(cfg: Config, session: Session, name: str) -> AsyncIterator[None]:
    """A window of the session under py-spy when this is a profile run; else nothing."""
    if cfg.profiler is None:
        yield
        return
    async with cfg.profiler.window(session, name):
        yield


# What stops a loop of requests early, instead of the whole run: a request over
# --request-timeout, or an error answer.
REQUEST_FAILURES = (asyncio.TimeoutError, JsonRpcException)


def _failure(error: BaseException, session: Session) -> str:
    if isinstance(error, asyncio.TimeoutError):
        return f"a request timed out after {session.request_timeout:.0f} s"
    return f"{type(error).__name__}: {error}"


def _budget_note(budget: float) -> str:
    return f"stopped after {budget:.0f} s (--symbol-budget)"


async def wait_for_complete(session: Session, root: Path, cfg: Config) -> dict[str, Any]:
    """Poll workspace/symbol until the answer is complete; times are from sending `initialize`."""
    workspace, timeout = cfg.workspace, cfg.complete_timeout
    if not session.supports_workspace_symbol:
        return {"supported": False, "complete_seconds": None, "first_answer_seconds": None, "polls": 0,
                "timeout_seconds": timeout, "stopped": "workspace/symbol not advertised"}  # fmt: skip
    polls = []
    first_answer = first_nonempty = complete_at = complete_sent = complete_from_start = complete_cpu = None
    last: list[Any] = []
    stopped = None
    while True:
        sent = session.since_initialize()
        try:
            seconds, last = await session.symbols(workspace.complete_query)
        except REQUEST_FAILURES as error:
            stopped = _failure(error, session)
            break
        answered = session.since_initialize()
        complete = is_complete(last, root, workspace)
        polls.append({"sent": round(sent, 4), "answered": round(answered, 4), "results": len(last),
                      "complete": complete})  # fmt: skip
        first_answer = answered if first_answer is None else first_answer
        if last and first_nonempty is None:
            first_nonempty = answered
        if complete:
            complete_at, complete_sent = answered, sent
            complete_from_start, complete_cpu = session.since_start(), session.tree_cpu()
            break
        if answered > timeout:
            stopped = f"did not complete in {timeout:.0f} s"
            break
        await asyncio.sleep(cfg.poll_interval)
    return {
        "supported": True,
        "complete_seconds": complete_at,
        # from the server process's start, and the CPU its whole tree had used by then
        "complete_from_start_seconds": complete_from_start,
        "complete_tree_cpu_seconds": complete_cpu,
        "tree_cpu_seconds_at_stop": session.tree_cpu(),
        # when the completing request was sent, and how long its answer took: a long wait
        # means the server had the data but answered late
        "complete_poll_sent_seconds": complete_sent,
        "complete_poll_wait_seconds": None
        if complete_at is None or complete_sent is None
        else complete_at - complete_sent,
        "slowest_poll_seconds": max((p["answered"] - p["sent"] for p in polls), default=None),
        "first_answer_seconds": first_answer,
        "first_nonempty_seconds": first_nonempty,
        "polls": len(polls),
        "poll_log": polls if len(polls) <= 200 else polls[:100] + polls[-100:],
        "last_answer": describe(last, root, 10),
        "last_answer_count": len(last),
        "timeout_seconds": timeout,
        "stopped": stopped,
    }


async def phase_cold(spec: ServerSpec, root: Path, state: Path, cfg: Config) -> dict[str, Any]:
    workspace = cfg.workspace
    session = open_session(spec, root, state, "cold", cfg)
    await session.start()
    try:
        async with profiled(cfg, session, "cold-index"):
            await session.initialize()
            result: dict[str, Any] = {"complete": await wait_for_complete(session, root, cfg)}
            stats = await session.wait_ready()
        result["ready_seconds"] = session.since_initialize() if spec.has_index else None
        result["stats_when_ready"] = stats
        result["dotted_query"] = result["warm_symbols"] = result["completeness"] = None
        if session.supports_workspace_symbol:
            # the same answer asked with a dotted name (jedi can walk into a class this way)
            dotted_query = f"{workspace.complete_container}.{workspace.complete_query}"
            _, dotted = await session.symbols(dotted_query)
            result["dotted_query"] = {"query": dotted_query, "complete": is_complete(dotted, root, workspace),
                                      "answer": describe(dotted, root)}  # fmt: skip
            async with profiled(cfg, session, "warm-symbols"):
                result["warm_symbols"] = await warm_symbols(session, root, cfg, cfg.symbol_repeat)
            async with profiled(cfg, session, "exact-name-symbols"):
                result["completeness"] = await completeness(session, root, cfg)
        if spec.has_index:
            result["stats_at_end"] = await session.stats()
    finally:
        result_facts = await session.close()
    return {**result_facts, **result}


async def warm_symbols(session: Session, root: Path, cfg: Config, repeat: int) -> dict[str, Any]:
    queries = cfg.workspace.queries
    per_query: dict[str, list[float]] = {q: [] for q in queries}
    answers: dict[str, Any] = {}
    first_round: list[float] = []
    deadline = time.perf_counter() + cfg.symbol_budget
    stopped = None
    cpu_before = session.tree_cpu()
    for index in range(repeat):
        for query in queries:
            if time.perf_counter() > deadline:
                stopped = _budget_note(cfg.symbol_budget)
                break
            try:
                seconds, symbols = await session.symbols(query)
            except REQUEST_FAILURES as error:
                stopped = f"{query!r}: {_failure(error, session)}"
                break
            per_query[query].append(seconds)
            if index == 0:
                first_round.append(seconds)
                answers[query] = {"count": len(symbols), "top": describe(symbols, root, 3)}
        if stopped:
            break
    every = [s for values in per_query.values() for s in values]
    cpu = session.tree_cpu() - cpu_before
    return {
        "repeat": repeat,
        "tree_cpu_seconds": cpu,
        "tree_cpu_ms_per_request": cpu * 1000 / len(every) if every else None,
        "planned": repeat * len(queries),
        "asked": len(every),
        "stopped": stopped,
        "all": latency_summary(every),
        "first_round": latency_summary(first_round),
        "mean_results": sum(a["count"] for a in answers.values()) / len(answers) if answers else None,
        "per_query_p50_ms": {q: nearest_rank([s * 1000 for s in v], 50) for q, v in per_query.items() if v},
        "per_query_max_ms": {q: max(v) * 1000 for q, v in per_query.items() if v},
        "answers": answers,
    }


async def completeness(session: Session, root: Path, cfg: Config) -> dict[str, Any]:
    found = at_line = 0
    seconds_all: list[float] = []
    misses: list[dict[str, Any]] = []
    full_misses = ambiguous_misses = 0
    limit = session.spec.symbol_limit
    # folder (two levels) → [found, asked]: shows a server whose scope is part of the tree
    by_folder: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    deadline = time.perf_counter() + cfg.symbol_budget
    stopped = None
    for definition in cfg.sample:
        if time.perf_counter() > deadline:
            stopped = _budget_note(cfg.symbol_budget)
            break
        try:
            seconds, symbols = await session.symbols(definition.name)
        except REQUEST_FAILURES as error:
            stopped = f"{definition.name!r}: {_failure(error, session)}"
            break
        seconds_all.append(seconds)
        folder = by_folder["/".join(Path(definition.path).parent.parts[:2]) or "."]
        folder[1] += 1
        matches = [
            s for s in symbols if s.name == definition.name and relative_path(_location(s)[0], root) == definition.path
        ]
        if matches:
            found += 1
            folder[0] += 1
            if any(definition.first_line <= (_location(s)[1] or -1) <= definition.line for s in matches):
                at_line += 1
            continue
        full = limit is not None and len(symbols) >= limit
        ambiguous = cfg.name_counts[definition.name] > SYMBOL_LIMIT
        full_misses += full
        ambiguous_misses += ambiguous
        misses.append({"path": definition.path, "qualname": definition.qualname, "results": len(symbols),
                       "same_name_in_workspace": cfg.name_counts[definition.name]})  # fmt: skip
    asked = cfg.sample[: len(seconds_all)]  # a prefix of a random sample is a random sample
    return {
        "sampled": len(cfg.sample),
        "asked": len(asked),
        "stopped": stopped,
        "found": found,
        "found_share": found / len(asked) if asked else None,
        "found_at_definition_line": at_line,
        "found_at_definition_line_share": at_line / len(asked) if asked else None,
        "misses_with_full_answer": full_misses,
        "misses_with_over_limit_same_names": ambiguous_misses,
        # names shared by more definitions than an answer of 100 holds: not all of them can be found
        "sample_share_with_name_over_limit": sum(1 for d in asked if cfg.name_counts[d.name] > SYMBOL_LIMIT)
        / len(asked)
        if asked
        else None,
        "latency": latency_summary(seconds_all),
        "found_asked_by_folder": dict(sorted(by_folder.items())),
        "misses_examples": misses[:40],
    }


def _definition_names(symbols: list[Any]) -> list[str]:
    return [s.name for s in flatten(symbols) if s.kind in DEFINITION_KINDS]


async def edit_until_shown(
    session: Session, document: OpenDocument, name: str, timeout: float = 30.0
) -> dict[str, Any]:
    addition = f"\n\ndef {name}(value):\n    return value\n"
    started = time.perf_counter()
    document.append(addition)
    polls = 0
    while True:
        _, symbols = await session.document_symbols(document.uri)
        polls += 1
        if name in _definition_names(symbols):
            return {"seconds": time.perf_counter() - started, "polls": polls}
        if time.perf_counter() - started > timeout:
            return {"seconds": None, "polls": polls}


async def phase_restart(spec: ServerSpec, root: Path, state: Path, cfg: Config) -> dict[str, Any]:
    session = open_session(spec, root, state, "restart", cfg)
    await session.start()
    try:
        await session.initialize()
        result: dict[str, Any] = {"complete": await wait_for_complete(session, root, cfg)}
        result["stats_when_ready"] = await session.wait_ready()
        result["ready_seconds"] = session.since_initialize() if spec.has_index else None
        if session.supports_workspace_symbol:
            result["warm_symbols"] = await warm_symbols(session, root, cfg, 1)
        else:
            result["warm_symbols"] = None
        result["document"] = await document_phase(session, root, cfg)
    finally:
        result_facts = await session.close()
    return {**result_facts, **result}


async def isolated_edits(session: Session, document: OpenDocument, cfg: Config) -> list[dict[str, Any]]:
    """Edits that each wait until the previous one has settled (Aurora: its refresh has run)."""
    isolated: list[dict[str, Any]] = []
    for index in range(cfg.edits):
        await asyncio.sleep(0.3)
        await session.wait_ready()
        name = f"aurora_bench_added_{index}"
        shown = await edit_until_shown(session, document, name)
        found_at = None
        deadline = time.perf_counter() + cfg.edit_symbol_timeout
        edit_started = time.perf_counter() - (shown["seconds"] or 0.0)
        while session.supports_workspace_symbol and time.perf_counter() < deadline:
            _, symbols = await session.symbols(name)
            if any(s.name == name for s in symbols):
                found_at = time.perf_counter() - edit_started
                break
            await asyncio.sleep(0.05)
        stats = await session.wait_ready()  # Aurora: the refresh that followed the edit
        refresh = stats["indexing"].get("lastRunSeconds") if stats else None
        isolated.append({**shown, "workspace_symbol_seconds": found_at, "refresh_seconds": refresh})
    return isolated


async def open_and_outline(session: Session, document: OpenDocument, cfg: Config) -> dict[str, Any]:
    """didOpen and the first documentSymbol answer, warm answers at once and once things have settled."""
    async with profiled(cfg, session, "document-open"):
        cpu_before = session.tree_cpu()
        started = time.perf_counter()
        document.open()
        first_request, symbols = await session.document_symbols(document.uri)
        first = time.perf_counter() - started
        first_cpu = session.tree_cpu() - cpu_before
    names = _definition_names(symbols)
    async with profiled(cfg, session, "document-warm"):
        cpu_before = session.tree_cpu()
        warm = [(await session.document_symbols(document.uri))[0] for _ in range(cfg.docsym_repeat)]
        warm_cpu = session.tree_cpu() - cpu_before
    # the same once whatever the open started in the background has settled
    await asyncio.sleep(1.0)
    await session.wait_ready()
    settled = [(await session.document_symbols(document.uri))[0] for _ in range(cfg.docsym_repeat)]
    return {
        "path": cfg.workspace.document,
        "first_seconds": first,
        "first_tree_cpu_seconds": first_cpu,
        "first_request_seconds": first_request,
        "warm_tree_cpu_ms_per_request": warm_cpu * 1000 / len(warm) if warm else None,
        "top_level_symbols": len(symbols),
        "all_symbols": len(flatten(symbols)),
        "definition_symbols": len(names),
        "ast_definitions": cfg.ast_counts[cfg.workspace.document],
        "warm": latency_summary(warm),
        "warm_settled": latency_summary(settled),
    }


def edits_summary(isolated: list[dict[str, Any]], session: Session, cfg: Config) -> dict[str, Any]:
    edit_seconds = [e["seconds"] for e in isolated if e["seconds"] is not None]
    symbol_seconds = [e["workspace_symbol_seconds"] for e in isolated if e["workspace_symbol_seconds"] is not None]
    return {
        "count": len(isolated),
        "document_symbol": latency_summary(edit_seconds),
        "not_shown": sum(1 for e in isolated if e["seconds"] is None),
        "workspace_symbol_supported": session.supports_workspace_symbol,
        "workspace_symbol_found": len(symbol_seconds),
        "workspace_symbol_seconds_median": nearest_rank(symbol_seconds, 50),
        "workspace_symbol_timeout_seconds": cfg.edit_symbol_timeout,
        "refresh_seconds_median": nearest_rank([e["refresh_seconds"] for e in isolated if e["refresh_seconds"]], 50),
        "runs": isolated,
    }


async def typing_burst(session: Session, document: OpenDocument, cfg: Config) -> dict[str, Any]:
    """Edits every burst_interval seconds, as someone typing would send them."""
    await asyncio.sleep(0.3)
    await session.wait_ready()
    burst: list[dict[str, Any]] = []
    async with profiled(cfg, session, "burst"):
        next_at = time.perf_counter()
        for index in range(cfg.burst_edits):
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            next_at = time.perf_counter() + cfg.burst_interval
            burst.append(await edit_until_shown(session, document, f"aurora_bench_burst_{index}"))
    return {
        "interval_seconds": cfg.burst_interval,
        "document_symbol": latency_summary([b["seconds"] for b in burst if b["seconds"] is not None]),
        "runs": burst,
    }


async def document_phase(session: Session, root: Path, cfg: Config) -> dict[str, Any]:
    document = OpenDocument(session, root / cfg.workspace.document)
    out = await open_and_outline(session, document, cfg)
    async with profiled(cfg, session, "edits"):
        isolated = await isolated_edits(session, document, cfg)
    out["edits"] = edits_summary(isolated, session, cfg)
    out["burst"] = await typing_burst(session, document, cfg)
    document.close()  # the file goes back to its content on disk
    await asyncio.sleep(0.3)
    await session.wait_ready()
    return out


async def phase_outline(spec: ServerSpec, root: Path, state: Path, cfg: Config) -> dict[str, Any]:
    """documentSymbol asked right after `initialized`: while Aurora's first index runs."""
    session = open_session(spec, root, state, "outline", cfg)
    await session.start()
    try:
        await session.initialize()
        document = OpenDocument(session, root / cfg.workspace.document)
        started = time.perf_counter()
        document.open()
        _, symbols = await session.document_symbols(document.uri)
        answered = session.since_initialize()
        result: dict[str, Any] = {
            "during_index_first_seconds": time.perf_counter() - started,
            "answered_seconds_after_initialize": answered,
            "definition_symbols": len(_definition_names(symbols)),
        }
        await session.wait_ready()
        result["ready_seconds"] = session.since_initialize() if spec.has_index else None
    finally:
        result_facts = await session.close()
    return {**result_facts, **result}


# -- the driver ----------------------------------------------------------------------------


def workspace_config(workspace: WorkspaceSpec, root: Path, args: argparse.Namespace) -> tuple[Config, dict[str, Any]]:
    """The measurement settings for one workspace, with its ast sample, and facts about it."""
    definitions, unparsable = wheel_definitions(root)
    name_counts = collections.Counter(d.name for d in definitions)
    ast_counts = collections.Counter(d.path for d in definitions)
    cfg = Config(
        workspace=workspace,
        complete_timeout=workspace.complete_timeout if args.complete_timeout is None else args.complete_timeout,
        poll_interval=args.poll_interval,
        symbol_repeat=args.symbol_repeat,
        symbol_budget=args.symbol_budget,
        sample=random.Random(args.seed).sample(definitions, min(args.sample, len(definitions))),
        name_counts=name_counts,
        ast_counts=ast_counts,
        docsym_repeat=args.docsym_repeat,
        edits=args.edits,
        burst_edits=args.burst_edits,
        burst_interval=args.burst_interval,
        edit_symbol_timeout=args.edit_symbol_timeout,
        sample_interval=args.sample_interval,
        request_timeout=args.request_timeout,
    )
    facts = {
        "root": str(root),
        "python_files": sum(1 for _ in root.rglob("*.py")),
        "python_files_with_definitions": len(ast_counts),
        "ast_definitions": len(definitions),
        "unparsable_files": unparsable,
    }
    return cfg, facts


def run_server(spec: ServerSpec, root: Path, cfg: Config, phases: list[str]) -> dict[str, Any]:
    state = Path(tempfile.mkdtemp(prefix=f"aurora-lsp-bench-{spec.name}-"))
    out: dict[str, Any] = {"state": str(state)}
    try:
        for phase in phases:
            gc.collect()
            print(f"[{spec.name}] {phase} …", file=sys.stderr, flush=True)
            try:
                out[phase] = run_phase(phase, spec, root, state, cfg)
            except Exception as error:  # a server that fails one phase must not end the whole run
                first_line = (str(error).strip().splitlines() or [""])[0][:300]
                out[phase] = {"error": f"{type(error).__name__}: {first_line}", "traceback": traceback.format_exc()}
            print(f"[{spec.name}] {phase}: {_brief(out[phase])}", file=sys.stderr, flush=True)
    finally:
        keep_logs = state.parent / f"{state.name}-logs"
        keep_logs.mkdir(exist_ok=True)
        for log in state.glob("*.stderr.log"):
            shutil.copy(log, keep_logs / log.name)
        shutil.rmtree(state, ignore_errors=True)
        out["logs"] = str(keep_logs)
    return out


def run_phase(phase: str, spec: ServerSpec, root: Path, state: Path, cfg: Config) -> dict[str, Any]:
    if phase == "cold":
        return asyncio.run(phase_cold(spec, root, state, cfg))
    if phase == "restart":
        return asyncio.run(phase_restart(spec, root, state, cfg))
    fresh = Path(tempfile.mkdtemp(prefix=f"aurora-lsp-bench-{spec.name}-outline-"))
    try:
        return asyncio.run(phase_outline(spec, root, fresh, cfg))
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def _brief(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"FAILED: {result['error']}"
    parts = []
    c = result.get("complete")
    if c is not None and not c["supported"]:
        parts.append("workspace/symbol not advertised")
    elif c is not None:
        done = f"{c['complete_seconds']:.2f} s" if c["complete_seconds"] is not None else f"never ({c['stopped']})"
        first = "—" if c["first_answer_seconds"] is None else f"{c['first_answer_seconds']:.2f} s"
        parts.append(f"complete {done} (first answer {first}, {c['polls']} polls)")
    if result.get("warm_symbols"):
        w = result["warm_symbols"]
        parts.append(f"warm symbols p50 {_ms(w['all']['p50_ms'])} p95 {_ms(w['all']['p95_ms'])} "
                     f"({w['asked']} of {w['planned']})")  # fmt: skip
    if result.get("completeness") and result["completeness"]["found_share"] is not None:
        parts.append(f"found {result['completeness']['found_share']:.1%} of {result['completeness']['asked']}")
    if "document" in result:
        d = result["document"]
        parts.append(f"docsym first {d['first_seconds'] * 1000:.0f} ms warm p95 {_ms(d['warm']['p95_ms'])}, "
                     f"edit p95 {_ms(d['edits']['document_symbol']['p95_ms'])}")  # fmt: skip
    if "during_index_first_seconds" in result:
        parts.append(f"docsym during index {result['during_index_first_seconds'] * 1000:.0f} ms")
    parts.append(f"peak tree RSS {result['memory']['peak_tree_rss_bytes'] / MIB:.0f} MiB")
    parts.append(f"load {result['loadavg_1min_before']}→{result['loadavg_1min_after']}")
    return "; ".join(parts)


class RunFigures:
    """One server's runs on one workspace: the median of a figure over the runs that have it.

    A figure a run lacks (a phase failed, a method is not supported, nothing completed)
    is left out of the median; with no run having it, it is None.
    """

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs
        self.phases = [p for p in ("cold", "restart", "outline") if p in runs[0]]

    def pick(self, getter: Callable[[dict[str, Any]], Any]) -> Any:
        values = []
        for run in self.runs:
            try:
                values.append(getter(run))
            except (KeyError, TypeError, ValueError):
                values.append(None)
        return median_or_none(values)

    def peak(self, key: str) -> Any:
        """The median over runs of the highest memory figure `key` of any phase."""
        return self.pick(lambda r: max(r[p]["memory"][key] for p in self.phases if "memory" in r[p]))

    def total(self, key: str) -> Any:
        """The median over runs of the sum of `key` over the phases."""
        return self.pick(lambda r: sum(r[p][key] or 0 for p in self.phases if key in r[p]))


def _complete_figures(fig: RunFigures) -> dict[str, Any]:
    return {
        "workspace_symbol_supported": any(r["cold"].get("advertises", {}).get("workspace_symbol") for r in fig.runs),
        "errors": [f"{p}: {r[p]['error']}" for r in fig.runs for p in fig.phases if "error" in r[p]],
        "cold_complete_stopped": [r["cold"].get("complete", {}).get("stopped") for r in fig.runs],
        "complete_timeout_seconds": fig.pick(lambda r: r["cold"]["complete"]["timeout_seconds"]),
        "cold_complete_seconds": fig.pick(lambda r: r["cold"]["complete"]["complete_seconds"]),
        "cold_complete_from_start_seconds": fig.pick(lambda r: r["cold"]["complete"]["complete_from_start_seconds"]),
        "cold_complete_tree_cpu_seconds": fig.pick(lambda r: r["cold"]["complete"]["complete_tree_cpu_seconds"]),
        "cold_start_to_initialize_result_seconds": fig.pick(lambda r: r["cold"]["start_to_initialize_result_seconds"]),
        "cold_initialize_result_tree_cpu_seconds": fig.pick(lambda r: r["cold"]["initialize_result_tree_cpu_seconds"]),
        "cold_first_answer_seconds": fig.pick(lambda r: r["cold"]["complete"]["first_answer_seconds"]),
        "cold_complete_poll_sent_seconds": fig.pick(lambda r: r["cold"]["complete"]["complete_poll_sent_seconds"]),
        "cold_complete_poll_wait_seconds": fig.pick(lambda r: r["cold"]["complete"]["complete_poll_wait_seconds"]),
        "cold_first_nonempty_seconds": fig.pick(lambda r: r["cold"]["complete"]["first_nonempty_seconds"]),
        "cold_ready_seconds": fig.pick(lambda r: r["cold"]["ready_seconds"]),
        "cold_initialize_seconds": fig.pick(lambda r: r["cold"]["initialize_seconds"]),
        "cold_spawn_seconds": fig.pick(lambda r: r["cold"]["spawn_seconds"]),
        "cold_complete_runs": sum(
            1 for r in fig.runs if r["cold"].get("complete", {}).get("complete_seconds") is not None
        ),
        "restart_complete_seconds": fig.pick(lambda r: r["restart"]["complete"]["complete_seconds"]),
        "restart_complete_from_start_seconds": fig.pick(
            lambda r: r["restart"]["complete"]["complete_from_start_seconds"]
        ),
        "restart_complete_tree_cpu_seconds": fig.pick(lambda r: r["restart"]["complete"]["complete_tree_cpu_seconds"]),
        "restart_first_answer_seconds": fig.pick(lambda r: r["restart"]["complete"]["first_answer_seconds"]),
        "restart_ready_seconds": fig.pick(lambda r: r["restart"]["ready_seconds"]),
    }


def _symbol_figures(fig: RunFigures) -> dict[str, Any]:
    return {
        "dotted_query_complete": fig.pick(lambda r: int(r["cold"]["dotted_query"]["complete"])),
        "warm_symbol_p50_ms": fig.pick(lambda r: r["cold"]["warm_symbols"]["all"]["p50_ms"]),
        "warm_symbol_p95_ms": fig.pick(lambda r: r["cold"]["warm_symbols"]["all"]["p95_ms"]),
        "warm_symbol_max_ms": fig.pick(lambda r: r["cold"]["warm_symbols"]["all"]["max_ms"]),
        "warm_symbol_cpu_ms_per_request": fig.pick(lambda r: r["cold"]["warm_symbols"]["tree_cpu_ms_per_request"]),
        "warm_symbol_asked": fig.pick(lambda r: r["cold"]["warm_symbols"]["asked"]),
        "warm_symbol_mean_results": fig.pick(lambda r: r["cold"]["warm_symbols"]["mean_results"]),
        "exact_name_symbol_p50_ms": fig.pick(lambda r: r["cold"]["completeness"]["latency"]["p50_ms"]),
        "exact_name_symbol_p95_ms": fig.pick(lambda r: r["cold"]["completeness"]["latency"]["p95_ms"]),
        "completeness_share": fig.pick(lambda r: r["cold"]["completeness"]["found_share"]),
        "completeness_asked": fig.pick(lambda r: r["cold"]["completeness"]["asked"]),
        "completeness_at_line_share": fig.pick(lambda r: r["cold"]["completeness"]["found_at_definition_line_share"]),
        "completeness_name_over_limit_share": fig.pick(
            lambda r: r["cold"]["completeness"]["sample_share_with_name_over_limit"]
        ),
    }


def _document_figures(fig: RunFigures) -> dict[str, Any]:
    return {
        "document_symbol_first_ms": fig.pick(lambda r: r["restart"]["document"]["first_seconds"] * 1000),
        "document_symbol_first_cpu_ms": fig.pick(lambda r: r["restart"]["document"]["first_tree_cpu_seconds"] * 1000),
        "document_symbol_warm_cpu_ms_per_request": fig.pick(
            lambda r: r["restart"]["document"]["warm_tree_cpu_ms_per_request"]
        ),
        "document_symbol_warm_p50_ms": fig.pick(lambda r: r["restart"]["document"]["warm"]["p50_ms"]),
        "document_symbol_warm_p95_ms": fig.pick(lambda r: r["restart"]["document"]["warm"]["p95_ms"]),
        "document_symbol_settled_p50_ms": fig.pick(lambda r: r["restart"]["document"]["warm_settled"]["p50_ms"]),
        "document_symbol_settled_p95_ms": fig.pick(lambda r: r["restart"]["document"]["warm_settled"]["p95_ms"]),
        "document_definition_symbols": fig.pick(lambda r: r["restart"]["document"]["definition_symbols"]),
        "document_ast_definitions": fig.pick(lambda r: r["restart"]["document"]["ast_definitions"]),
        "edit_document_symbol_p50_ms": fig.pick(
            lambda r: r["restart"]["document"]["edits"]["document_symbol"]["p50_ms"]
        ),
        "edit_document_symbol_p95_ms": fig.pick(
            lambda r: r["restart"]["document"]["edits"]["document_symbol"]["p95_ms"]
        ),
        "burst_document_symbol_p50_ms": fig.pick(
            lambda r: r["restart"]["document"]["burst"]["document_symbol"]["p50_ms"]
        ),
        "burst_document_symbol_max_ms": fig.pick(
            lambda r: r["restart"]["document"]["burst"]["document_symbol"]["max_ms"]
        ),
        "edit_workspace_symbol_seconds": fig.pick(
            lambda r: r["restart"]["document"]["edits"]["workspace_symbol_seconds_median"]
        ),
        "edit_refresh_seconds": fig.pick(lambda r: r["restart"]["document"]["edits"]["refresh_seconds_median"]),
        "document_symbol_during_index_ms": fig.pick(lambda r: r["outline"]["during_index_first_seconds"] * 1000),
    }


def _resource_figures(fig: RunFigures) -> dict[str, Any]:
    return {
        "peak_tree_rss_bytes": fig.peak("peak_tree_rss_bytes"),
        "peak_tree_pss_bytes": fig.peak("peak_tree_pss_bytes"),
        "sum_of_process_hwm_bytes": fig.peak("sum_of_process_hwm_bytes"),
        "server_process_hwm_bytes": fig.peak("server_process_hwm_bytes"),
        "cold_peak_tree_rss_bytes": fig.pick(lambda r: r["cold"]["memory"]["peak_tree_rss_bytes"]),
        "restart_peak_tree_rss_bytes": fig.pick(lambda r: r["restart"]["memory"]["peak_tree_rss_bytes"]),
        "cold_server_cpu_seconds": fig.pick(lambda r: r["cold"]["server_cpu_seconds"]),
        "server_log_bytes": fig.total("server_log_bytes"),
        "max_loadavg_1min": fig.pick(
            lambda r: max(
                max(r[p]["loadavg_1min_before"] or 0, r[p]["loadavg_1min_after"] or 0)
                for p in fig.phases
                if "loadavg_1min_after" in r[p]
            )
        ),
        "other_cpu_seconds": fig.total("other_cpu_seconds"),
        "steal_cpu_seconds": fig.total("steal_cpu_seconds"),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of the table, the median over repetitions where there are several."""
    fig = RunFigures(runs)
    return {**_complete_figures(fig), **_symbol_figures(fig), **_document_figures(fig), **_resource_figures(fig)}


def check_targets(summary: dict[str, Any]) -> dict[str, bool | None]:
    def at_most(key: str, limit: float) -> bool | None:
        value = summary.get(key)
        return None if value is None else value <= limit

    def complete_within(key: str, limit: float) -> bool | None:
        """Never complete is a miss; None (not applicable) for a server without workspace/symbol."""
        if not summary.get("workspace_symbol_supported", True):
            return None
        value = summary.get(key)
        return value is not None and value <= limit

    return {
        "cold_complete_le_5_s": complete_within("cold_complete_seconds", TARGETS["cold_complete_seconds_max"]),
        "restart_complete_le_0_5_s": complete_within(
            "restart_complete_seconds", TARGETS["restart_complete_seconds_max"]
        ),
        "warm_symbol_p95_le_20_ms": at_most("warm_symbol_p95_ms", TARGETS["warm_symbol_p95_ms_max"]),
        "document_symbol_first_le_50_ms": at_most("document_symbol_first_ms", TARGETS["document_symbol_first_ms_max"]),
        "document_symbol_warm_p95_le_10_ms": at_most(
            "document_symbol_warm_p95_ms", TARGETS["document_symbol_warm_p95_ms_max"]
        ),
        "edit_document_symbol_p95_le_50_ms": at_most(
            "edit_document_symbol_p95_ms", TARGETS["edit_document_symbol_p95_ms_max"]
        ),
        "peak_tree_rss_le_120_mib": at_most("peak_tree_rss_bytes", TARGETS["peak_tree_rss_bytes_max"]),
    }


def ratios_over_peers(summaries: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Aurora's figure over each peer's, for every figure both have (and the peer's is not 0)."""
    if "aurora" not in summaries:
        return {}
    mine = summaries["aurora"]
    out: dict[str, dict[str, float]] = {}
    for peer, theirs in summaries.items():
        if peer == "aurora":
            continue
        out[peer] = {
            key: value / theirs[key]
            for key, value in mine.items()
            if is_number(value) and is_number(theirs.get(key)) and theirs[key]
        }
    return out


ROWS: list[tuple[str, str, str, float]] = [
    ("cold: process start → complete answer, s", "cold_complete_from_start_seconds", ".2f", 1.0),
    ("  CPU of the process tree by then, s", "cold_complete_tree_cpu_seconds", ".2f", 1.0),
    ("cold: process start → initialize result, s", "cold_start_to_initialize_result_seconds", ".3f", 1.0),
    ("  CPU of the process tree by then, s", "cold_initialize_result_tree_cpu_seconds", ".3f", 1.0),
    ("cold: initialize → complete answer, s", "cold_complete_seconds", ".2f", 1.0),
    ("  the completing request: sent at, s", "cold_complete_poll_sent_seconds", ".2f", 1.0),
    ("  the completing request: waited, s", "cold_complete_poll_wait_seconds", ".2f", 1.0),
    ("cold: initialize → first answer, s", "cold_first_answer_seconds", ".2f", 1.0),
    ("cold: initialize → index idle, s", "cold_ready_seconds", ".2f", 1.0),
    ("restart: process start → complete answer, s", "restart_complete_from_start_seconds", ".3f", 1.0),
    ("  CPU of the process tree by then, s", "restart_complete_tree_cpu_seconds", ".3f", 1.0),
    ("restart: initialize → complete answer, s", "restart_complete_seconds", ".3f", 1.0),
    ("restart: initialize → first answer, s", "restart_first_answer_seconds", ".3f", 1.0),
    ("warm workspace/symbol p50, ms", "warm_symbol_p50_ms", ".1f", 1.0),
    ("warm workspace/symbol p95, ms", "warm_symbol_p95_ms", ".1f", 1.0),
    ("warm workspace/symbol max, ms", "warm_symbol_max_ms", ".1f", 1.0),
    ("  tree CPU per request, ms", "warm_symbol_cpu_ms_per_request", ".1f", 1.0),
    ("  requests asked (budget)", "warm_symbol_asked", ".0f", 1.0),
    ("  mean symbols per answer", "warm_symbol_mean_results", ".0f", 1.0),
    ("exact-name workspace/symbol p50, ms", "exact_name_symbol_p50_ms", ".1f", 1.0),
    ("exact-name workspace/symbol p95, ms", "exact_name_symbol_p95_ms", ".1f", 1.0),
    ("completeness (name + file), share", "completeness_share", ".3f", 1.0),
    ("  found at the definition line, share", "completeness_at_line_share", ".3f", 1.0),
    ("  definitions asked (budget)", "completeness_asked", ".0f", 1.0),
    ("  sample whose name has > 100 definitions", "completeness_name_over_limit_share", ".3f", 1.0),
    ("documentSymbol first, ms", "document_symbol_first_ms", ".1f", 1.0),
    ("  tree CPU, ms", "document_symbol_first_cpu_ms", ".0f", 1.0),
    ("documentSymbol warm p50, ms", "document_symbol_warm_p50_ms", ".1f", 1.0),
    ("documentSymbol warm p95, ms", "document_symbol_warm_p95_ms", ".1f", 1.0),
    ("  tree CPU per request, ms", "document_symbol_warm_cpu_ms_per_request", ".1f", 1.0),
    ("documentSymbol warm, 1 s later, p50, ms", "document_symbol_settled_p50_ms", ".1f", 1.0),
    ("documentSymbol warm, 1 s later, p95, ms", "document_symbol_settled_p95_ms", ".1f", 1.0),
    ("  class/def symbols (ast has)", "document_definition_symbols", "d", 1.0),
    ("edit → documentSymbol p50, ms", "edit_document_symbol_p50_ms", ".1f", 1.0),
    ("edit → documentSymbol p95, ms", "edit_document_symbol_p95_ms", ".1f", 1.0),
    ("typing burst → documentSymbol p50, ms", "burst_document_symbol_p50_ms", ".1f", 1.0),
    ("typing burst → documentSymbol max, ms", "burst_document_symbol_max_ms", ".1f", 1.0),
    ("edit → workspace/symbol finds it, s", "edit_workspace_symbol_seconds", ".2f", 1.0),
    ("  Aurora's refresh after one edit, s", "edit_refresh_seconds", ".2f", 1.0),
    ("documentSymbol during first index, ms", "document_symbol_during_index_ms", ".0f", 1.0),
    ("peak RSS, process tree (sampled), MiB", "peak_tree_rss_bytes", ".1f", MIB),
    ("peak PSS, process tree (sampled), MiB", "peak_tree_pss_bytes", ".1f", MIB),
    ("sum of per-process VmHWM, MiB", "sum_of_process_hwm_bytes", ".1f", MIB),
    ("server process VmHWM, MiB", "server_process_hwm_bytes", ".1f", MIB),
    ("cold phase server CPU, s", "cold_server_cpu_seconds", ".2f", 1.0),
    ("server stderr log, MiB", "server_log_bytes", ".1f", MIB),
    ("max 1-min load average seen", "max_loadavg_1min", ".2f", 1.0),
    ("CPU s used by other programs", "other_cpu_seconds", ".1f", 1.0),
    ("CPU s stolen by the hypervisor", "steal_cpu_seconds", ".1f", 1.0),
]
# Rows that only a server with workspace/symbol can fill: "n/s" (not supported) for the others.
_WORKSPACE_SYMBOL_PREFIXES = ("cold_complete", "cold_first", "restart_complete", "restart_first", "warm_symbol",
                              "exact_name", "completeness", "edit_workspace_symbol")  # fmt: skip
WORKSPACE_SYMBOL_ROWS = frozenset(key for _, key, _, _ in ROWS if key.startswith(_WORKSPACE_SYMBOL_PREFIXES))
# Counts and circumstances, not results: the table gives no ratio for them (the JSON does).
NO_RATIO_ROWS = frozenset({"warm_symbol_asked", "warm_symbol_mean_results", "completeness_asked",
                           "completeness_name_over_limit_share", "document_definition_symbols", "server_log_bytes",
                           "max_loadavg_1min", "other_cpu_seconds", "steal_cpu_seconds",
                           "complete_timeout_seconds"})  # fmt: skip


def _cell(summary: dict[str, Any], key: str, fmt: str, scale: float) -> str:
    value = summary.get(key)
    if value is None:
        if key in WORKSPACE_SYMBOL_ROWS and not summary.get("workspace_symbol_supported"):
            return "n/s"
        if key.startswith(("cold_complete", "restart_complete")) and summary.get("complete_timeout_seconds"):
            return f"not in {summary['complete_timeout_seconds']:.0f} s"
        return "—"
    if key == "document_definition_symbols":
        return f"{value:.0f} ({summary.get('document_ast_definitions')})"
    return format(value / scale, fmt)


def print_table(
    workspace: WorkspaceSpec,
    summaries: dict[str, dict[str, Any]],
    targets: dict[str, dict[str, Any]],
    shorts: dict[str, str],
    unavailable: dict[str, str],
) -> None:
    names = list(summaries)
    peers = [n for n in names if n != "aurora"] if "aurora" in names else []
    header = names + [f"aurora/{shorts[p]}" for p in peers]
    widths = [max(10, len(h)) for h in header]
    label_width = max(len(label) for label, *_ in ROWS)
    print(f"\n== {workspace.name}: complete query {workspace.complete_query!r} "
          f"({workspace.complete_container}.{workspace.complete_query} of {workspace.complete_file}); "
          f"document {workspace.document}")  # fmt: skip
    print(f"{'':<{label_width}}  " + "  ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for label, key, fmt, scale in ROWS:
        cells = [_cell(summaries[name], key, fmt, scale) for name in names]
        for peer in peers:
            a, b = summaries["aurora"].get(key), summaries[peer].get(key)
            ratio = key not in NO_RATIO_ROWS and is_number(a) and is_number(b) and b
            cells.append(f"{a / b:.3f}" if ratio else "")
        print(f"{label:<{label_width}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
    print("n/s: the server does not support workspace/symbol; not in N s: no complete answer within the "
          "complete-timeout; —: no figure; ratios are left blank where either side is missing")  # fmt: skip
    for name in names:
        for error in summaries[name]["errors"]:
            print(f"{name}: FAILED {error}")
        verdicts = {True: "met", False: "MISSED", None: "n/a"}
        print(f"targets, {name}: " + ", ".join(f"{k} {verdicts[v]}" for k, v in targets[name].items()))
    for name, reason in unavailable.items():
        print(f"{name}: unavailable ({reason})")


# -- profiles ------------------------------------------------------------------------------


def run_profile(root: Path, cfg: Config) -> dict[str, Any]:
    """One more Aurora pass (cold, restart) with py-spy attached during each window of interest.

    Not part of the measured figures: sampling slows the server down a little.
    """
    executable = py_spy()
    PROFILES.mkdir(parents=True, exist_ok=True)
    profiler = WindowProfiler(executable, PROFILES)
    profiled_cfg = dataclasses.replace(cfg, profiler=profiler)
    state = Path(tempfile.mkdtemp(prefix="aurora-lsp-bench-profile-"))
    spec = aurora_spec()
    try:
        print(f"[profile] aurora cold on {cfg.workspace.name}, under py-spy …", file=sys.stderr, flush=True)
        asyncio.run(phase_cold(spec, root, state, profiled_cfg))
        print(f"[profile] aurora restart on {cfg.workspace.name}, under py-spy …", file=sys.stderr, flush=True)
        asyncio.run(phase_restart(spec, root, state, profiled_cfg))
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return {"py_spy": PY_SPY_VERSION, "rate_hz": profiler.rate, "workspace": cfg.workspace.name,
            "windows": {name: summarize_profile(path) for name, path in profiler.files.items()}}  # fmt: skip


def print_profile(profile: dict[str, Any]) -> None:
    for window, info in profile["windows"].items():
        print(f"\nprofile {window}: {info.get('path')} ({info.get('samples')} samples)")
        print("  threads: " + ", ".join(f"{name} {count}" for name, count in info.get("threads", [])[:5]))
        for frame, count in info.get("self", [])[:10]:
            print(f"  {count:6d} self  {frame}")


# -- main ----------------------------------------------------------------------------------

# What the results' notes say about the method and the servers (notes() adds the workspaces and setups).
CLIENT_NOTE = (
    "Times are client-side wall clock: request sent to structured answer (pygls + lsprotocol on the client "
    "side for every server; a server that answers thousands of symbols pays for them being read here, as "
    "an editor would)."
)
METHOD_NOTES = [
    "jedi-language-server has no workspace index: workspace/symbol is jedi's Project.complete_search, "
    "which looks at module-level names only and parses at most 30 files per query, so methods such as "
    "BaseHandler.get_response are never in its answer to their plain name.",
    "python-lsp-server 1.15.0 does not implement workspace/symbol (no workspaceSymbolProvider in its "
    "capabilities, no plugin hook for it): it is not asked, and its workspace/symbol figures are null (n/s). "
    "Its notebookDocumentSync capability is kept unparsed by the client (lsprotocol 2025.0.0 cannot "
    "structure its selector; no notebook is used here).",
    "flask's pyproject.toml has [tool.pyright] include = ['src', 'tests/type_check'] (and "
    "typeCheckingMode 'basic'): basedpyright follows it, as it would for anyone who opens the repository, "
    "so on flask its workspace/symbol covers those folders only (completeness.found_asked_by_folder in the "
    "runs gives found/asked per folder). The Django and sympy wheels have no such configuration.",
    "basedpyright answers workspace/symbol from every workspace file, parsed and bound on the first such "
    "request (before its workspace is initialized it answers nothing); it keeps nothing on disk, so its "
    "restart is a second cold start. Its matching is fuzzy (a subsequence of the name) and its answers have "
    "no size limit: 'mean symbols per answer' shows what the client had to read.",
    f"Aurora and jedi-language-server answer at most {SYMBOL_LIMIT} symbols (jedi-language-server's "
    "maxSymbols set to match; its default is 20); basedpyright has no limit.",
    "completeness: a sample of the workspace's definitions (ast: every class/def/async def at any depth; "
    "fixed --seed), each queried by its exact name; found = a result with that name in the definition's "
    f"file. Names shared by more than {SYMBOL_LIMIT} definitions cannot all be found by a server whose "
    "answers hold 100 (their share is reported). The warm query set and the completeness sample each stop "
    "asking after --symbol-budget s; shares and percentiles are then over what was asked (a prefix of a "
    "random sample), and 'asked' says how much that was.",
    "The jedi-based servers (jedi-language-server, python-lsp-server) list imported names in a file's "
    "outline, as the class or function they resolve to: their 'class/def symbols' exceed ast's count (in "
    "flask's app.py jedi resolves 26 imported names to classes or functions), and resolving them is part "
    "of their documentSymbol time.",
    "documentSymbol first = didOpen sent → first answer; warm = the next --docsym-repeat requests, at once "
    "(what an editor asks right after opening); warm_settled = the same 1 s later, once Aurora is idle. "
    "Edits append a small function at the end (incremental didChange); isolated edits wait for the "
    "previous edit's background refresh; the burst sends edits --burst-interval apart, each followed "
    "by documentSymbol until it shows the function.",
    "peak RSS: the peak of the summed VmRSS of the server and its descendants, sampled from /proc every "
    "--sample-interval s (shared pages count once per process; PSS splits them). VmHWM is the kernel's "
    "per-process peak; their sum is an upper bound. Target judged on the sampled tree RSS, 120 MiB. "
    "basedpyright's tree is its Python entry point (about 11 MiB) and node.",
    "ratios: Aurora's figure over the peer's (below 1: Aurora took less time or memory; for shares, above "
    "1: Aurora found more).",
    "server_log_bytes: what each server wrote to stderr (Aurora logs every JSON-RPC message at INFO).",
    "other_cpu_seconds = machine busy CPU (/proc/stat) minus this benchmark's and its server's: other work.",
    "MiB = 1024*1024 bytes.",
]


def notes(specs: list[ServerSpec], workspaces: list[WorkspaceSpec]) -> list[str]:
    complete_answers = "; ".join(
        f"{w.name}: the {w.complete_query!r} answer holds {w.complete_container}.{w.complete_query} of "
        f"{w.complete_file} ({w.complete_why})"
        for w in workspaces
    )
    return [
        CLIENT_NOTE,
        "cold/restart clocks start when `initialize` is sent; polled every --poll-interval s up to the "
        "workspace's complete-timeout. Complete answers: " + complete_answers,
        *METHOD_NOTES,
        *(f"setup, {spec.name}: {spec.setup}" for spec in specs),
    ]


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", action="append", choices=tuple(WORKSPACES),
                        help="workspace(s) to run (repeatable; default: django)")  # fmt: skip
    parser.add_argument("--only", action="append", choices=SERVERS, help="server(s) to run (default: all six)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a quick try of the whole flow: " + ", ".join(f"{k} {v}" for k, v in QUICK.items()),
    )
    parser.add_argument("--repeat", type=int, default=1, help="repetitions; the table gives medians")
    per_workspace = ", ".join(f"{w.name} {w.complete_timeout:.0f}" for w in WORKSPACES.values())
    parser.add_argument("--complete-timeout", type=float, default=None,
                        help=f"wait for a complete answer this long, s (default: {per_workspace})")  # fmt: skip
    parser.add_argument("--poll-interval", type=float, default=0.05, help="pause between polls, s")
    parser.add_argument("--symbol-repeat", type=int, default=5, help="rounds of the fixed query set")
    parser.add_argument("--sample", type=int, default=300, help="definitions queried for completeness")
    parser.add_argument("--seed", type=int, default=2025, help="random seed of that sample")
    parser.add_argument("--symbol-budget", type=float, default=180.0,
                        help="seconds the warm query rounds, and the completeness sample, may each take")  # fmt: skip
    parser.add_argument("--request-timeout", type=float, default=REQUEST_TIMEOUT_S, help="seconds one request may take")
    parser.add_argument("--docsym-repeat", type=int, default=20, help="warm documentSymbol requests")
    parser.add_argument("--edits", type=int, default=8, help="isolated edits")
    parser.add_argument("--burst-edits", type=int, default=10, help="edits in the typing burst")
    parser.add_argument("--burst-interval", type=float, default=0.25, help="seconds between burst edits")
    parser.add_argument("--edit-symbol-timeout", type=float, default=3.0,
                        help="how long workspace/symbol may take to find an edited-in function")  # fmt: skip
    parser.add_argument("--sample-interval", type=float, default=0.05, help="memory sampling interval, s")
    parser.add_argument("--no-outline", action="store_true", help="skip the documentSymbol-during-index phase")
    parser.add_argument("--profile", action="store_true", help=f"also Aurora once under py-spy, {PROFILE_WORKSPACE}")
    parser.add_argument("--profile-only", action="store_true", help="only the py-spy pass (no measurements)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--plot", type=Path, default=PLOT, help="the headline's PNG (Django)")
    parser.add_argument("--no-plot", action="store_true", help="no PNG (and no matplotlib install)")
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    if args.repeat < 1 and not args.profile_only:
        parser.error("--repeat must be at least 1")
    return args


def lsp_versions(environments: dict[str, Any]) -> dict[str, Any]:
    return versions(("lsprotocol", "pytest-lsp", "cattrs"), peer_versions(environments), source_sha256=True)


def profile_pass(args: argparse.Namespace) -> dict[str, Any]:
    """run_profile on PROFILE_WORKSPACE, with the measurement settings of `args`."""
    root, _ = prepare_workspace(WORKSPACES[PROFILE_WORKSPACE])
    return run_profile(root, workspace_config(WORKSPACES[PROFILE_WORKSPACE], root, args)[0])


def profile_only(args: argparse.Namespace) -> int:
    profile = profile_pass(args)
    write_json(profile, PROFILES / "summary.json")
    print_profile(profile)
    print(f"\nwritten to {PROFILES / 'summary.json'}")
    return 0


def workspace_settings(workspaces: list[WorkspaceSpec], args: argparse.Namespace) -> dict[str, Any]:
    """What is asked of each workspace, for the results' settings."""
    return {
        w.name: {
            "complete_query": {
                "query": w.complete_query,
                "path": w.complete_file,
                "container": w.complete_container,
                "why": w.complete_why,
            },
            "complete_timeout": w.complete_timeout if args.complete_timeout is None else args.complete_timeout,
            "queries": list(w.queries),
            "document": w.document,
        }
        for w in workspaces
    }


def new_report(
    args: argparse.Namespace,
    specs: list[ServerSpec],
    unavailable: dict[str, str],
    environments: dict[str, Any],
    workspaces: list[WorkspaceSpec],
) -> dict[str, Any]:
    """The results before any measurement: settings, machine, versions, targets, notes."""
    return {
        "benchmark": "lsp",
        "timestamp": timestamp(),
        "finished": False,
        "repeat": args.repeat,
        "workspaces": {},
        "settings": {
            **{k: v for k, v in vars(args).items() if k not in ("output", "only", "workspace")},
            "servers": [n for n in SERVERS if n in (args.only or SERVERS)],
            "workspaces": [w.name for w in workspaces],
            "per_workspace": workspace_settings(workspaces, args),
            "server_settings": server_settings(specs),
            "symbol_limit": SYMBOL_LIMIT,
            "client": "pytest-lsp ClientServerConfig(...).start(): pygls LanguageClient over stdio, "
            "client_capabilities('visual-studio-code')",
        },
        "machine": machine_facts(),
        "loadavg_at_start": os.getloadavg(),
        "loadavg_at_end": None,
        "versions": lsp_versions(environments),
        "code_changed_during_run": None,
        "targets": TARGETS,
        "unavailable": unavailable,
        "summary": {},
        "targets_met": {},
        "issue_targets": "issue 18, against ty in the same run: complete workspace/symbol cold <= 4x ty's and "
        "<= 1.5 s (from process start); after a restart <= 0.5 s; warm workspace/symbol p95 <= 2x ty's; "
        "peak tree RSS <= 1.0x ty's",
        "issue_targets_met": {},
        "ratios_aurora_over_peer": {},
        "headline_ratios": {},
        "headline_markdown": {},
        "ast_floor": {},
        "profile": None,
        "notes": notes(specs, workspaces),
        "runs": {},
    }


def bench_workspace(
    report: dict[str, Any], workspace: WorkspaceSpec, specs: list[ServerSpec], args: argparse.Namespace
) -> None:
    """Every server on one workspace, --repeat times, servers alternating; the figures go into `report`."""
    root, pin = prepare_workspace(workspace)
    cfg, facts = workspace_config(workspace, root, args)
    phases = ["cold", "restart"] + ([] if args.no_outline else ["outline"])
    runs: dict[str, list[dict[str, Any]]] = {spec.name: [] for spec in specs}
    print(f"[{workspace.name}] ast floor …", file=sys.stderr, flush=True)
    floors = [ast_floor(root)]
    for index in range(args.repeat):
        for spec in specs:  # servers alternate, so that load drifts touch them all
            print(f"[{workspace.name} {index + 1}/{args.repeat}] {spec.name}", file=sys.stderr, flush=True)
            runs[spec.name].append(run_server(spec, root, cfg, phases))
    floors.append(ast_floor(root))  # before and after the servers: how the machine's speed drifted
    floor = {**floors[0], **{k: median_or_none([f[k] for f in floors[0]["runs"] + floors[1]["runs"]])
                             for k in ("wall_seconds", "cpu_seconds", "process_wall_seconds", "process_cpu_seconds")},
             "before_servers": {k: v for k, v in floors[0].items() if k != "runs"},
             "after_servers": {k: v for k, v in floors[1].items() if k != "runs"}}  # fmt: skip
    floor["method"] += "; three runs before the servers and three after, median of the six"
    summaries = {name: summarize(results) for name, results in runs.items()}
    report["workspaces"][workspace.name] = {**pin, **facts}
    report["ast_floor"][workspace.name] = floor
    report["summary"][workspace.name] = summaries
    report["targets_met"][workspace.name] = {name: check_targets(s) for name, s in summaries.items()}
    report["issue_targets_met"][workspace.name] = peer_table.issue_targets(summaries)
    report["ratios_aurora_over_peer"][workspace.name] = ratios_over_peers(summaries)
    report["headline_ratios"][workspace.name] = peer_table.ratios(summaries, floor)
    report["headline_markdown"][workspace.name] = peer_table.markdown(summaries, titles(report), floor)
    report["runs"][workspace.name] = runs


def titles(report: dict[str, Any]) -> dict[str, str]:
    """Each server's name and version as the headline shows it."""
    commit = (report["versions"].get("aurora_git_commit") or "")[:7]
    dirty = "+" if report["versions"].get("aurora_server_dirty") else ""
    found = {"aurora": f"Aurora ({commit}{dirty})" if commit else "Aurora"}
    found.update({name: f"{name} {version}" for name, (version, _, _) in PEERS_PINNED.items()})
    return found


def print_results(report: dict[str, Any], specs: list[ServerSpec], workspaces: list[WorkspaceSpec]) -> None:
    shorts = {spec.name: spec.short for spec in specs}
    for workspace in workspaces:
        print_table(workspace, report["summary"][workspace.name], report["targets_met"][workspace.name], shorts,
                    report["unavailable"])  # fmt: skip
    for workspace in workspaces:
        print(f"\n== {workspace.name}: the headline (wall, with the whole process tree's CPU in parentheses)")
        print("\n".join(report["headline_markdown"][workspace.name]))
        met = report["issue_targets_met"][workspace.name]
        verdicts = {True: "met", False: "MISSED", None: "n/a"}
        print("issue 18 targets, aurora: " + ", ".join(f"{k} {verdicts[v]}" for k, v in met.items()))
    print(f"\nload average at start {report['loadavg_at_start'][0]:.2f}, at end {report['loadavg_at_end'][0]:.2f}; "
          f"{report['wall_seconds'] / 60:.1f} minutes")  # fmt: skip
    if report["profile"]:
        print_profile(report["profile"])
    warn_if_code_changed(report)


PLOT_WORKSPACE = "django"


def draw_plot(report: dict[str, Any], output: Path) -> bool:
    """The headline figures of PLOT_WORKSPACE as a PNG (docs/lsp-peers.png)."""
    load = report["loadavg_at_start"][0]
    busiest = max((s.get("max_loadavg_1min") or 0) for s in report["summary"][PLOT_WORKSPACE].values())
    caption = (f"Django 5.2.19 wheel, one run {report['timestamp'][:10]}, load average {load:.1f} at the start, "
               f"up to {busiest:.1f}; python benchmarks/lsp_bench.py")  # fmt: skip
    return peer_table.plot(report["summary"][PLOT_WORKSPACE], titles(report), report["ast_floor"][PLOT_WORKSPACE],
                           caption, output)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.simplefilter("ignore", LspSpecificationWarning)
    if args.profile_only:
        return profile_only(args)
    workspaces = [WORKSPACES[name] for name in WORKSPACES if name in (args.workspace or DEFAULT_WORKSPACES)]
    specs, unavailable, environments = prepare_servers(args.only or list(SERVERS))
    report = new_report(args, specs, unavailable, environments, workspaces)
    started = time.perf_counter()
    for workspace in workspaces:
        bench_workspace(report, workspace, specs, args)
        write_report(report, args.output, started)  # a long run that stops later keeps what it has
    if args.profile:
        report["profile"] = profile_pass(args)
    report["finished"] = True
    if not args.no_plot and PLOT_WORKSPACE in report["summary"]:
        report["plot"] = str(args.plot) if draw_plot(report, args.plot) else None
    write_report(report, args.output, started)
    print_results(report, specs, workspaces)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
