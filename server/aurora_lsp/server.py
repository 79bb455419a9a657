"""AuroraServer: the pygls language server that owns Aurora's services. No global server.

It keeps the settings, the threads, the workspace folders (each with its own service and
database) and the open documents. features/ registers the LSP handlers on it
(`aurora_lsp.features.create_server`). Aurora's own requests have their params read here
into the typed records of protocol.py, before pygls would turn them into namedtuples.

The workspace services (the store with sqlite-utils, the indexer, the context engine) are
imported when first used, in `initialized`, so `initialize` is answered with pygls,
lsprotocol and the settings loaded only (tests/unit/test_process_weight.py).
"""

from __future__ import annotations

import functools
import logging
import uuid
from typing import TYPE_CHECKING, Any

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, default_converter
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage

from aurora_lsp import __version__, protocol
from aurora_lsp.config import LiveSettings
from aurora_lsp.protocol import ReindexResult
from aurora_lsp.workspace.threads import Threads

if TYPE_CHECKING:
    from aurora_lsp.workspace.documents import Documents
    from aurora_lsp.workspace.folders import Folders
    from aurora_lsp.workspace.learning import Learner

logger = logging.getLogger(__name__)

# What a malformed message becomes once answered: a notification nobody handles.
MALFORMED_MESSAGE = "$/aurora/malformed"


def strict_converter() -> cattrs.Converter:
    """pygls's converter, except that a string field given a number is InvalidParams, not "42"."""
    converter: cattrs.Converter = default_converter()  # type: ignore[no-untyped-call]

    def strict_str(value: object, _type: object) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return value

    converter.register_structure_hook(str, strict_str)
    return converter


class AuroraProtocol(LanguageServerProtocol):
    """pygls logs a request whose params do not structure and never answers it; we answer.

    JSON-RPC lets a request leave out `params` (Neovim does for `aurora/stats`); pygls
    then fails to build the message, so a missing `params` is read as null.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" in data and "method" in data and "params" not in data:
            data = {**data, "params": None}
        try:
            record = protocol.REQUEST_PARAMS.get(data.get("method", "")) if "id" in data else None
            if record is not None:
                return self._custom_request(data, record)
            return super().structure_message(data)
        except JsonRpcException as error:
            if "method" not in data:
                raise
            if "id" in data:
                self._send_response(data["id"], error=error.to_response_error())
            logger.warning("malformed params for %s: %s", data.get("method"), error)
            return JsonRPCNotification(method=MALFORMED_MESSAGE, jsonrpc="2.0", params=None)

    @staticmethod
    def _custom_request(data: dict[str, Any], record: type) -> JsonRPCRequestMessage:
        """One of Aurora's own requests, its params read into their record (protocol.py)."""
        try:
            params = None if record is type(None) else protocol.from_wire(data["params"], record)
        except protocol.ParamsError as error:
            raise JsonRpcInvalidParams(str(error)) from None
        return JsonRPCRequestMessage(id=data["id"], method=data["method"], jsonrpc=data["jsonrpc"], params=params)

    def handle_message(self, message: Any) -> Any:
        """After `shutdown`, a request gets InvalidRequest as LSP asks (pygls would drop it unanswered)."""
        method = getattr(message, "method", None)
        if self._shutdown and method not in (None, types.EXIT) and getattr(message, "id", None) is not None:
            error = JsonRpcInvalidRequest(f"the server is shutting down; {method} is not served")
            self._send_response(message.id, error=error.to_response_error())
            return None
        return super().handle_message(message)


class AuroraServer(LanguageServer):
    """The language server: LSP on the outside, the workspace services inside.

    It owns the settings, the threads, the folders and the open documents; features/
    registers thin handlers that call them. Only this class and features/ know LSP.
    """

    def __init__(self) -> None:
        super().__init__("aurora-lsp", __version__, protocol_cls=AuroraProtocol, converter_factory=strict_converter)
        self.settings = LiveSettings()
        self.shutdown_requested = False
        self.exit_code = 0  # the process's exit status once serving ends (see features/settings.py)
        self.threads = Threads()
        self._folders: Folders | None = None
        self._documents: Documents | None = None
        self._learner: Learner | None = None

    # The services are made on first use (see the module docstring).

    @property
    def folders(self) -> Folders:
        if self._folders is None:
            from aurora_lsp.workspace.folders import Folders

            self._folders = Folders(self.settings, self.threads, self.warn, self.fail)
        return self._folders

    @property
    def documents(self) -> Documents:
        if self._documents is None:
            from aurora_lsp.workspace.documents import Documents

            refresh = functools.partial(self.refresh, full=False, progress=False)
            self._documents = Documents(self.threads, self.folders.locate, refresh)
        return self._documents

    @property
    def learner(self) -> Learner:
        """The git history, mined after each refresh, in the background."""
        if self._learner is None:
            from aurora_lsp.workspace.learning import Learner

            self._learner = Learner(self.threads)
        return self._learner

    def warn(self, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, message))

    def fail(self, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))

    def apply_settings(self, raw: object) -> bool:
        """Take settings from the wire; warn once per bad value. True if indexing must rerun."""
        history = self.settings.current.history
        warnings, rescan = self.settings.apply(raw)
        for warning in warnings:
            self.warn(warning)
        if self.settings.current.history != history and self._folders is not None and self._folders.services:
            self.learner.schedule(self.folders.services.values())  # mine, or drop what was learned
        return rescan

    async def refresh(self, full: bool, progress: bool) -> ReindexResult:
        """Refresh every folder, with work-done progress where the client shows it."""
        token = str(uuid.uuid4()) if progress and self._client_shows_progress() else None
        if token is not None:
            await self._begin_progress(token)
        result: ReindexResult | None = None
        try:
            report = functools.partial(self._report_progress, token) if token is not None else None
            result = await self.folders.refresh(full, report, self.documents.buffers_of)
            self.learner.schedule(self.folders.services.values())
            return result
        finally:
            if token is not None:
                done = (
                    f"{result.files} files, {result.chunks} chunks in {result.seconds:.1f} s" if result else "stopped"
                )
                self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=done))

    def _client_shows_progress(self) -> bool:
        """Work-done progress only goes to a client that said it shows it (LSP 3.15)."""
        capabilities = self.protocol.client_capabilities
        window = capabilities.window if capabilities is not None else None
        return bool(window is not None and window.work_done_progress)

    async def _begin_progress(self, token: str) -> None:
        try:
            await self.work_done_progress.create_async(token)
        except Exception:  # the client may not support work-done progress
            return
        self.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title="Aurora: indexing", percentage=0, cancellable=False)
        )

    def _report_progress(self, token: str, done: int, total: int) -> None:
        if total == 0 or (done not in (0, total) and done % 25):
            return  # a report every 25 files is enough for a progress bar
        percentage = int(100 * done / total)
        self.work_done_progress.report(
            token, types.WorkDoneProgressReport(message=f"{done}/{total} files", percentage=percentage)
        )

    async def close(self) -> None:
        if self._learner is not None:
            self._learner.stop()
        if self._folders is not None:
            await self._folders.close()
        self.threads.shutdown()
