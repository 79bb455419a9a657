"""The LSP client session that drives a language server over stdio, as an editor would.

A `Session` is one server process (`ServerSpec.command`) started by pytest-lsp's
`ClientServerConfig(...).start()`: a pygls LanguageClient over stdio with Visual Studio
Code's client capabilities, the server's stderr going to a log file, a clean environment
with its own cache folder, and a TreeSampler (proc.py) on the server's process tree from
start to close. Latencies are client-side wall times: request sent to structured answer.
Aurora's custom requests (`aurora/stats`, `aurora/context`) are asked here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import FeatureAlreadyRegisteredError
from pygls.lsp.client import LanguageClient as PyglsLanguageClient
from pygls.protocol import default_converter
from pygls.uris import to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

from harness.machine import loadavg_1min
from harness.proc import TreeSampler, machine_cpu, own_cpu, tree_cpu_seconds

# Aurora answers workspace/symbol with at most 100 symbols (features/symbols.py); a
# ServerSpec says so unless it gives its own limit (lsp_bench.py's peers).
SYMBOL_LIMIT = 100
REQUEST_TIMEOUT_S = 120.0
READY_TIMEOUT_S = 300.0  # Session.wait_ready
INDEXED_TIMEOUT_S = 600.0  # wait_indexed
T = TypeVar("T")


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


def server_env(state: Path) -> dict[str, str]:
    """A clean environment: no virtualenv of ours leaking in (jedi would pick it as its environment)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["XDG_CACHE_HOME"] = str(state / "cache")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


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


REFRESH_REQUESTS = (types.WORKSPACE_SEMANTIC_TOKENS_REFRESH, types.WORKSPACE_INLAY_HINT_REFRESH,
                    types.WORKSPACE_CODE_LENS_REFRESH, types.WORKSPACE_DIAGNOSTIC_REFRESH,
                    types.WORKSPACE_INLINE_VALUE_REFRESH, types.WORKSPACE_FOLDING_RANGE_REFRESH)  # fmt: skip


def _accept_refresh(client: BenchClient, params: None) -> None:
    """A server's workspace/*/refresh request, answered with null."""


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

        # pyrefly asks the editor to refresh its semantic tokens (and a server may ask for the
        # others): an editor answers null and asks again if it shows them; nothing is shown here.
        for refresh in REFRESH_REQUESTS:
            with contextlib.suppress(FeatureAlreadyRegisteredError):  # pytest-lsp answers some itself
                client.feature(refresh)(_accept_refresh)

        return client

    return make


def plain(value: Any) -> Any:
    """A result as plain JSON values: pygls's namedtuples (for methods it does not know) as dicts."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# -- the session ---------------------------------------------------------------------------


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
        self.request_timeout = REQUEST_TIMEOUT_S
        self.capabilities: types.ServerCapabilities | None = None
        self.t_initialize = 0.0
        self.t_spawn = 0.0  # just before the server process is started: "from process start"
        self.facts: dict[str, Any] = {"phase": label}

    async def start(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "cache").mkdir(exist_ok=True)
        self.facts["loadavg_1min_before"] = loadavg_1min()
        self._machine_before = machine_cpu()
        self._own_before = own_cpu()
        log = self.state / f"{self.label}.stderr.log"
        started = self.t_spawn = time.perf_counter()
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
        self.facts["start_to_initialize_result_seconds"] = self.since_start()
        self.facts["initialize_result_tree_cpu_seconds"] = self.tree_cpu()
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

    @property
    def server_pid(self) -> int:
        """The server process's id (a profiler attaches to it)."""
        server = self._client()._server
        assert server is not None
        return server.pid

    def since_initialize(self) -> float:
        return time.perf_counter() - self.t_initialize

    def since_start(self) -> float:
        """Seconds since the server process was started."""
        return time.perf_counter() - self.t_spawn

    def tree_cpu(self) -> float:
        """CPU seconds the server's whole process tree has used since it started."""
        return tree_cpu_seconds(self.server_pid)

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

    async def custom(self, method: str, params: Any) -> Any:
        """A request of a method LSP does not define (Aurora's aurora/stats, aurora/context), its result as sent."""
        return await self.request(self._client().protocol.send_request_async(method, params))

    async def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = plain(await self.custom("aurora/stats", None))
        return result

    def notify_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self._client().text_document_did_open(params)

    def notify_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._client().text_document_did_change(params)

    def notify_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._client().text_document_did_close(params)

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
        """Shut the server down (killed if it will not) and return the session's facts: memory, CPU, load."""
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
        self._cpu_facts(self.facts["memory"]["cpu_seconds"])
        return self.facts

    def _cpu_facts(self, server_cpu: float) -> None:
        busy_after, total_after, steal_after = machine_cpu()
        busy = busy_after - self._machine_before[0]
        total = total_after - self._machine_before[1]
        self.facts["steal_cpu_seconds"] = steal_after - self._machine_before[2]
        own = own_cpu() - self._own_before
        self.facts["loadavg_1min_after"] = loadavg_1min()
        self.facts["machine_busy_fraction"] = busy / total if total else None
        # CPU the machine spent on things other than this benchmark and its server
        self.facts["other_cpu_seconds"] = max(0.0, busy - own - server_cpu)
        self.facts["client_cpu_seconds"] = own
        log = Path(self.facts["server_log"])
        self.facts["server_log_bytes"] = log.stat().st_size if log.exists() else None
        self.facts["server_cpu_seconds"] = server_cpu


