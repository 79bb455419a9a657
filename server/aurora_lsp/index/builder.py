"""What a walk of one file fills in, whichever parser made the tree.

The chunker walks parso's tree (`chunker.py`) and, for valid Python that parso cannot
read, Python's own `ast` (`chunker_ast.py`). Both report the same things: definitions
with their positions, the names each body uses, imports. This module turns those reports
into the stored records, so that ids, qualnames, kinds, UTF-16 columns, chunk text and
refs are made one way for both walks. It imports no parser.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import sys

from aurora_lsp.positions import split_lines, utf16_length
from aurora_lsp.records import ChunkId, ParsedChunk, ParsedFile
from aurora_lsp.tokens import count_tokens

SIGNATURE_MAX_CHARS = 400
# Limits that keep indexing linear in a file's size. Real code stays far below them (the
# stdlib and site-packages: chains of at most 7 names, definitions nested at most 6 deep).
# A dotted name (a reference chain, an import target, a type) keeps its first segments:
# resolution looks up its prefixes, so a longer chain would cost its length squared.
MAX_CHAIN_SEGMENTS = 32
MAX_DOTTED_CHARS = 512  # and its first characters (an import target is copied per name)
# A definition nested deeper than this belongs to its enclosing chunk: every chunk holds
# the text of the definitions inside it, so depth multiplies what a file stores. Python
# refuses more than 100 levels of indentation, so only code Python cannot run is cut.
MAX_DEFINITION_DEPTH = 100
_INDENTATION = re.compile(r"[ \t\f]*")
_LINE_REST = re.compile(r"[ \t\f]*;?[ \t\f]*(?:#|\r\n|\r|\n|$)")  # nothing but a comment or `;`


def content_hash(data: bytes) -> str:
    """A short, stable hash of file or chunk content (16 hex digits of BLAKE2b)."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def module_base(module: str, is_package: bool, level: int) -> str:
    """The package a relative import of `level` dots refers to, from module `module`."""
    parts = module.split(".") if module else []
    if not is_package and parts:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: max(0, len(parts) - (level - 1))]
    return ".".join(parts)


def cap_signature(signature: str) -> str:
    """A signature cut to SIGNATURE_MAX_CHARS, ending in an ellipsis when cut."""
    if len(signature) > SIGNATURE_MAX_CHARS:
        return signature[: SIGNATURE_MAX_CHARS - 1] + "…"
    return signature


def dotted_name(parts: list[str]) -> str:
    """A dotted name from its segments: the first whole ones within the two limits."""
    joined = ".".join(parts[:MAX_CHAIN_SEGMENTS])
    if len(joined) <= MAX_DOTTED_CHARS:
        return joined
    kept: list[str] = []
    length = -1
    for part in parts[:MAX_CHAIN_SEGMENTS]:
        length += len(part) + 1
        if length > MAX_DOTTED_CHARS:
            break
        kept.append(part)
    return ".".join(kept) if kept else parts[0][:MAX_DOTTED_CHARS]


def capped_dotted(name: str) -> str:
    """A dotted name cut like `dotted_name` cuts one made of segments."""
    if len(name) <= MAX_DOTTED_CHARS and name.count(".") < MAX_CHAIN_SEGMENTS:
        return name
    return dotted_name(name.split(".", MAX_CHAIN_SEGMENTS)[:MAX_CHAIN_SEGMENTS])


class Scope:
    """The chunk a part of the tree belongs to, while walking it."""

    __slots__ = ("chunk", "refs", "bound", "types", "self_name", "class_scope", "depth")

    def __init__(self, chunk: ParsedChunk | None, self_name: str | None, class_scope: bool, depth: int = 0):
        self.chunk = chunk
        self.refs: set[str] = set()
        self.bound: set[str] = set()
        # local name -> the dotted name of its type, from `x: T` or `x = T(...)`
        self.types: dict[str, str] = {}
        self.self_name = self_name
        self.class_scope = class_scope
        self.depth = depth  # definitions around this scope's code (0 at module level)


