"""The disk tier: SQLite through sqlite-utils. The only module that imports sqlite_utils
(only to create and migrate the schema: `_Database`).

One database file per workspace, in WAL mode, with a schema version (`PRAGMA
user_version`) and forward migrations. Tables: `files` (what was indexed, by content
hash), `chunks` (every chunk; its source text stored once, in `chunk_texts`: texts.py), `edges`
(dependencies, with how each was resolved), `accesses` (time-stamped uses, for activation),
`history_changes` and `history_pairs` (what the git history changed together), `meta`, and
the full-text index `chunks_fts` over names, qualified names, signatures and docstrings, and
`chunks_body_fts` over the distinct words of each chunk's text (identifier parts, string
literals, comments) for questions.

Inside the database a chunk is an integer key (edges, parents, full-text rows) and its id
is stored as parts (its file's key, qualified name, which definition of it); the API speaks
ids only. The full-text tables hold no copy of their columns: removing a row gives them the
values it went in with again, so `name_words` and `body_words` must not change without a
migration that rebuilds both tables.

Writes go in one transaction per batch of files, so a crash leaves either the old or the
new state of each file, never half of it.
"""

from __future__ import annotations

import functools
import json
import operator
import os
import re
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aurora_lsp.records import (
    Chunk,
    ChunkId,
    Edge,
    FileRecord,
    FileState,
    FileSymbols,
    ParsedChunk,
    RefSource,
    name_words,
    summarize,
)
from aurora_lsp.store.texts import Decompressed, StoredText, compress, place, unpack, unpack_file

if TYPE_CHECKING:
    import sqlite_utils


def _load_sqlite_utils() -> Any:
    """sqlite-utils, imported when a schema is created or migrated (0.1 s of CPU: dateutil,
    click, pluggy and its plugins), not by every process that opens a current database.

    It imports pandas and numpy when they are installed, only to map their types to SQL
    column types, which Aurora never stores. Where they are installed (a data-science
    environment) that costs 12 MB (numpy) or more (pandas) and a tenth of a second: hide them
    while it loads, unless something imported them already.
    """
    hidden = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # an import of it then fails
    try:
        import sqlite_utils
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    return sqlite_utils


