"""Run a command and report the peak memory of its whole process tree.

    python benchmarks/tree_rss.py aurora-lsp index benchmarks/.cache/src/django-5.2.19-py3-none-any --db /tmp/d.db

Samples /proc every 30 ms: the peak of the summed VmRSS of the process and all its
descendants (Aurora's fork server and parsing workers included), the summed PSS at that
moment, and each process's own VmHWM. Written to stderr; the command's output passes
through. Linux only.
"""

from __future__ import annotations

import subprocess
import sys
import time

from harness.proc import pss_kb, status_kb, tree_by_children


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline") as handle:
            return handle.read().replace("\0", " ")[:70]
    except OSError:
        return "?"


def main(command: list[str]) -> int:
    if not command or command[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if command else 2
    started = time.monotonic()
    process = subprocess.Popen(command)
    peak = peak_pss = 0
    peak_at = 0.0
    hwm: dict[int, tuple[int, str]] = {}
    while process.poll() is None:
        pids = tree_by_children(process.pid)
        status = {pid: status_kb(pid) for pid in pids}  # (VmRSS, VmHWM)
        rss = sum(own_rss for own_rss, _ in status.values())
        if rss > peak:
            peak, peak_at = rss, time.monotonic() - started
            peak_pss = sum(pss_kb(pid) for pid in pids)
        for pid, (_, own) in status.items():
            if own:
                hwm[pid] = (max(own, hwm.get(pid, (0, ""))[0]), _command_line(pid))
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
