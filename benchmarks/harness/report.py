"""How every results file is written: `write_report` finishes a report and writes it as JSON.

A report is a dict that starts with `benchmark` and `timestamp()` and holds `versions`
(machine.versions, with `aurora_source_sha256`) taken at the start. `write_report` adds
the load average at the end, the wall time and whether Aurora's source changed during
the run. index_bench.py and load_bench.py keep their own (older) fields and are written
with `write_json` alone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.aurora import source_digest
from harness.machine import machine_facts, versions


def timestamp() -> str:
    """Now, in UTC, ISO 8601 to the second: every report's `timestamp`."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def new_report(benchmark: str, packages: Iterable[str] = (), **fields: Any) -> dict[str, Any]:
    """A report's start: its name, `timestamp()`, the caller's fields, the machine, and the
    versions with `aurora_source_sha256` (which `write_report` compares at the end)."""
    return {"benchmark": benchmark, "timestamp": timestamp(), **fields, "machine": machine_facts(),
            "versions": versions(packages, source_sha256=True)}  # fmt: skip


def write_json(data: dict[str, Any], output: Path) -> None:
    """`data` as indented JSON (values JSON does not know as their str), the folder made if need be."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def write_report(report: dict[str, Any], output: Path, started: float) -> None:
    """Finish a benchmark's results (load at the end, wall time, whether the server's code
    changed since `report["versions"]` was taken) and write them as JSON."""
    report["loadavg_at_end"] = os.getloadavg()
    report["wall_seconds"] = time.perf_counter() - started
    report["code_changed_during_run"] = source_digest() != report["versions"]["aurora_source_sha256"]
    write_json(report, output)


def warn_if_code_changed(report: dict[str, Any]) -> None:
    if report["code_changed_during_run"]:
        print("WARNING: Aurora's code changed during the run; the figures mix versions", file=sys.stderr)
