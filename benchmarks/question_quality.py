"""Question quality: does Aurora's answer to a question show the code the change needed?

    MIRRORS=/work/.mirror python benchmarks/question_quality.py        # about 7 minutes (--quick: 3)

Two dev sets, each against BM25 in the same run, at 2,000 and 8,000 tokens:

- issues: shared/eval-questions (25 SWE-bench Lite instances of pytest, requests, flask;
  the issue text is the question, the chunks the merged fix changed the targets). Each
  repository's workspace is re-created from the git mirrors under MIRRORS instance by
  instance in date order (shared/eval-questions/run.py's own functions) and refreshed.
- subjects: the pytest co-change commits of shared/eval/cochange-dev.jsonl on the pytest
  8.3.5 wheel (the workspace context_quality.py uses): each commit's subject line is the
  question, its chunks the targets. A subject of fewer than MIN_SUBJECT_WORDS words
  ("fix formatting", "improved reporting") says nothing a reader could act on and is
  skipped; that is the only rule.

Aurora is asked three ways, which must agree: in process (harness.aurora.ask_question,
the engine the server runs), over LSP (a real `aurora-lsp` process over stdio, pytest-lsp's
client, `aurora/context` with a query) and through the CLI (`aurora-lsp context --query`;
every issue, the first CLI_SUBJECTS subjects). Nothing is recorded (recordAccesses false;
the CLI's accesses are deleted before each question), so no question sees another.

Ablation, in process in the same run: each part of question answering off in turn
(aurora_lsp.context.question.PART_ABLATIONS), both sets, both budgets.

Scoring (run.py's `metrics`): recall_code (targets shown as full text or signature),
recall_any, file_hit, acc@5 / acc@10 (every target among the first 5 / 10 items). BM25:
Okapi over the identifier words of each chunk's text, whole chunks packed best first.
Results, with machine and versions: benchmarks/results/question_quality.json.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import filecmp
import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_lsp.checks import LspSpecificationWarning

from harness.aurora import Settings, Workspace, ask_question, console_command, stop_forkserver
from harness.lsp import ServerSpec, Session, ask_context, plain_json_results, wait_indexed
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import new_report, warn_if_code_changed, write_report
from harness.stats import latency_summary
from harness.workspaces import wheel_workspace

RESULTS = RESULTS_DIR / "question_quality.json"
SHARED = Path(__file__).resolve().parents[2] / "shared"
BUDGETS = (2000, 8000)
MIN_SUBJECT_WORDS = 3
CLI_SUBJECTS = 25
HEADLINE = ("recall_code", "recall_any", "file_hit", "acc@5", "acc@10")
FULL = "full"

Asker = Callable[[str, int], tuple[Any, float]]  # (question, budget) -> (wire answer, seconds)


def load_runner(questions: Path) -> Any:
    """shared/eval-questions/run.py as a module: its workspace, BM25 and metric functions."""
    sys.path.insert(0, str(questions))
    return importlib.import_module("run")


QUICK = False  # --quick: the full configuration in process only (a look at the misses, not a result)
QUICK_ALSO: list[str] = []  # --also: ablation configurations asked with --quick


def configurations() -> dict[str, dict[str, bool]]:
    from harness.aurora import PART_ABLATIONS

    if QUICK:
        return {FULL: {}} | {name: PART_ABLATIONS[name] for name in QUICK_ALSO}
    return {FULL: {}, **PART_ABLATIONS}


def items_of(answer: Any) -> list[tuple[str, str]]:
    return [(item["id"], item["detail"]) for item in (answer or {}).get("items") or []]


def scored(runner: Any, answer: Any, targets: list[str], files: list[str]) -> dict[str, Any]:
    items = items_of(answer)
    row: dict[str, Any] = runner.metrics(items, targets, files)
    row["target_ranks"] = {t: next((k for k, (i, _) in enumerate(items) if i == t), None) for t in targets}
    row["target_details"] = {t: next((d for i, d in items if i == t), None) for t in targets}
    full = {i for i, d in items if d == "full"}
    row["target_inside_full"] = {t: any(a in full for a in runner.ancestors(t)) for t in targets}
    answer = answer or {}
    row["names_only_share"] = (answer.get("namesOnlyTokens") or 0) / max(1, answer.get("usedTokens") or 1)
    return row


def mean(rows: list[dict[str, Any]]) -> dict[str, float]:
    keys = [k for k in (*HEADLINE, "recall_shown", "names_only_share") if rows and k in rows[0]]
    return {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in keys} | {"n": len(rows)}


# -- asking Aurora three ways ------------------------------------------------------------


def in_process(workspace: Any, parts_off: dict[str, bool]) -> Asker:
    def asker(question: str, budget: int) -> tuple[Any, float]:
        started = time.perf_counter()
        answer = ask_question(workspace, question, budget, parts_off)
        return answer, time.perf_counter() - started

    return asker


def forget_uses_in(db: Path) -> None:
    con = sqlite3.connect(db)
    con.execute("DELETE FROM accesses")
    con.commit()
    con.close()


def ask_cli(root: Path, db: Path, question: str, budget: int) -> Any:
    """The CLI's answer. The CLI records the uses of what it showed, as it does for a person;
    they are deleted again, or every later question (in process, over LSP, through the CLI)
    would start from this answer's uses: 2 of 3 LSP answers differed from the in-process ones
    for that reason before (the LSP server and the in-process engine record nothing but read
    the uses in the database)."""
    forget_uses_in(db)
    command = [*console_command(), "context", str(root), f"--query={question}", "--budget", str(budget), "--json",
               "--db", str(db), "--no-refresh"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    forget_uses_in(db)
    return json.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr[-300:]}


async def ask_lsp(root: Path, db: Path, questions: list[str], budgets: tuple[int, ...], state: Path) -> dict[str, Any]:
    """Every question at every budget over one `aurora-lsp` process on the index in `db`."""
    # history off: the in-process engine learns nothing from git, and the server mining a git
    # workspace's history while it answers would make the three ways differ
    spec = ServerSpec(name="aurora", command=console_command(), has_index=True,
                      options=lambda _: {"databasePath": str(db), "recordAccesses": False,
                                         "history": False})  # fmt: skip
    session = Session(spec, root, state, "question-quality", sample_interval=1.0)
    await session.start()
    plain_json_results(session)
    answers: dict[tuple[str, int], Any] = {}
    seconds: list[float] = []
    errors: list[str] = []
    try:
        await session.initialize()
        await wait_indexed(session)
        for question in questions:
            for budget in budgets:
                result, took, error = await ask_context(session, {"query": question, "tokenBudget": budget})
                answers[(question, budget)] = result
                seconds.append(took)
                if error:
                    errors.append(error)
    finally:
        await session.close()
    return {"answers": answers, "seconds": seconds, "errors": errors}


def lsp_answers(root: Path, db: Path, questions: list[str], work: Path) -> dict[str, Any]:
    state = Path(tempfile.mkdtemp(prefix="lsp-", dir=work))
    return asyncio.run(ask_lsp(root, db, questions, BUDGETS, state))


class Agreement:
    """Whether the LSP and CLI answers equal the in-process ones (ids and details, in order)."""

    def __init__(self) -> None:
        self.compared = {"lsp": 0, "cli": 0}
        self.identical = {"lsp": 0, "cli": 0}
        self.examples: list[dict[str, Any]] = []

    def check(self, way: str, question: str, budget: int, expected: Any, got: Any) -> None:
        self.compared[way] += 1
        if items_of(expected) == items_of(got):
            self.identical[way] += 1
        elif len(self.examples) < 5:
            mine, theirs = items_of(expected), items_of(got)
            pairs = enumerate(zip(mine, theirs, strict=False))
            first = next((k for k, pair in pairs if pair[0] != pair[1]), min(len(mine), len(theirs)))
            self.examples.append({"way": way, "budget": budget, "question": question[:80], "first_difference": first,
                                  "lengths": [len(mine), len(theirs)], "in_process": mine[first : first + 3],
                                  way: theirs[first : first + 3]})  # fmt: skip

    def report(self) -> dict[str, Any]:
        return {"compared": self.compared, "identical": self.identical, "examples": self.examples}


# -- one question set ----------------------------------------------------------------------


class SetRun:
    """Rows per configuration and budget for one question set, BM25 beside, latencies."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.rows: dict[str, dict[int, list[dict[str, Any]]]] = {c: {b: [] for b in BUDGETS} for c in configurations()}
        self.bm25: dict[int, list[dict[str, Any]]] = {b: [] for b in BUDGETS}
        self.seconds: dict[int, list[float]] = {b: [] for b in BUDGETS}
        self.lsp_seconds: list[float] = []
        self.errors: list[str] = []
        self.misses: list[dict[str, Any]] = []
        self.agreement = Agreement()

    def ask_all(self, workspace: Any, key: str, question: str, targets: list[str], files: list[str],
                universe: list[dict[str, Any]]) -> dict[int, Any]:  # fmt: skip
        """Every configuration at every budget in process, and BM25; the full answers returned."""
        full: dict[int, Any] = {}
        for name, parts_off in configurations().items():
            asker = in_process(workspace, parts_off)
            for budget in BUDGETS:
                answer, seconds = asker(question, budget)
                row = scored(self.runner, answer, targets, files)
                self.rows[name][budget].append(row)
                if name == FULL:
                    full[budget] = answer
                    self.seconds[budget].append(seconds)
                    if budget == BUDGETS[0]:
                        kept = ("recall_code", "file_hit", "acc@5", "acc@10", "target_ranks", "target_details")
                        self.misses.append({"question": key} | {k: row[k] for k in kept})
        ranked = self.runner.bm25_rank(universe, question)
        for budget in BUDGETS:
            chosen = [(c["id"], "full") for c in self.runner.pack(ranked, budget)]
            self.bm25[budget].append(self.runner.metrics(chosen, targets, files))
        return full

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bm25": {str(b): mean(self.bm25[b]) for b in BUDGETS}}
        for name, by_budget in self.rows.items():
            out[name] = {str(b): mean(rows) for b, rows in by_budget.items()}
        full = out[FULL]
        for name in self.rows:
            for b in BUDGETS:
                out[name][str(b)]["minus_full"] = {
                    k: round(out[name][str(b)][k] - full[str(b)][k], 4) for k in HEADLINE
                }
        return {
            "figures": out,
            "in_process_latency": {str(b): latency_summary(s) for b, s in self.seconds.items()},
            "lsp_latency": latency_summary(self.lsp_seconds),
            "errors": self.errors[:10],
            "agreement": self.agreement.report(),
            "per_question_at_2000": self.misses,
            "less_detail_with_more_budget": self.less_detail(),
        }

    def less_detail(self) -> list[dict[str, Any]]:
        """Targets the full configuration shows in less detail at the larger budget than at the smaller
        (a target inside a chunk shown in full counts as shown in full)."""
        order = {None: 0, "name": 1, "signature": 2, "full": 3}
        small, large = self.rows[FULL][BUDGETS[0]], self.rows[FULL][BUDGETS[-1]]
        found = []
        for miss, before, after in zip(self.misses, small, large, strict=True):
            for target, detail in before["target_details"].items():
                later = "full" if after["target_inside_full"][target] else after["target_details"][target]
                if order[later] < order["full" if before["target_inside_full"][target] else detail]:
                    found.append({"question": miss["question"], "target": target, "details": [detail,
                                  after["target_details"][target]]})  # fmt: skip
        return found


