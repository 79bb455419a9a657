"""Run a command and report the peak memory of its whole process tree.

    python benchmarks/tree_rss.py aurora-lsp index benchmarks/.cache/src/django-5.2.19-py3-none-any --db /tmp/d.db

Samples /proc every 30 ms: the peak of the summed VmRSS of the process and all its
descendants (Aurora's fork server and parsing workers included), the summed PSS at that
moment, and each process's own VmHWM. Written to stderr; the command's output passes
through. Linux only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        current = todo.pop()
        seen.append(current)
        todo += _children(current)
    return seen


def _kb(pid: int, key: str, name: str = "status") -> int:
    try:
        with open(f"/proc/{pid}/{name}") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(command: list[str]) -> int:
    started = time.monotonic()
    process = subprocess.Popen(command)
    peak = peak_pss = 0
    peak_at = 0.0
    hwm: dict[int, tuple[int, str]] = {}
    while process.poll() is None:
        pids = _tree(process.pid)
        rss = sum(_kb(pid, "VmRSS:") for pid in pids)
        if rss > peak:
            peak, peak_at = rss, time.monotonic() - started
            peak_pss = sum(_kb(pid, "Pss:", "smaps_rollup") for pid in pids)
        for pid in pids:
            own = _kb(pid, "VmHWM:")
            if own:
                try:
                    with open(f"/proc/{pid}/cmdline") as handle:
                        name = handle.read().replace("\0", " ")[:70]
                except OSError:
                    name = "?"
                hwm[pid] = (max(own, hwm.get(pid, (0, ""))[0]), name)
        time.sleep(0.03)
    wall = time.monotonic() - started
    print(
        f"exit {process.returncode}, wall {wall:.2f} s, peak tree RSS {peak / 1024:.1f} MiB"
        f" (PSS then {peak_pss / 1024:.1f} MiB) at {peak_at:.2f} s",
        file=sys.stderr,
    )
    for pid, (own, name) in sorted(hwm.items()):
        print(f"  {pid} VmHWM {own / 1024:6.1f} MiB  {name}", file=sys.stderr)
    return process.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
