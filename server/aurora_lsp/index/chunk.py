"""The Chunk record: plain, slotted data with no jedi or LSP objects inside."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from aurora_lsp.convert import utf16_length

ID_SEPARATOR = "::"
KINDS = ("class", "function", "method")
SUMMARY_MAX_CHARS = 120


def summarize(docstring: str) -> str:
    """The first line of a docstring, at most SUMMARY_MAX_CHARS characters."""
    first = docstring.strip().split("\n", 1)[0].strip()
    if len(first) > SUMMARY_MAX_CHARS:
        return first[: SUMMARY_MAX_CHARS - 1] + "…"
    return first


def split_id(chunk_id: str) -> tuple[str, str]:
    """(workspace-relative path, qualified name with any #n suffix) of a chunk id."""
    path, _, qualname = chunk_id.partition(ID_SEPARATOR)
    return path, qualname


def plain_qualname(qualname: str) -> str:
    """The qualified name without the `#n` that numbers repeated definitions."""
    base, hash_sign, number = qualname.rpartition("#")
    return base if hash_sign and number.isdigit() else qualname


# A chunk's fields in Chunk.__slots__ order. The memory tier keeps chunks in this form:
# CPython's collector stops tracking a tuple of strings, numbers and such tuples, so
# 50,000 resident rows add nothing to a full collection, where 50,000 Chunk objects
# added 28 ms to each one (measured at 262K chunks; requests waited behind them).
ChunkRow = tuple[str, str, int, int, int, int, int, int, str, str, tuple[str, ...], str | None, str, int]


class Chunk:
    """One chunk's record, about 0.6 KB resident (the memory tier keeps it as a ChunkRow).

    Path, qualified name and name are derived from the id instead of stored, so a
    resident chunk costs one string for all three. What is large or rarely needed stays
    in SQLite and is read when a request needs it: the source text, the full docstring
    (`summary` is its first line) and the dependency edges.
    """

    __slots__ = (
        "id",
        "kind",
        "start_line",
        "start_char",
        "end_line",
        "end_char",
        "sel_line",
        "sel_char",
        "signature",
        "summary",
        "decorators",
        "parent",
        "content_hash",
        "tokens",
    )

    def __init__(
        self,
        id: str,
        kind: str,
        start_line: int,
        start_char: int,
        end_line: int,
        end_char: int,
        sel_line: int,
        sel_char: int,
        signature: str,
        summary: str,
        decorators: tuple[str, ...],
        parent: str | None,
        content_hash: str,
        tokens: int,
    ) -> None:
        self.id = id
        self.kind = kind
        self.start_line = start_line
        self.start_char = start_char
        self.end_line = end_line
        self.end_char = end_char
        self.sel_line = sel_line
        self.sel_char = sel_char
        self.signature = signature
        self.summary = summary
        self.decorators = decorators
        self.parent = parent
        self.content_hash = content_hash
        self.tokens = tokens

    def row(self) -> ChunkRow:
        """The fields as a plain tuple, the form the memory tier keeps (see ChunkRow)."""
        return (
            self.id,
            self.kind,
            self.start_line,
            self.start_char,
            self.end_line,
            self.end_char,
            self.sel_line,
            self.sel_char,
            self.signature,
            self.summary,
            self.decorators,
            self.parent,
            self.content_hash,
            self.tokens,
        )

    @property
    def path(self) -> str:
        return split_id(self.id)[0]

    @property
    def qualname(self) -> str:
        """The qualified name as Python spells it (no `#n`)."""
        return plain_qualname(split_id(self.id)[1])

    @property
    def name(self) -> str:
        return self.qualname.rpartition(".")[2]

    @property
    def range(self) -> tuple[int, int, int, int]:
        """0-based LSP range (start line, start char, end line, end char), UTF-16 chars."""
        return (self.start_line, self.start_char, self.end_line, self.end_char)

    def as_dict(self) -> dict[str, object]:
        """The contract's field names, for --json output and tests."""
        return {
            "id": self.id,
            "path": self.path,
            "qualifiedName": self.qualname,
            "name": self.name,
            "kind": self.kind,
            "range": {
                "start": {"line": self.start_line, "character": self.start_char},
                "end": {"line": self.end_line, "character": self.end_char},
            },
            "selectionRange": {
                "start": {"line": self.sel_line, "character": self.sel_char},
                "end": {"line": self.sel_line, "character": self.sel_char + utf16_length(self.name)},
            },
            "signature": self.signature,
            "summary": self.summary,
            "decorators": list(self.decorators),
            "parent": self.parent,
            "contentHash": self.content_hash,
            "tokens": self.tokens,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Chunk):
            return NotImplemented
        return all(getattr(self, slot) == getattr(other, slot) for slot in self.__slots__)

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Chunk({self.id!r}, {self.kind}, lines {self.start_line}-{self.end_line})"


@dataclass(slots=True)
class ParsedChunk:
    """What the chunker extracts for one definition, before it is stored."""

    id: str
    qualname: str
    name: str
    kind: str
    start_line: int
    start_char: int
    end_line: int
    end_char: int
    sel_line: int
    sel_char: int
    signature: str
    docstring: str
    decorators: tuple[str, ...]
    parent: str | None
    content_hash: str
    tokens: int
    text: str
    # References found in the body: "<kind>:<dotted chain>", kind c(all) b(ase) d(ecorator)
    # r(eference); a chain starting with "." is an attribute of an unknown object, one
    # starting with "self." an attribute of the method's own instance or class, and
    # "T>name" an attribute of an instance of T.
    refs: tuple[str, ...] = field(default_factory=tuple)


@dataclass(slots=True)
class ParsedFile:
    """The chunker's answer for one file: chunks plus what resolution needs."""

    path: str
    content_hash: str
    chunks: list[ParsedChunk]
    # local name -> absolute dotted target ("pkg.mod.Name"), from every import in the file
    imports: dict[str, str]
    # modules imported with `from m import *`
    star_imports: tuple[str, ...]
    # one line per problem (syntax error, undecodable bytes); empty when clean
    problems: tuple[str, ...] = ()


_SMALL_INT_MAX = 256  # CPython shares ints -5..256; larger ones are objects of their own


def resident_size(chunk: Chunk) -> int:
    """Bytes the memory tier holds for a chunk (its row), as tracemalloc sees them."""
    return row_size(chunk.row())


def row_size(row: ChunkRow) -> int:
    """Bytes a resident row owns, as tracemalloc sees them.

    Counts the tuple and every object only it holds; shared objects (the kind strings,
    the empty string and tuple, small ints) cost nothing extra.
    """
    (chunk_id, _, start_line, start_char, end_line, end_char, sel_line, sel_char, signature, summary,
     decorators, parent, content_hash, tokens) = row  # fmt: skip
    size = sys.getsizeof(row)
    for text in (chunk_id, signature, summary, parent, content_hash):
        if text:
            size += sys.getsizeof(text)
    for number in (start_line, start_char, end_line, end_char, sel_line, sel_char, tokens):
        if number > _SMALL_INT_MAX or number < -5:
            size += sys.getsizeof(number)
    if decorators:
        size += sys.getsizeof(decorators) + sum(sys.getsizeof(d) for d in decorators)
    return size
