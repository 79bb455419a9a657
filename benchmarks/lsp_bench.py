"""LSP benchmark: Aurora and jedi-language-server driven by the same LSP client over stdio.

    python benchmarks/lsp_bench.py                         # both servers, Django 5.2.19
    python benchmarks/lsp_bench.py --only aurora --repeat 3
    python benchmarks/lsp_bench.py --profile               # also one Aurora pass under py-spy
    python benchmarks/lsp_bench.py --profile-only          # only that (profiles in .cache/profiles)

The workspace is the pinned Django wheel that index_bench.py fetches (`pip download
--no-deps`, sha256-checked, unpacked under benchmarks/.cache/src; its code is reused).
jedi-language-server, pinned, lives in its own virtualenv under benchmarks/.cache/peers/
so that its dependencies never touch ours. Both servers are started by pytest-lsp's
`ClientServerConfig(...).start()` (a pygls LanguageClient over stdio, with Visual Studio
Code's client capabilities), each in a fresh process per phase, with a clean environment
and a fresh cache folder (XDG_CACHE_HOME: where jedi keeps its parso cache; Aurora gets a
fresh database through `initializationOptions.databasePath`).

Phases, per server and repetition:

  cold     fresh state. Clock starts when `initialize` is sent; `workspace/symbol`
           "get_response" is polled until the answer is complete (it holds
           BaseHandler.get_response of django/core/handlers/base.py) or --complete-timeout
           passes. Then, once indexing is done (Aurora: `aurora/stats` says "idle" with
           lastRunSeconds set; jedi-language-server has no index), the fixed query set
           (QUERIES) is sent --symbol-repeat times, and --sample definitions of the wheel
           (every class/def/async def at any depth, by Python's ast; fixed --seed) are
           queried by their exact name: found = a result with that name in the right file.
  restart  a second process on the same state (Aurora's database, jedi's cache): time to
           the complete answer again. Then documentSymbol on django/db/models/query.py:
           didOpen + the first answer, --docsym-repeat warm answers at once and again
           once things have settled (1 s later, index idle), --edits isolated
           incremental edits (a small function added at the end; each edit waits until
           the previous one has settled) timed from didChange to the documentSymbol answer
           that shows the new function, then whether workspace/symbol finds it, and a
           burst of --burst-edits edits --burst-interval apart (typing).
  outline  fresh state: didOpen + documentSymbol sent right after `initialized`, i.e.
           while Aurora's first index runs.

Peak memory: a sampler thread reads /proc every --sample-interval seconds for the server
process and all its descendants (Aurora's indexer starts a fork server and one parser per
core): the peak of the summed VmRSS (the headline), the peak of the summed PSS (shared
pages split between processes) and each process's own VmHWM (kernel-kept peak).
Latencies are client-side wall times (sending the request to a structured answer), so
both servers pay the same client costs. Percentiles are nearest-rank.
Results go to benchmarks/results/lsp.json with machine facts, versions and load figures.
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
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.client import LanguageClient as PyglsLanguageClient
from pygls.protocol import default_converter
from pygls.uris import to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.checks import LspSpecificationWarning
from pytest_lsp.client import register_lsp_features

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import index_bench  # noqa: E402  (the wheel, its unpacking and the machine facts are shared)

PEERS = index_bench.CACHE / "peers"
PROFILES = index_bench.CACHE / "profiles"
RESULTS = HERE / "results" / "lsp.json"
WORKSPACE = "django"

JLS_PACKAGE = "jedi-language-server"
JLS_VERSION = "0.47.0"
PY_SPY_VERSION = "0.4.3"

# The answer that counts as complete for the cold and restart clocks.
COMPLETE_QUERY = "get_response"
COMPLETE_FILE = "django/core/handlers/base.py"
COMPLETE_CONTAINER = "BaseHandler"
DOCUMENT = "django/db/models/query.py"

# Aurora answers workspace/symbol with at most 100 symbols (features/symbols.py); the peer
# gets the same limit through its `workspace.symbols.maxSymbols` option (default 20).
SYMBOL_LIMIT = 100

# What an editor sends: whole names, dotted names, abbreviations, one letter as typing starts.
QUERIES = [
    "Model",
    "QuerySet.filter",
    "get_response",
    "getresp",
    "qs.filter",
    "Field",
    "save",
    "as_sql",
    "HttpRequest",
    "HttpResponse",
    "reverse",
    "ForeignKey",
    "CharField.formfield",
    "get_queryset",
    "ValidationError",
    "__init__",
    "ModelAdmin.get_urls",
    "migrate",
    "tmpl",
    "m",
]

MIB = 1024 * 1024
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


def aurora_spec() -> ServerSpec:
    return ServerSpec(
        name="aurora",
        command=[sys.executable, "-m", "aurora_lsp"],
        has_index=True,
        options=lambda state: {"databasePath": str(state / "index.sqlite3")},
    )


def jls_spec(venv: Path) -> ServerSpec:
    return ServerSpec(
        name=JLS_PACKAGE,
        command=[str(venv / "bin" / "jedi-language-server")],
        has_index=False,
        options=lambda state: {"workspace": {"symbols": {"maxSymbols": SYMBOL_LIMIT}}},
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
        client.initialized(types.InitializedParams())

    def since_initialize(self) -> float:
        return time.perf_counter() - self.t_initialize

    def _client(self) -> BenchClient:
        assert self.client is not None
        return self.client

    async def request(self, awaitable: Awaitable[T], timeout: float = REQUEST_TIMEOUT_S) -> T:
        return await asyncio.wait_for(awaitable, timeout)

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


def is_complete(symbols: list[Any], root: Path) -> bool:
    return any(s.name == COMPLETE_QUERY and relative_path(_location(s)[0], root) == COMPLETE_FILE for s in symbols)


@dataclass(frozen=True)
class Definition:
    path: str
    name: str
    qualname: str
    line: int  # 0-based line of `def`/`class`
    first_line: int  # 0-based line of the first decorator, else `line`


def wheel_definitions(root: Path) -> tuple[list[Definition], list[str]]:
    """Every class, def and async def at any depth in the wheel's .py files, by ast."""
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
    complete_timeout: float
    poll_interval: float
    symbol_repeat: int
    sample: list[Definition]
    name_counts: collections.Counter[str]
    docsym_repeat: int
    edits: int
    burst_edits: int
    burst_interval: float
    edit_symbol_timeout: float
    sample_interval: float
    profiler: Profiler | None = None


