"""Replay: does Aurora learn from use? pytest's history replayed commit by commit.

    MIRRORS=/work/.mirror bash ../shared/eval/history/build_workspace.sh /tmp/pt-replay
    python benchmarks/replay_bench.py --workspace /tmp/pt-replay            # about 10 minutes
    python benchmarks/replay_bench.py --set snapshot                        # cochange-dev.jsonl, 2010-2025
    python benchmarks/replay_bench.py --workspace /tmp/pt-replay --limit-commits 40   # a quick look

For each commit of the eval set, in time order: the uses the author's own recent work left
(harness/replay.py: their last PREVIOUS_COMMITS commits within WINDOW_DAYS, from git) are
recorded through the server's own path (`WorkspaceService.record_uses`: repeats dropped,
then `ChunkStore.record_accesses`), each at its commit's author time: every chunk of each
file the commit changed as an `open` ten minutes before it, the classes and functions
holding its changed lines as `edit`s at it. No one else's uses are there: the uses of the
commit before are forgotten first. Then, at the commit's own author time (`now`), the
context at each chunk A the commit changed (A's file, A's def line, column 0, 2,000
tokens, as shared/eval/README.md asks) is scored on the commit's other chunks with
context_quality.py's `score`: recall as answered (any detail), shown as code (full or
signature) and in full.

Three answers per focus, on the same index and the same uses:
  no uses        before any use is recorded (the first-day ranking context_quality.py measures)
  base level off the uses recorded, ActivationParameters().without(**ABLATIONS["base"]): what
                 is left of use is the recently used chunks as sources of spreading
  with uses      the uses recorded, the shipped parameters
The per-commit paired difference (mean over the commit's focus chunks) has a bootstrap 95%
interval (10,000 resamples of commits, seed 0) and an exact two-sided sign test.

Learned history associations are off (the setting `history`, where it exists), so the
figures isolate use; `--history` turns them on for a second row. The answers themselves
record nothing (no feedback between the three configurations).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from context_quality import DEFAULT_EVAL_DIR, Pair, load_eval, score
from harness.aurora import ABLATIONS, ActivationParameters, Settings, Workspace, answer_at, forget_uses, stop_forkserver
from harness.machine import machine_facts, versions
from harness.paths import RESULTS as RESULTS_DIR
from harness.replay import (
    MAX_FILES_PER_COMMIT,
    PREVIOUS_COMMITS,
    WINDOW_DAYS,
    Commit,
    author_log,
    changed_qualnames,
    previous_commits,
    read_blobs,
)
from harness.report import timestamp, warn_if_code_changed, write_report
from harness.workspaces import wheel_workspace

RESULTS = RESULTS_DIR / "replay.json"
DEFAULT_MIRROR = Path("/work/.mirror/pytest-dev+pytest/repo")
BUDGET = 2000
OPEN_LEAD_SECONDS = 600  # a file is opened a while before the commit that changes it
REVISION = "8.3.5"
BOOTSTRAP_RESAMPLES = 10_000
CONFIGURATIONS = ("no uses", "base level off", "with uses")
SCORINGS = ("answered", "code", "full")  # any detail; full or signature; full


@dataclass(frozen=True)
class EvalSet:
    records: Path
    workspace_prefix: str  # workspace id = prefix + eval id


def eval_sets(eval_dir: Path) -> dict[str, EvalSet]:
    return {
        "history": EvalSet(eval_dir / "history" / "cochange-dev-after-2020.jsonl", "src/"),
        "snapshot": EvalSet(eval_dir / "cochange-dev.jsonl", ""),
    }


def load_records(path: Path, limit: int | None) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records.sort(key=lambda record: dt.datetime.fromisoformat(record["date"]))  # stable: the file's order on ties
    return records[:limit] if limit else records


# -- uses: what the author's previous commits left ---------------------------------------------


class Uses:
    """Turns an author's previous commits into the events the server records (chunk, time, kind)."""

    def __init__(self, workspace: Any, git_dir: Path, prefix: str) -> None:
        self.workspace = workspace
        self.git_dir = git_dir
        self.prefix = prefix
        self._file_ids: dict[str, list[str]] = {}
        self._blobs: dict[str, str | None] = {}

    def workspace_path(self, repo_path: str) -> str:
        """A path in the repository as the workspace has it (the wheel has no `src/`)."""
        if self.prefix == "" and repo_path.startswith("src/"):
            return repo_path[len("src/") :]
        return repo_path

    def file_ids(self, path: str) -> list[str]:
        if path not in self._file_ids:
            self._file_ids[path] = [chunk.id for chunk in self.workspace.file_chunks(path)]
        return self._file_ids[path]

    def read_ahead(self, commits: Sequence[Commit]) -> None:
        """The files as these commits left them, in one `git cat-file --batch`."""
        names = [f"{c.sha}:{path}" for c in commits for path, _ in c.changes if f"{c.sha}:{path}" not in self._blobs]
        self._blobs.update(read_blobs(self.git_dir, names))

    def events(self, commits: Sequence[Commit]) -> list[tuple[str, float, str]]:
        self.read_ahead(commits)
        found: list[tuple[str, float, str]] = []
        for commit in commits:
            for repo_path, lines in commit.changes:
                path = self.workspace_path(repo_path)
                ids = self.file_ids(path)
                if not ids:
                    continue  # not in the workspace any more (or never indexed)
                found += [(cid, float(commit.at - OPEN_LEAD_SECONDS), "open") for cid in ids]
                source = self._blobs.get(f"{commit.sha}:{repo_path}")
                known = set(ids)
                for qualname in changed_qualnames(source or "", lines):
                    if f"{path}::{qualname}" in known:
                        found.append((f"{path}::{qualname}", float(commit.at), "edit"))
        return found