class _Database:
    """The connection as this module uses it: `execute`, `conn`, `table_names`, `enable_wal` as
    sqlite-utils' Database has them (the connection is in autocommit mode, so its `execute`
    is the connection's), and that Database itself (`schema`) for creating and migrating."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._schema: sqlite_utils.Database | None = None
        self.conn.execute("PRAGMA recursive_triggers = on")  # as sqlite-utils' Database sets it

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None) -> sqlite3.Cursor:
        return self.conn.execute(sql) if parameters is None else self.conn.execute(sql, parameters)

    def table_names(self) -> list[str]:
        return [row[0] for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]

    def enable_wal(self) -> None:
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self.conn.execute("PRAGMA journal_mode = wal")

    def schema(self) -> sqlite_utils.Database:
        if self._schema is None:
            self._schema = _load_sqlite_utils().Database(self.conn)
        return self._schema


SCHEMA_VERSION = 8
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


# A chunk's id is `path::qualname` (with `#n` for a repeat, ChunkId): stored as those parts,
# the file's by its key; everything else names a chunk by its integer key.
_FROM_CHUNKS = "FROM chunks c JOIN files f ON f.key = c.file"
# every chunk in (path, seq) order without sorting them: the files in path order, each one's chunks in seq order
_IN_FILE_ORDER = "FROM files f CROSS JOIN chunks c ON c.file = f.key"
_CHUNK_COLUMNS = (
    "SELECT f.path, c.qualname, c.number, c.kind, c.start_line, c.start_char, c.end_line, c.end_char,"
    " c.sel_line, c.sel_char, c.signature, c.docstring, c.decorators, p.qualname, p.number, c.content_hash,"
    " c.tokens"
)
_CHUNK_SELECT = f"{_CHUNK_COLUMNS} {_FROM_CHUNKS} LEFT JOIN chunks p ON p.key = c.parent"
_REF_COLUMNS = "SELECT f.path, c.qualname, c.number, c.kind, c.refs"
_WITH_TEXT = "LEFT JOIN chunk_texts t ON t.key = c.key"
# an edge with the ids of both ends, as their parts
_EDGE_SELECT = (
    "SELECT sf.path, s.qualname, s.number, df.path, d.qualname, d.number, e.kind, e.how FROM edges e"
    " JOIN chunks s ON s.key = e.src JOIN files sf ON sf.key = s.file"
    " JOIN chunks d ON d.key = e.dst JOIN files df ON df.key = d.file"
)
_KEY_OF_ID = (
    "SELECT c.key FROM files f JOIN chunks c ON c.file = f.key WHERE f.path = ? AND c.qualname = ? AND c.number = ?"
)
_ID_BATCH = 400  # ids or keys a query binds at most (four values each for an id: under SQLite's limit)


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


_SCHEMA_8 = (
    # the integer keys are the tables' rowids, named so that VACUUM keeps them
    "CREATE TABLE files (key INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, size INTEGER,"
    " mtime_ns INTEGER, checked_ns INTEGER, module TEXT, imports TEXT, star_imports TEXT, problems TEXT,"
    " chunk_count INTEGER)",
    "CREATE TABLE chunks (key INTEGER PRIMARY KEY, file INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " qualname TEXT NOT NULL, number INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,"
    " start_line INTEGER, start_char INTEGER, end_line INTEGER, end_char INTEGER, sel_line INTEGER,"
    " sel_char INTEGER, signature TEXT, docstring TEXT, decorators TEXT, parent INTEGER,"
    " content_hash TEXT, tokens INTEGER, text_at INTEGER, text_size INTEGER, refs TEXT)",
    # a chunk's own text (zlib), apart from its row: name, edge and id reads then touch small, dense rows
    "CREATE TABLE chunk_texts (key INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE UNIQUE INDEX chunks_file_seq ON chunks (file, seq)",
    "CREATE UNIQUE INDEX chunks_place ON chunks (file, qualname, number)",
    "CREATE INDEX chunks_parent ON chunks (parent)",
    "CREATE INDEX chunks_name ON chunks (name)",
    "CREATE INDEX chunks_name_nocase ON chunks (name COLLATE NOCASE, file, qualname, number)",
    "CREATE INDEX chunks_qualname ON chunks (qualname, number, file)",
    "CREATE TABLE edges (src INTEGER NOT NULL, dst INTEGER NOT NULL, kind TEXT NOT NULL, how TEXT NOT NULL,"
    " PRIMARY KEY (src, dst)) WITHOUT ROWID",
    "CREATE INDEX edges_dst ON edges (dst)",
    "CREATE VIRTUAL TABLE chunks_fts USING fts5(words, qualname, signature, docstring, content='',"
    " tokenize='unicode61 remove_diacritics 2')",
    # with positions: without its content, FTS5 has no other way to count a term's hits for bm25
    "CREATE VIRTUAL TABLE chunks_body_fts USING fts5(body, content='', tokenize='unicode61 remove_diacritics 2')",
)


def _migrate_to_8(db: sqlite_utils.Database) -> None:
    """The database at most twice the source (issue 18; it was 4.8× at 262K chunks, 5.7× on
    Django), nothing lost. Chunks are keyed by integers in edges, parents and the name
    indexes, their ids kept as parts (the file's key, the qualified name, which definition
    of it): ids 58 characters long had been stored seven times. A chunk's text inside its
    parent's is stored as a span of it, every other text compressed (texts.py). The
    full-text tables keep no copy of their columns (`content=''`; the body-word index keeps
    positions instead, which bm25 needs to count a term's hits without content to read). A
    chunk's summary is made from its docstring when read. Each step's saving is in
    docs/performance.md ("Database size")."""
    conn = db.conn
    for table in ("files", "chunks", "edges"):
        conn.execute(f"ALTER TABLE {table} RENAME TO {table}_7")
    for index in (
        "idx_chunks_path_seq",
        "idx_chunks_name",
        "idx_chunks_parent",
        "chunks_name_nocase",
        "chunks_qualname_id",
        "idx_edges_dst",
    ):
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    conn.execute("DROP TABLE IF EXISTS chunks_fts")
    conn.execute("DROP TABLE IF EXISTS chunks_body_fts")
    for statement in _SCHEMA_8:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO files (path, hash, size, mtime_ns, checked_ns, module, imports, star_imports, problems,"
        " chunk_count) SELECT path, hash, size, mtime_ns, checked_ns, module, imports, star_imports, problems,"
        " chunk_count FROM files_7 ORDER BY path"
    )
    keys: dict[str, int] = {}
    for file_key, path in conn.execute("SELECT key, path FROM files ORDER BY key").fetchall():
        rows = conn.execute(
            "SELECT id, seq, qualname, name, kind, start_line, start_char, end_line, end_char, sel_line, sel_char,"
            " signature, summary, docstring, decorators, parent, content_hash, tokens, text, refs"
            " FROM chunks_7 WHERE path = ? ORDER BY seq",
            (path,),
        ).fetchall()
        file_keys = {row[0]: len(keys) + offset for offset, row in enumerate(rows, 1)}
        _insert_chunks(conn, file_key, rows, file_keys)
        keys.update(file_keys)
    edges = conn.execute("SELECT src, dst, kind, how FROM edges_7").fetchall()
    conn.executemany(
        "INSERT INTO edges (src, dst, kind, how) VALUES (?, ?, ?, ?)",
        [(keys[src], keys[dst], kind, how) for src, dst, kind, how in edges if src in keys and dst in keys],
    )
    for table in ("edges", "chunks", "files"):
        conn.execute(f"DROP TABLE {table}_7")


# MIGRATIONS[n] takes a database at schema version n to n + 1.
MIGRATIONS = [
    _migrate_to_1,
    _migrate_to_2,
    _migrate_to_3,
    _migrate_to_4,
    _migrate_to_5,
    _migrate_to_6,
    _migrate_to_7,
    _migrate_to_8,
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
        self._decompressed = Decompressed()
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
        self.db = _Database(connection)
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
        if version == 8 and "chunk_texts" not in self.db.table_names():
            # schema 8 as first committed (cca07f4..): texts in the chunk rows, a body index bm25 could not rank
            raise StoreError(f"database {self.path} has an early layout of schema 8", "corrupt")

    def _migrate(self) -> None:
        if self.schema_version() >= SCHEMA_VERSION:
            return
        while True:
            # Read the version again under the write lock: a second server opening the same
            # new database may have migrated it while this one waited for the lock.
            with self.transaction():
                version = self.schema_version()
                if version >= SCHEMA_VERSION:
                    break
                MIGRATIONS[version](self.db.schema())
                self.db.execute(f"PRAGMA user_version = {version + 1}")
        # schema 8 replaced the tables before it: give their pages back to the disk
        if self.db.execute("PRAGMA freelist_count").fetchone()[0]:
            try:
                self.db.execute("VACUUM")
            except sqlite3.OperationalError:
                pass  # another connection reads it: the pages are reused as the index grows

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
        """Drop files with their chunks, full-text rows and edges (call in a transaction)."""
        self._drop_edges_to(self._remove(paths).values())

    def write_files(self, records: Sequence[FileRecord]) -> set[str]:
        """Replace these files' rows and chunks (call in a transaction), writing only what
        changed; the ids of their chunks that keep their outgoing edges. A file keeps its key;
        a chunk whose id stays keeps its key, so the edges that lead to it from other files
        stay too; one whose text, signature and docstring stay as well keeps its text and
        full-text rows, and only its place (lines, order, span in its parent) is updated. Such
        a chunk keeps its outgoing edges too while its refs, kind and parent stay: resolution
        decides whether they change (index/affected.py). Every other chunk of these files has
        none."""
        conn = self.db.conn
        next_key = int(conn.execute("SELECT max(key) FROM chunks").fetchone()[0] or 0) + 1
        vanished: list[int] = []
        kept_edges: set[str] = set()
        for record in records:
            file_key, old = self._put_file(record)
            parsed = record.parsed
            next_key = self._put_chunks(file_key, parsed.path, parsed.chunks, old, next_key, vanished, kept_edges)
        self._drop_edges_to(vanished)
        return kept_edges

    def _put_file(self, r: FileRecord) -> tuple[int, dict[str, tuple[Any, ...]]]:
        """Write a file's row, under its old key if it had one; its chunks as stored, by id
        (the columns of _STORED_CHUNK, then the chunk's own compressed text or None)."""
        conn = self.db.conn
        path = r.parsed.path
        values = (
            r.parsed.content_hash,
            r.size,
            r.mtime_ns,
            r.checked_ns,
            r.module,
            json.dumps(r.parsed.imports, sort_keys=True),
            json.dumps(list(r.parsed.star_imports)),
            json.dumps(list(r.parsed.problems)),
            len(r.parsed.chunks),
            path,
        )
        found = conn.execute("SELECT key FROM files WHERE path = ?", (path,)).fetchone()
        if found is None:
            cursor = conn.execute(
                "INSERT INTO files (hash, size, mtime_ns, checked_ns, module, imports, star_imports, problems,"
                " chunk_count, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            return int(cursor.lastrowid or 0), {}
        file_key = int(found[0])
        conn.execute(
            "UPDATE files SET hash = ?, size = ?, mtime_ns = ?, checked_ns = ?, module = ?, imports = ?,"
            " star_imports = ?, problems = ?, chunk_count = ? WHERE path = ?",
            values,
        )
        rows = conn.execute(
            f"SELECT {_STORED_CHUNK}, t.data FROM chunks c LEFT JOIN chunk_texts t ON t.key = c.key WHERE c.file = ?",
            (file_key,),
        )
        return file_key, {ChunkId.make(path, row[3], row[4]): row for row in rows}

    def _put_chunks(
        self,
        file_key: int,
        path: str,
        chunks: Sequence[ParsedChunk],
        old: dict[str, tuple[Any, ...]],
        next_key: int,
        vanished: list[int],
        kept_edges: set[str],
    ) -> int:
        """Make one file's stored chunks these (`old`: as stored, by id); the next free key.
        Keys of chunks that no longer exist are added to `vanished`, the ids of those that keep
        their outgoing edges to `kept_edges`; the others' edges are deleted."""
        keys: dict[str, int] = {}
        for chunk in chunks:
            before = old.get(chunk.id)
            if before is None:
                keys[chunk.id], next_key = next_key, next_key + 1
            else:
                keys[chunk.id] = int(before[0])
        rows = [_chunk_row(path, seq, chunk) for seq, chunk in enumerate(chunks)]
        places = place({row[0]: row[18] for row in rows}, {row[0]: row[15] for row in rows})
        by_key = {int(before[0]): before for before in old.values()}  # a span's text is read through its parent
        left = dict(old)
        written: list[tuple[str, tuple[Any, ...]]] = []  # (text, values) of new and changed chunks
        replaced: list[tuple[Any, ...]] = []  # their rows as stored, when they had one
        moved: list[tuple[tuple[Any, ...], tuple[Any, ...], str]] = []  # (stored, values, text): same text elsewhere
        lost_edges: list[int] = []  # keys of chunks whose outgoing edges go (resolution stores them afresh)
        for row in rows:
            values = _chunk_values(file_key, row, keys, places[row[0]])
            before = left.pop(row[0], None)
            if before is None or _same_text(before) != _same_text(values):
                written.append((row[18], values))
                if before is not None:
                    replaced.append(before)
                    lost_edges.append(int(before[0]))
            else:
                if before[:_STORED_COLUMNS] != values:
                    moved.append((before, values, row[18]))
                if _resolved_from(before) == _resolved_from(values):
                    kept_edges.add(row[0])
                else:
                    lost_edges.append(int(before[0]))
        gone = list(left.values())
        vanished.extend(int(before[0]) for before in gone)
        lost_edges.extend(int(before[0]) for before in gone)
        self.db.conn.executemany("DELETE FROM edges WHERE src = ?", [(key,) for key in lost_edges])
        self._delete_chunks([*gone, *replaced], by_key)
        self._move_chunks(moved)
        _insert_values(self.db.conn, written)
        return next_key

    def _delete_chunks(self, rows: Sequence[tuple[Any, ...]], by_key: dict[int, tuple[Any, ...]]) -> None:
        """Delete these stored chunks (as _put_file read them) with their texts and full-text rows;
        `by_key` holds their file's stored chunks, so that a span's text can be made again."""
        if not rows:
            return
        conn = self.db.conn

        def stored(key: int) -> tuple[StoredText, int | None] | None:
            found = by_key.get(key)
            return None if found is None else (StoredText(found[22], found[19], found[20]), found[16])

        # The full-text tables keep no copy of what they index: taking a row out needs the
        # values it went in with, made again from the chunk
        texts = [unpack((StoredText(r[22], r[19], r[20]), r[16]), stored, self._decompressed) or "" for r in rows]
        conn.executemany(
            "INSERT INTO chunks_fts (chunks_fts, rowid, words, qualname, signature, docstring)"
            " VALUES ('delete', ?, ?, ?, ?, ?)",
            [(r[0], name_words(r[3]), r[3], r[13], r[14]) for r in rows],
        )
        conn.executemany(
            "INSERT INTO chunks_body_fts (chunks_body_fts, rowid, body) VALUES ('delete', ?, ?)",
            [(r[0], body_words(text)) for r, text in zip(rows, texts, strict=True)],
        )
        conn.executemany("DELETE FROM chunk_texts WHERE key = ?", [(r[0],) for r in rows if r[22] is not None])
        conn.executemany("DELETE FROM chunks WHERE key = ?", [(r[0],) for r in rows])

    def _move_chunks(self, moved: Sequence[tuple[tuple[Any, ...], tuple[Any, ...], str]]) -> None:
        """Update chunks whose text stays but whose place, refs or span changed: (stored, values, text).
        A changed order goes through negative numbers first, as (file, seq) is unique."""
        conn = self.db.conn
        conn.executemany(
            "UPDATE chunks SET seq = ?, kind = ?, start_line = ?, start_char = ?, end_line = ?, end_char = ?,"
            " sel_line = ?, sel_char = ?, decorators = ?, parent = ?, tokens = ?, text_at = ?, text_size = ?,"
            " refs = ? WHERE key = ?",
            [(v[2] if v[2] == b[2] else -1 - v[2], *v[6:13], v[15], v[16], *v[18:22], v[0]) for b, v, _ in moved],
        )
        conn.executemany("UPDATE chunks SET seq = ? WHERE key = ?", [(v[2], v[0]) for b, v, _ in moved if v[2] != b[2]])
        # a text stored whole becomes a span of its parent's, or the other way round
        conn.executemany(
            "DELETE FROM chunk_texts WHERE key = ?",
            [(v[0],) for b, v, _ in moved if b[22] is not None and v[19] is not None],
        )
        conn.executemany(
            "INSERT INTO chunk_texts (key, data) VALUES (?, ?)",
            [(v[0], compress(text)) for b, v, text in moved if b[22] is None and v[19] is None],
        )

    def _remove(self, paths: Sequence[str]) -> dict[str, int]:
        """Delete these files, their chunks, their full-text rows and the edges from their
        chunks; the removed chunks' keys by id."""
        conn = self.db.conn
        removed: dict[str, int] = {}
        for path in paths:
            found = conn.execute("SELECT key FROM files WHERE path = ?", (path,)).fetchone()
            if found is None:
                continue
            file_key = found[0]
            rows = conn.execute(
                "SELECT c.key, c.qualname, c.number, c.signature, c.docstring, c.parent, t.data, c.text_at,"
                " c.text_size FROM chunks c LEFT JOIN chunk_texts t ON t.key = c.key WHERE c.file = ?",
                (file_key,),
            ).fetchall()
            # The full-text tables keep no copy of what they index: taking a row out needs
            # the values it went in with, made again from the chunk
            texts = unpack_file([(row[0], row[5], StoredText(row[6], row[7], row[8])) for row in rows])
            conn.executemany(
                "INSERT INTO chunks_fts (chunks_fts, rowid, words, qualname, signature, docstring)"
                " VALUES ('delete', ?, ?, ?, ?, ?)",
                [(row[0], name_words(row[1]), row[1], row[3], row[4]) for row in rows],
            )
            conn.executemany(
                "INSERT INTO chunks_body_fts (chunks_body_fts, rowid, body) VALUES ('delete', ?, ?)",
                [(row[0], body_words(texts[row[0]])) for row in rows],
            )
            conn.execute("DELETE FROM edges WHERE src IN (SELECT key FROM chunks WHERE file = ?)", (file_key,))
            conn.execute("DELETE FROM chunk_texts WHERE key IN (SELECT key FROM chunks WHERE file = ?)", (file_key,))
            conn.execute("DELETE FROM chunks WHERE file = ?", (file_key,))
            conn.execute("DELETE FROM files WHERE key = ?", (file_key,))
            removed.update((ChunkId.make(path, row[1], row[2]), row[0]) for row in rows)
        return removed

    def _drop_edges_to(self, keys: Iterable[int]) -> None:
        self.db.conn.executemany("DELETE FROM edges WHERE dst = ?", [(key,) for key in keys])

    # -- chunk ids and keys ---------------------------------------------------------------

    def _keys(self, chunk_ids: Iterable[str]) -> dict[str, int]:
        """chunk id -> its key, for the ids that exist."""
        wanted = list(dict.fromkeys(chunk_ids))
        if len(wanted) == 1:
            row = self._one("c.key", wanted[0])
            return {} if row is None else {wanted[0]: int(row[0])}
        found: dict[str, int] = {}
        for start in range(0, len(wanted), _ID_BATCH):
            batch = wanted[start : start + _ID_BATCH]
            rows = self.db.execute(_wanted(len(batch), "c.key"), _wanted_values(batch))
            found.update((batch[i], int(key)) for i, key in rows)
        return found

    def _one(self, columns: str, chunk_id: str, joins: str = "") -> tuple[Any, ...] | None:
        """Some columns of the chunk with this id (None if there is none), read by its parts."""
        row: tuple[Any, ...] | None = self.db.execute(
            f"SELECT {columns} {_FROM_CHUNKS} {joins} WHERE f.path = ? AND c.qualname = ? AND c.number = ?",
            _id_parts(chunk_id),
        ).fetchone()
        return row

    def _ids(self, keys: Iterable[int]) -> dict[int, str]:
        """chunk key -> its id, for the keys that exist."""
        found: dict[int, str] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), _ID_BATCH):
            batch = wanted[start : start + _ID_BATCH]
            marks = ",".join("?" * len(batch))
            rows = self.db.execute(
                f"SELECT c.key, f.path, c.qualname, c.number {_FROM_CHUNKS} WHERE c.key IN ({marks})", batch
            )
            found.update((int(key), ChunkId.make(path, qualname, number)) for key, path, qualname, number in rows)
        return found

    def _edge_rows(self, where: str, arguments: Sequence[object]) -> list[tuple[str, str, str, str]]:
        """(src id, dst id, kind, how) of the edges a condition on `e` finds."""
        rows = self.db.execute(f"{_EDGE_SELECT} WHERE {where}", arguments)
        return [
            (ChunkId.make(sp, sq, sn), ChunkId.make(dp, dq, dn), kind, how)
            for sp, sq, sn, dp, dq, dn, kind, how in rows
        ]

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
            query = (
                f"SELECT f.path, c.qualname, c.number, c.kind, p.qualname, p.number {_FROM_CHUNKS}"
                f" LEFT JOIN chunks p ON p.key = c.parent WHERE f.path IN ({marks})"
            )
            for path, qualname, number, kind, parent, parent_number in self.db.execute(query, batch):
                parent_id = None if parent is None else ChunkId.make(path, parent, parent_number)
                found.setdefault(path, set()).add((ChunkId.make(path, qualname, number), qualname, kind, parent_id))
        return found

    def symbol_rows(self) -> Iterator[tuple[str, str, str, str, str | None]]:
        """(id, path, qualname, kind, parent) of every chunk, in file and source order."""
        query = (
            f"SELECT f.path, c.qualname, c.number, c.kind, p.qualname, p.number {_IN_FILE_ORDER}"
            " LEFT JOIN chunks p ON p.key = c.parent ORDER BY f.path, c.seq"
        )
        for path, qualname, number, kind, parent, parent_number in self.db.execute(query):
            parent_id = None if parent is None else ChunkId.make(path, parent, parent_number)
            yield ChunkId.make(path, qualname, number), path, qualname, kind, parent_id

    def ref_sources(self, paths: Iterable[str]) -> list[RefSource]:
        """The references of the chunks of these files."""
        found: list[RefSource] = []
        for path in paths:
            rows = self.db.execute(f"{_REF_COLUMNS} {_FROM_CHUNKS} WHERE f.path = ? ORDER BY c.seq", [path])
            found.extend(_ref_source(row) for row in rows)
        return found

    def files_spelling(self, name: str) -> set[str]:
        """The files with a chunk whose references spell `name` anywhere (a substring, as a regex
        over them would find it): one pass of SQLite over the refs column."""
        query = f"SELECT DISTINCT f.path {_FROM_CHUNKS} WHERE instr(c.refs, ?) > 0"
        return {str(path) for (path,) in self.db.execute(query, [name])}

    def iter_ref_sources(self, kind: str | None = None, batch: int = 2000) -> Iterator[RefSource]:
        """Every chunk's references (of one kind of chunk), read a batch at a time."""
        where, arguments = (" WHERE c.kind = ?", [kind]) if kind else ("", [])
        cursor = self.db.execute(f"{_REF_COLUMNS} {_IN_FILE_ORDER}{where} ORDER BY f.path, c.seq", arguments)
        while rows := cursor.fetchmany(batch):
            yield from (_ref_source(row) for row in rows)

    def replace_edges(self, source_ids: Iterable[str], edges: Iterable[Edge]) -> None:
        """Drop the outgoing edges of these chunks, then add `edges` (call in a transaction)."""
        sources, rows = list(source_ids), list(edges)
        keys = self._keys([*sources, *(end for row in rows for end in row[:2])])
        self.db.conn.executemany("DELETE FROM edges WHERE src = ?", [(keys[s],) for s in sources if s in keys])
        self._insert_edges(rows, keys)

    def delete_all_edges(self) -> None:
        self.db.execute("DELETE FROM edges")

    def insert_edges(self, edges: Iterable[Edge]) -> None:
        """Add edges; one whose source or target chunk does not exist is left out (it would dangle)."""
        rows = list(edges)
        self._insert_edges(rows, self._keys(end for row in rows for end in row[:2]))

    def _insert_edges(self, rows: Sequence[Edge], keys: dict[str, int]) -> None:
        self.db.conn.executemany(
            "INSERT INTO edges (src, dst, kind, how) VALUES (?, ?, ?, ?)",
            [(keys[src], keys[dst], kind, how) for src, dst, kind, how in rows if src in keys and dst in keys],
        )

    def delete_dangling_edges(self) -> None:
        """Edges whose target chunk no longer exists (its file changed or vanished)."""
        self.db.execute("DELETE FROM edges WHERE dst NOT IN (SELECT key FROM chunks)")

    def base_edges(self) -> dict[str, tuple[str, ...]]:
        """class id -> the ids of its base classes, as last resolved."""
        bases: dict[str, list[str]] = {}
        for src, dst, _, _ in sorted(self._edge_rows("e.kind = 'base'", [])):
            bases.setdefault(src, []).append(dst)
        return {src: tuple(dsts) for src, dsts in bases.items()}

    def dependencies(self, chunk_id: str) -> list[tuple[str, str, str]]:
        """(target id, kind, how) of the chunks this chunk references."""
        rows = self._edge_rows(f"e.src = ({_KEY_OF_ID})", _id_parts(chunk_id))
        return sorted((dst, kind, how) for _, dst, kind, how in rows)

    def dependents(self, chunk_id: str) -> list[tuple[str, str, str]]:
        """(source id, kind, how) of the chunks that reference this chunk."""
        rows = self._edge_rows(f"e.dst = ({_KEY_OF_ID})", _id_parts(chunk_id))
        return sorted((src, kind, how) for src, _, kind, how in rows)

    # -- chunks -------------------------------------------------------------------------

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids that exist, in no particular order."""
        keys = list(self._keys(chunk_ids).values())
        found: list[Chunk] = []
        for start in range(0, len(keys), _ID_BATCH):
            batch = keys[start : start + _ID_BATCH]
            rows = self.db.execute(f"{_CHUNK_SELECT} WHERE c.key IN ({','.join('?' * len(batch))})", batch)
            found.extend(_chunk_from_row(row) for row in rows)
        return found

    def chunks_in_file(self, path: str) -> list[Chunk]:
        rows = self.db.execute(f"{_CHUNK_SELECT} WHERE f.path = ? ORDER BY c.seq", [path])
        return [_chunk_from_row(row) for row in rows]

    def iter_chunks(self, batch: int = 2000) -> Iterator[Chunk]:
        cursor = self.db.execute(
            f"{_CHUNK_COLUMNS} {_IN_FILE_ORDER} LEFT JOIN chunks p ON p.key = c.parent ORDER BY f.path, c.seq"
        )
        while rows := cursor.fetchmany(batch):
            for row in rows:
                yield _chunk_from_row(row)

    def chunk_text(self, chunk_id: str) -> str | None:
        row = self._one("t.data, c.text_at, c.text_size, c.parent", chunk_id, _WITH_TEXT)
        if row is None:
            return None
        return unpack((StoredText(row[0], row[1], row[2]), row[3]), self._stored_text, self._decompressed)

    def _stored_text(self, key: int) -> tuple[StoredText, int | None] | None:
        row = self.db.execute(
            f"SELECT t.data, c.text_at, c.text_size, c.parent FROM chunks c {_WITH_TEXT} WHERE c.key = ?", [key]
        ).fetchone()
        return None if row is None else (StoredText(row[0], row[1], row[2]), row[3])

    def chunk_docstring(self, chunk_id: str) -> str | None:
        row = self._one("c.docstring", chunk_id)
        return None if row is None else str(row[0])

    def name_candidates(self, like_pattern: str, min_length: int, limit: int) -> list[tuple[str, str]]:
        """(id, qualname) of chunks whose qualified name matches a LIKE pattern and has at
        least `min_length` characters."""
        return self._named(
            "c.qualname LIKE ? ESCAPE '\\' AND length(c.qualname) >= ? LIMIT ?", [like_pattern, min_length, limit]
        )

    def name_prefix_candidates(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        """(id, qualname) of chunks whose own name starts with `prefix`, ignoring ASCII case
        (as LIKE does), read as a range of the caseless name index."""
        return self._named(
            "c.name >= ? COLLATE NOCASE AND c.name < ? COLLATE NOCASE LIMIT ?",
            [prefix, prefix + _LAST_CHARACTER, limit],
        )

    def name_suffix_candidates(self, name: str, suffix: str, limit: int) -> list[tuple[str, str]]:
        """(id, qualname) of chunks named `name` whose qualified name ends with `suffix`, both
        ignoring ASCII case, read from the caseless name index."""
        return self._named(
            "c.name = ? COLLATE NOCASE AND substr(c.qualname, -?) = ? COLLATE NOCASE LIMIT ?",
            [name, len(suffix), suffix, limit],
        )

    def exact_name_candidates(self, query: str, limit: int) -> list[tuple[str, str]]:
        """(id, qualname) of chunks whose name or qualified name is `query`, case for case."""
        # `+name`: compared in the rows of the caseless index, not through the case-exact one,
        # which would read each chunk's row for its qualified name
        return self._named(
            "c.name = ? COLLATE NOCASE AND (+c.name = ? OR c.qualname = ?) LIMIT ?",
            [query.rpartition(".")[2], query, query, limit],
        )

    def _named(self, where: str, arguments: Sequence[object]) -> list[tuple[str, str]]:
        """(id, qualname) of the chunks a condition on their names finds, read from a name index."""
        rows = self.db.execute(f"SELECT f.path, c.qualname, c.number {_FROM_CHUNKS} WHERE {where}", arguments)
        return [(ChunkId.make(path, qualname, number), qualname) for path, qualname, number in rows]

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
            found.extend(chunk_id for chunk_id, _ in self._named("c.name = ? LIMIT ?", [name, limit]))
        return found

    def full_text(self, match: str, limit: int) -> list[tuple[str, float]]:
        """(id, bm25 score; lower is better) for an FTS5 MATCH expression."""
        # rank inside the index, then read ids for the best `limit` rows only: joining first
        # looked up every matching chunk (half the time for a match set of 10K rows or more)
        return self._ranked(
            "SELECT rowid, bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?",
            [match, limit],
        )

    def body_text(self, match: str, limit: int) -> list[tuple[str, float]]:
        """(id, bm25 score; lower is better) over the words of the chunks' text."""
        return self._ranked(
            "SELECT rowid, bm25(chunks_body_fts) AS score FROM chunks_body_fts"
            " WHERE chunks_body_fts MATCH ? ORDER BY score LIMIT ?",
            [match, limit],
        )

    def _ranked(self, best: str, arguments: Sequence[object]) -> list[tuple[str, float]]:
        rows = self.db.execute(
            f"SELECT f.path, c.qualname, c.number, best.score FROM ({best}) AS best"
            " JOIN chunks c ON c.key = best.rowid JOIN files f ON f.key = c.file ORDER BY best.score",
            arguments,
        )
        return [(ChunkId.make(path, qualname, number), float(score)) for path, qualname, number, score in rows]

    def body_ids(self, match: str, limit: int) -> list[str]:
        """Ids of chunks whose text's words match, unranked: the first `limit` found."""
        rows = self.db.execute(
            "SELECT f.path, c.qualname, c.number FROM"
            " (SELECT rowid FROM chunks_body_fts WHERE chunks_body_fts MATCH ? LIMIT ?) AS hit"
            " JOIN chunks c ON c.key = hit.rowid JOIN files f ON f.key = c.file",
            [match, limit],
        )
        return [ChunkId.make(path, qualname, number) for path, qualname, number in rows]

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
        ids = {key: chunk_id for chunk_id, key in self._keys(chunk_ids).items()}
        keys = list(ids)
        found: list[tuple[str, str, str, str]] = []
        for start in range(0, len(keys), _ID_BATCH):
            batch = keys[start : start + _ID_BATCH]
            marks = ",".join("?" * len(batch))
            # the end among these chunks is known: only the other end's id is joined
            outbound = self.db.execute(
                f"SELECT e.src, f.path, c.qualname, c.number, e.kind, e.how FROM edges e"
                f" JOIN chunks c ON c.key = e.dst JOIN files f ON f.key = c.file WHERE e.src IN ({marks})",
                batch,
            )
            found.extend((ids[src], ChunkId.make(p, q, n), kind, how) for src, p, q, n, kind, how in outbound)
            inbound = self.db.execute(
                f"SELECT e.dst, f.path, c.qualname, c.number, e.kind, e.how FROM edges e"
                f" JOIN chunks c ON c.key = e.src JOIN files f ON f.key = c.file"
                f" WHERE e.dst IN ({marks}) AND e.src NOT IN ({marks})",
                batch * 2,
            )
            found.extend((ChunkId.make(p, q, n), ids[dst], kind, how) for dst, p, q, n, kind, how in inbound)
        return found

    def children(self, chunk_ids: Sequence[str]) -> list[tuple[str, str]]:
        """(child id, parent id) of the chunks directly inside these chunks."""
        wanted = list(dict.fromkeys(chunk_ids))
        found: list[tuple[str, str]] = []
        for start in range(0, len(wanted), _ID_BATCH):
            batch = wanted[start : start + _ID_BATCH]
            query = _wanted(
                len(batch), "f.path, k.qualname, k.number, c.qualname, c.number", "JOIN chunks k ON k.parent = c.key"
            )
            found.extend(
                (ChunkId.make(path, qualname, number), ChunkId.make(path, parent, parent_number))
                for _, path, qualname, number, parent, parent_number in self.db.execute(query, _wanted_values(batch))
            )
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
        """Every row that defines the index (not stat times or accesses), with chunk ids and
        texts as the API gives them and each full-text index as its (term, chunk id, column,
        offset) entries: for equality checks."""
        query = self.db.execute
        files = list(
            query("SELECT path, hash, module, imports, star_imports, problems, chunk_count FROM files ORDER BY path")
        )
        chunks: list[tuple[object, ...]] = []
        for (path,) in query("SELECT path FROM files ORDER BY path").fetchall():
            rows = query(
                "SELECT c.key, c.qualname, c.number, c.seq, c.name, c.kind, c.start_line, c.start_char, c.end_line,"
                " c.end_char, c.sel_line, c.sel_char, c.signature, c.docstring, c.decorators,"
                " p.qualname, p.number, c.content_hash, c.tokens, c.refs, c.parent, t.data, c.text_at, c.text_size"
                f" FROM chunks c JOIN files f ON f.key = c.file LEFT JOIN chunks p ON p.key = c.parent {_WITH_TEXT}"
                " WHERE f.path = ?",
                [path],
            ).fetchall()
            texts = unpack_file([(row[0], row[20], StoredText(row[21], row[22], row[23])) for row in rows])
            for row in rows:
                key, qualname, number, seq = row[:4]
                place, (signature, docstring, decorators, parent, parent_number, content_hash, tokens, refs) = (
                    row[4:12],
                    row[12:20],
                )
                parent_id = None if parent is None else ChunkId.make(path, parent, parent_number)
                described = (signature, summarize(docstring), docstring, decorators, parent_id)
                chunk_id = ChunkId.make(path, qualname, number)
                chunks.append(
                    (chunk_id, path, seq, qualname, *place, *described, content_hash, tokens, texts[key], refs)
                )
        ids = self._ids(row[0] for row in query("SELECT key FROM chunks"))
        return {
            "files": files,
            "chunks": sorted(chunks, key=lambda row: str(row[0])),
            "edges": sorted(self._edge_rows("1", [])),
            "fts": self._index_entries("chunks_fts", ids),
            "body_fts": self._index_entries("chunks_body_fts", ids),
        }

    def _index_entries(self, table: str, ids: dict[int, str]) -> list[tuple[object, ...]]:
        vocabulary = f"temp.{table}_entries"
        self.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocabulary} USING fts5vocab(main, {table}, instance)")
        rows = self.db.execute(f"SELECT term, doc, col, offset FROM {vocabulary}")
        return sorted((term, ids.get(doc, f"missing chunk {doc}"), col, offset) for term, doc, col, offset in rows)