def sync(stage: Path, root: Path) -> None:
    """Make `root` hold `stage`'s files, writing only those whose content differs, as a checkout would."""
    wanted = {path.relative_to(stage) for path in stage.rglob("*") if path.is_file()}
    for path in root.rglob("*"):
        if path.is_file() and path.relative_to(root) not in wanted:
            path.unlink()
    for relative in wanted:
        source, target = stage / relative, root / relative
        if not target.exists() or not filecmp.cmp(source, target, shallow=False):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def settings(db: Path) -> Any:
    return Settings(database_path=str(db), record_accesses=False)


def run_issues(runner: Any, questions_dir: Path, mirrors: str, work: Path, limit: int | None) -> dict[str, Any]:
    """The SWE-bench Lite dev instances, repository by repository in date order."""
    instances = [json.loads(line) for line in open(questions_dir / "instances-dev.jsonl", encoding="utf-8")]
    by_repo: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for instance in instances:
        by_repo[instance["repo"]].append(instance)
    run = SetRun(runner)
    for repo, group in by_repo.items():
        group.sort(key=lambda i: (i["base_date"], i["instance_id"]))
        name = repo.replace("/", "+")
        root, db, stage = work / "ws" / name, work / "db" / f"{name}.db", work / "stage"
        root.mkdir(parents=True)
        db.parent.mkdir(parents=True, exist_ok=True)
        for instance in group[:limit]:
            mirror = os.path.join(mirrors, instance["mirror"])
            files = runner.materialize(mirror, instance["base_commit"], instance["pkg"], str(stage))
            sync(stage, root)
            visible = [(p, b) for p, b, s in files if runner.aurora_visible(p, s)]
            universe = [c for p, b in visible for c in runner.chunks_of(mirror, p, b)]
            question, targets = instance["problem_statement"], instance["targets"]
            target_files = instance["target_files"]
            with Workspace.open(root, settings(db)) as workspace:
                workspace.refresh()
                full = run.ask_all(workspace, instance["instance_id"], question, targets, target_files, universe)
            stop_forkserver()
            if QUICK:
                continue
            for budget in BUDGETS:
                run.agreement.check("cli", instance["instance_id"], budget, full[budget],
                                    ask_cli(root, db, question, budget))  # fmt: skip
            lsp = lsp_answers(root, db, [question], work)
            run.lsp_seconds += lsp["seconds"]
            run.errors += lsp["errors"]
            for budget in BUDGETS:
                got = lsp["answers"][(question, budget)]
                run.agreement.check("lsp", instance["instance_id"], budget, full[budget], got)
            recall = run.rows[FULL][BUDGETS[0]][-1]["recall_code"]
            print(f"[issues] {instance['instance_id']}: recall_code {recall:.2f}", file=sys.stderr, flush=True)
    return run.summary() | {"instances": sum(len(g[:limit]) for g in by_repo.values())}


