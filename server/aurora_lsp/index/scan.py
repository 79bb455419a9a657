"""The workspace walk: which Python files to index, and which were skipped and why.

Skips `.gitignore` matches (nested `.gitignore` files too, via pathspec), the usual
virtualenv, build and cache folders (and any folder holding a `pyvenv.cfg`), the
`exclude` globs of the settings, and files over `maxFileSizeKb`. Symlinked folders are
not followed (that is how loops are avoided), and a symlinked file is read only when its
target lies inside the workspace: nothing outside the roots is ever read (answers end up
in AI chats; a link must not be a way out). Names that are not valid UTF-8 cannot be
chunk ids or JSON; they are skipped. Nothing is dropped silently: every skip is counted
by reason.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from aurora_lsp.positions import is_utf8

ALWAYS_SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".pytype",
        ".hypothesis",
        "node_modules",
        "build",
        "dist",
        ".eggs",
        "site-packages",
        ".direnv",
        ".ipynb_checkpoints",
    }
)
PYTHON_SUFFIX = ".py"
VIRTUALENV_MARK = "pyvenv.cfg"  # a folder holding one is a virtualenv

# Reasons, as reported.
SKIP_GITIGNORE = "ignored by .gitignore"
SKIP_EXCLUDE = "matched an exclude glob"
SKIP_FOLDER = "in a virtualenv, build or cache folder"
SKIP_TOO_LARGE = "over maxFileSizeKb"
SKIP_SYMLINK_DIR = "symlinked folder not followed"
SKIP_UNREADABLE = "unreadable"
SKIP_VANISHED = "vanished while scanning"
SKIP_VANISHED_INDEXING = "vanished while indexing"
SKIP_NOT_FILE = "not a regular file"
SKIP_LINK_OUTSIDE = "symlink leaving the workspace"
SKIP_NAME_NOT_UTF8 = "name not valid UTF-8"


@dataclass(slots=True)
class ScannedFile:
    path: str  # workspace-relative, POSIX separators
    absolute: str  # what to read: the file itself, never a symlink (a link's target, inside the root)
    size: int
    mtime_ns: int


@dataclass(slots=True)
class ScanResult:
    files: list[ScannedFile] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    # a few examples per reason, for the report
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, path: str) -> None:
        self.skipped[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < 5:
            examples.append(path)

    @property
    def package_dirs(self) -> set[str]:
        return {
            f.path.rpartition("/")[0] for f in self.files if f.path.endswith("/__init__.py") or f.path == "__init__.py"
        }


def _spec(lines: Iterable[str]) -> pathspec.PathSpec[Any] | None:
    patterns = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not patterns:
        return None
    try:
        return pathspec.GitIgnoreSpec.from_lines(patterns)
    except (ValueError, TypeError):
        return None  # a hostile or broken .gitignore ignores nothing rather than everything


def _read_gitignore(folder: str) -> pathspec.PathSpec[Any] | None:
    try:
        with open(os.path.join(folder, ".gitignore"), encoding="utf-8", errors="replace") as handle:
            return _spec(handle.read().splitlines())
    except OSError:
        return None


def scan_workspace(root: Path, exclude: Iterable[str] = (), max_file_size_kb: int = 1024) -> ScanResult:
    """Every Python file to index under `root`, in path order, and the skips by reason."""
    result = ScanResult()
    exclude_spec = _spec(exclude)
    max_bytes = max_file_size_kb * 1024
    root_str = os.fspath(root)
    real_root = os.path.realpath(root_str)
    # (folder relative path, its own .gitignore spec or None); ancestors' specs apply too
    stack: list[tuple[str, list[tuple[str, pathspec.PathSpec[Any]]]]] = [("", [])]
    while stack:
        relative, specs = stack.pop()
        folder = os.path.join(root_str, relative) if relative else root_str
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            result.skip(SKIP_UNREADABLE, relative or ".")
            continue
        # the folder's listing says whether it has a .gitignore or is a virtualenv: no
        # opening or stat of a file that is not there, in each of Django's 2,457 folders
        names = {entry.name for entry in entries}
        if relative and VIRTUALENV_MARK in names:
            result.skip(SKIP_FOLDER, relative + "/")
            continue
        own = _read_gitignore(folder) if ".gitignore" in names else None
        if own is not None:
            specs = [*specs, (relative, own)]
        subfolders: list[str] = []
        for entry in entries:
            name = entry.name
            path = f"{relative}/{name}" if relative else name
            if not is_utf8(name):
                result.skip(SKIP_NAME_NOT_UTF8, printable(path))
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = entry.is_symlink()
            except OSError:
                result.skip(SKIP_VANISHED, path)
                continue
            target = entry.path
            if is_link and not is_dir:
                try:
                    is_dir = entry.is_dir(follow_symlinks=True)
                except OSError:
                    is_dir = False
                if is_dir:
                    result.skip(SKIP_SYMLINK_DIR, path + "/")
                    continue
                target = os.path.realpath(entry.path)
                if not is_inside(target, real_root):
                    if name.endswith(PYTHON_SUFFIX):
                        result.skip(SKIP_LINK_OUTSIDE, path)
                    continue
            if is_dir:
                if name in ALWAYS_SKIPPED_FOLDERS or name.endswith(".egg-info"):
                    result.skip(SKIP_FOLDER, path + "/")
                elif _ignored(specs, path + "/"):
                    result.skip(SKIP_GITIGNORE, path + "/")
                elif exclude_spec is not None and exclude_spec.match_file(path + "/"):
                    result.skip(SKIP_EXCLUDE, path + "/")
                else:
                    subfolders.append(path)
                continue
            if not name.endswith(PYTHON_SUFFIX):
                continue
            if _ignored(specs, path):
                result.skip(SKIP_GITIGNORE, path)
                continue
            if exclude_spec is not None and exclude_spec.match_file(path):
                result.skip(SKIP_EXCLUDE, path)
                continue
            try:
                info = entry.stat(follow_symlinks=True)
            except OSError:
                result.skip(SKIP_VANISHED, path)
                continue
            if not stat.S_ISREG(info.st_mode):
                result.skip(SKIP_NOT_FILE, path)
                continue
            if info.st_size > max_bytes:
                result.skip(SKIP_TOO_LARGE, path)
                continue
            result.files.append(ScannedFile(path, target, info.st_size, info.st_mtime_ns))
        stack.extend((sub, specs) for sub in reversed(subfolders))
    result.files.sort(key=lambda f: f.path)
    return result


def is_inside(path: str, root: str) -> bool:
    """Whether a canonical path is the canonical root or lies under it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def printable(path: str) -> str:
    """A path that may hold undecodable bytes, with those bytes shown as `\\xff`."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _ignored(specs: list[tuple[str, pathspec.PathSpec[Any]]], path: str) -> bool:
    """Like git: the deepest .gitignore with a pattern for the path decides (`!` re-includes)."""
    for base, spec in reversed(specs):
        relative = path[len(base) + 1 :] if base else path
        decision = spec.check_file(relative).include
        if decision is not None:
            return bool(decision)
    return False
