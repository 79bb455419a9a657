"""Profiles of a running server: py-spy recording, and summaries of py-spy and tracemalloc output.

py-spy (pinned, in a virtualenv of its own) attaches to the server with --subprocesses
--threads and writes raw collapsed stacks; lsp_bench.py records one window of a session
at a time (`WindowProfiler`), scale_bench.py the whole cold index (`Recording`). The
summaries count samples per process/thread and per function; a tracemalloc snapshot is
reduced to allocation sites and the Aurora functions that own them.
"""

from __future__ import annotations

import ast
import asyncio
import collections
import contextlib
import signal
import subprocess
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

from harness.lsp import Session
from harness.venvs import ensure_venv

PY_SPY_VERSION = "0.4.3"


def py_spy() -> Path:
    """The pinned py-spy, installed on first use."""
    return ensure_venv("py-spy", PY_SPY_VERSION) / "bin" / "py-spy"


def start_py_spy(executable: Path, pid: int, target: Path, rate: int, stderr: int | IO[Any]) -> subprocess.Popen[bytes]:
    """py-spy recording process `pid` and its descendants, all threads, into `target` (raw stacks)."""
    command = [str(executable), "record", "--pid", str(pid), "--subprocesses", "--threads", "--nonblocking",
               "--rate", str(rate), "--format", "raw", "--output", str(target)]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)


class WindowProfiler:
    """py-spy attached to the running server for one window of the session (profile runs only)."""

    def __init__(self, executable: Path, out_dir: Path, rate: int = 500) -> None:
        self.py_spy = executable
        self.out_dir = out_dir
        self.rate = rate
        self.files: dict[str, Path] = {}

    @contextlib.asynccontextmanager
    async def window(self, session: Session, name: str) -> AsyncIterator[None]:
        target = self.out_dir / f"aurora-{name}.txt"
        target.unlink(missing_ok=True)
        process = start_py_spy(self.py_spy, session.server_pid, target, self.rate, subprocess.DEVNULL)
        await asyncio.sleep(0.5)  # py-spy attaches
        try:
            yield
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
            self.files[name] = target


class Recording:
    """py-spy recording the server and its workers (raw collapsed stacks) until stopped."""

    def __init__(self, executable: Path, pid: int, target: Path, rate: int) -> None:
        target.unlink(missing_ok=True)
        self.target = target
        self.process = start_py_spy(executable, pid, target, rate, subprocess.PIPE)

    def stop(self) -> str:
        """Stop it; the tail of what py-spy wrote to stderr."""
        self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err.decode(errors="replace")[-2000:]


# -- py-spy output -------------------------------------------------------------------------


def frame_owner(frames: list[str]) -> tuple[str, list[str]]:
    """(which process and thread, the code frames) of one py-spy stack (--subprocesses --threads)."""
    owner: list[str] = []
    index = 0
    while index < len(frames) and frames[index].startswith(("process ", "thread ")):
        owner.append(frames[index])
        index += 1
    processes = [f for f in owner if f.startswith("process ")]
    threads = [f for f in owner if f.startswith("thread ")]
    kind = "parser worker" if processes and "multiprocessing" in processes[-1] else "server"
    thread = threads[-1].partition(": ")[2] or threads[-1] if threads else "?"
    return f"{kind}: {thread}" if kind == "server" else kind, frames[index:]


