"""Open documents: chunked live as they change; files changed on disk by other programs."""

from __future__ import annotations

from lsprotocol import types

from aurora_lsp.server import AuroraServer


def _remember(ls: AuroraServer, uri: str) -> None:
    document = ls.workspace.get_text_document(uri)
    ls.documents.remember(uri, document.version or 0, document.source)


def register(server: AuroraServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: AuroraServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        _remember(ls, uri)
        located = ls.folders.locate(uri)
        parsed = await ls.documents.parsed(uri)
        if located is not None and parsed is not None:
            ls.folders.record_uses(located[0], [chunk.id for chunk in parsed.chunks], "open")

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: AuroraServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri not in ls.documents.buffers:
            return  # a change to a document never opened: nothing to update
        _remember(ls, uri)
        located = ls.folders.locate(uri)
        if located is not None:
            ls.folders.inference.outdated(*located)  # jedi's pass over the older version stops
        edited_lines = [
            change.range.start.line
            for change in params.content_changes
            if isinstance(change, types.TextDocumentContentChangePartial)
        ]
        parsed = await ls.documents.parsed(uri)
        if located is None or parsed is None or not edited_lines:
            return
        touched = [
            innermost.id
            for line in edited_lines
            if (innermost := next((c for c in reversed(parsed.chunks) if c.start_line <= line <= c.end_line), None))
        ]
        ls.folders.record_uses(located[0], sorted(set(touched)), "edit")

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: AuroraServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.documents.refreshes.schedule()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AuroraServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.documents.close(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: AuroraServer, params: types.DidChangeWatchedFilesParams) -> None:
        if params.changes:
            ls.documents.refreshes.schedule()
