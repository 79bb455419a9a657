"""The floor a cold index is judged against: Python's `ast.parse` of every file, one process.

Measured in the same run as the servers, so that ratios to it hold on a busy or slow
machine where seconds do not: a fresh interpreter (this one, `-I`) reads and parses every
`.py` file of the workspace in path order and reports its own wall and CPU time; the
interpreter's start is measured from outside as well.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_PARSE_ALL = """
import ast, json, os, sys, time
root = sys.argv[1]
wall, cpu = time.perf_counter(), time.process_time()
files = failed = size = 0
for folder, dirs, names in os.walk(root):
    dirs.sort()
    for name in sorted(names):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as handle:
                source = handle.read()
            files += 1
            size += len(source)
            try:
                ast.parse(source)
            except (SyntaxError, ValueError):
                failed += 1
print(json.dumps({"files": files, "bytes": size, "unparsable": failed,
                  "wall_seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}))
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ast_floor_once(root: Path) -> dict[str, Any]:
    """One fresh process parsing every file of `root`: its own figures, and wall/CPU with its start."""
    cpu_before, started = _children_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-I", "-c", _PARSE_ALL, str(root)], capture_output=True, text=True,
                          check=True)  # fmt: skip
    figures: dict[str, Any] = json.loads(done.stdout)
    figures["process_wall_seconds"] = time.perf_counter() - started
    figures["process_cpu_seconds"] = _children_cpu() - cpu_before
    return figures


def ast_floor(root: Path, repeat: int = 3) -> dict[str, Any]:
    """`repeat` runs of ast_floor_once, and the medians of their times."""
    runs = [ast_floor_once(root) for _ in range(repeat)]
    medians = {
        key: statistics.median(run[key] for run in runs)
        for key in ("wall_seconds", "cpu_seconds", "process_wall_seconds", "process_cpu_seconds")
    }
    return {
        "method": f"{sys.executable} -I: ast.parse of every .py file (os.walk, sorted), one process; "
        "wall_seconds/cpu_seconds inside it, process_* with the interpreter's start; medians of the runs",
        "files": runs[0]["files"],
        "bytes": runs[0]["bytes"],
        "unparsable": runs[0]["unparsable"],
        **medians,
        "runs": runs,
    }