def _ref_source(row: Sequence[object]) -> RefSource:
    path, qualname, number, kind, refs = row
    chunk_id = ChunkId.make(str(path), str(qualname), int(number))  # type: ignore[call-overload]
    return RefSource(chunk_id, str(path), str(qualname), str(kind), tuple(str(refs).split("\n")) if refs else ())


def _wanted(count: int, columns: str, joins: str = "") -> str:
    """A query of some columns of `count` chunks named by id: (i, columns…) of those that exist."""
    values = ",".join(["(?, ?, ?, ?)"] * count)
    return (
        f"WITH wanted (i, path, qualname, number) AS (VALUES {values}) SELECT wanted.i, {columns}"
        " FROM wanted JOIN files f ON f.path = wanted.path"
        f" JOIN chunks c ON c.file = f.key AND c.qualname = wanted.qualname AND c.number = wanted.number {joins}"
    )


def _wanted_values(chunk_ids: Sequence[str]) -> list[object]:
    return [part for i, chunk_id in enumerate(chunk_ids) for part in (i, *_id_parts(chunk_id))]


def _id_parts(chunk_id: str) -> tuple[str, str, int]:
    """(path, qualified name, which definition of it) of a chunk id: ChunkId.make undone."""
    path, local = ChunkId.split(chunk_id)
    base, mark, number = local.rpartition("#")
    if mark and base and number.isdigit() and ChunkId.make(path, base, int(number)) == chunk_id:
        return path, base, int(number)
    return path, local, 1


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


