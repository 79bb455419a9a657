"""documentSymbol (the document as the editor has it) and workspace/symbol (every chunk)."""

from __future__ import annotations

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from aurora_lsp.convert import chunk_range, document_symbols, symbol_kind
from aurora_lsp.folders import Folder
from aurora_lsp.search import TIER_EXACT
from aurora_lsp.server import AuroraServer

WORKSPACE_SYMBOL_LIMIT = 100


def register(server: AuroraServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(ls: AuroraServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        uri = params.text_document.uri
        await ls.folders_ready.wait()
        parsed = await ls.parsed_document(uri)
        if parsed is not None:
            return document_symbols(parsed.chunks)
        located = ls.locate(uri)
        if located is None:
            return []
        folder, path = located
        return document_symbols(await ls.threads.on_reader(folder.stored_chunks, path))

    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(ls: AuroraServer, params: types.WorkspaceSymbolParams) -> list[types.SymbolInformation]:
        if not isinstance(params.query, str):
            raise JsonRpcInvalidParams("query must be a string")
        await ls.folders_ready.wait()
        found: list[tuple[tuple[int, int, int, str], types.SymbolInformation]] = []
        exact: list[tuple[Folder, str]] = []
        for folder in list(ls.folders.values()):
            for match, chunk, container in await ls.threads.on_reader(
                folder.search, params.query, WORKSPACE_SYMBOL_LIMIT
            ):
                location = types.Location(uri=(folder.root / chunk.path).as_uri(), range=chunk_range(chunk))
                symbol = types.SymbolInformation(
                    name=chunk.name, kind=symbol_kind(chunk), location=location, container_name=container or None
                )
                found.append((match.sort_key, symbol))
                if match.tier == TIER_EXACT:
                    exact.append((folder, match.id))
        found.sort(key=lambda pair: pair[0])
        await _record_exact_hits(ls, params.query, exact)
        return [symbol for _, symbol in found[:WORKSPACE_SYMBOL_LIMIT]]


async def _record_exact_hits(ls: AuroraServer, query: str, exact: list[tuple[Folder, str]]) -> None:
    """A query that names a chunk exactly is a use of that chunk (a partial query is not)."""
    if 0 < len(exact) <= 3:
        for folder, chunk_id in exact:
            await ls.record_accesses(folder, [chunk_id], "symbol")