# -- documents and answers -----------------------------------------------------------------


def relative_path(uri: str, root: Path) -> str | None:
    """A URI's path relative to the workspace root (symlinks resolved), None outside it."""
    path = to_fs_path(uri)
    if path is None:
        return None
    try:
        return Path(os.path.realpath(path)).relative_to(root).as_posix()
    except ValueError:
        return None


def _end_position(text: str) -> types.Position:
    lines = text.split("\n")
    last = lines[-1]
    return types.Position(line=len(lines) - 1, character=len(last.encode("utf-16-le")) // 2)


class OpenDocument:
    """A file opened in the server (didOpen), edited by appending text (incremental didChange), closed."""

    def __init__(self, session: Session, path: Path) -> None:
        self.session = session
        self.uri = path.as_uri()
        self.text = path.read_bytes().decode("utf-8")
        self.version = 1

    def open(self) -> None:
        item = types.TextDocumentItem(uri=self.uri, language_id="python", version=self.version, text=self.text)
        self.session.notify_open(types.DidOpenTextDocumentParams(text_document=item))

    def append(self, addition: str) -> None:
        end = _end_position(self.text)
        self.version += 1
        self.text += addition
        change = types.TextDocumentContentChangePartial(range=types.Range(start=end, end=end), text=addition)
        params = types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[change],
        )
        self.session.notify_change(params)

    def close(self) -> None:
        params = types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=self.uri))
        self.session.notify_close(params)


# -- Aurora's custom requests --------------------------------------------------------------


def plain_json_results(session: Session) -> None:
    """Take the results of Aurora's custom requests as the plain JSON they are, as an editor does.

    pygls structures a result of a method it does not know by turning every JSON object into
    an instance of a namedtuple class created for it on the spot: about 6 classes per
    context item, some 10 ms per answer and, every few answers, a 100-250 ms collection
    of those classes, all in the client. Standard LSP results keep their lsprotocol types.
    """
    from pygls.protocol import JsonRPCResponseMessage

    converter = session._client().protocol._converter
    converter.register_structure_hook(JsonRPCResponseMessage, lambda obj, cls: cls(**obj))


async def wait_indexed(session: Session, timeout: float = INDEXED_TIMEOUT_S) -> dict[str, Any]:
    """Poll aurora/stats until indexing is idle with chunks in the index."""
    deadline = time.perf_counter() + timeout
    while True:
        stats = await session.stats()
        indexing = stats.get("indexing") or {}
        if indexing.get("state") == "idle" and stats.get("chunks", 0) > 0:
            return stats
        if time.perf_counter() > deadline:
            raise TimeoutError(f"still indexing after {timeout} s: {indexing}")
        await asyncio.sleep(0.1)


async def ask_context(session: Session, params: dict[str, Any]) -> tuple[Any, float, str | None]:
    """(result as plain JSON, seconds, error) of one aurora/context request; an error is returned, not raised."""
    started = time.perf_counter()
    try:
        result = await session.custom("aurora/context", params)
    except Exception as error:  # reported per answer, the run goes on
        return None, time.perf_counter() - started, f"{type(error).__name__}: {error}"
    return plain(result), time.perf_counter() - started, None
