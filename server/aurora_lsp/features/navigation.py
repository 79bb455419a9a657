"""References, call hierarchy and type hierarchy, served from the resolved edges.

Each request that names a chunk records a use of it (kind "navigate"): what a person
navigates to is what they are working with. A document outside the workspace, or a
position in no chunk, gets an empty answer; context/navigation.py says which chunk a
cursor names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from aurora_lsp.convert import HierarchyItem, hierarchy_item, lsp_range
from aurora_lsp.positions import split_lines
from aurora_lsp.records import Chunk, ChunkId
from aurora_lsp.server import AuroraServer

if TYPE_CHECKING:  # the services load after `initialize` (server.py)
    from aurora_lsp.context.navigation import Call, Cursor, Target
    from aurora_lsp.workspace.service import WorkspaceService

Item = types.CallHierarchyItem | types.TypeHierarchyItem


async def _cursor(ls: AuroraServer, uri: str, position: types.Position) -> tuple[WorkspaceService, Cursor] | None:
    """The folder and cursor of a position, with the open document's outline and line if open."""
    from aurora_lsp.context.navigation import Cursor

    await ls.folders.ready.wait()
    located = ls.folders.locate(uri)
    if located is None:
        return None
    service, path = located
    buffer = ls.documents.buffers.get(uri)
    if buffer is None:
        return service, Cursor(path, position.line, position.character)
    lines = split_lines(buffer[1])
    parsed = await ls.documents.parsed(uri)
    if position.line >= len(lines) or parsed is None:
        return None
    return service, Cursor(path, position.line, position.character, parsed.chunks, lines[position.line])


async def _target(ls: AuroraServer, item: Item) -> tuple[WorkspaceService, Target] | None:
    """A hierarchy item's folder and chunk: the id its data carries, else its position."""
    data = item.data
    chunk_id = data.get("chunkId") if isinstance(data, dict) else None
    located = ls.folders.locate(item.uri)
    if isinstance(chunk_id, str) and located is not None and ChunkId.path(chunk_id) == located[1]:
        return located[0], chunk_id
    return await _cursor(ls, item.uri, item.selection_range.start)


def _used(ls: AuroraServer, service: WorkspaceService, subject: Chunk | None) -> None:
    if subject is not None:
        ls.folders.record_uses(service, [subject.id], "navigate")


def register(server: AuroraServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: AuroraServer, params: types.ReferenceParams) -> list[types.Location]:
        found = await _cursor(ls, params.text_document.uri, params.position)
        if found is None:
            return []
        service, cursor = found
        subject, places = await ls.threads.run(service.references, cursor, params.context.include_declaration)
        _used(ls, service, subject)
        return [types.Location(uri=service.uri(place.path), range=lsp_range(place.range)) for place in places]

    @server.feature(types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY)
    async def prepare_calls(
        ls: AuroraServer, params: types.CallHierarchyPrepareParams
    ) -> list[types.CallHierarchyItem] | None:
        return await _prepare(ls, params.text_document.uri, params.position, types.CallHierarchyItem)

    @server.feature(types.CALL_HIERARCHY_INCOMING_CALLS)
    async def incoming_calls(
        ls: AuroraServer, params: types.CallHierarchyIncomingCallsParams
    ) -> list[types.CallHierarchyIncomingCall]:
        return [
            types.CallHierarchyIncomingCall(
                from_=hierarchy_item(call.chunk, uri, types.CallHierarchyItem),
                from_ranges=[lsp_range(site) for site in call.ranges],
            )
            for call, uri in await _calls(ls, params.item, incoming=True)
        ]

    @server.feature(types.CALL_HIERARCHY_OUTGOING_CALLS)
    async def outgoing_calls(
        ls: AuroraServer, params: types.CallHierarchyOutgoingCallsParams
    ) -> list[types.CallHierarchyOutgoingCall]:
        return [
            types.CallHierarchyOutgoingCall(
                to=hierarchy_item(call.chunk, uri, types.CallHierarchyItem),
                from_ranges=[lsp_range(site) for site in call.ranges],
            )
            for call, uri in await _calls(ls, params.item, incoming=False)
        ]

    @server.feature(types.TEXT_DOCUMENT_PREPARE_TYPE_HIERARCHY)
    async def prepare_types(
        ls: AuroraServer, params: types.TypeHierarchyPrepareParams
    ) -> list[types.TypeHierarchyItem] | None:
        return await _prepare(ls, params.text_document.uri, params.position, types.TypeHierarchyItem)

    @server.feature(types.TYPE_HIERARCHY_SUPERTYPES)
    async def supertypes(
        ls: AuroraServer, params: types.TypeHierarchySupertypesParams
    ) -> list[types.TypeHierarchyItem]:
        return await _relatives(ls, params.item, supertypes=True)

    @server.feature(types.TYPE_HIERARCHY_SUBTYPES)
    async def subtypes(ls: AuroraServer, params: types.TypeHierarchySubtypesParams) -> list[types.TypeHierarchyItem]:
        return await _relatives(ls, params.item, supertypes=False)


async def _prepare(
    ls: AuroraServer, uri: str, position: types.Position, item: type[HierarchyItem]
) -> list[HierarchyItem] | None:
    """The item of the chunk at a position (a class for the type hierarchy), or None."""
    found = await _cursor(ls, uri, position)
    if found is None:
        return None
    service, cursor = found
    subject = await ls.threads.run(service.subject_at, cursor, item is types.TypeHierarchyItem)
    if subject is None:
        return None
    _used(ls, service, subject)
    return [hierarchy_item(subject, service.uri(subject.path), item)]


async def _calls(ls: AuroraServer, item: types.CallHierarchyItem, incoming: bool) -> list[tuple[Call, str]]:
    """The calls into (or out of) a call hierarchy item's chunk, each with the other chunk's uri."""
    found = await _target(ls, item)
    if found is None:
        return []
    service, target = found
    subject, calls = await ls.threads.run(service.calls, target, incoming)
    _used(ls, service, subject)
    return [(call, service.uri(call.chunk.path)) for call in calls]


async def _relatives(
    ls: AuroraServer, item: types.TypeHierarchyItem, supertypes: bool
) -> list[types.TypeHierarchyItem]:
    found = await _target(ls, item)
    if found is None:
        return []
    service, target = found
    subject, classes = await ls.threads.run(service.type_relatives, target, supertypes)
    _used(ls, service, subject)
    return [hierarchy_item(chunk, service.uri(chunk.path), types.TypeHierarchyItem) for chunk in classes]