# A chunk as written: (id, seq, qualname, name, kind, start_line, start_char, end_line, end_char,
# sel_line, sel_char, signature, summary, docstring, decorators, parent id, content_hash,
# tokens, text, refs), the columns of schema 7's chunks table without its path.
_ChunkRow = tuple[
    str, int, str, str, str, int, int, int, int, int, int, str, str, str, str, "str | None", str, int, str, str
]


def _chunk_row(path: str, seq: int, chunk: ParsedChunk) -> _ChunkRow:
    return (
        chunk.id,
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


# The chunks table's columns as written (_chunk_values) and read back to compare (_put_file)
_STORED_CHUNK = (
    "c.key, c.file, c.seq, c.qualname, c.number, c.name, c.kind, c.start_line, c.start_char, c.end_line,"
    " c.end_char, c.sel_line, c.sel_char, c.signature, c.docstring, c.decorators, c.parent, c.content_hash,"
    " c.tokens, c.text_at, c.text_size, c.refs"
)
_STORED_COLUMNS = 22
# what a chunk's text and full-text rows are made of: qualname, number, name, signature, docstring, content hash
_same_text = operator.itemgetter(3, 4, 5, 13, 14, 17)
# what a kept chunk's edges are resolved from, besides the symbol table: kind, parent, refs
_resolved_from = operator.itemgetter(6, 16, 21)


def _chunk_values(file_key: int, row: _ChunkRow, keys: dict[str, int], at: int) -> tuple[Any, ...]:
    """A chunk's row of the chunks table (_STORED_CHUNK's columns); `at`: its text's place in its parent's, or -1."""
    chunk_id, seq, qualname, *fields, parent, content_hash, tokens, text, refs = row
    del fields[9]  # the summary: made from the docstring when read
    path, plain, number = _id_parts(chunk_id)
    if plain != qualname or ChunkId.make(path, qualname, number) != chunk_id:
        raise ValueError(f"chunk id {chunk_id!r} does not name a definition of {qualname!r}")
    parent_key = None if parent is None else keys.get(parent)
    span = (at, len(text)) if at >= 0 else (None, None)
    return (keys[chunk_id], file_key, seq, qualname, number, *fields, parent_key, content_hash, tokens, *span, refs)


def _insert_chunks(conn: sqlite3.Connection, file_key: int, rows: Sequence[_ChunkRow], keys: dict[str, int]) -> None:
    """Insert one file's chunks under the given keys, with their full-text rows."""
    places = place({row[0]: row[18] for row in rows}, {row[0]: row[15] for row in rows})
    _insert_values(conn, [(row[18], _chunk_values(file_key, row, keys, places[row[0]])) for row in rows])


def _insert_values(conn: sqlite3.Connection, written: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
    """Insert chunks from their (text, _chunk_values), with their texts and full-text rows."""
    conn.executemany(
        "INSERT INTO chunks (key, file, seq, qualname, number, name, kind, start_line, start_char, end_line,"
        " end_char, sel_line, sel_char, signature, docstring, decorators, parent, content_hash,"
        " tokens, text_at, text_size, refs)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [values for _, values in written],
    )
    conn.executemany(
        "INSERT INTO chunk_texts (key, data) VALUES (?, ?)",
        [(values[0], compress(text)) for text, values in written if values[19] is None],
    )
    conn.executemany(
        "INSERT INTO chunks_fts (rowid, words, qualname, signature, docstring) VALUES (?, ?, ?, ?, ?)",
        [(v[0], name_words(v[3]), v[3], v[13], v[14]) for _, v in written],
    )
    conn.executemany(
        "INSERT INTO chunks_body_fts (rowid, body) VALUES (?, ?)",
        [(values[0], body_words(text)) for text, values in written],
    )


_KINDS = {"class": "class", "function": "function", "method": "method"}


def _chunk_from_row(row: Sequence[object]) -> Chunk:
    (path, qualname, number, kind, sl, sc, el, ec, nl, nc, signature, docstring, decorators, parent, parent_number) = (
        row[:15]
    )
    content_hash, tokens = row[15:]
    path = str(path)
    return Chunk(
        ChunkId.make(path, str(qualname), int(number)),  # type: ignore[call-overload]
        _KINDS[str(kind)],  # one shared string per kind
        int(sl),  # type: ignore[call-overload]
        int(sc),  # type: ignore[call-overload]
        int(el),  # type: ignore[call-overload]
        int(ec),  # type: ignore[call-overload]
        int(nl),  # type: ignore[call-overload]
        int(nc),  # type: ignore[call-overload]
        str(signature),
        summarize(str(docstring)),  # not stored: the docstring's first line
        tuple(str(decorators).split("\n")) if decorators else (),
        None if parent is None else ChunkId.make(path, str(parent), int(parent_number)),  # type: ignore[call-overload]
        str(content_hash),
        int(tokens),  # type: ignore[call-overload]
    )
