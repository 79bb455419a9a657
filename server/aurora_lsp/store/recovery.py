"""Opening the database whatever state it is in: damaged files are moved aside and
rebuilt, an unwritable location falls back to memory, and the person is told once.

Nothing is ever deleted: a damaged or newer-schema file is renamed next to itself with
the time it was found, so it can be inspected or restored. And only Aurora's own file is
ever renamed: one in Aurora's cache folder, or one whose header says it is Aurora's. A
mistyped `databasePath` or `--db` that names a source file, a document or someone else's
database is refused with one line and left byte for byte as it was.
"""

from __future__ import annotations

import os
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aurora_lsp.config import workspaces_cache_dir
from aurora_lsp.store.sqlite import SqliteStore, StoreError, header_says_aurora

SIDE_FILES = ("-wal", "-shm")


@dataclass(slots=True)
class Opened:
    store: SqliteStore
    notice: str | None  # one line for the person, when the database was not used as it was


BUSY_ATTEMPTS = 3


# An empty file of these names is what `touch index.sqlite3` makes for a database to be.
DATABASE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def open_store(path: Path) -> Opened:
    """The database at `path`, repaired by rebuilding, or an in-memory one when it cannot be written."""
    refusal = _not_a_database(path)
    if refusal is not None:
        raise StoreError(refusal, "foreign")
    error = _try_open(path)
    if isinstance(error, SqliteStore):
        return Opened(error, None)
    if error.reason in ("foreign", "busy"):
        raise error  # someone else's database, or held by another process: never move it
    if error.reason == "unwritable":
        return in_memory(error)
    if not _ours(path):
        raise StoreError(f"{error}; it is not recognisably Aurora's, so it was left untouched", "foreign")
    moved = move_aside(path)
    try:
        store = SqliteStore(path)
    except StoreError as again:
        if again.reason != "unwritable":
            raise
        return in_memory(again)
    return Opened(store, f"Aurora: {error}. It was moved to {moved.name} and the workspace is being indexed again.")


def _not_a_database(path: Path) -> str | None:
    """Why an existing file must not be opened as a database at all (SQLite would write into
    it), or None: a file that is not SQLite's, unless it is empty and named like a database."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a folder, a FIFO (opening it would hang), a device
            return f"{path} is not a regular file; Aurora leaves it untouched: check databasePath / --db"
        with open(path, "rb") as handle:
            start = handle.read(16)
    except FileNotFoundError:
        return None
    except OSError:
        return None  # unreadable: SQLite says why, and nothing is written
    if start.startswith(b"SQLite format 3\x00") or (not start and path.suffix in DATABASE_SUFFIXES):
        return None
    return (
        f"{path} is not a database (neither SQLite's nor an empty *.sqlite3 file); "
        "Aurora leaves it untouched: check databasePath / --db"
    )


def _ours(path: Path) -> bool:
    """Whether a file Aurora cannot use is Aurora's own, and so may be moved aside."""
    try:
        if path.resolve().parent == workspaces_cache_dir().resolve():
            return True  # Aurora's cache folder: nobody else writes there
        with open(path, "rb") as handle:
            return header_says_aurora(handle.read(100))
    except OSError:
        return False


def _try_open(path: Path) -> SqliteStore | StoreError:
    """The store, or why it cannot be used; a database busy in another process is tried again."""
    for attempt in range(1, BUSY_ATTEMPTS + 1):
        try:
            return SqliteStore(path, check=True)
        except StoreError as error:
            if error.reason != "busy" or attempt == BUSY_ATTEMPTS:
                return error
    raise AssertionError("unreachable")


def in_memory(error: StoreError) -> Opened:
    return Opened(memory_store(), memory_notice(str(error)))


def memory_notice(reason: str) -> str:
    """What the person is told when the index can only live in memory."""
    return f"Aurora: {reason}; keeping the index in memory for this session"


def memory_store() -> SqliteStore:
    """A fresh database in memory that a second connection can open by its name."""
    name = f"aurora-{uuid.uuid4().hex}"
    return SqliteStore(Path(":memory:"), memory_name=name)


def move_aside(path: Path) -> Path:
    """Rename the database (and its WAL files) to `<name>.damaged-<time>`; returns the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{counter}")
    if path.exists():
        path.rename(target)
    for suffix in SIDE_FILES:
        side = Path(str(path) + suffix)
        if side.exists():
            side.rename(Path(str(target) + suffix))
    return target
