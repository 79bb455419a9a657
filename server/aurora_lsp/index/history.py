"""The team's history: which chunks and files the workspace's git commits changed together.

`mine` reads `git log --no-merges -M --raw -p -U0 -- '*.py'` once, newest commit first,
and maps each hunk to the innermost chunk its changed lines fall in. The chunks of each
changed file come from Python's own `ast` over the file as that commit left it (one
long-running `git cat-file --batch`, cached by blob id), so ids follow the chunker's
rules: `<path>::<qualname>`, a repeat numbered `#2`. Walking newest first, renames seen
so far map an older path to today's (`-M`), so counts land on today's ids; ids that no
longer exist simply match nothing.

A commit that changes more than MAX_FILES Python files or MAX_CHUNKS chunks is skipped:
mass reformatting, vendoring and squashes say nothing about what belongs together (the
30-file cut is Zimmermann et al.'s, "Mining version histories to guide software changes",
ICSE 2004). Merges are left out (`--no-merges`): their changes are already in the commits
they merge.

git runs as a subprocess without a shell, with external diff drivers, text conversion and
fsmonitor off, so no program of the workspace's runs. No git, not a repository, a broken
or shallow one: whatever git can show is used, and a failure is one log line and no
associations. Bounded by MAX_COMMITS and a time limit; `since` mines only what is new.
"""

from __future__ import annotations

import ast
import logging
import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from aurora_lsp.records import ChunkId

logger = logging.getLogger(__name__)

MAX_FILES = 30  # Python files changed: more is a sweep, not a change (Zimmermann et al. 2004)
MAX_CHUNKS = 40  # chunks changed: more makes 1,560 pairs out of one reformatting
MAX_COMMITS = 20_000  # newest first; older history adds little and costs time
TIME_LIMIT_SECONDS = 300.0
PROGRESS_EVERY = 50  # commits between two progress reports
_GIT = ("-c", "core.quotepath=off", "-c", "core.fsmonitor=false", "-c", "diff.renames=true")
_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_NULL_BLOB = "0" * 40


@dataclass(slots=True)
class Mined:
    """What one run learned: counts to add (per chunk id or file path, and per pair)."""

    head: str  # the commit mined up to; "" when nothing could be read
    commits: int = 0  # commits counted (not skipped)
    seen: int = 0  # commits read
    skipped: int = 0  # too large to mean anything
    chunk_changes: Counter[str] = field(default_factory=Counter)
    file_changes: Counter[str] = field(default_factory=Counter)
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (a, b), a < b, chunks or files: commits
    # the same pairs weighed by the commit's fan: a commit of k chunks (files) gives each pair
    # 1 / (k − 1), so P(i|j) = weight(i, j) / changes(j) sums to at most 1 over i (context/learned.py)
    weights: defaultdict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    complete: bool = True  # false when a bound stopped the run before the oldest commit
    renamed: bool = False  # a commit renamed a Python file: counts made before this run hold its old path
    rebuilt: bool = False  # `since` was not in HEAD's history: these are the whole history's counts


def git_available() -> bool:
    return shutil.which("git") is not None


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str] | None:
    """One git command in `root`; None when git is missing or fails (one log line)."""
    try:
        done = subprocess.run(
            ["git", *_GIT, *args], cwd=root, capture_output=True, text=True, env=_environment(), timeout=60
        )
    except (OSError, subprocess.SubprocessError) as error:
        logger.info("history: git %s failed in %s: %s", args[0], root, error)
        return None
    if check and done.returncode != 0:
        logger.info("history: git %s in %s: %s", args[0], root, done.stderr.strip().splitlines()[:1])
        return None
    return done


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.update({"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"})
    return environment


def repository_head(root: Path) -> tuple[str, str] | None:
    """(HEAD commit, the workspace's path prefix inside the repository), or None without git history."""
    if not git_available():
        logger.info("history: no git program; no learned associations")
        return None
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    prefix = _git(root, "rev-parse", "--show-prefix")
    if head is None or prefix is None:
        return None
    return head.stdout.strip(), prefix.stdout.strip()