# -- asking and scoring --------------------------------------------------------------------------


def shown(answer: Any, prefix: str) -> dict[str, list[str]]:
    """The answer's eval ids (prefix dropped) by scoring: as answered, as code, in full."""
    items = [(str(item["id"]), str(item["detail"])) for item in answer.get("items", [])]
    ids = [(cid[len(prefix) :] if cid.startswith(prefix) else cid, detail) for cid, detail in items]
    return {
        "answered": [cid for cid, _ in ids],
        "code": [cid for cid, detail in ids if detail != "name"],
        "full": [cid for cid, detail in ids if detail == "full"],
    }


def commit_pairs(record: dict[str, Any]) -> list[Pair]:
    ids = record["chunks"]
    return [Pair(focus, tuple(t for t in ids if t != focus), record["commit"]) for focus in ids]


def combine(per_commit: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pair-weighted means of `score` results over commits (the mean over all pairs)."""
    combined: dict[str, Any] = {"commits": len(per_commit), "pairs": sum(s["pairs"] for s in per_commit)}
    for key, weight in (("recall", "pairs_all"), ("recall_same_file", "pairs_same_file"),
                        ("recall_cross_file", "pairs_cross_file")):  # fmt: skip
        weights = [s[weight] for s in per_commit if s[key] is not None]
        total = sum(weights)
        value = sum(s[key] * s[weight] for s in per_commit if s[key] is not None) / total if total else None
        combined[key] = value
        combined[weight] = total
    return combined


def sign_test(differences: Sequence[float]) -> dict[str, Any]:
    """Exact two-sided sign test (ties dropped)."""
    up = sum(1 for d in differences if d > 1e-12)
    down = sum(1 for d in differences if d < -1e-12)
    n = up + down
    tail = sum(math.comb(n, k) for k in range(min(up, down) + 1)) / 2**n if n else 1.0
    return {"better": up, "worse": down, "ties": len(differences) - n, "p_two_sided": min(1.0, 2 * tail)}


def bootstrap(differences: Sequence[float], resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, Any]:
    """The mean difference and its percentile bootstrap 95% interval."""
    if not differences:
        return {"mean": None, "ci95": None}
    rng = random.Random(0)
    n = len(differences)
    means = sorted(statistics.fmean(rng.choices(differences, k=n)) for _ in range(resamples))
    return {"mean": statistics.fmean(differences),
            "ci95": [means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]]}  # fmt: skip


def paired(per_commit: list[dict[str, Any]], better: str, worse: str, scoring: str, key: str) -> dict[str, Any]:
    differences = [
        row[better][scoring][key] - row[worse][scoring][key]
        for row in per_commit
        if row[better][scoring][key] is not None and row[worse][scoring][key] is not None
    ]
    return {"commits": len(differences), **bootstrap(differences), "sign_test": sign_test(differences)}


# -- the run -------------------------------------------------------------------------------------


def settings_for(db: Path, history: bool) -> Any:
    import attrs

    fields = attrs.fields_dict(Settings)
    extra = {"history": history} if "history" in fields else {}
    return Settings(database_path=str(db), record_accesses=True, **extra)


def learned(workspace: Any) -> None:
    """Mine the workspace's git history into associations now (the server does it in the background)."""
    import harness.aurora

    try:
        learn = harness.aurora.learn_history
    except AttributeError as error:
        raise SystemExit(f"--history: harness.aurora has no learn_history ({error})") from None
    started = time.perf_counter()
    mined = learn(workspace)
    print(f"[replay] history learned in {time.perf_counter() - started:.0f} s: {mined!r:.200}", file=sys.stderr)


def replay(args: argparse.Namespace, root: Path, records: list[dict[str, Any]], chunks: dict[str, Any],
           prefix: str, db: Path) -> dict[str, Any]:  # fmt: skip
    """Every commit replayed; per commit the scores of each configuration and what was recorded."""
    first = dt.datetime.fromisoformat(records[0]["date"]) - dt.timedelta(days=args.window_days + 2)
    log = author_log(args.mirror, REVISION, since=first.isoformat())
    by_sha = {commit.sha: commit for commit in log}
    shipped = ActivationParameters().without(**dict(args.parameter))
    parameters = {"no uses": shipped, "base level off": shipped.without(**ABLATIONS["base"]), "with uses": shipped}
    static: dict[str, dict[str, list[str]]] = {}
    per_commit: list[dict[str, Any]] = []
    started = time.perf_counter()
    with Workspace.open(root, settings_for(db, args.history)) as workspace:
        report = workspace.refresh()
        stop_forkserver()
        if args.history:
            learned(workspace)
        print(f"[replay] indexed {report.chunks} chunks in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        uses = Uses(workspace, args.mirror, prefix)
        for index, record in enumerate(records):
            commit = by_sha.get(record["commit"])
            if commit is None:
                continue  # not a non-merge commit of REVISION's history
            previous = previous_commits(log, commit, args.count, args.window_days * 86400.0)
            events = uses.events(previous)
            now = float(commit.at)
            pairs = commit_pairs(record)
            forget_uses(workspace)
            for pair in pairs:
                if pair.focus not in static:
                    chunk = chunks[pair.focus]
                    static[pair.focus] = shown(answer_at(workspace, prefix + chunk.path, chunk.def_line - 1,
                                                         args.budget, now, parameters["no uses"]), prefix)  # fmt: skip
            workspace.record_uses(events)
            answers: dict[str, dict[str, dict[str, list[str]]]] = {"no uses": {p.focus: static[p.focus] for p in pairs}}
            for name in ("base level off", "with uses"):
                answers[name] = {}
                for pair in pairs:
                    chunk = chunks[pair.focus]
                    answer = answer_at(workspace, prefix + chunk.path, chunk.def_line - 1, args.budget, now,
                                       parameters[name])  # fmt: skip
                    answers[name][pair.focus] = shown(answer, prefix)
            row: dict[str, Any] = {"commit": commit.sha, "author": commit.author, "at": commit.at,
                                   "previous": [c.sha for c in previous],
                                   "uses": {"edit": sum(1 for e in events if e[2] == "edit"),
                                            "open": sum(1 for e in events if e[2] == "open")}}  # fmt: skip
            row["by_use"] = by_use(pairs, answers, events, chunks, prefix)
            first_pair = pairs[:1]
            for name in CONFIGURATIONS:
                row[name] = {s: score(pairs, {f: a[s] for f, a in answers[name].items()}, chunks) for s in SCORINGS}
                row[name]["first_chunk"] = score(first_pair, {f: a["full"] for f, a in answers[name].items()}, chunks)
            per_commit.append(row)
            if (index + 1) % 25 == 0:
                print(f"[replay] {index + 1}/{len(records)} commits ({time.perf_counter() - started:.0f} s)",
                      file=sys.stderr, flush=True)  # fmt: skip
    stop_forkserver()
    return {"per_commit": per_commit, "log_commits": len(log), "indexed_chunks": report.chunks}


def use_of(target: str, focus: str, edited: set[str], opened: set[str], chunks: dict[str, Any]) -> str:
    """What the author's recent work did to a target: edited it, opened its file, or neither."""
    if target in edited:
        return "edited"
    if chunks[target].path in opened:
        return "same file, opened" if chunks[target].path == chunks[focus].path else "other file, opened"
    return "not used"


Answers = dict[str, dict[str, dict[str, list[str]]]]  # configuration -> focus -> scoring -> eval ids


def empty_counts() -> dict[str, Any]:
    return {"targets": 0, **{name: dict.fromkeys(SCORINGS, 0) for name in CONFIGURATIONS}}


def by_use(pairs: Sequence[Pair], answers: Answers, events: Sequence[tuple[str, float, str]],
           chunks: dict[str, Any], prefix: str) -> dict[str, Any]:  # fmt: skip
    """Target pairs by what use did to the target, and how many each configuration found, per scoring."""
    eval_ids = [(cid[len(prefix) :] if cid.startswith(prefix) else cid, kind) for cid, _, kind in events]
    edited = {cid for cid, kind in eval_ids if kind == "edit"}
    opened = {cid.split("::")[0] for cid, kind in eval_ids if kind == "open"}
    counts: dict[str, Any] = {}
    for pair in pairs:
        for target in pair.targets:
            entry = counts.setdefault(use_of(target, pair.focus, edited, opened, chunks), empty_counts())
            entry["targets"] += 1
            for name in CONFIGURATIONS:
                for scoring in SCORINGS:
                    entry[name][scoring] += target in answers[name][pair.focus][scoring]
    return counts


def use_shares(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Target-level shares (hit target pairs / target pairs) by what use did to the target."""
    totals: dict[str, Any] = {}
    for row in rows:
        for use, entry in row["by_use"].items():
            total = totals.setdefault(use, empty_counts())
            total["targets"] += entry["targets"]
            for name in CONFIGURATIONS:
                for scoring in SCORINGS:
                    total[name][scoring] += entry[name][scoring]
    everything = empty_counts()
    for total in list(totals.values()):
        everything["targets"] += total["targets"]
        for name in CONFIGURATIONS:
            for scoring in SCORINGS:
                everything[name][scoring] += total[name][scoring]
    if everything["targets"]:
        totals["all targets"] = everything
    return {
        use: {
            "targets": t["targets"],
            **{n: {s: t[n][s] / t["targets"] for s in SCORINGS} for n in CONFIGURATIONS},
        }  # fmt: skip
        for use, t in sorted(totals.items())
    }


def summarize(per_commit: list[dict[str, Any]]) -> dict[str, Any]:
    with_uses = [row for row in per_commit if row["uses"]["edit"] + row["uses"]["open"] > 0]
    summary: dict[str, Any] = {}
    for subset, rows in (("all commits", per_commit), ("commits with uses", with_uses)):
        figures: dict[str, Any] = {"commits": len(rows), "pairs": sum(r["no uses"]["answered"]["pairs"] for r in rows)}
        for name in CONFIGURATIONS:
            figures[name] = {s: combine([r[name][s] for r in rows]) for s in (*SCORINGS, "first_chunk")}
        figures["paired"] = {
            f"{better} - {worse}": {
                s: {key: paired(rows, better, worse, s, key) for key in ("recall", "recall_cross_file")}
                for s in SCORINGS
            }
            for better, worse in (("with uses", "base level off"), ("with uses", "no uses"))
        }
        figures["target_share_by_use"] = use_shares(rows)
        summary[subset] = figures
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    for subset, figures in summary.items():
        print(f"\n{subset}: {figures['commits']} commits, {figures['pairs']} pairs (2,000 tokens)")
        print(f"{'':<18}" + "".join(f"{s:>10}{'cross':>8}" for s in SCORINGS))
        for name in CONFIGURATIONS:
            cells = "".join(f"{figures[name][s]['recall']:>10.3f}{figures[name][s]['recall_cross_file'] or 0:>8.3f}"
                            for s in SCORINGS)  # fmt: skip
            print(f"{name:<18}{cells}")
        for comparison, by_scoring in figures["paired"].items():
            for s in SCORINGS:
                test = by_scoring[s]["recall"]
                if test["mean"] is None:
                    continue
                low, high = test["ci95"]
                sign = test["sign_test"]
                counts = f"{sign['better']}+/{sign['worse']}-/{sign['ties']}="
                print(f"  {comparison}, {s}: {test['mean']:+.4f} [{low:+.4f}, {high:+.4f}] per commit; "
                      f"sign test {counts} p={sign['p_two_sided']:.3g}")  # fmt: skip


def print_uses(summary: dict[str, Any]) -> None:
    print("\ntargets by what the author's recent work did to them (target share, answered / in full)")
    for use, shares in summary["all commits"]["target_share_by_use"].items():
        cells = "  ".join(
            f"{name} {shares[name]['answered']:.3f}/{shares[name]['full']:.3f}" for name in CONFIGURATIONS
        )
        print(f"  {use:<20}{shares['targets']:>6} targets  {cells}")


def parameter_change(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    if not name or not value:
        raise argparse.ArgumentTypeError(f"NAME=VALUE, not {text!r}")
    return name, float(value)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("history", "snapshot"), default="history", help="which eval set")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="the history workspace (build_workspace.sh's output; --set history)")  # fmt: skip
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR, help="pytest's git repository (bare)")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR, help="the shared/eval folder")
    parser.add_argument("--count", type=int, default=PREVIOUS_COMMITS, help="previous commits of the author")
    parser.add_argument("--window-days", type=float, default=WINDOW_DAYS, help="how far back they may be")
    parser.add_argument("--budget", type=int, default=BUDGET, help="token budget")
    parser.add_argument("--limit-commits", type=int, default=None, metavar="N", help="only the first N commits")
    parser.add_argument("--parameter", type=parameter_change, action="append", default=[], metavar="NAME=VALUE",
                        help="an activation parameter changed (e.g. base_weight=1.0)")  # fmt: skip
    parser.add_argument("--history", action="store_true", help="learned history associations on (if they exist)")
    parser.add_argument("--output", type=Path, default=None, help="JSON results (default results/replay.json)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wall_started = time.perf_counter()
    chosen = eval_sets(args.eval_dir)[args.set]
    if args.set == "history":
        if args.workspace is None or not (args.workspace / ".git").exists():
            raise SystemExit("--workspace: the folder build_workspace.sh made (see the module docstring)")
        root = args.workspace.resolve()
    else:
        root = wheel_workspace("pytest")[0].resolve()
    chunks = load_eval(args.eval_dir).chunks
    records = load_records(chosen.records, args.limit_commits)
    missing = sorted({cid for r in records for cid in r["chunks"] if cid not in chunks})
    if missing:
        raise SystemExit(f"chunk ids not in the snapshot: {missing[:5]}")
    started_versions = versions(("attrs",), source_sha256=True)
    state = Path(tempfile.mkdtemp(prefix="aurora-replay-"))
    try:
        outcome = replay(args, root, records, chunks, chosen.workspace_prefix, state / "index.sqlite3")
    finally:
        shutil.rmtree(state, ignore_errors=True)
    per_commit = outcome.pop("per_commit")
    summary = summarize(per_commit)
    output = args.output or RESULTS
    existing = json.loads(output.read_text(encoding="utf-8")) if output.exists() else {}
    runs = existing.get("runs", {}) if existing.get("benchmark") == "replay" else {}
    run_name = f"{args.set}, history {'on' if args.history else 'off'}"
    if (args.count, args.window_days, args.budget) != (PREVIOUS_COMMITS, WINDOW_DAYS, BUDGET):
        run_name += f", {args.count} previous commits in {args.window_days:g} days, {args.budget} tokens"
    if args.parameter:
        run_name += ", " + ", ".join(f"{name}={value:g}" for name, value in args.parameter)
    if args.limit_commits:
        run_name += f", first {args.limit_commits} commits"
    runs[run_name] = {
        "timestamp": timestamp(),
        "versions": started_versions,
        "command": "python benchmarks/replay_bench.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "workspace": str(root),
        "eval": {
            "records": str(chosen.records),
            "commits": len(records),
            "replayed": len(per_commit),
            "workspace_id_prefix": chosen.workspace_prefix,
        },
        "window": {
            "previous_commits": args.count,
            "days": args.window_days,
            "max_files_per_commit": MAX_FILES_PER_COMMIT,
            "open_lead_seconds": OPEN_LEAD_SECONDS,
        },
        "budget": args.budget,
        "parameter_changes": dict(args.parameter),
        "uses": {
            "commits_with_uses": sum(1 for r in per_commit if r["uses"]["edit"] + r["uses"]["open"]),
            "mean_edits": statistics.fmean(r["uses"]["edit"] for r in per_commit) if per_commit else None,
            "mean_opens": statistics.fmean(r["uses"]["open"] for r in per_commit) if per_commit else None,
        },
        **outcome,
        "summary": summary,
        "per_commit": [
            {k: r[k] for k in ("commit", "author", "at", "previous", "uses")}
            | {name: r[name]["full"]["recall"] for name in CONFIGURATIONS}
            for r in per_commit
        ],
    }
    report = {
        "benchmark": "replay",
        "timestamp": timestamp(),
        "machine": machine_facts(),
        "versions": started_versions,
        "parameters": {"shipped": repr(ActivationParameters()), "base_off": ABLATIONS["base"]},
        "runs": runs,
        "notes": [
            "per_commit[*][configuration] is recall shown in full, the mean over the commit's focus chunks.",
            "first_chunk: only the commit's first chunk (in the eval file's order) as focus, recall in full.",
        ],
    }
    write_report(report, output, wall_started)
    print_summary(summary)
    print_uses(summary)
    warn_if_code_changed(report)
    print(f"\nwall time {report['wall_seconds']:.0f} s; written to {output} ({run_name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
