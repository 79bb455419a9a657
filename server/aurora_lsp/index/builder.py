"""What a walk of one file fills in, whichever parser made the tree.

The chunker walks parso's tree (`chunker.py`) and, for valid Python that parso cannot
read, Python's own `ast` (`chunker_ast.py`). Both report the same things: definitions
with their positions, the names each body uses, imports. This module turns those reports
into the stored records, so that ids, qualnames, kinds, UTF-16 columns, chunk text and
refs are made one way for both walks. It imports no parser.
"""

from __future__ import annotations

import hashlib

from aurora_lsp.convert import split_lines, utf16_column
from aurora_lsp.records import ChunkId, ParsedChunk, ParsedFile
from aurora_lsp.tokens import count_tokens

SIGNATURE_MAX_CHARS = 400


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


class Scope:
    """The chunk a part of the tree belongs to, while walking it."""

    __slots__ = ("chunk", "refs", "bound", "types", "self_name", "class_scope")

    def __init__(self, chunk: ParsedChunk | None, self_name: str | None, class_scope: bool):
        self.chunk = chunk
        self.refs: set[str] = set()
        self.bound: set[str] = set()
        # local name -> the dotted name of its type, from `x: T` or `x = T(...)`
        self.types: dict[str, str] = {}
        self.self_name = self_name
        self.class_scope = class_scope


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
        parent_chunk = outer.chunk
        qualname = (parent_chunk.qualname + "." if parent_chunk is not None else "") + name
        count = self.seen_qualnames.get(qualname, 0) + 1
        self.seen_qualnames[qualname] = count
        kind = "class" if is_class else "method" if outer.class_scope else "function"
        start_line, start_col = start
        end_line, end_col = end
        text = "".join(self.lines[start_line - 1 : end_line])
        chunk = ParsedChunk(
            id=ChunkId.make(self.path, qualname, count),
            qualname=qualname,
            name=name,
            kind=kind,
            start_line=start_line - 1,
            start_char=self._utf16(start_line, start_col),
            end_line=end_line - 1,
            end_char=self._utf16(end_line, end_col),
            sel_line=name_start[0] - 1,
            sel_char=self._utf16(name_start[0], name_start[1]),
            signature=signature,
            docstring=docstring,
            decorators=decorators,
            parent=parent_chunk.id if parent_chunk is not None else None,
            content_hash=content_hash(text.encode("utf-8", "surrogatepass")),
            tokens=count_tokens(text),
            text=text,
        )
        self.chunks.append(chunk)
        outer.bound.add(name)
        return chunk

    def open_scope(self, chunk: ParsedChunk, self_name: str | None, class_scope: bool) -> Scope:
        """The scope of a definition's body; its refs are finished with the file."""
        scope = Scope(chunk, self_name, class_scope)
        self.scopes.append(scope)
        return scope

    def bind_import(self, local: str, target: str, scope: Scope) -> None:
        """`local` names `target` (absolute dotted) in the file, and is no longer a local of `scope`."""
        # An import inside a function is recorded file-wide too, unless an earlier
        # import of the same name already says otherwise: the first binding wins.
        self.imports.setdefault(local, target)
        scope.bound.discard(local)

    def add_star_import(self, module: str) -> None:
        """`from module import *` (absolute dotted); an empty name says nothing and is dropped."""
        if module:
            self.star_imports.append(module)

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

    def _utf16(self, line: int, column: int) -> int:
        if line - 1 >= len(self.lines):
            return column
        return utf16_column(self.lines[line - 1], column)


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
