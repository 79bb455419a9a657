"""Linux's /proc, read for the benchmarks: a process tree's memory and CPU, the machine's CPU.

A server's memory is the whole tree's (Aurora's indexer starts a fork server and one
parser per core; basedpyright's Python entry point runs node). TreeSampler samples it in
a thread: the peak of the summed VmRSS, the peak of the summed PSS (shared pages split
between processes) and each process's own VmHWM (the kernel-kept peak).
"""

from __future__ import annotations

import collections
import os
import threading
import time
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def stat(pid: int) -> tuple[int, str, float] | None:
    """(parent pid, command name, CPU seconds) of a process from /proc/<pid>/stat."""
    text = read_text(f"/proc/{pid}/stat")
    if text is None:
        return None
    head, _, tail = text.rpartition(")")
    fields = tail.split()
    try:
        return int(fields[1]), head.partition("(")[2], (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (IndexError, ValueError):
        return None


def cpu_with_reaped_children(pid: int) -> float | None:
    """CPU seconds of a process plus those of its children it has waited for (utime, stime, cutime, cstime)."""
    text = read_text(f"/proc/{pid}/stat")
    if text is None:
        return None
    fields = text.rpartition(")")[2].split()
    try:
        return sum(int(field) for field in fields[11:15]) / CLOCK_TICKS
    except (IndexError, ValueError):
        return None


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds a process tree has used so far: every live process's own and its reaped children's.

    A child that has exited is counted in its parent's cutime/cstime once reaped, and in its
    own /proc entry until then, so each CPU second counts once (as long as no process of the
    tree is re-parented away from it). Read at 1/CLK_TCK resolution.
    """
    return sum(cpu_with_reaped_children(member) or 0.0 for member in tree_by_children(pid))


def status_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB."""
    rss = hwm = 0
    for line in (read_text(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


def pss_kb(pid: int) -> int:
    for line in (read_text(f"/proc/{pid}/smaps_rollup") or "").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    """The children of every thread of a process (/proc/<pid>/task/*/children)."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def tree_by_children(pid: int) -> list[int]:
    """A process and its descendants, walked through `children` (cheap: no scan of /proc)."""
    todo, seen = [pid], []
    while todo:
        current = todo.pop()
        seen.append(current)
        todo += children(current)
    return seen


def machine_cpu() -> tuple[float, float, float]:
    """(busy, total, steal) CPU seconds of the whole machine so far, from /proc/stat.

    Steal is time the hypervisor gave to other guests while this one wanted to run.
    """
    fields = (read_text("/proc/stat") or "cpu 0 0 0 0").splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]] + [0] * (8 - len(fields[:8]))
    idle = values[3] + values[4]
    steal = values[7]
    return (sum(values) - idle - steal) / CLOCK_TICKS, sum(values) / CLOCK_TICKS, steal / CLOCK_TICKS


def own_cpu() -> float:
    """CPU seconds this process has used (user + system)."""
    usage = os.times()
    return usage.user + usage.system


class TreeSampler(threading.Thread):
    """Peak memory and CPU of a process and all its descendants, sampled from /proc."""

    def __init__(self, root_pid: int, interval: float) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.root_pid = root_pid
        self.interval = interval
        self._halt = threading.Event()
        self.samples = 0
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.peak_at = 0.0
        self.max_processes = 0
        self.processes: dict[int, dict[str, Any]] = {}
        self.started = time.perf_counter()

    def tree(self) -> list[int]:
        parents: dict[int, list[int]] = collections.defaultdict(list)
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                found = stat(int(entry.name))
                if found is not None:
                    parents[found[0]].append(int(entry.name))
        tree = [self.root_pid]
        for pid in tree:
            tree.extend(parents.get(pid, ()))
        return tree

    def rss_now_bytes(self) -> int:
        """The summed VmRSS of the tree at this moment (outside the sampling)."""
        return sum(status_kb(pid)[0] for pid in self.tree()) * 1024

    def sample(self) -> None:
        total_rss = total_pss = 0
        pids = self.tree()
        for pid in pids:
            found = stat(pid)
            if found is None:
                continue
            rss, hwm = status_kb(pid)
            pss = pss_kb(pid)
            total_rss += rss
            total_pss += pss
            seen = self.processes.setdefault(pid, {"name": found[1], "hwm_kb": 0, "cpu_seconds": 0.0, "pss_kb": 0})
            seen["hwm_kb"] = max(seen["hwm_kb"], hwm)
            seen["pss_kb"] = max(seen["pss_kb"], pss)
            seen["cpu_seconds"] = max(seen["cpu_seconds"], found[2])
        self.samples += 1
        self.max_processes = max(self.max_processes, len(pids))
        if total_rss > self.peak_rss_kb:
            self.peak_rss_kb = total_rss
            self.peak_at = time.perf_counter() - self.started
        self.peak_pss_kb = max(self.peak_pss_kb, total_pss)

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> dict[str, Any]:
        self._halt.set()
        self.join()
        root = self.processes.get(self.root_pid, {})
        return {
            "method": "sampled /proc/<pid>/{stat,status,smaps_rollup} of the server and its descendants",
            "interval_seconds": self.interval,
            "samples": self.samples,
            "peak_tree_rss_bytes": self.peak_rss_kb * 1024,
            "peak_tree_rss_at_seconds": round(self.peak_at, 3),
            "peak_tree_pss_bytes": self.peak_pss_kb * 1024,
            "sum_of_process_hwm_bytes": sum(p["hwm_kb"] for p in self.processes.values()) * 1024,
            "server_process_hwm_bytes": root.get("hwm_kb", 0) * 1024,
            "max_processes": self.max_processes,
            "cpu_seconds": sum(p["cpu_seconds"] for p in self.processes.values()),
            "processes": {str(pid): p for pid, p in self.processes.items()},
        }
