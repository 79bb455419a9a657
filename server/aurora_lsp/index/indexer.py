"""Indexing a workspace into the store, incrementally.

A refresh scans the workspace, re-chunks only files whose content changed (a stat match
is trusted only once the file had been stable for a while, as git does against "racily
clean" files), drops what vanished, writes each batch of files in one transaction, and
then re-resolves the dependency edges that the change can affect. The result equals a
fresh index of the same files; tests check exactly that.

Parsing is the cost (parso reads about 1.2 MB/s per core), so large batches go to a pool
of processes, one per core, while this process writes the results to SQLite.
"""

from __future__ import annotations

import errno
import itertools
import multiprocessing
import os
import stat
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aurora_lsp.index import worker
from aurora_lsp.index.affected import (
    Affected,
    Change,
    Definitions,
    change_between,
    classes_with_new_ancestry,
    close_over_reexports,
)
from aurora_lsp.index.chunker import content_hash
from aurora_lsp.index.inferred import JEDI, InferredFile, MergeCounts, ResolvedUse, Site, StaticEdge, merge
from aurora_lsp.index.resolve import Resolver, SymbolTable, module_name, resolve_bases, resolve_edges
from aurora_lsp.index.scan import (
    SKIP_NOT_FILE,
    SKIP_TOO_LARGE,
    SKIP_UNREADABLE,
    SKIP_VANISHED_INDEXING,
    ScannedFile,
    ScanResult,
    scan_workspace,
)
from aurora_lsp.index.worker import OutlineRow, chunk_batch, outline_batch
from aurora_lsp.records import Chunk, ChunkId, FileRecord, FileState, ParsedFile, RefSource
from aurora_lsp.store.sqlite import SqliteStore

# A stat match is trusted only if the file was last modified this long before we read it.
RACY_WINDOW_NS = 2_000_000_000
# Below this much work, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 24
PARALLEL_MIN_BYTES = 256 * 1024
BATCH_FILES = 16
OUTLINE_BATCH_FILES = 32  # the first pass's batches: a definition is findable when its batch is back
IN_FLIGHT_BATCHES_PER_WORKER = 4
RESOLVE_BATCH = 2000  # chunks whose edges are resolved and written together
READ_FILES_AT_MOST = 64  # past this many files (or an eighth of them), one pass over every chunk reads faster
WRITE_BATCH_FILES = 50
_EDGES_DIRTY = "edges_dirty"

Progress = Callable[[int, int], None]
FirstPass = Callable[[list[OutlineRow]], None]


@dataclass(slots=True)
class IndexReport:
    files: int = 0
    chunks: int = 0
    edges: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_examples: dict[str, list[str]] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    resolved_sources: int = 0
    seconds: float = 0.0
    changed_paths: list[str] = field(default_factory=list)
    removed_paths: list[str] = field(default_factory=list)

    def skip(self, reason: str, path: str) -> None:
        self.skipped[reason] += 1
        examples = self.skipped_examples.setdefault(reason, [])
        if len(examples) < 5:
            examples.append(path)


@dataclass(slots=True)
class _Work:
    path: str
    # None: a file the index does not have yet, read only when its batch goes to be chunked,
    # so that a cold index holds a few batches of source at a time, not the workspace's.
    data: bytes | None
    module: str
    is_package: bool
    size: int
    mtime_ns: int
    checked_ns: int
    absolute: str = ""
    unread: str = ""  # why it could not be read then


def make_pool(workers: int | None = None) -> Executor:
    """A process pool whose workers have parso's grammar loaded already.

    Workers come from a fork server (never a fork of this process, which has threads)
    that preloads nothing: a preloaded parso would be resident in the fork server too
    (24 MB more, measured on Django), and each worker imports only `worker.py` anyway.
    """
    count = workers or max(1, os.cpu_count() or 1)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        context.set_forkserver_preload([])
    return ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=worker.start)


