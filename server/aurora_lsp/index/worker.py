"""What a parsing process runs: chunk a batch of files. Imports the chunker and nothing else.

Worker processes unpickle `chunk_batch` by module name, so whatever this module imports
every worker holds. Kept apart from the indexer (SQLite, sqlite-utils and what it pulls
in), a worker starts at about 37 MB instead of 57 MB.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence

from aurora_lsp.index.chunker import NotPythonSource, chunk_file, load_grammar
from aurora_lsp.records import ParsedFile

SKIP_BINARY = "binary, not Python source"
SKIP_CHUNKER_FAILED = "could not be chunked"


def chunk_batch(items: Sequence[tuple[str, bytes, str, bool]]) -> list[ParsedFile | str]:
    """Chunk a few files (in a worker process or inline); a string is why one failed.

    parso builds cyclic trees. With the collector off, each file's objects stay in the
    youngest generation, and collecting just that generation after each file frees the
    tree at once: a worker holds one file's tree at a time, and never walks the
    long-lived objects (grammar, modules) the way a full collection per batch did.
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
    """Pool initializer: parso's grammar loaded before the first batch."""
    load_grammar()