def mine(
    root: Path,
    since: str | None = None,
    max_commits: int = MAX_COMMITS,
    time_limit: float = TIME_LIMIT_SECONDS,
    stop: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> Mined | None:
    """Co-change counts of the commits after `since` up to HEAD (all of them without `since`).

    None when there is no history to read. A `since` no longer in HEAD's history (a rebase,
    a reset, another branch) gives the whole history's counts, marked `rebuilt`. `progress`
    is told how many commits were read, every PROGRESS_EVERY commits and at the end.
    """
    found = repository_head(root)
    if found is None:
        return None
    head, prefix = found
    if since == head:
        return Mined(head)
    rebuilt = bool(since) and history_rewritten(root, since or "")
    if rebuilt:
        since = None
    mined = Mined(head, rebuilt=rebuilt)
    started = time.monotonic()
    with _Blobs(root) as blobs:
        for commit in _commits(root, f"{since}..{head}" if since else head, max_commits):
            if time.monotonic() - started > time_limit or (stop is not None and stop.is_set()):
                mined.complete = False
                break
            mined.seen += 1
            _count(mined, commit, prefix, blobs)
            if progress is not None and mined.seen % PROGRESS_EVERY == 0:
                progress(mined.seen)
        else:
            mined.complete = mined.seen < max_commits
    if progress is not None:
        progress(mined.seen)
    return mined


def history_rewritten(root: Path, since: str) -> bool:
    """Whether `since` is no longer in HEAD's history (a rebase, a reset, another branch)."""
    done = _git(root, "merge-base", "--is-ancestor", since, "HEAD", check=False)
    return done is not None and done.returncode != 0


@dataclass(slots=True)
class _FileChange:
    status: str  # git's letter: A, M, R, C, D, T
    old_path: str
    path: str
    blob: str  # the file as the commit left it
    lines: list[tuple[int, int]] = field(default_factory=list)  # new-side (first, count); count 0: after first


@dataclass(slots=True)
class _Commit:
    sha: str
    files: dict[str, _FileChange] = field(default_factory=dict)  # by new path


def _commits(root: Path, revisions: str, max_commits: int) -> Iterator[_Commit]:
    """The commits of `revisions` that change Python files, newest first, parsed as git streams them."""
    command = ["git", *_GIT, "log", "--no-merges", "-M", "--raw", "-p", "-U0", "--no-abbrev", "--no-ext-diff"]
    command += ["--no-textconv", "--no-color", "--format=%x00commit %H", f"--max-count={max_commits}"]
    command += [revisions, "--", "*.py"]
    try:
        process = subprocess.Popen(
            command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_environment()
        )
    except OSError as error:
        logger.info("history: cannot run git log in %s: %s", root, error)
        return
    assert process.stdout is not None
    commit: _Commit | None = None
    current: _FileChange | None = None
    try:
        for line in process.stdout:
            if line.startswith(b"\x00commit "):
                if commit is not None:
                    yield commit
                commit, current = _Commit(line[8:].strip().decode()), None
            elif commit is None:
                continue
            elif line.startswith(b":"):
                change = _raw_line(line)
                if change is not None:
                    commit.files[change.path] = change
            elif line.startswith(b"+++ "):
                target = line[4:].rstrip(b"\n")
                path = target[2:].decode("utf-8", "replace") if target.startswith(b"b/") else ""
                current = commit.files.get(path)
            elif line.startswith(b"@@") and current is not None:
                match = _HUNK.match(line)
                if match:
                    count = int(match.group(2)) if match.group(2) is not None else 1
                    current.lines.append((int(match.group(1)), count))
        if commit is not None:
            yield commit
    finally:
        process.stdout.close()
        process.kill()
        process.wait()


def _raw_line(line: bytes) -> _FileChange | None:
    """`:100644 100644 <old> <new> M\tpath` (R and C give two paths); quoted paths are skipped."""
    meta, _, names = line.rstrip(b"\n").partition(b"\t")
    parts = meta.split()
    if len(parts) < 5:
        return None
    paths = names.decode("utf-8", "replace").split("\t")
    if any(path.startswith('"') for path in paths):
        return None
    status = parts[4][:1].decode()
    return _FileChange(status, paths[0], paths[-1], parts[3].decode())


def _count(mined: Mined, commit: _Commit, prefix: str, blobs: _Blobs) -> None:
    """Add one commit's changed chunks and files (today's ids) to the counts, unless it is too large."""
    renames = [(change.old_path, change.path) for change in commit.files.values() if change.status == "R"]
    files = [change for change in commit.files.values() if change.status != "D"]
    chunks: set[str] = set()
    paths: set[str] = set()
    if len(commit.files) <= MAX_FILES:
        for change in files:
            if not change.path.startswith(prefix):
                continue
            today = blobs.today(change.path)[len(prefix) :]
            paths.add(today)
            if change.status == "A" or change.lines:
                chunks.update(ChunkId.make(today, name) for name in _touched(blobs.definitions(change.blob), change))
    # renames are followed whether or not the commit counts: older commits name the old paths
    for old, new in renames:
        blobs.renamed(old, new)
        mined.renamed = True
    if len(commit.files) > MAX_FILES or len(chunks) > MAX_CHUNKS:
        mined.skipped += 1
        return
    if not paths:
        return
    mined.commits += 1
    mined.chunk_changes.update(chunks)
    mined.file_changes.update(paths)
    for group in (sorted(chunks), sorted(paths)):
        pairs = list(combinations(group, 2))
        mined.pairs.update(pairs)
        for pair in pairs:
            mined.weights[pair] += 1.0 / (len(group) - 1)


Definition = tuple[str, int, int]  # (qualname with any #n, first line, last line), 1-based


def _touched(definitions: list[Definition], change: _FileChange) -> set[str]:
    """The innermost definitions holding the changed lines (all of them for a new file)."""
    if change.status == "A":
        return {name for name, _, _ in definitions}
    touched: set[str] = set()
    for first, count in change.lines:
        # a deletion (count 0) sits between line `first` and the next: inside what holds both
        low, high = (first, first + count - 1) if count else (first, first + 1)
        for line in range(low, high + 1) if count else (low,):
            owner = None
            for name, start, end in definitions:  # outer first: the last that holds it is innermost
                if start <= line <= end and (count or end >= high):
                    owner = name
            if owner is not None:
                touched.add(owner)
    return touched


def definitions(source: bytes) -> list[Definition]:
    """Every class, def and async def at any depth, outer before inner, in source order;
    empty when Python cannot compile the text."""
    try:
        tree = compile(source, "<history>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return []
    found: list[Definition] = []
    seen: Counter[str] = Counter()

    def visit(body: list[ast.stmt], outer: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = f"{outer}.{node.name}" if outer else node.name
                seen[qualname] += 1
                numbered = qualname if seen[qualname] == 1 else f"{qualname}#{seen[qualname]}"
                first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
                found.append((numbered, first, node.end_lineno or node.lineno))
                visit(node.body, qualname)
            else:
                for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                    inner = getattr(node, name, None)
                    if isinstance(inner, list):
                        visit([child for child in inner if isinstance(child, ast.stmt)], outer)
                        for child in inner:
                            if not isinstance(child, ast.stmt):  # except handlers, match cases
                                visit(getattr(child, "body", []), outer)

    if isinstance(tree, ast.Module):
        visit(tree.body, "")
    return found


class _Blobs:
    """Files as a commit left them, through one `git cat-file --batch`, parsed once per blob;
    and the renames seen so far (old path → today's path)."""

    CACHE = 4096

    def __init__(self, root: Path) -> None:
        self.root = root
        self._process: subprocess.Popen[bytes] | None = None
        self._parsed: dict[str, list[Definition]] = {}
        self._today: dict[str, str] = {}

    def __enter__(self) -> _Blobs:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            self._process.kill()
            self._process.wait()

    def today(self, path: str) -> str:
        return self._today.get(path, path)

    def renamed(self, old: str, new: str) -> None:
        self._today[old] = self.today(new)

    def definitions(self, blob: str) -> list[Definition]:
        if blob == _NULL_BLOB:
            return []
        if blob not in self._parsed:
            if len(self._parsed) >= self.CACHE:
                self._parsed.pop(next(iter(self._parsed)))
            text = self._read(blob)
            self._parsed[blob] = definitions(text) if text is not None else []
        return self._parsed[blob]

    def _read(self, blob: str) -> bytes | None:
        try:
            if self._process is None:
                self._process = subprocess.Popen(
                    ["git", *_GIT, "cat-file", "--batch"],
                    cwd=self.root,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=_environment(),
                )
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(blob.encode() + b"\n")
            self._process.stdin.flush()
            header = self._process.stdout.readline().split()
            if len(header) != 3:  # "<id> missing": a partial clone or a broken object store
                return None
            text = self._process.stdout.read(int(header[2]))
            self._process.stdout.read(1)
            return text
        except (OSError, ValueError) as error:
            logger.info("history: cannot read blob %s: %s", blob, error)
            return None