class Indexer:
    """Keeps one workspace's SQLite index equal to the files on disk."""

    def __init__(
        self,
        root: Path,
        db: SqliteStore,
        *,
        exclude: Iterable[str] = (),
        max_file_size_kb: int = 1024,
        workers: int | None = None,
    ) -> None:
        self.root = root
        self.db = db
        self.exclude = tuple(exclude)
        self.max_file_size_kb = max_file_size_kb
        self.workers = workers
        self.buffers: dict[str, str] = {}
        # Called (on this thread) with each batch of definitions the first pass finds in a
        # refresh large enough for worker processes; None: no first pass (the command line).
        self.first_pass: FirstPass | None = None
        # jedi's answers for open documents (path -> the version they are for), and the static
        # edges of the chunks they joined (chunk id -> edges), so joining again, or closing
        # the document, starts from what static resolution said
        self.inferred: dict[str, InferredFile] = {}
        self._static: dict[str, list[StaticEdge]] = {}

    def refresh(
        self, progress: Progress | None = None, *, full: bool = False, buffers: dict[str, str] | None = None
    ) -> IndexReport:
        """Bring the index up to date with the workspace; `full` re-chunks every file.

        `buffers` are the texts of files open in an editor (workspace-relative path → text):
        they stand in for the files on disk, and a new file that exists only as a buffer
        is indexed too.
        """
        started = time.perf_counter()
        report = IndexReport()
        scan = scan_workspace(self.root, self.exclude, self.max_file_size_kb)
        report.skipped.update(scan.skipped)
        report.skipped_examples = {k: list(v) for k, v in scan.examples.items()}
        self.buffers = dict(buffers or {})
        listed = {f.path for f in scan.files}
        too_large: set[str] = set()
        for path in sorted(self.buffers):
            absolute = self.root / path
            stands_in = path in listed or (path.endswith(".py") and not absolute.exists())
            if stands_in and over_size_limit(self.buffers[path], self.max_file_size_kb):
                # as a file on disk this large: skipped with its reason, its old chunks dropped
                too_large.add(path)
                report.skip(SKIP_TOO_LARGE, path)
                del self.buffers[path]
            elif path not in listed and stands_in:
                scan.files.append(ScannedFile(path, str(absolute), 0, 0))
        if too_large:
            scan.files = [f for f in scan.files if f.path not in too_large]
        scan.files.sort(key=lambda f: f.path)
        states = self.db.file_states()
        modules = _modules(scan)
        work, touched = self._find_changes(scan, states, modules, full, report)
        pool = self._pool_for(work)
        try:
            if pool is not None and self.first_pass is not None:
                # before anything is written: a database locked elsewhere does not hold it up
                self._first_pass(pool, work)
            scanned_paths = {f.path for f in scan.files}
            removed = sorted(set(states) - scanned_paths)
            report.unchanged = len(scan.files) - len(work)

            written_paths: list[str] = []
            kept_edges: set[str] = set()  # chunks of written files that kept their outgoing edges
            failed_paths: set[str] = set()
            # Edges left unfinished by a run that was killed are redone in full.
            was_dirty = self.db.get_meta(_EDGES_DIRTY) == "1"
            old_bases: dict[str, tuple[str, ...]] = {}
            # What resolution knew of the files about to change, and what it knows of them after.
            before: dict[str, Definitions] = {}
            after: dict[str, Definitions] = {}
            if work or removed:
                old_bases = self.db.base_edges()
                before = self._definitions([w.path for w in work if w.path in states] + removed)
                self.db.set_meta(_EDGES_DIRTY, "1")
            if touched:
                with self.db.transaction():
                    self.db.touch_files(touched)
            if removed:
                with self.db.transaction():
                    self.db.remove_files(removed)
            total = len(work)
            done = 0
            if progress is not None:
                progress(0, total)
            pending: list[FileRecord] = []
            for item, result in self._chunk_all(work, pool):
                done += 1
                item.data = b""  # chunked: its bytes need not live through the writes and resolution
                if item.unread:
                    result = item.unread
                if isinstance(result, str):
                    reason = result.partition(":")[0]
                    report.skip(reason, item.path)
                    failed_paths.add(item.path)
                else:
                    pending.append(FileRecord(result, item.size, item.mtime_ns, item.checked_ns, item.module))
                    after[item.path] = Definitions.of(result, item.module)
                    if result.problems:
                        report.problems[item.path] = list(result.problems)
                if len(pending) >= WRITE_BATCH_FILES:
                    written_paths.extend(self._write(pending, kept_edges))
                    pending = []
                if progress is not None:
                    progress(done, total)
            written_paths.extend(self._write(pending, kept_edges))
            # A file that turned binary or broke the chunker has no chunks now: drop its old ones.
            stale = sorted(failed_paths & set(states))
            if stale:
                with self.db.transaction():
                    self.db.remove_files(stale)
            report.changed = len(written_paths)
            report.changed_paths = written_paths
            report.removed_paths = removed + stale
            report.removed = len(report.removed_paths)
            if written_paths or report.removed_paths or was_dirty:
                change = change_between(before, after, {path: state.module for path, state in states.items()})
                report.resolved_sources = self._resolve(
                    set(written_paths), kept_edges, change, old_bases, full_resolution=full or not states or was_dirty
                )
            counts = self.db.counts()
            report.files, report.chunks, report.edges = counts["files"], counts["chunks"], counts["edges"]
            report.seconds = time.perf_counter() - started
            self.db.set_meta("last_run_seconds", f"{report.seconds:.3f}")
            return report
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)

    # -- finding what changed ----------------------------------------------------------

    def _find_changes(
        self,
        scan: ScanResult,
        states: dict[str, FileState],
        modules: dict[str, str],
        full: bool,
        report: IndexReport,
    ) -> tuple[list[_Work], list[FileState]]:
        work: list[_Work] = []
        touched: list[FileState] = []
        for scanned in scan.files:
            module = modules[scanned.path]
            state = states.get(scanned.path)
            buffer = self.buffers.get(scanned.path)
            if buffer is not None:
                data = buffer.encode("utf-8", "surrogatepass")
                if (
                    state is not None
                    and not full
                    and state.module == module
                    and content_hash(data) == state.content_hash
                ):
                    continue
                # size and mtime 0: once the buffer closes, the file on disk is read again
                work.append(_Work(scanned.path, data, module, _is_package(scanned.path), 0, 0, 0))
                continue
            if state is None:
                is_package = _is_package(scanned.path)
                work.append(_Work(scanned.path, None, module, is_package, scanned.size, 0, 0, scanned.absolute))
                continue
            if (
                not full
                and state.size == scanned.size
                and state.mtime_ns == scanned.mtime_ns
                and state.module == module
                and state.checked_ns - state.mtime_ns > RACY_WINDOW_NS
            ):
                continue
            checked_ns = time.time_ns()
            read = read_regular_file(scanned.absolute, self.max_file_size_kb * 1024)
            if isinstance(read, str):
                report.skip(read, scanned.path)
                continue
            data, info = read
            if not full and state.module == module and content_hash(data) == state.content_hash:
                touched.append(
                    FileState(scanned.path, state.content_hash, len(data), info.st_mtime_ns, checked_ns, module)
                )
                continue
            work.append(
                _Work(scanned.path, data, module, _is_package(scanned.path), len(data), info.st_mtime_ns, checked_ns)
            )
        return work, touched

    def _definitions(self, paths: list[str]) -> dict[str, Definitions]:
        """What resolution knows now of these files (those indexed), read in a few queries."""
        entries = self.db.definitions_of(paths)
        return {
            path: Definitions(entries.get(path, set()), symbols.imports, symbols.star_imports, symbols.module)
            for path, symbols in self.db.file_symbols_of(paths).items()
        }

    # -- chunking -----------------------------------------------------------------------

    def _pool_for(self, work: list[_Work]) -> Executor | None:
        """Worker processes for work large enough to pay for starting them, else None."""
        parallel = (
            (self.workers or os.cpu_count() or 1) > 1
            and len(work) >= PARALLEL_MIN_FILES
            and sum(w.size for w in work) >= PARALLEL_MIN_BYTES
        )
        return make_pool(self.workers) if parallel else None

    def _first_pass(self, pool: Executor, work: list[_Work]) -> None:
        """Every definition of the files not read yet, from Python's parser in the workers,
        handed to `first_pass` a batch at a time, so that workspace/symbol finds them long
        before the full chunking (about ten times the work) has written them."""
        handed = self.first_pass
        assert handed is not None
        unread = [w for w in work if w.data is None]
        limit = self.max_file_size_kb * 1024
        futures = [
            pool.submit(outline_batch, [(w.path, w.absolute, limit) for w in unread[i : i + OUTLINE_BATCH_FILES]])
            for i in range(0, len(unread), OUTLINE_BATCH_FILES)
        ]
        for future in futures:
            handed([row for rows in future.result() for row in rows])

    def _chunk_all(self, work: list[_Work], pool: Executor | None) -> Iterator[tuple[_Work, ParsedFile | str]]:
        batches = [work[i : i + BATCH_FILES] for i in range(0, len(work), BATCH_FILES)]
        if pool is None:
            for batch in batches:
                yield from zip(batch, chunk_batch([self._task(w) for w in batch]), strict=False)
            return
        # A few batches in flight per worker: submitting all at once kept a pickled copy of
        # every file's bytes in the pool's queue, and results piled up if writing lagged.
        window = IN_FLIGHT_BATCHES_PER_WORKER * (self.workers or os.cpu_count() or 1)
        waiting = iter(batches)
        in_flight: deque[tuple[list[_Work], Future[list[ParsedFile | str]]]] = deque()
        for batch in itertools.islice(waiting, window):
            in_flight.append((batch, pool.submit(chunk_batch, [self._task(w) for w in batch])))
        while in_flight:
            batch, future = in_flight.popleft()
            results = future.result()
            following = next(waiting, None)
            if following is not None:
                in_flight.append((following, pool.submit(chunk_batch, [self._task(w) for w in following])))
            yield from zip(batch, results, strict=True)

    def _task(self, work: _Work) -> tuple[str, bytes, str, bool]:
        """What a worker gets for one file, reading it now if it was left unread."""
        if work.data is None:
            work.checked_ns = time.time_ns()
            read = read_regular_file(work.absolute, self.max_file_size_kb * 1024)
            if isinstance(read, str):
                work.data, work.unread = b"", read
            else:
                work.data, info = read
                work.size, work.mtime_ns = len(work.data), info.st_mtime_ns
        return (work.path, work.data, work.module, work.is_package)

    def _write(self, records: list[FileRecord], kept_edges: set[str]) -> list[str]:
        """Write these files; their paths. Adds the ids of their chunks that kept their edges."""
        if not records:
            return []
        with self.db.transaction():
            kept_edges |= self.db.write_files(records)
        return [record.parsed.path for record in records]

    # -- edges --------------------------------------------------------------------------

    def _resolve(
        self,
        changed_paths: set[str],
        kept_edges: set[str],
        change: Change,
        old_bases: dict[str, tuple[str, ...]],
        full_resolution: bool,
    ) -> int:
        table = SymbolTable()
        file_symbols = self.db.file_symbols()
        for symbols in file_symbols:
            table.add_file(symbols)
        for chunk_id, path, qualname, kind, parent in self.db.symbol_rows():
            table.add_chunk(chunk_id, path, qualname, kind, parent)
        resolver = Resolver(table)
        # References are read a batch at a time, never all at once: at 262K chunks holding
        # every chunk's refs was the server's memory peak (153 MiB, scale benchmark).
        resolve_bases(resolver, self.db.iter_ref_sources(kind="class"))
        needs_resolving: Callable[[RefSource], bool] | None = None
        sources: Iterable[RefSource] | None = None
        if not full_resolution:
            change.hierarchy = classes_with_new_ancestry(old_bases, table.bases)
            close_over_reexports(change, file_symbols)
            # jedi's edges of an open document's chunks are joined afresh: all of them are resolved
            unjoined = {chunk_id for chunk_id in kept_edges if ChunkId.path(chunk_id) not in self.inferred}
            affected = needs_resolving = Affected(change, resolver, changed_paths, unjoined)
            # most edits reach few other files: only those are read (a new or vanished name, only
            # where some chunk spells it), not every chunk's refs
            most = max(READ_FILES_AT_MOST, len(file_symbols) // 8)
            files = affected.files_to_read(most, self.db.files_spelling)
            if files is not None:
                sources = self.db.ref_sources(files)

        resolved = 0
        with self.db.transaction():
            if full_resolution:
                self.db.delete_all_edges()
                self._static.clear()
            batch: list[RefSource] = []
            for source in self.db.iter_ref_sources() if sources is None else sources:
                if needs_resolving is None or needs_resolving(source):
                    batch.append(source)
                    if source.path in self.inferred:
                        self._static.pop(source.id, None)  # its static edges are stored afresh
                if len(batch) >= RESOLVE_BATCH:
                    resolved += self._store_edges(resolver, batch, full_resolution, changed_paths, kept_edges)
                    batch = []
            resolved += self._store_edges(resolver, batch, full_resolution, changed_paths, kept_edges)
            self._join_inferred_again()
            self.db.delete_dangling_edges()
            self.db.set_meta(_EDGES_DIRTY, "0")
        return resolved

    def _store_edges(
        self, resolver: Resolver, sources: list[RefSource], all_cleared: bool, written: set[str], kept_edges: set[str]
    ) -> int:
        """Resolve and store these chunks' edges. A chunk of a file just written has none yet
        (unless it kept them: `kept_edges`): its edges are only added."""
        if all_cleared:
            self.db.insert_edges(resolve_edges(resolver, sources))
            return len(sources)
        fresh = [s for s in sources if s.path in written and s.id not in kept_edges]
        kept = [s for s in sources if s.path not in written or s.id in kept_edges]
        if fresh:
            self.db.insert_edges(resolve_edges(resolver, fresh))
        if kept:
            self.db.replace_edges([s.id for s in kept], resolve_edges(resolver, kept))
        return len(sources)

    # -- jedi's edges of open documents --------------------------------------------------

    def write_inferred(self, inferred: InferredFile) -> MergeCounts | None:
        """Join jedi's answers for an open document to its edges, if the index holds that
        version of it (None when it does not: the document changed, a newer pass follows).
        They are joined again after every refresh that re-resolves its chunks."""
        if self.db.file_hash(inferred.path) != inferred.content_hash:
            return None
        self.inferred[inferred.path] = inferred
        with self.db.transaction():
            return self._join_inferred(inferred)

    def forget_inferred(self, path: str) -> None:
        """The document closed: its chunks get back their static edges."""
        if self.inferred.pop(path, None) is None:
            return
        restored = {source: edges for source, edges in self._static.items() if ChunkId.path(source) == path}
        for source in restored:
            del self._static[source]
        with self.db.transaction():
            rows = [(source, *edge) for source, edges in restored.items() for edge in edges]
            self.db.replace_edges(list(restored), rows)
            self.db.delete_dangling_edges()

    def _join_inferred_again(self) -> None:
        """After resolution: jedi's answers join the edges again, for the versions indexed."""
        for path, inferred in list(self.inferred.items()):
            if self.db.file_hash(path) == inferred.content_hash:
                self._join_inferred(inferred)
                continue
            del self.inferred[path]  # another version is indexed now: its edges are static again
            for source in [s for s in self._static if ChunkId.path(s) == path]:
                del self._static[source]

    def _join_inferred(self, inferred: InferredFile) -> MergeCounts:
        chunks = self.db.chunks_in_file(inferred.path)
        files: dict[str, list[Chunk]] = {inferred.path: chunks}
        by_source: dict[str, list[ResolvedUse]] = {}
        for use in inferred.uses:
            source = _innermost(chunks, use.line)
            if source is None:
                continue  # module-level code has no chunk
            targets = tuple(t for site in use.sites or () if (t := self._chunk_of(site, files)) is not None)
            by_source.setdefault(source, []).append((use, targets))
        counts = MergeCounts()
        edges: list[tuple[str, str, str, str]] = []
        for source, uses in by_source.items():
            static = self._static.get(source)
            if static is None:
                static = [row for row in self.db.dependencies(source) if row[2] != JEDI]
                self._static[source] = static
            joined, joined_counts = merge(source, static, uses)
            edges.extend(joined)
            counts.add(joined_counts)
        self.db.replace_edges(list(by_source), edges)
        return counts

    def _chunk_of(self, site: Site, files: dict[str, list[Chunk]]) -> str | None:
        """The chunk a definition site names: by its line, or its name if one chunk of the file has it."""
        if not site.in_workspace:
            return None
        file_chunks = files.get(site.path)
        if file_chunks is None:
            file_chunks = files[site.path] = self.db.chunks_in_file(site.path)
        named = [chunk for chunk in file_chunks if chunk.name == site.name]
        exact = next((chunk.id for chunk in named if chunk.sel_line == site.line), None)
        return exact if exact is not None else (named[0].id if len(named) == 1 else None)


def _innermost(chunks: list[Chunk], line: int) -> str | None:
    """The innermost of a file's chunks (in source order) holding a 0-based line."""
    found: str | None = None
    for chunk in chunks:
        if chunk.start_line <= line <= chunk.end_line:
            found = chunk.id
    return found


def over_size_limit(text: str, max_file_size_kb: int) -> bool:
    """Whether an editor buffer, as UTF-8, is larger than a file the workspace walk indexes."""
    limit = max_file_size_kb * 1024
    if len(text) > limit or 4 * len(text) <= limit:  # a code point is 1 to 4 bytes
        return len(text) > limit
    return len(text.encode("utf-8", "surrogatepass")) > limit


def _is_package(path: str) -> bool:
    return path == "__init__.py" or path.endswith("/__init__.py")


def _modules(scan: ScanResult) -> dict[str, str]:
    package_dirs = scan.package_dirs
    return {f.path: module_name(f.path, package_dirs) for f in scan.files}


def read_regular_file(path: str, max_bytes: int) -> tuple[bytes, os.stat_result] | str:
    """The bytes of a regular file and its stat, or why it was not read.

    The file may have changed since the scan: it is opened without blocking (a FIFO put
    in its place would otherwise hang the indexer), and checked again, as opened, for
    being a regular file within the size limit.
    """
    try:
        # never through a symlink: the scan resolved links (and kept only those inside the
        # workspace); a link put in a file's place since is not followed out
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        return SKIP_VANISHED_INDEXING
    except OSError as error:
        return SKIP_NOT_FILE if error.errno == errno.ELOOP else SKIP_UNREADABLE
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return SKIP_NOT_FILE
        if info.st_size > max_bytes:
            return SKIP_TOO_LARGE
        chunks: list[bytes] = []
        remaining = max_bytes + 1
        while remaining > 0 and (block := os.read(descriptor, min(remaining, 1 << 20))):
            chunks.append(block)
            remaining -= len(block)
        data = b"".join(chunks)
        if len(data) > max_bytes:  # grew while being read
            return SKIP_TOO_LARGE
        return data, info
    except OSError:
        return SKIP_UNREADABLE
    finally:
        os.close(descriptor)