def subject_questions(eval_dir: Path, limit: int | None) -> tuple[list[dict[str, Any]], int]:
    """The co-change records whose subject has at least MIN_SUBJECT_WORDS words, and how many were skipped."""
    records = [json.loads(line) for line in open(eval_dir / "cochange-dev.jsonl", encoding="utf-8") if line.strip()]
    kept = [r for r in records if len(r["subject"].split()) >= MIN_SUBJECT_WORDS]
    return kept[:limit], len(records) - len(kept)


def wheel_universe(runner: Any, root: Path) -> list[dict[str, Any]]:
    """Every chunk of the workspace as run.py's BM25 sees it (the same ids: shared/eval/chunks.py)."""
    universe: list[dict[str, Any]] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if not runner.aurora_visible(relative, path.stat().st_size):
            continue
        source = path.read_bytes().decode("utf-8", "replace")
        lines = source.splitlines(keepends=True)
        for chunk in runner.extract_chunks(source, relative):
            text = "".join(lines[chunk["start"] - 1 : chunk["end"]])
            counts = collections.Counter(runner.words(text))
            universe.append({"id": chunk["id"], "path": relative, "tokens": -(-len(text) // 4), "tf": counts,
                             "dl": sum(counts.values())})  # fmt: skip
    return universe


def run_subjects(runner: Any, eval_dir: Path, work: Path, limit: int | None) -> dict[str, Any]:
    """The pytest co-change subjects as questions, on the pytest 8.3.5 wheel."""
    records, skipped = subject_questions(eval_dir, limit)
    root, _ = wheel_workspace("pytest")
    root = root.resolve()
    db = work / "db" / "pytest-wheel.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    universe = wheel_universe(runner, root)
    run = SetRun(runner)
    full: dict[str, dict[int, Any]] = {}
    with Workspace.open(root, settings(db)) as workspace:
        workspace.refresh()
        for index, record in enumerate(records):
            files = sorted({t.split("::")[0] for t in record["chunks"]})
            full[record["subject"]] = run.ask_all(workspace, record["commit"][:12] + " " + record["subject"],
                                                  record["subject"], record["chunks"], files, universe)  # fmt: skip
            if (index + 1) % 100 == 0:
                print(f"[subjects] {index + 1}/{len(records)}", file=sys.stderr, flush=True)
    stop_forkserver()
    if QUICK:
        return run.summary() | {"questions": len(records)}
    subjects = list(dict.fromkeys(r["subject"] for r in records))
    lsp = lsp_answers(root, db, subjects, work)
    run.lsp_seconds, run.errors = lsp["seconds"], lsp["errors"]
    for subject in subjects:
        for budget in BUDGETS:
            run.agreement.check("lsp", subject, budget, full[subject][budget], lsp["answers"][(subject, budget)])
    for subject in subjects[:CLI_SUBJECTS]:
        run.agreement.check("cli", subject, BUDGETS[0], full[subject][BUDGETS[0]],
                            ask_cli(root, db, subject, BUDGETS[0]))  # fmt: skip
    return run.summary() | {"questions": len(records), "skipped_fewer_than_3_words": skipped,
                            "rule": f"subjects of fewer than {MIN_SUBJECT_WORDS} words skipped"}  # fmt: skip


# -- main ----------------------------------------------------------------------------------


def print_table(name: str, result: dict[str, Any]) -> None:
    print(f"\n{name}: {result.get('instances') or result.get('questions')} questions")
    print(f"{'':<42}{'budget':>7}" + "".join(f"{k:>13}" for k in HEADLINE))
    for config, by_budget in result["figures"].items():
        for budget, figures in by_budget.items():
            print(f"{config:<42}{budget:>7}" + "".join(f"{figures[k]:>13.3f}" for k in HEADLINE))
    agreement = result["agreement"]
    print(f"identical to in process: {agreement['identical']} of {agreement['compared']}")
    less = len(result["less_detail_with_more_budget"])
    print(f"targets in less detail at {BUDGETS[-1]} than at {BUDGETS[0]}: {less}")
    print("in-process latency: " + ", ".join(f"{b}: p50 {s['p50_ms']:.1f} ms p95 {s['p95_ms']:.1f} ms"
                                              for b, s in result["in_process_latency"].items()))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=SHARED / "eval-questions", help="the eval-questions folder")
    parser.add_argument("--eval-dir", type=Path, default=SHARED / "eval", help="the co-change folder")
    parser.add_argument("--mirrors", default=os.environ.get("MIRRORS"), help="folder of <owner>+<name>/repo mirrors")
    parser.add_argument("--sets", default="issues,subjects", help="issues, subjects or both")
    parser.add_argument("--limit", type=int, default=None, help="at most this many questions per repository / set")
    parser.add_argument("--quick", action="store_true", help="the full configuration in process only, no ablation")
    parser.add_argument("--also", action="append", default=[], help="with --quick: an ablation configuration too")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    global QUICK, QUICK_ALSO
    QUICK, QUICK_ALSO = args.quick, args.also
    if "issues" in args.sets and not args.mirrors:
        parser.error("set MIRRORS or --mirrors to the folder of git mirrors")
    warnings.simplefilter("ignore", LspSpecificationWarning)
    started = time.perf_counter()
    report = new_report(
        "question_quality",
        command="MIRRORS=/work/.mirror python benchmarks/question_quality.py",
        budgets=list(BUDGETS),
        notes=__doc__,
    )
    runner = load_runner(args.questions)
    work = Path(tempfile.mkdtemp(prefix="aurora-questions-"))
    try:
        if "issues" in args.sets:
            report["issues"] = run_issues(runner, args.questions, args.mirrors, work, args.limit)
        if "subjects" in args.sets:
            report["subjects"] = run_subjects(runner, args.eval_dir, work, args.limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_report(report, args.output, started)
    warn_if_code_changed(report)
    for name in ("issues", "subjects"):
        if name in report:
            print_table(name, report[name])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