def py_spy_stacks(path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(owner, code frames outermost first, samples) of every stack with code frames in a raw py-spy file."""
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        try:
            count = int(count_text)
        except ValueError:
            continue
        owner, frames = frame_owner(stack.split(";"))
        if frames:
            yield owner, frames, count


def summarize_profile(path: Path, top: int = 25) -> dict[str, Any]:
    """Samples per process/thread, and self and inclusive counts per function, of a py-spy raw profile."""
    if not path.exists():
        return {"path": str(path), "missing": True}
    self_counts: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    owners: collections.Counter[str] = collections.Counter()
    total = 0
    for owner, frames, count in py_spy_stacks(path):
        total += count
        owners[owner] += count
        self_counts[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return {
        "path": str(path),
        "samples": total,
        "threads": owners.most_common(10),
        "self": self_counts.most_common(top),
        "inclusive": inclusive.most_common(top),
    }


def summarize_by_owner(path: Path, top: int = 15) -> dict[str, Any]:
    """Per process/thread: samples, and the top functions by self and inclusive samples (and Aurora's own)."""
    if not path.exists():
        return {"path": str(path), "missing": True}
    owners: dict[str, dict[str, Any]] = {}
    total = 0
    for owner, frames, count in py_spy_stacks(path):
        total += count
        entry = owners.setdefault(owner, {"samples": 0, "self": collections.Counter(),
                                          "inclusive": collections.Counter(),
                                          "aurora_inclusive": collections.Counter()})  # fmt: skip
        entry["samples"] += count
        entry["self"][frames[-1]] += count
        for frame in set(frames):
            entry["inclusive"][frame] += count
            if "aurora_lsp/" in frame:
                entry["aurora_inclusive"][frame] += count
    ordered = sorted(owners.items(), key=lambda item: -item[1]["samples"])
    return {
        "path": str(path),
        "samples": total,
        "owners": {
            name: {
                "samples": e["samples"],
                "self": e["self"].most_common(top),
                "inclusive": e["inclusive"].most_common(top),
                "aurora_inclusive": e["aurora_inclusive"].most_common(top),
            }
            for name, e in ordered[:6]
        },
    }


# -- tracemalloc snapshots -----------------------------------------------------------------


class _Functions:
    """Which function of a source file holds a line (from the file's ast), cached."""

    def __init__(self) -> None:
        self.spans: dict[str, list[tuple[int, int, str]]] = {}

    def name(self, filename: str, line: int) -> str:
        spans = self.spans.get(filename)
        if spans is None:
            spans = self.spans[filename] = self._spans(filename)
        best = "<module>"
        for start, end, qualname in spans:  # source order: later matches are nested deeper
            if start <= line <= end:
                best = qualname
        return best

    @staticmethod
    def _spans(filename: str) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        try:
            tree = ast.parse(Path(filename).read_bytes())

            def walk(node: ast.AST, prefix: str) -> None:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                        qualname = prefix + child.name
                        spans.append((child.lineno, child.end_lineno or child.lineno, qualname))
                        walk(child, qualname + ".")
                    else:
                        walk(child, prefix)

            walk(tree, "")
        except (OSError, SyntaxError, ValueError):
            pass
        return spans


def _raw_traces(snapshot: tracemalloc.Snapshot) -> list[tuple[int, tuple[tuple[str, int], ...]]]:
    """(size, frames innermost first) of every trace; the raw list when this Python has it (much faster)."""
    raw = getattr(getattr(snapshot, "traces", None), "_traces", None)
    if isinstance(raw, list) and (not raw or (isinstance(raw[0], tuple) and len(raw[0]) >= 3)):
        return [(trace[1], trace[2]) for trace in raw]
    return [(t.size, tuple((f.filename, f.lineno) for f in reversed(t.traceback))) for t in snapshot.traces]


def _grouped_stacks(snapshot: tracemalloc.Snapshot) -> tuple[list[list[Any]], int]:
    """([frames, bytes, blocks] per distinct stack, total bytes): identical stacks are one object in a snapshot."""
    stacks: dict[int, list[Any]] = {}
    total = 0
    for size, frames in _raw_traces(snapshot):
        total += size
        entry = stacks.get(id(frames))
        if entry is None:
            stacks[id(frames)] = [frames, size, 1]
        else:
            entry[1] += size
            entry[2] += 1
    return list(stacks.values()), total


def _owner(frames: tuple[tuple[str, int], ...], functions: _Functions) -> str:
    """The innermost Aurora function of a stack, else the innermost frame's function."""
    for filename, line in frames:  # innermost first
        if "/aurora_lsp/" in filename:
            return f"{filename.rpartition('/aurora_lsp/')[2]}:{functions.name(filename, line)}"
    filename, line = frames[0]  # no Aurora frame among those kept
    return f"(not Aurora) {Path(filename).name}:{functions.name(filename, line)}"


def summarize_snapshot(snapshot: tracemalloc.Snapshot, top: int = 15) -> dict[str, Any]:
    """Allocation sites (file:line) and the innermost Aurora function of each allocation's stack."""
    functions = _Functions()
    stacks, total = _grouped_stacks(snapshot)
    sites: collections.Counter[str] = collections.Counter()
    site_blocks: collections.Counter[str] = collections.Counter()
    owners: collections.Counter[str] = collections.Counter()
    blocks: collections.Counter[str] = collections.Counter()
    for frames, size, count in stacks:
        if not frames:
            continue
        site = f"{frames[0][0]}:{frames[0][1]}"
        sites[site] += size
        site_blocks[site] += count
        owner = _owner(frames, functions)
        owners[owner] += size
        blocks[owner] += count
    return {
        "traced_bytes": total,
        "sites": [{"site": k, "bytes": v, "blocks": site_blocks[k]} for k, v in sites.most_common(top)],
        "aurora_functions": [{"function": k, "bytes": v, "blocks": blocks[k]} for k, v in owners.most_common(top)],
    }
