"""A project's git history as the replay benchmark reads it: who changed which lines when,
and which earlier commits of the same author stand for their recent work.

Pure Python over `git` (no Aurora code): `author_log` reads the history once,
`previous_commits` is the windowing (a pure function, unit-tested), `changed_qualnames`
maps a commit's changed lines to the classes and functions that hold them (Python's ast
on the file as that commit left it).
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# An author's recent work: their last PREVIOUS_COMMITS commits, none older than WINDOW_DAYS.
# Three commits is about one change and its follow-ups; two weeks is twice the base level's
# floor age (a single use older than a week no longer lifts a chunk above the floor), so the
# window never cuts off a use that could still count.
PREVIOUS_COMMITS = 3
WINDOW_DAYS = 14
# A commit touching more Python files than this (a mass rename, reformatting, a vendored
# import) is not work anyone looked at file by file: it is left out of an author's uses.
MAX_FILES_PER_COMMIT = 10

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str  # the author's name as .mailmap makes it (%aN)
    at: int  # author time, Unix seconds: when the work was done, not when it was merged
    changes: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (path after the commit, changed lines there)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(path for path, _ in self.changes)


def previous_commits(
    log: Sequence[Commit],
    commit: Commit,
    count: int = PREVIOUS_COMMITS,
    window_seconds: float = WINDOW_DAYS * 86400.0,
    max_files: int = MAX_FILES_PER_COMMIT,
) -> list[Commit]:
    """The author's last `count` commits before `commit` (by author time, strictly earlier,
    within `window_seconds`, at most `max_files` files each), oldest first."""
    earlier = [
        other
        for other in log
        if other.author == commit.author
        and other.sha != commit.sha
        and commit.at - window_seconds <= other.at < commit.at
        and 0 < len(other.changes) <= max_files
    ]
    earlier.sort(key=lambda other: (other.at, other.sha))
    return earlier[-count:] if count > 0 else []


def parse_log(text: str) -> list[Commit]:
    """Commits from `git log --format=@%H%x09%aN%x09%at -U0` output, in the order given."""
    commits: list[Commit] = []
    header: tuple[str, str, int] | None = None
    changes: dict[str, list[int]] = {}
    path: str | None = None

    def close() -> None:
        if header is not None:
            commits.append(Commit(*header, tuple((p, tuple(lines)) for p, lines in changes.items())))

    for line in text.splitlines():
        if line.startswith("@") and not line.startswith("@@") and line.count("\t") == 2:
            close()
            sha, author, at = line[1:].split("\t")
            header, changes, path = (sha, author, int(at)), {}, None
        elif line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None  # "+++ /dev/null": deleted
            if path is not None:
                changes.setdefault(path, [])
        elif path is not None and (match := _HUNK.match(line)):
            start, length = int(match.group(1)), int(match.group(2) or "1")
            # a pure deletion (length 0) touches the line it follows
            changes[path].extend(range(max(start, 1), start + length) if length else [max(start, 1)])
    close()
    return commits


def author_log(git_dir: Path, revision: str, since: str | None = None) -> list[Commit]:
    """Every non-merge commit reachable from `revision` that changed a .py file, oldest first."""
    command = ["git", f"--git-dir={git_dir}", "log", "--no-merges", "-U0", "--no-color", "--no-ext-diff",
               "--format=@%H%x09%aN%x09%at", "--diff-filter=AMR", revision]  # fmt: skip
    if since:
        command.append(f"--since={since}")
    command += ["--", "*.py"]
    text = subprocess.run(command, check=True, capture_output=True, text=True, errors="replace").stdout
    commits = [commit for commit in parse_log(text) if commit.changes]
    commits.sort(key=lambda commit: (commit.at, commit.sha))
    return commits


def read_blobs(git_dir: Path, names: Iterable[str]) -> dict[str, str | None]:
    """`sha:path` -> the file's text there (None if missing or not UTF-8), in one `cat-file --batch`."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    output = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "--batch"], check=True,
                            capture_output=True, input="\n".join(wanted).encode() + b"\n").stdout  # fmt: skip
    found: dict[str, str | None] = {}
    position = 0
    for name in wanted:
        end = output.index(b"\n", position)
        header = output[position:end].decode(errors="replace").split()
        position = end + 1
        if len(header) == 3 and header[1] == "blob":
            size = int(header[2])
            data = output[position : position + size]
            position += size + 1
            try:
                found[name] = data.decode("utf-8")
            except UnicodeDecodeError:
                found[name] = None
        else:
            found[name] = None
    return found


def changed_qualnames(source: str, lines: Iterable[int]) -> list[str]:
    """The qualified names of the innermost class/def holding each line (decorators included);
    [] when the text is not Python 3 (old history)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    spans: list[tuple[int, int, str]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                first = min([child.lineno] + [decorator.lineno for decorator in child.decorator_list])
                spans.append((first, child.end_lineno or child.lineno, name))
                walk(child, name + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    names: dict[str, None] = {}
    for line in lines:
        holding = [span for span in spans if span[0] <= line <= span[1]]
        if holding:
            names.setdefault(max(holding, key=lambda span: span[0])[2])  # the innermost starts last
    return list(names)
