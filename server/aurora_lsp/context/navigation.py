"""Navigation from the memory: the chunk at a cursor, and its references, calls and types.

Everything here reads the resolved edges (index/resolve.py, and whatever else resolved
them) through ChunkStore, as related.py does: references are the chunks with an edge into
the subject, calls follow "call" edges, types "base" edges. Where a referencing chunk's
own text (its children's lines left out: they have edges of their own) spells the name,
the answer gives each place; where it does not (an import under another name), the
chunk's name stands for the place. Positions are LSP's: 0-based lines, UTF-16 columns.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aurora_lsp.positions import codepoint_column, split_lines, utf16_column, utf16_length
from aurora_lsp.records import Chunk, ChunkId
from aurora_lsp.store.chunks import ChunkStore

Range = tuple[int, int, int, int]  # start line, start character, end line, end character
_WORD = re.compile(r"\w+")


class Span(Protocol):
    """A chunk's place in its file, as an open document's outline or the store has it."""

    id: str
    kind: str
    start_line: int
    start_char: int
    end_line: int
    end_char: int
    sel_line: int
    sel_char: int
    parent: str | None

    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a workspace file; `outline` and `line_text` as the editor has them
    when the document is open (else the stored chunks and text are read)."""

    path: str
    line: int
    character: int
    outline: Sequence[Span] | None = None
    line_text: str | None = None


Target = str | Cursor  # a chunk id (a hierarchy item's data) or a position to resolve


@dataclass(frozen=True, slots=True)
class Place:
    path: str
    range: Range


@dataclass(frozen=True, slots=True)
class Call:
    """The other end of a call (the caller, or the callee) and the call sites in the caller."""

    chunk: Chunk
    ranges: tuple[Range, ...]


def subject_at(chunks: ChunkStore, cursor: Cursor, classes_only: bool = False) -> Chunk | None:
    """The chunk the cursor names: the innermost chunk whose name or body holds the position,
    unless the cursor is on a word naming another chunk: an edge target of that one (a call,
    a base class), an enclosing chunk or one defined in it (a closure); a word that names no
    chunk gives None. With `classes_only`, the class so named, or else the innermost class
    around the position."""
    spans = cursor.outline if cursor.outline is not None else chunks.chunks_in_file(cursor.path)
    position = (cursor.line, cursor.character)
    holding = [
        span for span in spans if (span.start_line, span.start_char) <= position <= (span.end_line, span.end_char)
    ]
    if not holding:
        return None
    innermost = holding[-1]  # source order: a chunk comes after the chunks around it
    word = _word_at(chunks, cursor, innermost)
    on_name = (innermost.sel_line, innermost.sel_char) <= position <= _name_end(innermost)
    if word is None or on_name:
        return _chunk(chunks, [span.id for span in reversed(holding) if not classes_only or span.kind == "class"])
    for span in reversed(holding):
        how = {target: how for target, _, how in chunks.dependencies(span.id) if _name_of(target) == word}
        found = [chunk for chunk in chunks.get_many(sorted(how)) if not classes_only or chunk.kind == "class"]
        if found:  # a resolved edge before a guess
            return min(found, key=lambda chunk: (how[chunk.id] == "attr-unique", chunk.id))
    named = [span for span in spans if span.name == word and (not classes_only or span.kind == "class")]
    for around in reversed(holding):  # an enclosing chunk or one defined in it (a closure), innermost first
        ids = [span.id for span in named if around.id in (span.id, span.parent)]
        if ids:
            return _chunk(chunks, ids)
    return None


def resolve(chunks: ChunkStore, target: Target, classes_only: bool = False) -> Chunk | None:
    if isinstance(target, str):
        return chunks.get(target)
    return subject_at(chunks, target, classes_only)


def references(chunks: ChunkStore, subject: Chunk, include_declaration: bool) -> list[Place]:
    """Where the chunks with an edge into `subject` use it, by file and position."""
    users = chunks.get_many(sorted({source for source, _, _ in chunks.dependents(subject.id)} - {subject.id}))
    places = [Place(subject.path, subject.selection_range)] if include_declaration else []
    for user, ranges in zip(users, _sites(chunks, users, subject.name), strict=True):
        places.extend(Place(user.path, found) for found in ranges or (user.selection_range,))
    return sorted(places, key=lambda place: (place.path, place.range))


