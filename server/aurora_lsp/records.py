"""The records every layer shares: plain, slotted data with no jedi, SQLite or LSP inside.

Chunk ids, chunks (as stored and as parsed), parsed files, what resolution reads and
writes, and file states. Everything else in Aurora imports these; they import nothing
of Aurora but the UTF-16 length of a name.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

from aurora_lsp.positions import utf16_length

KINDS = ("class", "function", "method")
SUMMARY_MAX_CHARS = 120
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|_+|\.")


def summarize(docstring: str) -> str:
    """The first line of a docstring, at most SUMMARY_MAX_CHARS characters."""
    first = docstring.strip().split("\n", 1)[0].strip()
    if len(first) > SUMMARY_MAX_CHARS:
        return first[: SUMMARY_MAX_CHARS - 1] + "…"
    return first


class ChunkId:
    """The one place that knows how a chunk id is spelled.

    `<workspace-relative POSIX path>::<qualified name>`, the second definition of a
    qualified name in one file numbered `#2`, the third `#3` (the contract's chunk ids).
    Ids stay plain strings everywhere (they are keys in SQLite and in the memory tier);
    this namespace makes, splits and reads them.
    """

    SEPARATOR = "::"

    @staticmethod
    def make(path: str, qualname: str, occurrence: int = 1) -> str:
        """The id of the `occurrence`-th definition of `qualname` in `path`."""
        numbered = qualname if occurrence == 1 else f"{qualname}#{occurrence}"
        return f"{path}{ChunkId.SEPARATOR}{numbered}"

    @staticmethod
    def split(chunk_id: str) -> tuple[str, str]:
        """(workspace-relative path, qualified name with any #n suffix)."""
        path, _, qualname = chunk_id.partition(ChunkId.SEPARATOR)
        return path, qualname

    @staticmethod
    def path(chunk_id: str) -> str:
        return chunk_id.partition(ChunkId.SEPARATOR)[0]

    @staticmethod
    def qualname(chunk_id: str) -> str:
        """The qualified name with any `#n` (unique within the file)."""
        return chunk_id.partition(ChunkId.SEPARATOR)[2]

    @staticmethod
    def plain_qualname(chunk_id: str) -> str:
        """The qualified name as Python spells it (no `#n`)."""
        return plain_qualname(ChunkId.qualname(chunk_id))


def plain_qualname(qualname: str) -> str:
    """A qualified name without the `#n` that numbers repeated definitions."""
    base, hash_sign, number = qualname.rpartition("#")
    return base if hash_sign and number.isdigit() else qualname


def name_words(qualname: str) -> str:
    """`QuerySet.get_response` → `query set get response`, for full-text matching of parts."""
    return " ".join(word.lower() for word in _CAMEL.split(qualname) if word)


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
        return ChunkId.path(self.id)

    @property
    def qualname(self) -> str:
        """The qualified name as Python spells it (no `#n`)."""
        return ChunkId.plain_qualname(self.id)

    @property
    def name(self) -> str:
        return self.qualname.rpartition(".")[2]

    @property
    def range(self) -> tuple[int, int, int, int]:
        """0-based LSP range (start line, start char, end line, end char), UTF-16 chars."""
        return (self.start_line, self.start_char, self.end_line, self.end_char)

    @property
    def selection_range(self) -> tuple[int, int, int, int]:
        """The name's range in the definition line, the same four numbers as `range`."""
        return (self.sel_line, self.sel_char, self.sel_line, self.sel_char + utf16_length(self.name))

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


# -- what resolution reads and writes ----------------------------------------------------


@dataclass(slots=True)
class FileSymbols:
    """A file's module name and imports, as resolution needs them."""

    path: str
    module: str
    imports: dict[str, str]
    star_imports: tuple[str, ...]


@dataclass(slots=True)
class RefSource:
    """One chunk's references, as stored."""

    id: str
    path: str
    qualname: str
    kind: str
    refs: tuple[str, ...]


Edge = tuple[str, str, str, str]  # (source id, target id, kind, how)
Event = tuple[str, float, str]  # a use: (chunk id, when, kind of use)


# -- files ---------------------------------------------------------------------------------


@dataclass(slots=True)
class FileState:
    """What was indexed of a file: its content hash and stat when last checked."""

    path: str
    content_hash: str
    size: int
    mtime_ns: int
    checked_ns: int
    module: str


@dataclass(slots=True)
class FileRecord:
    """A file to (re)write: its stat, module and what the chunker found."""

    parsed: ParsedFile
    size: int
    mtime_ns: int
    checked_ns: int
    module: str
