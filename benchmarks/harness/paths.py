"""Where the benchmarks keep things: their folder, the git-ignored cache and the results files."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent
REPOSITORY = BENCHMARKS.parent
CACHE = BENCHMARKS / ".cache"  # archives, unpacked workspaces, peer virtualenvs, profiles (git-ignored)
RESULTS = BENCHMARKS / "results"  # the committed results files
