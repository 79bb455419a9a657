"""One workspace folder's services, without LSP: the writer half and the reader half.

The writer half (the indexer thread in the server) owns the writing connection: it opens
and repairs the database, refreshes the index and records uses. The reader half (the
reader thread) owns a second connection and the memory tier: it answers symbol, context
and figures requests from what is already indexed (SQLite in WAL mode lets it read while
the writer writes). Each method declares its thread; the command line, which has one
thread, opens both halves and calls them one after another.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import attrs

from aurora_lsp.config import LiveSettings, Settings, database_path
from aurora_lsp.context import navigation
from aurora_lsp.context.accesses import repeats_removed, shown_events
from aurora_lsp.context.activation import ActivationParameters
from aurora_lsp.context.navigation import Call, Cursor, Place, Target
from aurora_lsp.index.inferred import Goto, InferredFile, MergeCounts
from aurora_lsp.positions import codepoint_column
from aurora_lsp.protocol import ContextAnswer, DatabaseFigures, IndexingState, MemoryFigures, RunCounts
from aurora_lsp.records import Chunk, ChunkId, Event
from aurora_lsp.search import FirstPassNames, SymbolMatch, search_symbols
from aurora_lsp.store.chunks import ChunkStore
from aurora_lsp.store.recovery import memory_notice, memory_store, open_store
from aurora_lsp.store.sqlite import SqliteStore, is_busy, is_disk_full
from aurora_lsp.workspace.threads import JEDI, READER, WRITER, runs_on

if TYPE_CHECKING:
    # Loaded when first used, not when a folder opens: the context engine at the first
    # question, the indexer (parso, pathspec, multiprocessing) at the first refresh, jedi at
    # the first open document; the server answers its first symbol query without them.
    from aurora_lsp.context.engine import ContextRequest
    from aurora_lsp.index.indexer import Indexer, IndexReport, Progress
    from aurora_lsp.index.inference import InferencePass, JediWorkspace
    from aurora_lsp.index.worker import OutlineRow

MAX_PENDING_USES = 10_000  # uses kept while the database is locked elsewhere; older ones are dropped


class WorkspaceError(Exception):
    """The workspace cannot be used; the message is one line a person can act on."""


@dataclass(slots=True, frozen=True)
class SymbolHit:
    """A workspace symbol answer: how it matched, the chunk, and the name of its container."""

    match: SymbolMatch
    chunk: Chunk
    container: str


@dataclass(slots=True, frozen=True)
class Definition:
    """A definition to answer: its file, the range of its name, and its chunk (if it is one)."""

    path: str
    range: tuple[int, int, int, int]
    chunk_id: str | None


@dataclass(slots=True, frozen=True)
class FolderFigures:
    """What one folder holds, as the reader sees it."""

    files: int
    chunks: int
    edges: int
    memory: MemoryFigures
    database: DatabaseFigures
    skipped: dict[str, int]


def _chunk_at(chunks: list[Chunk], line: int, name: str) -> str | None:
    """The chunk defined by `name` at a line, else the innermost chunk holding the line."""
    found: str | None = None
    for chunk in chunks:  # source order: later ones are nested deeper
        if name and chunk.sel_line == line and chunk.name == name:
            return chunk.id
        if chunk.start_line <= line <= chunk.end_line:
            found = chunk.id
    return found


def _word_in(text: str | None, chunk: Chunk, line: int, character: int) -> str:
    """The identifier at a position, read from the text of the chunk holding it (whole lines)."""
    lines = (text or "").split("\n")
    index = line - chunk.start_line
    if not 0 <= index < len(lines):
        return ""
    row = lines[index]
    start = end = min(codepoint_column(row, character), len(row))
    while start > 0 and (row[start - 1].isalnum() or row[start - 1] == "_"):
        start -= 1
    while end < len(row) and (row[end].isalnum() or row[end] == "_"):
        end += 1
    return row[start:end]


def resolved_root(root: Path) -> Path:
    """The folder as an absolute, resolved path; WorkspaceError if it is not a folder."""
    try:
        resolved = root.expanduser().resolve(strict=True)
    except (OSError, RuntimeError):
        raise WorkspaceError(f"no such folder: {root}") from None
    if not resolved.is_dir():
        raise WorkspaceError(f"not a folder: {root}")
    return resolved


class WorkspaceService:
    def __init__(
        self, root: Path, settings: LiveSettings, primary: bool = True, shown_root: Path | None = None
    ) -> None:
        self.root = root  # canonical: absolute, symlinks resolved; every path inside is relative to it
        # the folder as the editor (or the person) named it, perhaps through a symlink:
        # answers give locations in that form, so the editor recognises its own files
        self.shown_root = shown_root or root
        self.settings = settings
        self.primary = primary  # the first folder uses `databasePath` as given
        # A line for the person about how the database was found (damaged, unwritable);
        # whoever shows it takes it (`take_notice`), so it is told once.
        self.notice: str | None = None
        self.indexing = IndexingState()
        self._writer: ChunkStore | None = None
        self._pending_uses: list[Event] = []
        self._indexer: Indexer | None = None
        self._reader: ChunkStore | None = None
        # definitions a large refresh's first pass found, answered before they are written
        self.first_pass_names = FirstPassNames()
        self._jedi: JediWorkspace | None = None

    @classmethod
    def open(cls, root: Path, settings: Settings | None = None) -> WorkspaceService:
        """Both halves in the calling thread, for the command line and tests."""
        shown = Path(os.path.abspath(root.expanduser()))
        service = cls(resolved_root(root), LiveSettings(settings), shown_root=shown)
        service.open_writer()
        service.open_reader()
        return service

    def uri(self, path: str) -> str:
        """The URI of a workspace-relative path, in the form the editor opened the folder."""
        return (self.shown_root / path).as_uri()

    def database_label(self) -> str:
        """The database as a person would name it in a message."""
        return f"the index database {self._writer.db.path}" if self._writer is not None else "the index database"

    def take_notice(self) -> str | None:
        notice, self.notice = self.notice, None
        return notice

    # -- writer half ----------------------------------------------------------------------

    @property
    def db(self) -> SqliteStore:
        """The writer's database (the indexer writes through it; tests read it back)."""
        assert self._writer is not None, "open_writer first"
        return self._writer.db

    @runs_on(WRITER)
    def open_writer(self) -> None:
        opened = open_store(database_path(self.root, self.settings.current, self.primary))
        self.notice = opened.notice
        self._attach(opened.store)

    def _attach(self, db: SqliteStore) -> None:
        self._writer = ChunkStore(db, 0, 0)  # the writer reads no chunks: its tier stays empty
        self._indexer = None  # made at the first refresh

    @property
    def indexer(self) -> Indexer:
        """The writer's indexer (writer thread), made when first needed."""
        if self._indexer is None:
            from aurora_lsp.index.indexer import Indexer

            self._indexer = Indexer(self.root, self.db)
        return self._indexer

    @runs_on(WRITER)
    def refresh(
        self,
        progress: Progress | None = None,
        *,
        full: bool = False,
        buffers: dict[str, str] | None = None,
        workers: int | None = None,
        first_pass: bool = False,
    ) -> IndexReport:
        """Bring the index up to date; `buffers` (path → text) stand in for open files.

        With `first_pass`, a refresh large enough for worker processes first finds the
        definitions of the files it has not indexed yet (Python's parser, names and ranges
        only), and `symbols` answers with them until the refresh has written everything.
        """
        started = time.perf_counter()
        last = self.indexing
        self.indexing = attrs.evolve(last, state="indexing", done=0, total=0)

        def counted(done: int, total: int) -> None:
            self.indexing = attrs.evolve(self.indexing, done=done, total=total)
            if progress is not None:
                progress(done, total)

        try:
            report = self._run_indexer(counted, full, buffers, workers, first_pass)
        except BaseException:
            # the first pass's names stay: a refresh stopped by a lock held elsewhere is tried again
            self.indexing = attrs.evolve(self.indexing, state="idle")
            raise
        self.first_pass_names.clear()  # everything is written
        self.db.set_meta("last_skipped", json.dumps(dict(sorted(report.skipped.items()))))
        if self._pending_uses:
            self.record_uses([])
        self.indexing = IndexingState(
            state="idle",
            done=self.indexing.done,
            total=self.indexing.total,
            last_run_seconds=round(time.perf_counter() - started, 3),
            last_run=RunCounts(changed=report.changed, unchanged=report.unchanged, removed=report.removed),
        )
        return report

    def _run_indexer(
        self, progress: Progress, full: bool, buffers: dict[str, str] | None, workers: int | None, first_pass: bool
    ) -> IndexReport:
        """The indexer with the settings in force; on a full disk, again in memory."""
        for attempt in (1, 2):
            indexer = self.indexer
            settings = self.settings.current
            indexer.exclude, indexer.max_file_size_kb, indexer.workers = (
                settings.exclude,
                settings.max_file_size_kb,
                workers,
            )
            indexer.first_pass = self._found_first if first_pass else None
            try:
                return indexer.refresh(progress, full=full or attempt == 2, buffers=buffers)
            except sqlite3.OperationalError as error:
                if attempt == 2 or not is_disk_full(error) or self.db.memory_name is not None:
                    raise
                self._switch_to_memory(str(error))
        raise AssertionError("unreachable")

    def _found_first(self, rows: list[OutlineRow]) -> None:
        """A batch of the first pass: chunks with what a symbol answer shows (worker.OutlineRow)."""
        self.first_pass_names.add(
            Chunk(chunk_id, kind, sl, sc, el, ec, nl, nc, "", "", (), parent, "", 0)
            for chunk_id, kind, sl, sc, el, ec, nl, nc, parent in rows
        )

    def _switch_to_memory(self, reason: str) -> None:
        """The disk cannot take the index any more: go on in memory (indexing again from scratch)."""
        old = self.db
        try:
            old.close()
        except sqlite3.Error:
            pass
        self._attach(memory_store())
        self.notice = memory_notice(f"cannot write the index database {old.path} ({reason})")

    @runs_on(WRITER)
    def record_uses(self, events: list[Event]) -> None:
        """Record uses of chunks, each kind of use at most once per chunk in its interval.

        Uses that meet a database locked by another process wait (up to MAX_PENDING_USES)
        and are written with the next uses or refresh.
        """
        if not self.settings.current.record_accesses or self._writer is None:
            return
        pending = self._pending_uses + events
        if not pending:
            return
        try:
            self._writer.record_accesses(repeats_removed(pending, self._writer.last_access_times(pending)))
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            self._pending_uses = pending[-MAX_PENDING_USES:]
            return
        self._pending_uses = []

    @runs_on(WRITER)
    def close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._indexer = None

    # -- reader half ----------------------------------------------------------------------

    @property
    def chunks(self) -> ChunkStore:
        """The reader's chunk store: the memory tier over the second connection."""
        assert self._reader is not None, "open_reader first"
        return self._reader

    @runs_on(READER)
    def open_reader(self) -> None:
        assert self._writer is not None, "the writer opens (and repairs) the database first"
        path, memory_name = self._writer.location
        settings = self.settings.current
        self._reader = ChunkStore(
            SqliteStore(path, memory_name=memory_name), settings.max_chunks, settings.memory_budget_bytes
        )

    @runs_on(READER)
    def catch_up(self, report: IndexReport) -> None:
        """After a refresh: follow the writer to another database (the disk filled up) and
        drop resident chunks of the files that changed or vanished."""
        if self._reader is None or self._writer is None:
            return
        if self._reader.location != self._writer.location:
            tier = self._reader.tier
            bounds = (tier.max_entries, tier.max_bytes)
            self.close_reader()
            self.open_reader()
            self.resize(*bounds)
        self._reader.forget_files(report.changed_paths + report.removed_paths)

    @runs_on(READER)
    def symbols(self, query: str, limit: int) -> list[SymbolHit]:
        """The best `limit` chunks for a symbol query, best first."""
        matches = search_symbols(self.chunks, query, limit)
        early: dict[str, Chunk] = {}
        if len(self.first_pass_names):
            # while a refresh writes: the first pass's names too, each id once (SQLite's if written)
            known = {match.id for match in matches}
            for match, found in self.first_pass_names.search(query, limit):
                if match.id not in known:
                    matches.append(match)
                    early[match.id] = found
            matches = sorted(matches, key=lambda match: match.sort_key)[:limit]
        chunks = {chunk.id: chunk for chunk in self.chunks.get_many(m.id for m in matches if m.id not in early)}
        chunks.update(early)
        return [
            SymbolHit(match, chunk, ChunkId.plain_qualname(chunk.parent) if chunk.parent else "")
            for match in matches
            if (chunk := chunks.get(match.id)) is not None
        ]

    @runs_on(READER)
    def context(
        self, request: ContextRequest, now: float, parameters: ActivationParameters | None = None
    ) -> ContextAnswer:
        from aurora_lsp.context.engine import ContextEngine

        return ContextEngine(self.shown_root, self.chunks).answer(request, now, parameters)

    @runs_on(READER)
    def file_chunks(self, path: str) -> list[Chunk]:
        """A stored file's chunks in source order."""
        return self.chunks.chunks_in_file(path)

    @runs_on(READER)
    def subject_at(self, cursor: Cursor, classes_only: bool = False) -> Chunk | None:
        """The chunk a cursor names (context/navigation.py says how)."""
        return navigation.subject_at(self.chunks, cursor, classes_only)

    @runs_on(READER)
    def references(self, cursor: Cursor, include_declaration: bool) -> tuple[Chunk | None, list[Place]]:
        """The chunk at the cursor and the places that use it."""
        subject = navigation.subject_at(self.chunks, cursor)
        return subject, navigation.references(self.chunks, subject, include_declaration) if subject else []

    @runs_on(READER)
    def calls(self, target: Target, incoming: bool) -> tuple[Chunk | None, list[Call]]:
        """A chunk (by id, or the one at a cursor) and its callers or callees."""
        subject = navigation.resolve(self.chunks, target)
        return subject, navigation.calls(self.chunks, subject, incoming) if subject else []

    @runs_on(READER)
    def type_relatives(self, target: Target, supertypes: bool) -> tuple[Chunk | None, list[Chunk]]:
        """A class (by id, or the one at a cursor) and its base classes or subclasses."""
        subject = navigation.resolve(self.chunks, target, classes_only=True)
        return subject, navigation.type_relatives(self.chunks, subject, supertypes) if subject else []

    @runs_on(READER)
    def figures(self, warm: bool = False) -> FolderFigures:
        """What is indexed and held; `warm` first reads chunks into memory up to the budget."""
        if warm:
            self.chunks.warm()
        counts = self.chunks.counts()
        return FolderFigures(
            files=counts["files"],
            chunks=counts["chunks"],
            edges=counts["edges"],
            memory=self.chunks.memory_figures(),
            database=self.chunks.database_figures(),
            skipped=json.loads(self.chunks.get_meta("last_skipped") or "{}"),
        )

    @runs_on(READER)
    def resize(self, max_chunks: int, budget_bytes: int) -> None:
        if self._reader is not None:
            self._reader.resize(max_chunks, budget_bytes)

    @runs_on(READER)
    def close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    @runs_on(READER)
    def definitions(self, path: str, line: int, character: int, found: Goto | None) -> list[Definition]:
        """jedi's definitions that are in indexed files (jedi's answers elsewhere, such as the
        standard library's, are left out); when jedi found nothing (or ran out of time: `found`
        None), the targets of the chunk's edges at the position that have the name there."""
        if found is not None and found.sites is None:
            return []  # past the end of the document
        if found is not None and found.sites:
            answer: list[Definition] = []
            for site in found.sites:
                if site.in_workspace and self.chunks.file_hash(site.path) is not None:
                    defined = _chunk_at(self.chunks.chunks_in_file(site.path), site.line, site.name)
                    answer.append(Definition(site.path, (site.line, site.start, site.line, site.end), defined))
            return answer
        file_chunks = self.chunks.chunks_in_file(path)
        at = _chunk_at(file_chunks, line, "")
        chunk = next((c for c in file_chunks if c.id == at), None)
        if chunk is None:
            return []
        word = (
            found.word
            if found is not None and found.word
            else _word_in(self.chunks.text(chunk.id), chunk, line, character)
        )
        dependencies = self.chunks.dependencies(chunk.id)
        targets = [target for target, _, _ in dependencies if ChunkId.plain_qualname(target).rpartition(".")[2] == word]
        if not word or chunk.name == word and chunk.sel_line == line:
            targets = [chunk.id] if word else []
        return [Definition(target.path, target.selection_range, target.id) for target in self.chunks.get_many(targets)]

    # -- jedi (its own thread: one call can take a second; the outline never waits for it) ---

    def _jedi_workspace(self) -> JediWorkspace:
        if self._jedi is None:
            from aurora_lsp.index.inference import JediWorkspace  # jedi loads when first used

            self._jedi = JediWorkspace(self.root)
        return self._jedi

    @runs_on(JEDI)
    def goto(self, path: str, text: str, line: int, character: int) -> Goto:
        """jedi's definitions of the name at a position of an open document's `text`."""
        return self._jedi_workspace().goto(path, text, line, character)

    @runs_on(JEDI)
    def start_inference(self, path: str, text: str) -> InferencePass:
        """A pass of jedi over an open document's attribute names (see `continue_inference`)."""
        return self._jedi_workspace().start(path, text)

    @runs_on(JEDI)
    def continue_inference(self, inference: InferencePass, seconds: float) -> bool:
        """Some `seconds` more of a pass; True once it is done."""
        return inference.step(self._jedi_workspace(), seconds)

    @runs_on(JEDI)
    def forget_document(self, path: str) -> None:
        if self._jedi is not None:
            self._jedi.forget(path)

    @runs_on(WRITER)
    def record_inferred(self, inferred: InferredFile) -> MergeCounts | None:
        """jedi's edges of an open document join the index (None: another version is indexed)."""
        return self.indexer.write_inferred(inferred) if self._writer is not None else None

    @runs_on(WRITER)
    def forget_inferred(self, path: str) -> None:
        """A document closed: its chunks keep their static edges only."""
        if self._writer is not None:
            self.indexer.forget_inferred(path)

    # -- one thread (the command line, tests) ----------------------------------------------

    def ask(
        self, request: ContextRequest, now: float | None = None, parameters: ActivationParameters | None = None
    ) -> ContextAnswer:
        """The context answer, then its uses recorded: both halves in the calling thread."""
        at = time.time() if now is None else now
        answer = self.context(request, at, parameters)
        self.record_uses(shown_events(answer, at))
        return answer

    def close(self) -> None:
        self.close_reader()
        self.close_writer()

    def __enter__(self) -> WorkspaceService:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
