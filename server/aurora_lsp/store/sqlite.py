"""The disk tier: SQLite through sqlite-utils. The only module that imports sqlite_utils.

One database file per workspace, in WAL mode, with a schema version (`PRAGMA
user_version`) and forward migrations. Tables: `files` (what was indexed, by content
hash), `chunks` (every chunk with its source text), `edges` (dependencies, with how each
was resolved), `accesses` (time-stamped uses, for activation), `history_changes` and `history_pairs`
(what the git history changed together), `meta`, and the full-text
index `chunks_fts` over names, qualified names, signatures and docstrings, and
`chunks_body_fts` over the distinct words of each chunk's text (identifier parts, string
literals, comments) for questions.

Writes go in one transaction per batch of files, so a crash leaves either the old or the
new state of each file, never half of it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from aurora_lsp.records import (
    Chunk,
    Edge,
    FileRecord,
    FileState,
    FileSymbols,
    ParsedChunk,
    RefSource,
    name_words,
    summarize,
)

# sqlite-utils imports pandas and numpy when they are installed, only to map their types to
# SQL column types, which Aurora never stores. Where they are installed (a data-science
# environment) that costs 12 MB (numpy) or more (pandas) and a tenth of a second at every
# start: hide them while it loads, unless something imported them already.
_HIDDEN = [name for name in ("pandas", "numpy") if name not in sys.modules]
for _name in _HIDDEN:
    sys.modules[_name] = None  # type: ignore[assignment]  # an import of it then fails
try:
    import sqlite_utils
finally:
    for _name in _HIDDEN:
        if sys.modules.get(_name, False) is None:
            del sys.modules[_name]

SCHEMA_VERSION = 7
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# In the database header (offset 68): this file is Aurora's, readable even when the rest is damaged.
APPLICATION_ID = 0x41555241  # "AURA"
SQLITE_MAGIC = b"SQLite format 3\x00"
_LAST_CHARACTER = "\U0010ffff"  # sorts after every character a name can hold
BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """The database cannot be used; the message is one line a person can act on.

    `reason` says what recovery fits: "corrupt" and "newer" (move the file aside and
    start again), "unwritable" (keep the index in memory), "busy" (another process holds
    a lock: try again), "foreign" (someone else's SQLite database: leave it alone).
    """

    def __init__(self, message: str, reason: str = "corrupt") -> None:
        super().__init__(message)
        self.reason = reason


# SQLite's messages for a location that cannot be created or written
_UNWRITABLE = ("unable to open", "readonly", "read-only", "disk is full", "disk i/o error", "permission")


def _reason_of(error: BaseException) -> str:
    if isinstance(error, OSError):
        return "unwritable"
    message = str(error).lower()
    if "locked" in message or "busy" in message:
        return "busy"  # another process holds it: wait or retry, never treat as damage
    return "unwritable" if any(part in message for part in _UNWRITABLE) else "corrupt"


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "disk is full" in str(error).lower()


def is_busy(error: BaseException) -> bool:
    """Another process holds a lock longer than BUSY_TIMEOUT_MS: worth trying again later."""
    if isinstance(error, StoreError):
        return error.reason == "busy"
    return isinstance(error, sqlite3.OperationalError) and _reason_of(error) == "busy"


def busy_backoff(first: float = 0.5, longest: float = 30.0) -> Iterator[float]:
    """Seconds to wait before each new attempt at work a lock held elsewhere stopped: doubling, capped."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, longest)


_CHUNK_COLUMNS = (
    "id, kind, start_line, start_char, end_line, end_char, sel_line, sel_char, "
    "signature, summary, decorators, parent, content_hash, tokens"
)
_REF_COLUMNS = "id, path, qualname, kind, refs"


def _migrate_to_1(db: sqlite_utils.Database) -> None:
    db.table("files").create(
        {
            "path": str,
            "hash": str,
            "size": int,
            "mtime_ns": int,
            "checked_ns": int,
            "module": str,
            "imports": str,
            "star_imports": str,
            "problems": str,
            "chunk_count": int,
        },
        pk="path",
    )
    db.table("chunks").create(
        {
            "id": str,
            "path": str,
            "seq": int,
            "qualname": str,
            "name": str,
            "kind": str,
            "start_line": int,
            "start_char": int,
            "end_line": int,
            "end_char": int,
            "sel_line": int,
            "sel_char": int,
            "signature": str,
            "summary": str,
            "docstring": str,
            "decorators": str,
            "parent": str,
            "content_hash": str,
            "tokens": int,
            "text": str,
            "refs": str,
        },
        pk="id",
    )
    db.table("chunks").create_index(["path", "seq"])
    db.table("chunks").create_index(["name"])
    # WITHOUT ROWID: the primary key is the table, not a second copy of it
    db.execute(
        "CREATE TABLE edges (src TEXT NOT NULL, dst TEXT NOT NULL, kind TEXT NOT NULL, how TEXT NOT NULL,"
        " PRIMARY KEY (src, dst)) WITHOUT ROWID"
    )
    db.table("edges").create_index(["dst"])
    db.table("accesses").create({"chunk_id": str, "at": float, "event": str})
    db.table("accesses").create_index(["chunk_id", "at"])
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5("
        "words, qualname, signature, docstring, tokenize='unicode61 remove_diacritics 2')"
    )


def _migrate_to_2(db: sqlite_utils.Database) -> None:
    """Indexes the context engine walks: a class's methods, and the latest accesses."""
    db.table("chunks").create_index(["parent"])
    db.table("accesses").create_index(["at"])


def _migrate_to_3(db: sqlite_utils.Database) -> None:
    """workspace/symbol at scale. Names in ASCII-caseless order make its prefix step a range
    read instead of a LIKE over every chunk; (qualname, id) lets its subsequence step scan
    a small index instead of the chunk rows with their text. At 262K chunks the slowest of
    the 20 benchmark queries went from 208 to 59 ms, for 4% more database."""
    db.execute("CREATE INDEX chunks_name_nocase ON chunks (name COLLATE NOCASE)")
    db.execute("CREATE INDEX chunks_qualname_id ON chunks (qualname, id)")


def _migrate_to_4(db: sqlite_utils.Database) -> None:
    """The caseless name index carries (id, qualname), so a prefix query reads only the
    index: it had looked up each candidate's row, text and all, one random page each. At
    262K chunks `__init__` read 1,000+ rows (426 ms on a cold page cache, 61 ms now), for
    30 MB (4%) more database."""
    db.execute("DROP INDEX chunks_name_nocase")
    db.execute("CREATE INDEX chunks_name_nocase ON chunks (name COLLATE NOCASE, id, qualname)")


def _migrate_to_5(db: sqlite_utils.Database) -> None:
    """Aurora's application id in the header, so a damaged file can still be told to be ours
    (only such a file is ever moved aside; see recovery.py)."""
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _migrate_to_6(db: sqlite_utils.Database) -> None:
    """What the code says, not only its names: each chunk's distinct words (identifier parts,
    string literals, comments), for a question that quotes an error message or a line of code.
    Distinct words without positions (`detail=none`) keep it small: the Django 5.2 wheel's
    database grew 11% (28.1 to 31.2 MB, vacuumed), pytest's 13% (docs/performance.md)."""
    db.execute("DROP TABLE IF EXISTS chunks_body_fts")  # a rebuilt database may hold one already
    db.execute(
        "CREATE VIRTUAL TABLE chunks_body_fts USING fts5(body, detail=none, tokenize='unicode61 remove_diacritics 2')"
    )
    rows = db.execute("SELECT rowid, text FROM chunks")
    while batch := rows.fetchmany(2000):
        db.conn.executemany(
            "INSERT INTO chunks_body_fts (rowid, body) VALUES (?, ?)",
            [(rowid, body_words(text)) for rowid, text in batch],
        )


def _migrate_to_7(db: sqlite_utils.Database) -> None:
    """What the workspace's git history changed together (index/history.py): how many counted
    commits changed each chunk id or file path, and each pair of them, stored both ways so
    one key's partners are one range read. A pair has its commits together (`n`) and the same
    weighed by each commit's fan (`weight`, 1 / (changes − 1) per commit)."""
    db.execute("CREATE TABLE IF NOT EXISTS history_changes (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")
    db.execute(
        "CREATE TABLE IF NOT EXISTS history_pairs (a TEXT NOT NULL, b TEXT NOT NULL, n INTEGER NOT NULL,"
        " weight REAL NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID"
    )


# MIGRATIONS[n] takes a database at schema version n to n + 1.
MIGRATIONS = [
    _migrate_to_1,
    _migrate_to_2,
    _migrate_to_3,
    _migrate_to_4,
    _migrate_to_5,
    _migrate_to_6,
    _migrate_to_7,
]


def body_words(text: str) -> str:
    """The distinct words of a chunk's text, identifiers split into parts (`get_response` →
    get, response), in first-seen order; one and two-letter words left out."""
    words: dict[str, None] = {}
    for identifier in dict.fromkeys(_IDENTIFIER.findall(text)):
        if identifier.islower() and "_" not in identifier:  # most words: nothing to split
            if len(identifier) > 2:
                words[identifier] = None
        else:
            words.update(_identifier_words(identifier))
    return " ".join(words)


@functools.lru_cache(maxsize=65536)
def _identifier_words(identifier: str) -> tuple[tuple[str, None], ...]:
    """An identifier's parts for body_words; cached, since a class's text repeats its methods'."""
    return tuple((word, None) for word in name_words(identifier).split() if len(word) > 2)


def header_says_aurora(header: bytes) -> bool:
    """Whether a file's first 100 bytes are the header of Aurora's database: SQLite's magic,
    and Aurora's application id, or (files from before schema 5) no application id and a
    schema version Aurora wrote. Needs no SQLite, so it works on damaged files."""
    if len(header) < 72 or not header.startswith(SQLITE_MAGIC):
        return False
    user_version = int.from_bytes(header[60:64], "big")
    application_id = int.from_bytes(header[68:72], "big")
    return application_id == APPLICATION_ID or (application_id == 0 and 1 <= user_version <= 4)


class SqliteStore:
    """All SQL of Aurora. One connection, used by one thread at a time."""

    def __init__(self, path: str | Path, *, memory_name: str | None = None, check: bool = False) -> None:
        """Open (creating) the database at `path`, or with `memory_name` a shared in-memory one.

        `check` runs SQLite's quick_check first, so a damaged file is found at open, not
        in the middle of a request.
        """
        self.path = Path(path)
        self.memory_name = memory_name
        self._vocabulary_ready = False
        self._body_vocabulary_ready = False
        try:
            if memory_name is None:
                _create_private(self.path)
                target = str(self.path)
            else:
                target = f"file:{memory_name}?mode=memory&cache=shared"
            connection = sqlite3.connect(
                target, isolation_level=None, check_same_thread=False, uri=memory_name is not None
            )
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open database {self.path}: {error}", _reason_of(error)) from error
        self.db = sqlite_utils.Database(connection)
        try:
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._refuse_unknown_schema()  # before anything writes, WAL mode included
            if check:
                self._check()
            if memory_name is None:
                self.db.enable_wal()
                self.db.execute("PRAGMA synchronous = NORMAL")
            else:  # shared cache: readers must not wait on the writer's table locks
                self.db.execute("PRAGMA read_uncommitted = 1")
            self._migrate()
        except StoreError:
            connection.close()
            raise
        except sqlite3.DatabaseError as error:
            connection.close()
            raise StoreError(f"cannot use database {self.path}: {error}", _reason_of(error)) from error

    @property
    def location(self) -> tuple[Path, str | None]:
        """What another connection needs to open the same database: (path, memory name)."""
        return self.path, self.memory_name

    def _check(self) -> None:
        rows = self.db.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            first = rows[0][0] if rows else "no answer"
            raise StoreError(f"database {self.path} is damaged: {first}", "corrupt")

    def _refuse_unknown_schema(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.path} has schema {version}, newer than this Aurora's {SCHEMA_VERSION}", "newer"
            )
        if version == 0 and self.db.table_names():
            raise StoreError(f"{self.path} is a SQLite database, but not Aurora's", "foreign")

    def _migrate(self) -> None:
        if self.schema_version() >= SCHEMA_VERSION:
            return
        while True:
            # Read the version again under the write lock: a second server opening the same
            # new database may have migrated it while this one waited for the lock.
            with self.transaction():
                version = self.schema_version()
                if version >= SCHEMA_VERSION:
                    return
                MIGRATIONS[version](self.db)
                self.db.execute(f"PRAGMA user_version = {version + 1}")

    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def transaction(self) -> sqlite3.Connection:
        """`with store.transaction():` commits on success and rolls back on error."""
        return _Transaction(self.db.conn)  # type: ignore[return-value]

    def close(self) -> None:
        try:
            self.db.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass
        self.db.conn.close()

    def size_bytes(self) -> int:
        if self.memory_name is not None:
            pages = self.db.execute("PRAGMA page_count").fetchone()[0]
            return int(pages) * int(self.db.execute("PRAGMA page_size").fetchone()[0])
        total = 0
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(str(self.path) + suffix)
            if candidate.exists():
                total += candidate.stat().st_size
        return total

    # -- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    # -- files --------------------------------------------------------------------------

    def file_states(self) -> dict[str, FileState]:
        rows = self.db.execute("SELECT path, hash, size, mtime_ns, checked_ns, module FROM files")
        return {row[0]: FileState(*row) for row in rows}

    def file_hash(self, path: str) -> str | None:
        """The content hash of a file as indexed, None if it is not."""
        row = self.db.execute("SELECT hash FROM files WHERE path = ?", [path]).fetchone()
        return None if row is None else str(row[0])

    def touch_files(self, states: Iterable[FileState]) -> None:
        """Record a new stat for files whose content did not change."""
        self.db.conn.executemany(
            "UPDATE files SET size = ?, mtime_ns = ?, checked_ns = ? WHERE path = ?",
            [(s.size, s.mtime_ns, s.checked_ns, s.path) for s in states],
        )

    def file_problems(self) -> dict[str, list[str]]:
        rows = self.db.execute("SELECT path, problems FROM files WHERE problems != '[]'")
        return {path: json.loads(problems) for path, problems in rows}

    def remove_files(self, paths: Sequence[str]) -> None:
        """Drop files with their chunks, full-text rows and outgoing edges (call in a transaction)."""
        conn = self.db.conn
        for path in paths:
            conn.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE path = ?)", (path,))
            conn.execute(
                "DELETE FROM chunks_body_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE path = ?)", (path,)
            )
            conn.execute("DELETE FROM edges WHERE src IN (SELECT id FROM chunks WHERE path = ?)", (path,))
            conn.execute("DELETE FROM chunks WHERE path = ?", (path,))
            conn.execute("DELETE FROM files WHERE path = ?", (path,))

    def write_files(self, records: Sequence[FileRecord]) -> None:
        """Replace these files' rows and chunks (call in a transaction)."""
        conn = self.db.conn
        self.remove_files([record.parsed.path for record in records])
        conn.executemany(
            "INSERT INTO files (path, hash, size, mtime_ns, checked_ns, module, imports, star_imports,"
            " problems, chunk_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.parsed.path,
                    r.parsed.content_hash,
                    r.size,
                    r.mtime_ns,
                    r.checked_ns,
                    r.module,
                    json.dumps(r.parsed.imports, sort_keys=True),
                    json.dumps(list(r.parsed.star_imports)),
                    json.dumps(list(r.parsed.problems)),
                    len(r.parsed.chunks),
                )
                for r in records
            ],
        )
        chunk_rows = [
            _chunk_row(record.parsed.path, seq, chunk)
            for record in records
            for seq, chunk in enumerate(record.parsed.chunks)
        ]
        conn.executemany(
            "INSERT INTO chunks (id, path, seq, qualname, name, kind, start_line, start_char, end_line,"
            " end_char, sel_line, sel_char, signature, summary, docstring, decorators, parent,"
            " content_hash, tokens, text, refs) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            chunk_rows,
        )
        conn.executemany(
            "INSERT INTO chunks_fts (rowid, words, qualname, signature, docstring)"
            " VALUES ((SELECT rowid FROM chunks WHERE id = ?), ?, ?, ?, ?)",
            [(row[0], name_words(str(row[3])), row[3], row[12], row[14]) for row in chunk_rows],
        )
        conn.executemany(
            "INSERT INTO chunks_body_fts (rowid, body) VALUES ((SELECT rowid FROM chunks WHERE id = ?), ?)",
            [(row[0], body_words(str(row[19]))) for row in chunk_rows],
        )

    # -- resolution inputs and edges ----------------------------------------------------

    def file_symbols(self) -> list[FileSymbols]:
        rows = self.db.execute("SELECT path, module, imports, star_imports FROM files ORDER BY path")
        return [
            FileSymbols(path, module, json.loads(imports), tuple(json.loads(stars)))
            for path, module, imports, stars in rows
        ]

    def file_symbols_of(self, paths: Sequence[str]) -> dict[str, FileSymbols]:
        """The module and imports of these files (those indexed), by path."""
        found: dict[str, FileSymbols] = {}
        for batch, marks in _batches(paths):
            rows = self.db.execute(
                f"SELECT path, module, imports, star_imports FROM files WHERE path IN ({marks})", batch
            )
            for path, module, imports, stars in rows:
                found[path] = FileSymbols(path, module, json.loads(imports), tuple(json.loads(stars)))
        return found

    def definitions_of(self, paths: Sequence[str]) -> dict[str, set[tuple[str, str, str, str | None]]]:
        """path -> the (id, qualname, kind, parent) of its chunks: what resolution knows of a file."""
        found: dict[str, set[tuple[str, str, str, str | None]]] = {}
        for batch, marks in _batches(paths):
            query = f"SELECT path, id, qualname, kind, parent FROM chunks WHERE path IN ({marks})"
            rows = self.db.execute(query, batch)
            for path, chunk_id, qualname, kind, parent in rows:
                found.setdefault(path, set()).add((chunk_id, qualname, kind, parent))
        return found

    def symbol_rows(self) -> Iterator[tuple[str, str, str, str, str | None]]:
        """(id, path, qualname, kind, parent) of every chunk, in file and source order."""
        yield from self.db.execute("SELECT id, path, qualname, kind, parent FROM chunks ORDER BY path, seq")

    def ref_sources(self, paths: Iterable[str]) -> list[RefSource]:
        """The references of the chunks of these files."""
        found: list[RefSource] = []
        for path in paths:
            rows = self.db.execute(f"SELECT {_REF_COLUMNS} FROM chunks WHERE path = ? ORDER BY seq", [path])
            found.extend(_ref_source(row) for row in rows)
        return found

    def iter_ref_sources(self, kind: str | None = None, batch: int = 2000) -> Iterator[RefSource]:
        """Every chunk's references (of one kind of chunk), read a batch at a time."""
        where, arguments = (" WHERE kind = ?", [kind]) if kind else ("", [])
        cursor = self.db.execute(f"SELECT {_REF_COLUMNS} FROM chunks{where} ORDER BY path, seq", arguments)
        while rows := cursor.fetchmany(batch):
            yield from (_ref_source(row) for row in rows)

    def replace_edges(self, source_ids: Iterable[str], edges: Iterable[Edge]) -> None:
        """Drop the outgoing edges of these chunks, then add `edges` (call in a transaction)."""
        conn = self.db.conn
        conn.executemany("DELETE FROM edges WHERE src = ?", [(source,) for source in source_ids])
        conn.executemany("INSERT INTO edges (src, dst, kind, how) VALUES (?, ?, ?, ?)", list(edges))

    def delete_all_edges(self) -> None:
        self.db.execute("DELETE FROM edges")

    def insert_edges(self, edges: Iterable[Edge]) -> None:
        self.db.conn.executemany("INSERT INTO edges (src, dst, kind, how) VALUES (?, ?, ?, ?)", edges)

    def delete_dangling_edges(self) -> None:
        """Edges whose target chunk no longer exists (its file changed or vanished)."""
        self.db.execute("DELETE FROM edges WHERE dst NOT IN (SELECT id FROM chunks)")

    def base_edges(self) -> dict[str, tuple[str, ...]]:
        """class id -> the ids of its base classes, as last resolved."""
        bases: dict[str, list[str]] = {}
        for src, dst in self.db.execute("SELECT src, dst FROM edges WHERE kind = 'base' ORDER BY src, dst"):
            bases.setdefault(src, []).append(dst)
        return {src: tuple(dsts) for src, dsts in bases.items()}

    def dependencies(self, chunk_id: str) -> list[tuple[str, str, str]]:
        """(target id, kind, how) of the chunks this chunk references."""
        rows = self.db.execute("SELECT dst, kind, how FROM edges WHERE src = ? ORDER BY dst", [chunk_id])
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    def dependents(self, chunk_id: str) -> list[tuple[str, str, str]]:
        """(source id, kind, how) of the chunks that reference this chunk."""
        rows = self.db.execute("SELECT src, kind, how FROM edges WHERE dst = ? ORDER BY src", [chunk_id])
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    # -- chunks -------------------------------------------------------------------------

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids that exist, in no particular order."""
        found: list[Chunk] = []
        for batch, marks in _batches(chunk_ids):
            rows = self.db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", batch)
            found.extend(_chunk_from_row(row) for row in rows)
        return found

    def chunks_in_file(self, path: str) -> list[Chunk]:
        rows = self.db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE path = ? ORDER BY seq", [path])
        return [_chunk_from_row(row) for row in rows]

    def iter_chunks(self, batch: int = 2000) -> Iterator[Chunk]:
        cursor = self.db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks ORDER BY path, seq")
        while rows := cursor.fetchmany(batch):
            for row in rows:
                yield _chunk_from_row(row)

    def chunk_text(self, chunk_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM chunks WHERE id = ?", [chunk_id]).fetchone()
        return None if row is None else str(row[0])

    def chunk_docstring(self, chunk_id: str) -> str | None:
        row = self.db.execute("SELECT docstring FROM chunks WHERE id = ?", [chunk_id]).fetchone()
        return None if row is None else str(row[0])

    def name_candidates(self, like_pattern: str, min_length: int, limit: int) -> list[tuple[str, str]]:
        """(id, qualname) of chunks whose qualified name matches a LIKE pattern and has at
        least `min_length` characters."""
        rows = self.db.execute(
            "SELECT id, qualname FROM chunks WHERE qualname LIKE ? ESCAPE '\\' AND length(qualname) >= ? LIMIT ?",
            [like_pattern, min_length, limit],
        )
        return [(row[0], row[1]) for row in rows]

    def name_prefix_candidates(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        """(id, qualname) of chunks whose own name starts with `prefix`, ignoring ASCII case
        (as LIKE does), read as a range of the caseless name index."""
        rows = self.db.execute(
            "SELECT id, qualname FROM chunks WHERE name >= ? COLLATE NOCASE AND name < ? COLLATE NOCASE LIMIT ?",
            [prefix, prefix + _LAST_CHARACTER, limit],
        )
        return [(row[0], row[1]) for row in rows]

    def name_suffix_candidates(self, name: str, suffix: str, limit: int) -> list[tuple[str, str]]:
        """(id, qualname) of chunks named `name` whose qualified name ends with `suffix`, both
        ignoring ASCII case, read from the caseless name index."""
        rows = self.db.execute(
            "SELECT id, qualname FROM chunks WHERE name = ? COLLATE NOCASE"
            " AND substr(qualname, -?) = ? COLLATE NOCASE LIMIT ?",
            [name, len(suffix), suffix, limit],
        )
        return [(row[0], row[1]) for row in rows]

    def exact_name_candidates(self, query: str, limit: int) -> list[tuple[str, str]]:
        """(id, qualname) of chunks whose name or qualified name is `query`, case for case."""
        # `+name`: compared in the rows of the caseless index, not through the case-exact one,
        # which would read each chunk's row (its text too) for its qualified name
        rows = self.db.execute(
            "SELECT id, qualname FROM chunks WHERE name = ? COLLATE NOCASE AND (+name = ? OR qualname = ?) LIMIT ?",
            [query.rpartition(".")[2], query, query, limit],
        )
        return [(row[0], row[1]) for row in rows]

    def paths_ending(self, suffix: str, limit: int) -> list[str]:
        """Indexed files whose path is `suffix` or ends with `/suffix` (a path as a question wrote it)."""
        rows = self.db.execute(
            "SELECT path FROM files WHERE path = ? OR substr(path, -?) = ? ORDER BY path LIMIT ?",
            [suffix, len(suffix) + 1, "/" + suffix, limit],
        )
        return [str(row[0]) for row in rows]

    def ids_named(self, names: Sequence[str], limit: int) -> list[str]:
        """Ids of chunks whose own name is one of `names` (at most `limit` for each name)."""
        found: list[str] = []
        for name in names:
            rows = self.db.execute("SELECT id FROM chunks WHERE name = ? LIMIT ?", [name, limit])
            found.extend(str(row[0]) for row in rows)
        return found

    def full_text(self, match: str, limit: int) -> list[tuple[str, float]]:
        """(id, bm25 score; lower is better) for an FTS5 MATCH expression."""
        # rank inside the index, then read ids for the best `limit` rows only: joining first
        # looked up every matching chunk (half the time for a match set of 10K rows or more)
        rows = self.db.execute(
            "SELECT chunks.id, best.score FROM (SELECT rowid, bm25(chunks_fts) AS score FROM chunks_fts"
            " WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?) AS best"
            " JOIN chunks ON chunks.rowid = best.rowid ORDER BY best.score",
            [match, limit],
        )
        return [(row[0], float(row[1])) for row in rows]

    def body_text(self, match: str, limit: int) -> list[tuple[str, float]]:
        """(id, bm25 score; lower is better) over the words of the chunks' text."""
        rows = self.db.execute(
            "SELECT chunks.id, best.score FROM (SELECT rowid, bm25(chunks_body_fts) AS score FROM chunks_body_fts"
            " WHERE chunks_body_fts MATCH ? ORDER BY score LIMIT ?) AS best"
            " JOIN chunks ON chunks.rowid = best.rowid ORDER BY best.score",
            [match, limit],
        )
        return [(row[0], float(row[1])) for row in rows]

    def body_ids(self, match: str, limit: int) -> list[str]:
        """Ids of chunks whose text's words match, unranked: the first `limit` found."""
        rows = self.db.execute(
            "SELECT chunks.id FROM (SELECT rowid FROM chunks_body_fts WHERE chunks_body_fts MATCH ? LIMIT ?) AS hit"
            " JOIN chunks ON chunks.rowid = hit.rowid",
            [match, limit],
        )
        return [str(row[0]) for row in rows]

    def body_term_chunk_counts(self, terms: Sequence[str]) -> dict[str, int]:
        """term -> how many chunks' text holds it (absent: none)."""
        if not self._body_vocabulary_ready:
            self.db.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_body_vocab USING fts5vocab(main, chunks_body_fts, row)"
            )
            self._body_vocabulary_ready = True
        found: dict[str, int] = {}
        for batch, marks in _batches(terms):
            rows = self.db.execute(f"SELECT term, doc FROM temp.chunks_body_vocab WHERE term IN ({marks})", batch)
            found.update((str(term), int(doc)) for term, doc in rows)
        return found

    def term_chunk_counts(self, terms: Sequence[str]) -> dict[str, int]:
        """term -> how many chunks the full-text index holds it in (absent: none)."""
        if not self._vocabulary_ready:
            # per connection, in the temp schema: nothing is added to the database file
            self.db.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab USING fts5vocab(main, chunks_fts, row)"
            )
            self._vocabulary_ready = True
        found: dict[str, int] = {}
        for batch, marks in _batches(terms):
            rows = self.db.execute(f"SELECT term, doc FROM temp.chunks_vocab WHERE term IN ({marks})", batch)
            found.update((str(term), int(doc)) for term, doc in rows)
        return found

    def links(self, chunk_ids: Sequence[str]) -> list[tuple[str, str, str, str]]:
        """(src, dst, kind, how) of every edge from or to these chunks."""
        found: list[tuple[str, str, str, str]] = []
        for batch, marks in _batches(chunk_ids):
            found.extend(self.db.execute(f"SELECT src, dst, kind, how FROM edges WHERE src IN ({marks})", batch))
            inbound = f"SELECT src, dst, kind, how FROM edges WHERE dst IN ({marks}) AND src NOT IN ({marks})"
            found.extend(self.db.execute(inbound, batch * 2))
        return found

    def children(self, chunk_ids: Sequence[str]) -> list[tuple[str, str]]:
        """(child id, parent id) of the chunks directly inside these chunks."""
        found: list[tuple[str, str]] = []
        for batch, marks in _batches(chunk_ids):
            found.extend(self.db.execute(f"SELECT id, parent FROM chunks WHERE parent IN ({marks})", batch))
        return found

    # -- accesses -----------------------------------------------------------------------

    def record_accesses(self, events: Iterable[tuple[str, float, str]]) -> None:
        self.db.conn.executemany("INSERT INTO accesses (chunk_id, at, event) VALUES (?, ?, ?)", list(events))

    def last_access_times(self, chunk_ids: Sequence[str], event: str) -> dict[str, float]:
        """chunk id -> when it was last accessed by this kind of event."""
        found: dict[str, float] = {}
        for batch, marks in _batches(chunk_ids):
            rows = self.db.execute(
                f"SELECT chunk_id, max(at) FROM accesses WHERE event = ? AND chunk_id IN ({marks}) GROUP BY chunk_id",
                [event, *batch],
            )
            found.update((str(cid), float(at)) for cid, at in rows)
        return found

    def access_history(self, chunk_ids: Sequence[str]) -> dict[str, list[tuple[float, str]]]:
        """chunk id -> its (time, event) accesses, for the base level of each."""
        found: dict[str, list[tuple[float, str]]] = {}
        for batch, marks in _batches(chunk_ids):
            for cid, at, event in self.db.execute(
                f"SELECT chunk_id, at, event FROM accesses WHERE chunk_id IN ({marks})", batch
            ):
                found.setdefault(str(cid), []).append((float(at), str(event)))
        return found

    def recently_accessed(self, since: float, limit: int, ignored_event: str = "") -> list[str]:
        """Chunks accessed since a time (not counting one kind of event), most recent first."""
        rows = self.db.execute(
            "SELECT chunk_id, max(at) AS last FROM accesses WHERE at >= ? AND event != ?"
            " GROUP BY chunk_id ORDER BY last DESC LIMIT ?",
            [since, ignored_event, limit],
        )
        return [str(row[0]) for row in rows]

    def accesses(self, chunk_id: str) -> list[tuple[float, str]]:
        rows = self.db.execute("SELECT at, event FROM accesses WHERE chunk_id = ? ORDER BY at", [chunk_id])
        return [(float(at), str(event)) for at, event in rows]

    # -- history (learned associations) --------------------------------------------------

    def add_history(self, changes: Iterable[tuple[str, int]], pairs: Iterable[tuple[str, str, int, float]]) -> None:
        """Add counts of changes (key, n) and of pairs changed together (a, b, n, weight; stored both ways)."""
        self.db.conn.executemany(
            "INSERT INTO history_changes (key, n) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET n = n + excluded.n",
            list(changes),
        )
        both = [row for a, b, n, w in pairs for row in ((a, b, n, w), (b, a, n, w))]
        self.db.conn.executemany(
            "INSERT INTO history_pairs (a, b, n, weight) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(a, b) DO UPDATE SET n = n + excluded.n, weight = weight + excluded.weight",
            both,
        )

    def clear_history(self) -> None:
        self.db.execute("DELETE FROM history_changes")
        self.db.execute("DELETE FROM history_pairs")

    def history_partners(self, keys: Sequence[str], limit: int) -> list[tuple[str, str, int, float]]:
        """(key, partner, commits together, weight) for each key's `limit` heaviest partners."""
        found: list[tuple[str, str, int, float]] = []
        for key in keys:
            query = "SELECT b, n, weight FROM history_pairs WHERE a = ? ORDER BY weight DESC, b LIMIT ?"
            rows = self.db.execute(query, [key, limit])
            found.extend((key, str(b), int(n), float(w)) for b, n, w in rows)
        return found

    def history_changes(self, keys: Sequence[str]) -> dict[str, int]:
        """key -> how many counted commits changed it (absent: none)."""
        found: dict[str, int] = {}
        for batch, marks in _batches(keys):
            rows = self.db.execute(f"SELECT key, n FROM history_changes WHERE key IN ({marks})", batch)
            found.update((str(key), int(n)) for key, n in rows)
        return found

    def history_rows(self) -> dict[str, int]:
        one = self.db.execute
        return {
            "changes": int(one("SELECT count(*) FROM history_changes").fetchone()[0]),
            "pairs": int(one("SELECT count(*) FROM history_pairs").fetchone()[0]),
        }

    # -- figures ------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        one = self.db.execute
        return {
            "files": int(one("SELECT count(*) FROM files").fetchone()[0]),
            "chunks": int(one("SELECT count(*) FROM chunks").fetchone()[0]),
            "edges": int(one("SELECT count(*) FROM edges").fetchone()[0]),
            "accesses": int(one("SELECT count(*) FROM accesses").fetchone()[0]),
        }

    def dump(self) -> dict[str, list[tuple[object, ...]]]:
        """Every row that defines the index (not stat times or accesses): for equality checks."""
        query = self.db.execute
        return {
            "files": list(
                query(
                    "SELECT path, hash, module, imports, star_imports, problems, chunk_count FROM files ORDER BY path"
                )
            ),
            "chunks": list(query("SELECT * FROM chunks ORDER BY id")),
            "edges": list(query("SELECT src, dst, kind, how FROM edges ORDER BY src, dst")),
            "fts": list(
                query(
                    "SELECT chunks.id, f.words, f.qualname, f.signature, f.docstring FROM chunks_fts f"
                    " JOIN chunks ON chunks.rowid = f.rowid ORDER BY chunks.id"
                )
            ),
        }