def calls(chunks: ChunkStore, subject: Chunk, incoming: bool) -> list[Call]:
    """Callers of `subject` (incoming) or what it calls, each with the call sites in the caller."""
    if incoming:
        callers = chunks.get_many(sorted({src for src, kind, _ in chunks.dependents(subject.id) if kind == "call"}))
        return [
            Call(caller, tuple(ranges) or (caller.selection_range,))
            for caller, ranges in zip(callers, _sites(chunks, callers, subject.name, calls=True), strict=True)
        ]
    callees = chunks.get_many(sorted({dst for dst, kind, _ in chunks.dependencies(subject.id) if kind == "call"}))
    text, skipped = chunks.text(subject.id) or "", _children_lines(chunks, [subject]).get(subject.id, [])
    return [
        Call(callee, tuple(_call_sites(subject, text, skipped, callee.name)) or (subject.selection_range,))
        for callee in callees
    ]


def type_relatives(chunks: ChunkStore, subject: Chunk, supertypes: bool) -> list[Chunk]:
    """The classes `subject` derives from (supertypes) or that derive from it, by their ids."""
    edges = chunks.dependencies(subject.id) if supertypes else chunks.dependents(subject.id)
    return chunks.get_many(sorted({other for other, kind, _ in edges if kind == "base"} - {subject.id}))


def name_ranges(
    chunk: Span, text: str, skipped: Sequence[tuple[int, int]], name: str, called: bool = False
) -> list[Range]:
    """Where `name` is spelled as a whole word in a chunk's text (`called`: followed by an
    opening parenthesis), outside comments, strings and the `skipped` line spans (its
    children), its own definition's name left out."""
    lines = split_lines(text)
    first_offset = 0 if chunk.start_char == 0 or lines[0][:1] in (" ", "\t", "\f") else chunk.start_char
    pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)" + (r"(?=\s*\()" if called else ""))
    width = utf16_length(name)
    found: list[Range] = []
    for index, line in enumerate(lines):
        number = chunk.start_line + index
        if name not in line or any(first <= number <= last for first, last in skipped):
            continue
        for match in pattern.finditer(line):
            if not _in_code(line, match.start()):
                continue
            start = utf16_column(line, match.start()) + (first_offset if index == 0 else 0)
            if (number, start) != (chunk.sel_line, chunk.sel_char):
                found.append((number, start, number, start + width))
    return found


# -- helpers -----------------------------------------------------------------------------


def _sites(chunks: ChunkStore, users: Sequence[Chunk], name: str, calls: bool = False) -> list[list[Range]]:
    """For each chunk, where its own text spells `name` (`calls`: its call sites, else every use)."""
    children = _children_lines(chunks, users)
    sites = _call_sites if calls else name_ranges
    return [sites(user, chunks.text(user.id) or "", children.get(user.id, []), name) for user in users]


def _call_sites(chunk: Span, text: str, skipped: Sequence[tuple[int, int]], name: str) -> list[Range]:
    """Where a chunk calls `name`; where no call spells it so (a decorator, a callback), every use."""
    return name_ranges(chunk, text, skipped, name, called=True) or name_ranges(chunk, text, skipped, name)


def _children_lines(chunks: ChunkStore, parents: Sequence[Chunk]) -> dict[str, list[tuple[int, int]]]:
    """parent id -> the first and last line of each chunk directly inside it."""
    pairs = chunks.children([parent.id for parent in parents])
    spans = {child.id: (child.start_line, child.end_line) for child in chunks.get_many(child for child, _ in pairs)}
    found: dict[str, list[tuple[int, int]]] = {}
    for child, parent in pairs:
        if child in spans:
            found.setdefault(parent, []).append(spans[child])
    return found


def _chunk(chunks: ChunkStore, ids: Sequence[str]) -> Chunk | None:
    return chunks.get(ids[0]) if ids else None


def _name_of(chunk_id: str) -> str:
    return ChunkId.plain_qualname(chunk_id).rpartition(".")[2]


def _name_end(span: Span) -> tuple[int, int]:
    return (span.sel_line, span.sel_char + utf16_length(span.name))


def _word_at(chunks: ChunkStore, cursor: Cursor, innermost: Span) -> str | None:
    """The identifier under (or just before) the cursor; None on a keyword, a number or none."""
    line, offset = cursor.line_text, 0
    if line is None:
        lines = split_lines(chunks.text(innermost.id) or "")
        index = cursor.line - innermost.start_line
        if not 0 <= index < len(lines):
            return None
        line = lines[index]
        if index == 0 and innermost.start_char and lines[0][:1] not in (" ", "\t", "\f"):
            offset = innermost.start_char
    column = codepoint_column(line, cursor.character - offset) if cursor.character >= offset else -1
    for match in _WORD.finditer(line):
        if match.start() <= column <= match.end():
            word = match.group()
            return None if word[0].isdigit() or keyword.iskeyword(word) else word
    return None


def _in_code(line: str, column: int) -> bool:
    """Whether `column` of one line is code: not in a comment or a string opened on the line."""
    quote = ""
    index = 0
    while index < column:
        char = line[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            return False
        index += 1
    return not quote