async def wait_for_complete(session: Session, root: Path, timeout: float, interval: float) -> dict[str, Any]:
    """Poll workspace/symbol until the answer is complete; times are from sending `initialize`."""
    polls = []
    first_answer = first_nonempty = complete_at = complete_sent = None
    last: list[Any] = []
    while True:
        sent = session.since_initialize()
        seconds, last = await session.symbols(COMPLETE_QUERY)
        answered = session.since_initialize()
        complete = is_complete(last, root)
        polls.append({"sent": round(sent, 4), "answered": round(answered, 4), "results": len(last),
                      "complete": complete})  # fmt: skip
        first_answer = answered if first_answer is None else first_answer
        if last and first_nonempty is None:
            first_nonempty = answered
        if complete:
            complete_at, complete_sent = answered, sent
            break
        if answered > timeout:
            break
        await asyncio.sleep(interval)
    return {
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
    }


async def phase_cold(spec: ServerSpec, root: Path, state: Path, cfg: Config) -> dict[str, Any]:
    session = Session(spec, root, state, "cold", cfg.sample_interval)
    session.profiler = cfg.profiler
    await session.start()
    try:
        async with profiled(session, "cold-index"):
            await session.initialize()
            result: dict[str, Any] = {"complete": await wait_for_complete(session, root, cfg.complete_timeout,
                                                                          cfg.poll_interval)}  # fmt: skip
            stats = await session.wait_ready()
        result["ready_seconds"] = session.since_initialize() if spec.has_index else None
        result["stats_when_ready"] = stats
        # the same answer asked with a dotted name (jedi can walk into a class this way)
        _, dotted = await session.symbols(f"{COMPLETE_CONTAINER}.{COMPLETE_QUERY}")
        result["dotted_query"] = {"query": f"{COMPLETE_CONTAINER}.{COMPLETE_QUERY}",
                                  "complete": is_complete(dotted, root), "answer": describe(dotted, root)}  # fmt: skip
        async with profiled(session, "warm-symbols"):
            result["warm_symbols"] = await warm_symbols(session, root, cfg.symbol_repeat)
        async with profiled(session, "exact-name-symbols"):
            result["completeness"] = await completeness(session, root, cfg)
        if spec.has_index:
            result["stats_at_end"] = await session.stats()
    finally:
        result_facts = await session.close()
    return {**result_facts, **result}


