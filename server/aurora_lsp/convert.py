"""The one place that maps source positions to LSP positions (0-based, UTF-16 code units)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from lsprotocol import types

# LSP counts a line break as \r\n, \n or \r, and nothing else (unlike str.splitlines).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines of `text` as LSP sees them, each with its line break kept."""
    lines: list[str] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    lines.append(text[start:])
    return lines


def utf16_length(text: str) -> int:
    """Length of `text` in UTF-16 code units (characters outside the BMP count two)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def utf16_column(line: str, codepoint_column: int) -> int:
    """The UTF-16 column of a code-point column within one line."""
    return utf16_length(line[:codepoint_column])


def codepoint_column(line: str, utf16_col: int) -> int:
    """The code-point column of a UTF-16 column within one line (clamped to the line)."""
    if line.isascii():
        return min(utf16_col, len(line))
    units = 0
    for index, char in enumerate(line):
        if units >= utf16_col:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line)


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
