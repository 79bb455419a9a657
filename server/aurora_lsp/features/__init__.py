"""LSP handlers, one module per area; each has register(server). Handlers stay thin: read
params, call one service (`ls.folders`, `ls.documents`), convert the result."""

from __future__ import annotations

from aurora_lsp.features import context, definition, navigation, settings, stats, symbols, sync
from aurora_lsp.server import MALFORMED_MESSAGE, AuroraServer


def create_server() -> AuroraServer:
    """A language server with every feature registered."""
    server = AuroraServer()
    for feature in (settings, sync, symbols, context, stats, navigation, definition):
        feature.register(server)

    @server.feature(MALFORMED_MESSAGE)
    def malformed(ls: AuroraServer, params: None) -> None:
        """Already answered with InvalidParams; nothing left to do."""

    return server