async def warm_symbols(session: Session, root: Path, repeat: int) -> dict[str, Any]:
    per_query: dict[str, list[float]] = {q: [] for q in QUERIES}
    answers: dict[str, Any] = {}
    first_round: list[float] = []
    for index in range(repeat):
        for query in QUERIES:
            seconds, symbols = await session.symbols(query)
            per_query[query].append(seconds)
            if index == 0:
                first_round.append(seconds)
                answers[query] = {"count": len(symbols), "top": describe(symbols, root, 3)}
    every = [s for values in per_query.values() for s in values]
    return {
        "repeat": repeat,
        "all": latency_summary(every),
        "first_round": latency_summary(first_round),
        "per_query_p50_ms": {q: nearest_rank([s * 1000 for s in v], 50) for q, v in per_query.items()},
        "per_query_max_ms": {q: max(v) * 1000 for q, v in per_query.items()},
        "answers": answers,
    }


async def completeness(session: Session, root: Path, cfg: Config) -> dict[str, Any]:
    found = at_line = 0
    seconds_all: list[float] = []
    misses: list[dict[str, Any]] = []
    full_misses = ambiguous_misses = 0
    for definition in cfg.sample:
        seconds, symbols = await session.symbols(definition.name)
        seconds_all.append(seconds)
        matches = [
            s for s in symbols if s.name == definition.name and relative_path(_location(s)[0], root) == definition.path
        ]
        if matches:
            found += 1
            if any(definition.first_line <= (_location(s)[1] or -1) <= definition.line for s in matches):
                at_line += 1
            continue
        full = len(symbols) >= SYMBOL_LIMIT
        ambiguous = cfg.name_counts[definition.name] > SYMBOL_LIMIT
        full_misses += full
        ambiguous_misses += ambiguous
        misses.append({"path": definition.path, "qualname": definition.qualname, "results": len(symbols),
                       "same_name_in_wheel": cfg.name_counts[definition.name]})  # fmt: skip
    total = len(cfg.sample)
    return {
        "sampled": total,
        "found": found,
        "found_share": found / total if total else None,
        "found_at_definition_line": at_line,
        "misses_with_full_answer": full_misses,
        "misses_with_over_limit_same_names": ambiguous_misses,
        # names shared by more definitions than an answer holds: not all of them can be found
        "sample_share_with_name_over_limit": sum(1 for d in cfg.sample if cfg.name_counts[d.name] > SYMBOL_LIMIT)
        / total
        if total
        else None,
        "latency": latency_summary(seconds_all),
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


async def phase_restart(spec: ServerSpec, root: Path, state: Path, cfg: Config,
                        ast_counts: dict[str, int]) -> dict[str, Any]:  # fmt: skip
    session = Session(spec, root, state, "restart", cfg.sample_interval)
    session.profiler = cfg.profiler
    await session.start()
    try:
        await session.initialize()
        result: dict[str, Any] = {"complete": await wait_for_complete(session, root, cfg.complete_timeout,
                                                                      cfg.poll_interval)}  # fmt: skip
        result["stats_when_ready"] = await session.wait_ready()
        result["ready_seconds"] = session.since_initialize() if spec.has_index else None
        result["warm_symbols"] = await warm_symbols(session, root, 1)
        result["document"] = await document_phase(session, root, cfg, ast_counts)
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
        while time.perf_counter() < deadline:
            _, symbols = await session.symbols(name)
            if any(s.name == name for s in symbols):
                found_at = time.perf_counter() - edit_started
                break
            await asyncio.sleep(0.05)
        stats = await session.wait_ready()  # Aurora: the refresh that followed the edit
        refresh = stats["indexing"].get("lastRunSeconds") if stats else None
        isolated.append({**shown, "workspace_symbol_seconds": found_at, "refresh_seconds": refresh})
    return isolated


async def document_phase(session: Session, root: Path, cfg: Config, ast_counts: dict[str, int]) -> dict[str, Any]:
    document = OpenDocument(session, root / DOCUMENT)
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
        "path": DOCUMENT,
        "first_seconds": first,
        "first_request_seconds": first_request,
        "top_level_symbols": len(symbols),
        "all_symbols": len(flatten(symbols)),
        "definition_symbols": len(names),
        "ast_definitions": ast_counts[DOCUMENT],
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
    session = Session(spec, root, state, "outline", cfg.sample_interval)
    session.profiler = cfg.profiler
    await session.start()
    try:
        await session.initialize()
        document = OpenDocument(session, root / DOCUMENT)
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


def run_server(spec: ServerSpec, root: Path, cfg: Config, ast_counts: dict[str, int],
               phases: list[str]) -> dict[str, Any]:  # fmt: skip
    state = Path(tempfile.mkdtemp(prefix=f"aurora-lsp-bench-{spec.name}-"))
    out: dict[str, Any] = {"state": str(state)}
    try:
        for phase in phases:
            gc.collect()
            print(f"[{spec.name}] {phase} …", file=sys.stderr, flush=True)
            if phase == "cold":
                out[phase] = asyncio.run(phase_cold(spec, root, state, cfg))
            elif phase == "restart":
                out[phase] = asyncio.run(phase_restart(spec, root, state, cfg, ast_counts))
            elif phase == "outline":
                fresh = Path(tempfile.mkdtemp(prefix=f"aurora-lsp-bench-{spec.name}-outline-"))
                try:
                    out[phase] = asyncio.run(phase_outline(spec, root, fresh, cfg))
                finally:
                    shutil.rmtree(fresh, ignore_errors=True)
            print(f"[{spec.name}] {phase}: {_brief(out[phase])}", file=sys.stderr, flush=True)
    finally:
        keep_logs = state.parent / f"{state.name}-logs"
        keep_logs.mkdir(exist_ok=True)
        for log in state.glob("*.stderr.log"):
            shutil.copy(log, keep_logs / log.name)
        shutil.rmtree(state, ignore_errors=True)
        out["logs"] = str(keep_logs)
    return out


def _brief(result: dict[str, Any]) -> str:
    parts = []
    if "complete" in result:
        c = result["complete"]
        done = f"{c['complete_seconds']:.2f} s" if c["complete_seconds"] is not None else "never"
        parts.append(f"complete {done} (first answer {c['first_answer_seconds']:.2f} s, {c['polls']} polls)")
    if "warm_symbols" in result:
        w = result["warm_symbols"]["all"]
        parts.append(f"warm symbols p50 {w['p50_ms']:.1f} ms p95 {w['p95_ms']:.1f} ms")
    if "completeness" in result:
        parts.append(f"found {result['completeness']['found_share']:.1%}")
    if "document" in result:
        d = result["document"]
        parts.append(f"docsym first {d['first_seconds'] * 1000:.0f} ms warm p95 {d['warm']['p95_ms']:.1f} ms, "
                     f"edit p95 {d['edits']['document_symbol']['p95_ms'] or float('nan'):.0f} ms")  # fmt: skip
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
    """The figures of the table, the median over repetitions where there are several."""

    def pick(getter: Callable[[dict[str, Any]], Any]) -> Any:
        values = []
        for run in runs:
            try:
                values.append(getter(run))
            except (KeyError, TypeError):
                values.append(None)
        return _median_or_none(values)

    phases = [p for p in ("cold", "restart", "outline") if p in runs[0]]

    def peak(key: str) -> Any:
        return pick(lambda r: max(r[p]["memory"][key] for p in phases))

    return {
        "cold_complete_seconds": pick(lambda r: r["cold"]["complete"]["complete_seconds"]),
        "cold_first_answer_seconds": pick(lambda r: r["cold"]["complete"]["first_answer_seconds"]),
        "cold_complete_poll_sent_seconds": pick(lambda r: r["cold"]["complete"]["complete_poll_sent_seconds"]),
        "cold_complete_poll_wait_seconds": pick(lambda r: r["cold"]["complete"]["complete_poll_wait_seconds"]),
        "cold_first_nonempty_seconds": pick(lambda r: r["cold"]["complete"]["first_nonempty_seconds"]),
        "cold_ready_seconds": pick(lambda r: r["cold"]["ready_seconds"]),
        "cold_initialize_seconds": pick(lambda r: r["cold"]["initialize_seconds"]),
        "cold_spawn_seconds": pick(lambda r: r["cold"]["spawn_seconds"]),
        "cold_complete_runs": sum(1 for r in runs if r["cold"]["complete"]["complete_seconds"] is not None),
        "restart_complete_seconds": pick(lambda r: r["restart"]["complete"]["complete_seconds"]),
        "restart_first_answer_seconds": pick(lambda r: r["restart"]["complete"]["first_answer_seconds"]),
        "restart_ready_seconds": pick(lambda r: r["restart"]["ready_seconds"]),
        "dotted_query_complete": pick(lambda r: int(r["cold"]["dotted_query"]["complete"])),
        "warm_symbol_p50_ms": pick(lambda r: r["cold"]["warm_symbols"]["all"]["p50_ms"]),
        "warm_symbol_p95_ms": pick(lambda r: r["cold"]["warm_symbols"]["all"]["p95_ms"]),
        "warm_symbol_max_ms": pick(lambda r: r["cold"]["warm_symbols"]["all"]["max_ms"]),
        "exact_name_symbol_p50_ms": pick(lambda r: r["cold"]["completeness"]["latency"]["p50_ms"]),
        "exact_name_symbol_p95_ms": pick(lambda r: r["cold"]["completeness"]["latency"]["p95_ms"]),
        "completeness_share": pick(lambda r: r["cold"]["completeness"]["found_share"]),
        "completeness_at_line_share": pick(
            lambda r: r["cold"]["completeness"]["found_at_definition_line"] / r["cold"]["completeness"]["sampled"]
        ),
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
        "server_log_bytes": pick(lambda r: sum(r[p]["server_log_bytes"] or 0 for p in phases)),
        "max_loadavg_1min": pick(
            lambda r: max(max(r[p]["loadavg_1min_before"] or 0, r[p]["loadavg_1min_after"] or 0) for p in phases)
        ),
        "other_cpu_seconds": pick(lambda r: sum(r[p]["other_cpu_seconds"] for p in phases)),
        "steal_cpu_seconds": pick(lambda r: sum(r[p]["steal_cpu_seconds"] for p in phases)),
    }


def check_targets(summary: dict[str, Any]) -> dict[str, bool | None]:
    def at_most(key: str, limit: float) -> bool | None:
        value = summary.get(key)
        return None if value is None else value <= limit

    cold = summary.get("cold_complete_seconds")
    return {
        "cold_complete_le_5_s": False if cold is None else cold <= TARGETS["cold_complete_seconds_max"],
        "restart_complete_le_0_5_s": at_most("restart_complete_seconds", TARGETS["restart_complete_seconds_max"])
        or False,
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
    ("exact-name workspace/symbol p50, ms", "exact_name_symbol_p50_ms", ".1f", 1.0),
    ("exact-name workspace/symbol p95, ms", "exact_name_symbol_p95_ms", ".1f", 1.0),
    ("completeness (name + file), share", "completeness_share", ".3f", 1.0),
    ("  found at the definition line, share", "completeness_at_line_share", ".3f", 1.0),
    ("  sample whose name has > 100 definitions", "completeness_name_over_limit_share", ".3f", 1.0),
    ("documentSymbol query.py first, ms", "document_symbol_first_ms", ".1f", 1.0),
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


def print_table(summaries: dict[str, dict[str, Any]], targets: dict[str, dict[str, Any]]) -> None:
    names = list(summaries)
    header = [*names] + (["Aurora/jls"] if len(names) == 2 else [])
    width = max(len(label) for label, *_ in ROWS)
    cell = max(14, *(len(n) for n in header))
    print(f"{'':<{width}}  " + "  ".join(f"{n:>{cell}}" for n in header))
    for label, key, fmt, scale in ROWS:
        values = [summaries[name].get(key) for name in names]
        cells = []
        for name, value in zip(names, values, strict=True):
            if value is None:
                cells.append("never" if key == "cold_complete_seconds" else "—")
            elif key == "document_definition_symbols":
                cells.append(f"{value:.0f} ({summaries[name].get('document_ast_definitions')})")
            else:
                cells.append(format(value / scale, fmt))
        if len(names) == 2:
            a, b = values
            ratio = a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None
            cells.append("—" if ratio is None else f"{ratio:.3f}")
        print(f"{label:<{width}}  " + "  ".join(f"{c:>{cell}}" for c in cells))
    for name in names:
        print(f"targets, {name}: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets[name].items()))


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


def run_profile(root: Path, cfg: Config, ast_counts: dict[str, int]) -> dict[str, Any]:
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
        print("[profile] aurora cold, under py-spy …", file=sys.stderr, flush=True)
        asyncio.run(phase_cold(spec, root, state, profiled_cfg))
        print("[profile] aurora restart, under py-spy …", file=sys.stderr, flush=True)
        asyncio.run(phase_restart(spec, root, state, profiled_cfg, ast_counts))
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return {"py_spy": PY_SPY_VERSION, "rate_hz": profiler.rate,
            "windows": {name: summarize_profile(path) for name, path in profiler.files.items()}}  # fmt: skip


def print_profile(profile: dict[str, Any]) -> None:
    for window, info in profile["windows"].items():
        print(f"\nprofile {window}: {info.get('path')} ({info.get('samples')} samples)")
        print("  threads: " + ", ".join(f"{name} {count}" for name, count in info.get("threads", [])[:5]))
        for frame, count in info.get("self", [])[:10]:
            print(f"  {count:6d} self  {frame}")


# -- main ----------------------------------------------------------------------------------


def versions(peer: dict[str, Any] | None) -> dict[str, Any]:
    found = index_bench.versions()
    for package in ("lsprotocol", "pytest-lsp", "cattrs"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    found[JLS_PACKAGE] = JLS_VERSION if peer else None
    found["peer_environment"] = peer
    found["aurora_source_sha256"] = server_source_digest()
    return found


def server_source_digest() -> str:
    """sha256 over Aurora's source files as they are now (the git commit may move without them changing)."""
    digest = hashlib.sha256()
    for path in sorted((HERE.parent / "server" / "aurora_lsp").rglob("*.py")):
        digest.update(path.relative_to(HERE.parent).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=("aurora", JLS_PACKAGE), help="server(s) to run")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions; the table gives medians")
    parser.add_argument("--complete-timeout", type=float, default=20.0,
                        help="seconds after initialize to wait for a complete answer")  # fmt: skip
    parser.add_argument("--poll-interval", type=float, default=0.05, help="pause between polls, s")
    parser.add_argument("--symbol-repeat", type=int, default=5, help="rounds of the fixed query set")
    parser.add_argument("--sample", type=int, default=300, help="definitions queried for completeness")
    parser.add_argument("--seed", type=int, default=2025, help="random seed of that sample")
    parser.add_argument("--docsym-repeat", type=int, default=20, help="warm documentSymbol requests")
    parser.add_argument("--edits", type=int, default=8, help="isolated edits")
    parser.add_argument("--burst-edits", type=int, default=10, help="edits in the typing burst")
    parser.add_argument("--burst-interval", type=float, default=0.25, help="seconds between burst edits")
    parser.add_argument("--edit-symbol-timeout", type=float, default=3.0,
                        help="how long workspace/symbol may take to find an edited-in function")  # fmt: skip
    parser.add_argument("--sample-interval", type=float, default=0.05, help="memory sampling interval, s")
    parser.add_argument("--no-outline", action="store_true", help="skip the documentSymbol-during-index phase")
    parser.add_argument("--profile", action="store_true", help="also run Aurora once under py-spy")
    parser.add_argument("--profile-only", action="store_true", help="only the py-spy pass (no measurements)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    if args.repeat < 1 and not args.profile_only:
        parser.error("--repeat must be at least 1")
    warnings.simplefilter("ignore", LspSpecificationWarning)
    if args.profile_only:
        args.profile, args.repeat = True, 0

    wheel = index_bench.fetch_wheel(WORKSPACE)
    root = index_bench.unpack(WORKSPACE, wheel).resolve()
    definitions, unparsable = wheel_definitions(root)
    name_counts = collections.Counter(d.name for d in definitions)
    ast_counts = collections.Counter(d.path for d in definitions)
    sample = random.Random(args.seed).sample(definitions, min(args.sample, len(definitions)))
    cfg = Config(
        complete_timeout=args.complete_timeout,
        poll_interval=args.poll_interval,
        symbol_repeat=args.symbol_repeat,
        sample=sample,
        name_counts=name_counts,
        docsym_repeat=args.docsym_repeat,
        edits=args.edits,
        burst_edits=args.burst_edits,
        burst_interval=args.burst_interval,
        edit_symbol_timeout=args.edit_symbol_timeout,
        sample_interval=args.sample_interval,
    )
    chosen = args.only or ["aurora", JLS_PACKAGE]
    peer = None
    specs: list[ServerSpec] = []
    if "aurora" in chosen:
        specs.append(aurora_spec())
    if JLS_PACKAGE in chosen:
        venv = ensure_venv(JLS_PACKAGE, JLS_VERSION)
        peer = venv_facts(venv)
        specs.append(jls_spec(venv))
    phases = ["cold", "restart"] + ([] if args.no_outline else ["outline"])
    versions_at_start = versions(peer)
    load_at_start = os.getloadavg()
    if args.profile_only:
        profile = run_profile(root, cfg, ast_counts)
        (PROFILES / "summary.json").write_text(json.dumps(profile, indent=2) + "\n", encoding="utf-8")
        print_profile(profile)
        print(f"\nwritten to {PROFILES / 'summary.json'}")
        return 0
    runs: dict[str, list[dict[str, Any]]] = {spec.name: [] for spec in specs}
    for index in range(args.repeat):
        for spec in specs:  # servers alternate, so that load drifts touch both
            print(f"[{index + 1}/{args.repeat}] {spec.name}", file=sys.stderr, flush=True)
            runs[spec.name].append(run_server(spec, root, cfg, ast_counts, phases))
    summaries = {name: summarize(results) for name, results in runs.items()}
    targets = {name: check_targets(summary) for name, summary in summaries.items()}
    ratios = {}
    if len(summaries) == 2:
        a, b = summaries["aurora"], summaries[JLS_PACKAGE]
        for key in a:
            if isinstance(a[key], (int, float)) and isinstance(b.get(key), (int, float)) and b[key]:
                ratios[key] = a[key] / b[key]
    profile = run_profile(root, cfg, ast_counts) if args.profile else None
    report = {
        "benchmark": "lsp",
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "repeat": args.repeat,
        "workspace": {
            "root": str(root),
            "wheel": wheel.name,
            "wheel_sha256": index_bench.WORKSPACES[WORKSPACE]["sha256"],
            "python_files": len(ast_counts) + len(unparsable),
            "ast_definitions": len(definitions),
            "unparsable_files": unparsable,
        },
        "settings": {
            **{k: v for k, v in vars(args).items() if k not in ("output", "only")},
            "servers": chosen,
            "queries": QUERIES,
            "complete_query": {"query": COMPLETE_QUERY, "path": COMPLETE_FILE, "container": COMPLETE_CONTAINER},
            "document": DOCUMENT,
            "symbol_limit": SYMBOL_LIMIT,
            "client": "pytest-lsp ClientServerConfig(...).start(): pygls LanguageClient over stdio, "
            "client_capabilities('visual-studio-code')",
        },
        "machine": index_bench.machine_facts(),
        "loadavg_at_start": load_at_start,
        "loadavg_at_end": os.getloadavg(),
        "versions": versions_at_start,
        "code_changed_during_run": server_source_digest() != versions_at_start["aurora_source_sha256"],
        "targets": TARGETS,
        "summary": summaries,
        "targets_met": targets,
        "ratios_aurora_over_jls": ratios,
        "profile": profile,
        "notes": [
            "Times are client-side wall clock: request sent to structured answer (pygls + lsprotocol on both sides).",
            f"cold/restart clocks start when `initialize` is sent; complete = the {COMPLETE_QUERY!r} answer holds "
            f"{COMPLETE_CONTAINER}.{COMPLETE_QUERY} of {COMPLETE_FILE}; polled every --poll-interval s.",
            "jedi-language-server has no workspace index: workspace/symbol is jedi's Project.complete_search, "
            "which looks at module-level names only and parses at most 30 files per query, so methods such as "
            "BaseHandler.get_response are never in its answer to 'get_response'.",
            f"Both servers answer at most {SYMBOL_LIMIT} symbols (jedi-language-server's maxSymbols set to match; "
            "its default is 20).",
            "completeness: a sample of the wheel's definitions (ast: every class/def/async def at any depth), each "
            "queried by its exact name; found = a result with that name in the definition's file. Names shared by "
            f"more than {SYMBOL_LIMIT} definitions cannot all be found by either server (their share is reported).",
            "documentSymbol first = didOpen sent → first answer; warm = the next --docsym-repeat requests, at once "
            "(what an editor asks right after opening); warm_settled = the same 1 s later, once Aurora is idle. "
            "Edits append a small function at the end (incremental didChange); isolated edits wait for the "
            "previous edit's background refresh; the burst sends edits --burst-interval apart, each followed "
            "by documentSymbol until it shows the function.",
            "peak RSS: the peak of the summed VmRSS of the server and its descendants, sampled from /proc every "
            "--sample-interval s (shared pages count once per process; PSS splits them). VmHWM is the kernel's "
            "per-process peak; their sum is an upper bound. Target judged on the sampled tree RSS, 120 MiB.",
            "server_log_bytes: what each server wrote to stderr (Aurora logs every JSON-RPC message at INFO).",
            "other_cpu_seconds = machine busy CPU (/proc/stat) minus this benchmark's and its server's: other work.",
            "MiB = 1024*1024 bytes.",
        ],
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print_table(summaries, targets)
    print(f"load average at start {load_at_start[0]:.2f}, at end {report['loadavg_at_end'][0]:.2f}")
    if profile:
        print_profile(profile)
    if report["code_changed_during_run"]:
        print("WARNING: Aurora's code changed during the run; the figures mix versions", file=sys.stderr)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
