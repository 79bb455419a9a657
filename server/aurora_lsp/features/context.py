"""aurora/context: the code to see at a position or for a question, within a token budget."""

from __future__ import annotations

from typing import Any

from aurora_lsp import protocol
from aurora_lsp.protocol import ContextParams
from aurora_lsp.server import AuroraServer


def register(server: AuroraServer) -> None:
    @server.feature(protocol.CONTEXT)
    async def context(ls: AuroraServer, params: ContextParams) -> Any:
        from aurora_lsp.context.engine import ContextRequest  # the engine loads at the first question

        position = params.position
        request = ContextRequest(
            line=position.line if position else None,
            character=position.character if position else 0,
            query=params.query,
            token_budget=params.token_budget or ls.settings.current.context_token_budget,
            limit=params.limit,
        )
        await ls.folders.ready.wait()
        uri = params.text_document.uri if params.text_document else None
        buffer = ls.documents.buffers.get(uri) if uri else None
        return protocol.to_wire(await ls.folders.context(uri, request, buffer[1] if buffer else None))
