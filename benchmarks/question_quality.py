"""Question quality: does `aurora-lsp context --query=<issue>` show the code a real fix changed?

    MIRRORS=/path/to/mirrors python benchmarks/question_quality.py     # about 3 minutes

The question set is the shared one (shared/eval-questions/README.md): 25 SWE-bench Lite
instances of pytest, requests and flask, each an issue text and the chunks its merged fix
changed. Its own runner, shared/eval-questions/run.py, re-creates each workspace from the
git mirrors under MIRRORS (`<owner>+<name>/repo`, as the `fetch` tool or `git clone
--mirror` makes them), refreshes Aurora's index incrementally, asks Aurora through the CLI
and ranks BM25 over whole chunks in the same run. This script runs it unchanged with the
Aurora of this checkout and writes its overall and per-repository figures, with machine
facts and versions, to benchmarks/results/question_quality.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.aurora import console_command
from harness.machine import machine_facts, versions
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import timestamp, warn_if_code_changed, write_report

RESULTS = RESULTS_DIR / "question_quality.json"
DEFAULT_QUESTIONS = Path(__file__).resolve().parents[2] / "shared" / "eval-questions"
HEADLINE = ("recall_code", "recall_any", "recall_shown", "file_hit", "acc@5", "acc@10")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="the eval-questions folder")
    parser.add_argument("--mirrors", default=os.environ.get("MIRRORS"), help="folder of <owner>+<name>/repo mirrors")
    parser.add_argument("--budgets", default="2000,8000")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not args.mirrors:
        parser.error("set MIRRORS or --mirrors to the folder of git mirrors")
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "question_quality",
        "timestamp": timestamp(),
        "versions": versions(source_sha256=True),
        "machine": machine_facts(),
        "command": "MIRRORS=... python benchmarks/question_quality.py",
        "budgets": [int(budget) for budget in args.budgets.split(",")],
    }
    aurora = console_command()
    if len(aurora) != 1:
        parser.error("run.py needs the aurora-lsp console script beside this Python")
    work = Path(tempfile.mkdtemp(prefix="aurora-questions-"))
    try:
        out = work / "results.json"
        command = [sys.executable, str(args.questions / "run.py"), "--aurora", aurora[0], "--work", str(work)]
        command += ["--budgets", args.budgets, "--out", str(out)]
        subprocess.run(command, check=True, env={**os.environ, "MIRRORS": str(args.mirrors)})
        results = json.loads(out.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["instances"] = results["instances"]
    report["overall"] = results["overall"]
    report["by_repo"] = results["by_repo"]
    report["aurora_latency_s"] = results.get("aurora_latency_s")
    report["aurora_errors"] = results.get("aurora_errors")
    report["aurora_over_budget"] = results.get("aurora_over_budget")
    write_report(report, args.output, started)
    warn_if_code_changed(report)
    for method in ("aurora", "bm25"):
        for budget, figures in results["overall"][method].items():
            shown = "  ".join(f"{key} {figures[key]:.3f}" for key in HEADLINE if key in figures)
            print(f"{method:<7} {budget:>5}  {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
