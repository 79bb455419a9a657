"""The one place that builds LSP objects from chunks: ranges, symbol kinds, document symbols,
hierarchy items.

Positions are already LSP's (0-based lines, UTF-16 columns: positions.py counts them), so
this module only dresses them in lsprotocol's types. It is the only module besides the
server's own that imports lsprotocol, whose types cost 0.4 s to import: the command line's
indexing, the parsing workers and the MCP server never load it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from lsprotocol import types

from aurora_lsp.positions import utf16_length
from aurora_lsp.records import ChunkId

HierarchyItem = TypeVar("HierarchyItem", types.CallHierarchyItem, types.TypeHierarchyItem)

# -- chunks → LSP objects ---------------------------------------------------------------


class _ChunkLike(Protocol):
    id: str
    kind: str
    start_line: int
    start_char: int
    end_line: int
    end_char: int
    sel_line: int
    sel_char: int
    signature: str
    parent: str | None

    @property
    def name(self) -> str: ...


def chunk_range(chunk: _ChunkLike) -> types.Range:
    return types.Range(
        types.Position(chunk.start_line, chunk.start_char), types.Position(chunk.end_line, chunk.end_char)
    )


def selection_range(chunk: _ChunkLike) -> types.Range:
    end = chunk.sel_char + utf16_length(chunk.name)
    return types.Range(types.Position(chunk.sel_line, chunk.sel_char), types.Position(chunk.sel_line, end))


def lsp_range(four: tuple[int, int, int, int]) -> types.Range:
    """A range from (start line, start character, end line, end character)."""
    return types.Range(types.Position(four[0], four[1]), types.Position(four[2], four[3]))


def hierarchy_item(chunk: _ChunkLike, uri: str, item: type[HierarchyItem]) -> HierarchyItem:
    """A call or type hierarchy item; `data` carries the chunk id, so later requests need no search."""
    container = ChunkId.plain_qualname(chunk.parent) if chunk.parent else ChunkId.path(chunk.id)
    return item(
        name=chunk.name,
        kind=symbol_kind(chunk),
        uri=uri,
        range=chunk_range(chunk),
        selection_range=selection_range(chunk),
        detail=container,
        data={"chunkId": chunk.id},
    )


def span_range(span: tuple[int, int, int, int]) -> types.Range:
    """(start line, start char, end line, end char), already LSP's, as a Range."""
    return types.Range(types.Position(span[0], span[1]), types.Position(span[2], span[3]))


def symbol_kind(chunk: _ChunkLike) -> types.SymbolKind:
    if chunk.kind == "class":
        return types.SymbolKind.Class
    if chunk.kind == "method":
        return types.SymbolKind.Constructor if chunk.name == "__init__" else types.SymbolKind.Method
    return types.SymbolKind.Function


def document_symbols(chunks: Sequence[_ChunkLike]) -> list[types.DocumentSymbol]:
    """Hierarchical symbols: classes hold their methods, functions their nested definitions."""
    children: dict[str, list[types.DocumentSymbol]] = {}
    roots: list[types.DocumentSymbol] = []
    for chunk in chunks:  # source order: a parent comes before its children
        own: list[types.DocumentSymbol] = []
        children[chunk.id] = own
        symbol = types.DocumentSymbol(
            name=chunk.name,
            kind=symbol_kind(chunk),
            range=chunk_range(chunk),
            selection_range=selection_range(chunk),
            detail=chunk.signature,
            children=own,
        )
        siblings = children.get(chunk.parent) if chunk.parent else None
        (siblings if siblings is not None else roots).append(symbol)
    return roots
