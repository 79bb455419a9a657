"""What a parsing process runs: chunk a batch of files. Imports the chunker and nothing else.

Worker processes unpickle `chunk_batch` by module name, so whatever this module imports
every worker holds. Kept apart from the indexer (SQLite, sqlite-utils and what it pulls
in), a worker starts at about 37 MB instead of 57 MB. Files are read with Python's own
parser; parso is imported by the first file it cannot compile or larger than
`chunker.AST_MAX_BYTES`, if any.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Sequence

from aurora_lsp.index.builder import ChunkBuilder
from aurora_lsp.index.chunker import NotPythonSource, chunk_file, decode_source
from aurora_lsp.index.chunker_ast import outline, parse_module
from aurora_lsp.records import ParsedFile

# One definition as the first pass reports it: id, kind, range (start line and character,
# end line and character), the name's start (line, character), parent id.
OutlineRow = tuple[str, str, int, int, int, int, int, int, str | None]

SKIP_BINARY = "binary, not Python source"
SKIP_CHUNKER_FAILED = "could not be chunked"


def chunk_batch(items: Sequence[tuple[str, bytes, str, bool]]) -> list[ParsedFile | str]:
    """Chunk a few files (in a worker process or inline); a string is why one failed.

    parso (for a file Python cannot compile) builds cyclic trees. With the collector off,
    each file's objects stay in the youngest generation, and collecting just that
    generation after each file frees the tree at once: a worker holds one file's tree at
    a time, and never walks the long-lived objects (modules) the way a full collection
    per batch did.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        results: list[ParsedFile | str] = []
        for path, data, module, is_package in items:
            try:
                results.append(chunk_file(path, data, module, is_package))
            except NotPythonSource as error:
                results.append(f"{SKIP_BINARY}: {error}")
            except (RecursionError, MemoryError, ValueError, IndexError, AttributeError, TypeError) as error:
                results.append(f"{SKIP_CHUNKER_FAILED}: {type(error).__name__}: {error}")
            gc.collect(0)
        return results
    finally:
        if was_enabled:
            gc.enable()


def start() -> None:
    """Pool initializer: nothing to preload; parso's grammar loads with the first file that needs it."""


def outline_batch(items: Sequence[tuple[str, str, int]]) -> list[list[OutlineRow]]:
    """The definitions of a few files on disk, (path, file to read, size limit) each, from
    Python's own parser: the first pass, which makes every definition findable before the
    full chunking (ten times the work) is done.

    A file Python cannot parse, or that cannot be read now, has no rows here: the full
    pass (parso's error recovery) gives its definitions. Each row is what the full pass
    will store for the same definition (ids, kinds, ranges: `builder.add_outline`).
    """
    found: list[list[OutlineRow]] = []
    for path, absolute, max_bytes in items:
        rows: list[OutlineRow] = []
        data = _read_regular(absolute, max_bytes)
        try:
            text, problems = decode_source(data) if data is not None else ("", ())
        except NotPythonSource:
            text = ""
        tree = parse_module(text, path) if text else None
        if tree is not None:
            builder = ChunkBuilder(path, text, "", "", False, problems)
            try:
                outline(builder, tree)
            except (RecursionError, MemoryError, ValueError, IndexError) as error:
                del error  # the full pass reports what went wrong with this file
                builder.chunks = []
            rows = [
                (c.id, c.kind, c.start_line, c.start_char, c.end_line, c.end_char, c.sel_line, c.sel_char, c.parent)
                for c in builder.chunks
            ]
        found.append(rows)
    return found


def _read_regular(absolute: str, max_bytes: int) -> bytes | None:
    """A regular file's bytes, or None: never through a symlink, never blocking on a FIFO
    put in a file's place (the rules of `indexer.read_regular_file`, without its reasons)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(absolute, flags)
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        data = os.read(descriptor, max_bytes + 1)
        return data if len(data) <= max_bytes else None
    except OSError:
        return None
    finally:
        os.close(descriptor)