def _ref_source(row: Sequence[str]) -> RefSource:
    chunk_id, path, qualname, kind, refs = row
    return RefSource(chunk_id, path, qualname, kind, tuple(refs.split("\n")) if refs else ())


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite gives -wal and -shm the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))


def _batches(items: Sequence[str], size: int = 400) -> Iterator[tuple[list[str], str]]:
    """Slices small enough for SQLite's limit on bound parameters, each with its "?,?,…"."""
    for start in range(0, len(items), size):
        batch = list(items[start : start + size])
        yield batch, ",".join("?" * len(batch))


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:  # SQLite may already have rolled back (a full disk)
            self.conn.execute("ROLLBACK")


def _chunk_row(path: str, seq: int, chunk: ParsedChunk) -> tuple[object, ...]:
    return (
        chunk.id,
        path,
        seq,
        chunk.qualname,
        chunk.name,
        chunk.kind,
        chunk.start_line,
        chunk.start_char,
        chunk.end_line,
        chunk.end_char,
        chunk.sel_line,
        chunk.sel_char,
        chunk.signature,
        summarize(chunk.docstring),
        chunk.docstring,
        "\n".join(chunk.decorators),
        chunk.parent,
        chunk.content_hash,
        chunk.tokens,
        chunk.text,
        "\n".join(chunk.refs),
    )


_KINDS = {"class": "class", "function": "function", "method": "method"}


def _chunk_from_row(row: Sequence[object]) -> Chunk:
    (cid, kind, sl, sc, el, ec, nl, nc, signature, summary, decorators, parent, content_hash, tokens) = row
    return Chunk(
        str(cid),
        _KINDS[str(kind)],  # one shared string per kind
        int(sl),  # type: ignore[call-overload]
        int(sc),  # type: ignore[call-overload]
        int(el),  # type: ignore[call-overload]
        int(ec),  # type: ignore[call-overload]
        int(nl),  # type: ignore[call-overload]
        int(nc),  # type: ignore[call-overload]
        str(signature),
        str(summary),
        tuple(str(decorators).split("\n")) if decorators else (),
        None if parent is None else str(parent),
        str(content_hash),
        int(tokens),  # type: ignore[call-overload]
    )
