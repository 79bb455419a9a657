"""documentSymbol (the document as the editor has it) and workspace/symbol (every chunk)."""

from __future__ import annotations

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from aurora_lsp.convert import chunk_range, document_symbols, symbol_kind
from aurora_lsp.server import AuroraServer

WORKSPACE_SYMBOL_LIMIT = 100


def register(server: AuroraServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(ls: AuroraServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        uri = params.text_document.uri
        await ls.folders.ready.wait()
        parsed = await ls.documents.parsed(uri)
        if parsed is not None:
            return document_symbols(parsed.chunks)
        located = ls.folders.locate(uri)
        if located is None:
            return []
        service, path = located
        return document_symbols(await ls.threads.run(service.file_chunks, path))

    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(ls: AuroraServer, params: types.WorkspaceSymbolParams) -> list[types.SymbolInformation]:
        from aurora_lsp.search import TIER_EXACT  # with the store, after `initialize` (server.py)

        if not isinstance(params.query, str):
            raise JsonRpcInvalidParams("query must be a string")
        await ls.folders.ready.wait()
        found = await ls.folders.symbols(params.query, WORKSPACE_SYMBOL_LIMIT)
        exact = [(service, hit.chunk.id) for service, hit in found if hit.match.tier == TIER_EXACT]
        if 0 < len(exact) <= 3:  # naming a chunk exactly is a use of it (a partial query is not)
            for service, chunk_id in exact:
                ls.folders.record_uses(service, [chunk_id], "symbol")
        return [
            types.SymbolInformation(
                name=hit.chunk.name,
                kind=symbol_kind(hit.chunk),
                location=types.Location(uri=service.uri(hit.chunk.path), range=chunk_range(hit.chunk)),
                container_name=hit.container or None,
            )
            for service, hit in found
        ]
