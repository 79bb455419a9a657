"""textDocument/definition: jedi at the position (imports followed), else the resolved edges.

Answers are locations in indexed files of the workspace folder: jedi may read the standard
library or installed packages to infer, but never sends the editor there. Each answer is a
use of the chunk it lands in (kind `navigate`).
"""

from __future__ import annotations

from lsprotocol import types

from aurora_lsp.convert import span_range
from aurora_lsp.server import AuroraServer


def register(server: AuroraServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: AuroraServer, params: types.DefinitionParams) -> list[types.Location]:
        uri, position = params.text_document.uri, params.position
        await ls.folders.ready.wait()
        buffer = ls.documents.buffers.get(uri)
        found = await ls.folders.definition(uri, position.line, position.character, buffer[1] if buffer else None)
        if found is None:
            return []
        service, definitions = found
        return [types.Location(uri=service.uri(d.path), range=span_range(d.range)) for d in definitions]