class ChunkBuilder:
    """The chunks, scopes and imports of one file, as a walk reports them."""

    def __init__(
        self, path: str, text: str, file_hash: str, module: str, is_package: bool, problems: tuple[str, ...]
    ) -> None:
        self.path = path
        self.text = text
        self.file_hash = file_hash
        self.module = module
        self.is_package = is_package
        self.problems = list(problems)
        self.lines = split_lines(text)
        self.chunks: list[ParsedChunk] = []
        self.scopes: list[Scope] = []
        self.seen_qualnames: dict[str, int] = {}
        self.imports: dict[str, str] = {}
        self.star_imports: list[str] = []
        # line -> (code-point column, UTF-16 column) pairs mapped there, sorted; [] for a
        # line that maps 1:1 (no character outside the BMP)
        self._columns: dict[int, list[tuple[int, int]]] = {}

    def add_chunk(
        self,
        outer: Scope,
        name: str,
        is_class: bool,
        *,
        start: tuple[int, int],
        end: tuple[int, int],
        name_start: tuple[int, int],
        signature: str,
        docstring: str,
        decorators: tuple[str, ...],
    ) -> ParsedChunk:
        """Record one definition; positions are 1-based lines and code-point columns."""
        text = self._chunk_text(start, end)
        chunk = self.add_outline(outer, name, is_class, start=start, end=end, name_start=name_start)
        chunk.signature = signature
        chunk.docstring = docstring
        chunk.decorators = decorators
        chunk.content_hash = content_hash(text.encode("utf-8", "surrogatepass"))
        chunk.tokens = count_tokens(text)
        chunk.text = text
        return chunk

    def add_outline(
        self,
        outer: Scope,
        name: str,
        is_class: bool,
        *,
        start: tuple[int, int],
        end: tuple[int, int],
        name_start: tuple[int, int],
    ) -> ParsedChunk:
        """Record one definition's id, names, kind and range only (the first pass's answer):
        made exactly as `add_chunk` makes them, without text, signature or hashes."""
        parent_chunk = outer.chunk
        qualname = (parent_chunk.qualname + "." if parent_chunk is not None else "") + name
        count = self.seen_qualnames.get(qualname, 0) + 1
        self.seen_qualnames[qualname] = count
        kind = "class" if is_class else "method" if outer.class_scope else "function"
        start_line, start_col = start
        end_line, end_col = end
        start_char = self._utf16(start_line, start_col)  # mapped left to right (see _utf16)
        sel_char = self._utf16(name_start[0], name_start[1])
        chunk = ParsedChunk(
            id=ChunkId.make(self.path, qualname, count),
            qualname=qualname,
            name=name,
            kind=kind,
            start_line=start_line - 1,
            start_char=start_char,
            end_line=end_line - 1,
            end_char=self._utf16(end_line, end_col),
            sel_line=name_start[0] - 1,
            sel_char=sel_char,
            signature="",
            docstring="",
            decorators=(),
            parent=parent_chunk.id if parent_chunk is not None else None,
            content_hash="",
            tokens=0,
            text="",
        )
        self.chunks.append(chunk)
        outer.bound.add(name)
        return chunk

    def too_deep(self, outer: Scope) -> bool:
        """Whether a definition in `outer` is past MAX_DEFINITION_DEPTH (its code stays in `outer`)."""
        return outer.depth >= MAX_DEFINITION_DEPTH

    def open_scope(self, outer: Scope, chunk: ParsedChunk, self_name: str | None, class_scope: bool) -> Scope:
        """The scope of a definition's body; its refs are finished with the file."""
        scope = Scope(chunk, self_name, class_scope, outer.depth + 1)
        self.scopes.append(scope)
        return scope

    def bind_import(self, local: str, target: str, scope: Scope) -> None:
        """`local` names `target` (absolute dotted) in the file, and is no longer a local of `scope`."""
        # An import inside a function is recorded file-wide too, unless an earlier
        # import of the same name already says otherwise: the first binding wins.
        self.imports.setdefault(local, capped_dotted(target))
        scope.bound.discard(local)

    def add_star_import(self, module: str) -> None:
        """`from module import *` (absolute dotted); an empty name says nothing and is dropped."""
        if module:
            self.star_imports.append(capped_dotted(module))

    def result(self) -> ParsedFile:
        for scope in self.scopes:
            finish_refs(scope)
        return ParsedFile(
            path=self.path,
            content_hash=self.file_hash,
            chunks=self.chunks,
            imports=self.imports,
            star_imports=tuple(dict.fromkeys(self.star_imports)),
            problems=tuple(self.problems),
        )

    def source(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        """The text between two positions (1-based lines, code-point columns)."""
        start_line, start_col = start
        end_line, end_col = end
        if start_line == end_line:
            return self.lines[start_line - 1][start_col:end_col]
        middle = "".join(self.lines[start_line : end_line - 1])
        return self.lines[start_line - 1][start_col:] + middle + self.lines[end_line - 1][:end_col]

    def _chunk_text(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        """A definition's whole lines, or only its own part of a line it shares with other code.

        Only code Python cannot run shares a line with a definition (`def a(): pass; def
        b(): pass`), but parso reads it: a long line of such definitions, stored whole
        with each of them, grew with the square of its length.
        """
        start_line, start_col = start
        end_line, end_col = end
        if not 0 < start_line <= end_line <= len(self.lines):
            return "".join(self.lines[start_line - 1 : end_line])
        first, last = self.lines[start_line - 1], self.lines[end_line - 1]
        indentation = _INDENTATION.match(first)
        head = 0 if indentation is None or indentation.end() >= start_col else start_col
        tail = len(last) if _LINE_REST.match(last, end_col) else end_col
        if start_line == end_line:
            return first[head:tail]
        return first[head:] + "".join(self.lines[start_line : end_line - 1]) + last[:tail]

    def _utf16(self, line: int, column: int) -> int:
        """The UTF-16 column of a position, counted from the nearest column mapped before it.

        Counting from the line's start each time made a long line of many definitions cost
        its length once per definition.
        """
        if line - 1 >= len(self.lines):
            return column
        text = self.lines[line - 1]
        mapped = self._columns.get(line)
        if mapped is None:
            mapped = self._columns[line] = [] if utf16_length(text) == len(text) else [(0, 0)]
        if not mapped:
            return column
        index = bisect.bisect_right(mapped, (column, sys.maxsize)) - 1
        known, units = mapped[index]
        if known != column:
            units += utf16_length(text[known:column])
            mapped.insert(index + 1, (column, units))
        return units


def finish_refs(scope: Scope) -> None:
    """Refs as stored: names bound in the scope become attributes of unknown or typed objects."""
    chunk = scope.chunk
    if chunk is None:
        return
    refs: set[str] = set()
    bound = scope.bound
    self_name = scope.self_name
    for ref in scope.refs:
        kind, _, chain = ref.partition(":")
        head, dot, rest = chain.partition(".")
        if head == self_name and self_name is not None:
            if dot:
                refs.add(f"{kind}:self.{rest}")
            continue
        if head and head in bound:
            if dot:
                attribute = rest.partition(".")[0]
                type_name = scope.types.get(head)
                # `cart.total()` with `cart: Cart`: an attribute of an instance of Cart
                refs.add(f"{kind}:{type_name}>{attribute}" if type_name else f"{kind}:.{attribute}")
            continue
        refs.add(ref)
    chunk.refs = tuple(sorted(refs))
