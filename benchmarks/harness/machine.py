"""The facts every results file records beside its figures: the machine, its load, the versions.

`versions()` is the one place that says what was measured: the packages, SQLite, Aurora's
git commit (and whether server/ differed from it), plus what a script adds (more packages,
the peers' pins, a digest of Aurora's source files).
"""

from __future__ import annotations

import hashlib
import os
import platform
import sqlite3
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.aurora import source_digest
from harness.paths import BENCHMARKS

# The packages every results file names; a script adds its own through versions(packages=...).
BASE_PACKAGES = ("aurora-lsp", "jedi", "parso", "sqlite-utils", "pygls")


def machine_facts() -> dict[str, Any]:
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "memory_total_bytes": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }


def loadavg_1min() -> float | None:
    """The 1-minute load average: other work on the machine shows here."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _package_versions(packages: Iterable[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for package in packages:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def _git_facts() -> dict[str, Any]:
    """Aurora's git commit, and whether (and how) server/ differs from it; nothing outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=BENCHMARKS, capture_output=True, text=True,
                              check=True)  # fmt: skip
        dirty = subprocess.run(["git", "diff", "HEAD", "--", "../server"], cwd=BENCHMARKS, capture_output=True,
                               text=True, check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {
        "aurora_git_commit": head.stdout.strip(),
        "aurora_server_dirty": bool(dirty.stdout.strip()),
        "aurora_server_diff_sha256": hashlib.sha256(dirty.stdout.encode()).hexdigest()[:16],
    }


def versions(
    packages: Iterable[str] = (), extra: Mapping[str, Any] | None = None, *, source_sha256: bool = False
) -> dict[str, Any]:
    """What was measured, in this order: BASE_PACKAGES, SQLite, git; then `packages`, `extra` and,
    with `source_sha256`, `aurora_source_sha256` (a digest of Aurora's source files as they are now)."""
    found: dict[str, Any] = _package_versions(BASE_PACKAGES)
    found["sqlite3_library"] = sqlite3.sqlite_version
    found.update(_git_facts())
    found.update(_package_versions(packages))
    found.update(extra or {})
    if source_sha256:
        found["aurora_source_sha256"] = source_digest()
    return found
