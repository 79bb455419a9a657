"""History quality: co-change recall with and without associations learned from git history.

    MIRRORS=/work/.mirror bash ../shared/eval/history/build_workspace.sh /tmp/pt-hist   # once
    python benchmarks/history_quality.py --workspace /tmp/pt-hist                       # about 10 minutes

The question of context_quality.py (shared/eval/README.md), on the time-split workspace of
shared/eval/history/: pytest's git history up to 2020-01-01, then one squash commit to 8.3.5.
Pairs come from cochange-dev-after-2020.jsonl (commits after the cutoff, ids relative to
`src/`); each focus chunk A is asked at its def line, 2,000 tokens; targets are the commit's
other chunks. Both configurations run in this process on copies of one fresh index: `off`
(no history learned) and `on` (the history mined first, timed, its rows counted). Scoring,
answer records and packing rules are context_quality.py's (imported, not copied); reported:

  answered   any detail (full, signature, name)
  code       full or signature
  full       full text only
and each restricted to targets in another file than A (cross_file).

`--variant NAME key=value ...` adds a configuration with other ActivationParameters on the
`on` index. Results go to benchmarks/results/history_quality.json with machine and versions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from context_quality import (
    DEFAULT_EVAL_DIR,
    Answer,
    Chunk,
    EvalData,
    Pair,
    _db_files,
    distinct_focuses,
    in_process_answers,
    load_eval,
    pristine_index,
    score,
)
from harness.machine import machine_facts, versions
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import timestamp, warn_if_code_changed, write_report

RESULTS = RESULTS_DIR / "history_quality.json"
RECORDS = "history/cochange-dev-after-2020.jsonl"
PREFIX = "src/"  # the workspace holds the whole repository; eval ids are relative to src/
BUDGET = 2000
DETAILS = {"answered": ("full", "signature", "name"), "code": ("full", "signature"), "full": ("full",)}


def history_eval(eval_dir: Path, records_file: Path) -> EvalData:
    """The snapshot's chunks and the after-cutoff pairs, every id and path under `src/`."""
    snapshot = load_eval(eval_dir)
    chunks = {
        PREFIX + c.id: Chunk(PREFIX + c.id, PREFIX + c.path, c.qualname, c.start, c.def_line, c.end)
        for c in snapshot.chunks.values()
    }
    records = [json.loads(line) for line in records_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs: list[Pair] = []
    for record in records:
        ids = [PREFIX + i for i in record["chunks"]]
        missing = [i for i in ids if i not in chunks]
        if missing:
            raise SystemExit(f"{record['commit']}: chunk ids not in the snapshot: {missing}")
        pairs.extend(Pair(focus, tuple(t for t in ids if t != focus), record["commit"]) for focus in ids)
    by_file: dict[str, list[Chunk]] = {}
    for chunk in chunks.values():
        by_file.setdefault(chunk.path, []).append(chunk)
    return EvalData(chunks, records, pairs, {}, by_file)


def figures(pairs: list[Pair], answers: dict[str, Answer], chunks: dict[str, Chunk]) -> dict[str, Any]:
    """Recall over all targets and over targets in other files, for each level of detail shown."""
    found: dict[str, Any] = {}
    for level, details in DETAILS.items():
        shown = {
            focus: [i for i, d in zip(a.ids, a.details, strict=True) if d in details] for focus, a in answers.items()
        }
        scored = score(pairs, shown, chunks)
        found[level] = scored["recall"]
        found[f"{level}_cross_file"] = scored["recall_cross_file"]
        found[f"{level}_same_file"] = scored["recall_same_file"]
    found["pairs"] = len(pairs)
    found["pairs_cross_file"] = score(pairs, {f: [] for f in answers}, chunks)["pairs_cross_file"]
    found["mean_seconds"] = sum(a.seconds for a in answers.values()) / max(len(answers), 1)
    found["errors"] = sum(1 for a in answers.values() if a.error)
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, required=True, help="built by shared/eval/history/build_workspace.sh")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR, help="the shared/eval folder")
    parser.add_argument("--records", type=Path, default=None, help=f"pairs file (default: <eval-dir>/{RECORDS})")
    parser.add_argument("--limit-pairs", type=int, default=None, metavar="N", help="only the first N pairs")
    parser.add_argument("--variant", nargs="+", action="append", default=[], metavar="NAME KEY=VALUE",
                        help="another configuration on the learned index: ActivationParameters changes")  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import attrs

    from harness.aurora import ActivationParameters, Settings, Workspace, learn_history

    args = parse_args(argv)
    started = time.perf_counter()
    root = args.workspace.resolve()
    data = history_eval(args.eval_dir, args.records or args.eval_dir / RECORDS)
    pairs = data.pairs[: args.limit_pairs] if args.limit_pairs else data.pairs
    focuses = distinct_focuses(pairs)
    report: dict[str, Any] = {
        "benchmark": "history_quality",
        "timestamp": timestamp(),
        "workspace": {"root": str(root), "head": _head(root)},
        "eval": {"records": len(data.records), "pairs": len(pairs), "distinct_focus": len(focuses)},
        "budget": BUDGET,
        "machine": machine_facts(),
        "versions": versions(("attrs",), source_sha256=True),
        "configurations": {},
    }
    print(f"[history] {len(pairs)} pairs, {len(focuses)} focus chunks; workspace {root}", file=sys.stderr)
    folder = Path(tempfile.mkdtemp(prefix="aurora-history-quality-"))
    try:
        pristine = folder / "off.sqlite3"
        index_seconds, indexed = pristine_index(root, pristine, False)
        learned = folder / "on.sqlite3"
        for source, target in zip(_db_files(pristine), _db_files(learned), strict=True):
            if source.exists():
                shutil.copyfile(source, target)
        with Workspace.open(root, Settings(database_path=str(learned), record_accesses=False)) as workspace:
            mining = time.perf_counter()
            mined = learn_history(workspace)
            report["mining"] = {
                "seconds": time.perf_counter() - mining,
                "commits_read": mined.seen if mined else 0,
                "commits_counted": mined.commits if mined else 0,
                "commits_too_large": mined.skipped if mined else 0,
                "complete": mined.complete if mined else None,
                "rows": workspace.db.history_rows(),
                "database_bytes_after": workspace.db.size_bytes(),
            }
        report["index"] = {"seconds": index_seconds, "chunks": indexed}
        print(f"[history] mining: {report['mining']}", file=sys.stderr)
        shipped = ActivationParameters()
        runs: list[tuple[str, Path, Any]] = [("off", pristine, shipped), ("on", learned, shipped)]
        for name, *changes in args.variant:
            values = {key: float(value) for key, value in (change.split("=", 1) for change in changes)}
            runs.append((name, learned, attrs.evolve(shipped, **values)))
        for name, db, parameters in runs:
            begun = time.perf_counter()
            answers = in_process_answers(root, data, focuses, db, parameters, BUDGET, False)
            result = figures(pairs, answers, data.chunks)
            result["seconds"] = time.perf_counter() - begun
            result["parameters"] = attrs.asdict(parameters)
            report["configurations"][name] = result
            print(f"[history] {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items()
                                                    if isinstance(v, float)), file=sys.stderr, flush=True)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    write_report(report, args.output, started)
    _print(report)
    warn_if_code_changed(report)
    return 0


def _head(root: Path) -> str:
    head = root / ".git" / "HEAD"
    return head.read_text().strip() if head.exists() else ""


def _print(report: dict[str, Any]) -> None:
    print(f"\nco-change recall after the cutoff, {BUDGET} tokens, {report['eval']['pairs']} pairs")
    print(f"{'':<14}" + "".join(f"{level:>10}{'cross':>8}" for level in DETAILS))
    for name, result in report["configurations"].items():
        print(f"{name:<14}" + "".join(f"{result[level]:>10.3f}{result[level + '_cross_file']:>8.3f}"
                                      for level in DETAILS))  # fmt: skip
    mining = report["mining"]
    print(f"mining {mining['seconds']:.1f} s: {mining['commits_read']} commits read, {mining['commits_counted']} "
          f"counted, {mining['commits_too_large']} too large; rows {mining['rows']}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
