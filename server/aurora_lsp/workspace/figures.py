"""The `aurora/stats` answer from each folder's figures: one function for the server and the CLI."""

from __future__ import annotations

import os
import resource
from collections.abc import Sequence

from aurora_lsp.config import Settings
from aurora_lsp.protocol import DatabaseFigures, IndexingState, RunCounts, Stats
from aurora_lsp.workspace.service import FolderFigures


def process_rss_bytes() -> int:
    """Resident set size of this process now (Linux), else its peak."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def combined_indexing(states: Sequence[IndexingState]) -> IndexingState:
    """Indexing across folders: busy while any is; the last run's figures once every folder has one."""
    if not states:
        return IndexingState()
    runs = [state.last_run for state in states]
    seconds = [state.last_run_seconds for state in states]
    return IndexingState(
        state="indexing" if any(state.state == "indexing" for state in states) else "idle",
        done=sum(state.done for state in states),
        total=sum(state.total for state in states),
        last_run_seconds=None if None in seconds else round(sum(s for s in seconds if s is not None), 3),
        last_run=None
        if any(run is None for run in runs)
        else RunCounts(
            changed=sum(run.changed for run in runs if run),
            unchanged=sum(run.unchanged for run in runs if run),
            removed=sum(run.removed for run in runs if run),
        ),
    )


def stats(folders: Sequence[FolderFigures], indexing: IndexingState, settings: Settings) -> Stats:
    """The contract's `aurora/stats` figures: counts summed over folders, the budget the server's."""
    skipped: dict[str, int] = {}
    for folder in folders:
        for reason, count in folder.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + count
    first = folders[0].database.path if folders else None
    return Stats(
        files=sum(folder.files for folder in folders),
        chunks=sum(folder.chunks for folder in folders),
        edges=sum(folder.edges for folder in folders),
        resident_chunks=sum(folder.memory.resident_chunks for folder in folders),
        resident_bytes=sum(folder.memory.resident_bytes for folder in folders),
        memory_budget_bytes=settings.memory_budget_bytes,
        max_chunks=settings.max_chunks,
        evictions=sum(folder.memory.evictions for folder in folders),
        hits=sum(folder.memory.hits for folder in folders),
        misses=sum(folder.memory.misses for folder in folders),
        process_rss_bytes=process_rss_bytes(),
        database=DatabaseFigures(path=first, bytes=sum(folder.database.bytes for folder in folders)),
        indexing=indexing,
        skipped=dict(sorted(skipped.items())),
    )
