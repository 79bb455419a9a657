"""Context quality: co-change recall of `aurora/context` on pytest 8.3.5 (shared/eval).

    python benchmarks/context_quality.py                    # both budgets, ablation (about 1.5 minutes)
    python benchmarks/context_quality.py --limit-pairs 200 --no-ablation   # a quick look

The question (shared/eval/README.md): when a real pytest commit changed chunk A, does the
context Aurora gives for A hold the other chunks B the same commit changed? Pairs are every
chunk A of every record of cochange-dev.jsonl (3,406); targets T = the record's other
chunks; recall(A) = |answer ids ∩ T| / |T|, averaged over pairs.

The workspace is the pinned pytest 8.3.5 wheel (harness/workspaces.py: `pip download
--no-deps`, sha256-checked, unpacked under benchmarks/.cache/src). Aurora is asked through
its public interface: `aurora-lsp` over stdio, driven by pytest-lsp's client (harness/lsp.py's
Session), a fresh database through initializationOptions.databasePath; once `aurora/stats`
says the index is idle with chunks, each distinct A is asked once per budget:
`aurora/context` {textDocument: A's file, position: (def_line - 1, 0), tokenBudget: B}.

Two scorings of each answer:
  aurora tokens  the answer's item ids as returned (Aurora's own packing: full text,
                 signatures or names, counted with its own token function)
  full source    the answer's items walked in order, each charged ceil(chars / 4) of its
                 chunk's whole source (lines start..end of the file, as in the snapshot);
                 an item is kept if it still fits in B and skipped otherwise; the focus A
                 is charged like any item (it is never a target)
Both give the mean recall over all pairs, over the targets in A's file (same-file) and
over the targets in other files (cross-file) — each the mean over pairs with such targets —
and the target-level share (hit target pairs / target pairs).

Self-check of the scoring: the "same file, nearest first" baseline is rebuilt from the
snapshot alone (A's file's other chunks by |def_line - A's def_line|, packed whole with
the full-source rule) and printed beside baselines.json's figures.

Ablation (in process, since it needs parameters): WorkspaceService.ask(...) with the shipped
ActivationParameters and with each entry of aurora_lsp.context.activation.ABLATIONS turned
off, at 2,000 tokens; each configuration on its own copy of a freshly built index, so no
configuration sees another's access history.

Everything goes to benchmarks/results/context_quality.json with machine facts and versions.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_lsp.checks import LspSpecificationWarning

from harness.aurora import console_command, stop_forkserver
from harness.lsp import ServerSpec, Session, ask_context, plain_json_results, relative_path, wait_indexed
from harness.machine import machine_facts, versions
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import timestamp, warn_if_code_changed, write_report
from harness.stats import latency_summary
from harness.workspaces import WHEELS, wheel_workspace

WORKSPACE = "pytest"
RESULTS = RESULTS_DIR / "context_quality.json"
DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"
DEFAULT_BUDGETS = (2000, 8000)
ABLATION_BUDGET = 2000
CHARS_PER_TOKEN = 4
STABILITY_SAMPLE = 50  # focus chunks asked again at the end of the LSP session

# Figures quoted from shared/eval/README.md (not in baselines.json): recall restricted to
# targets in another file than A, dev split.
README_CROSS_FILE = {
    "2000": {"bm25": 0.146, "aider_repo_map": 0.086},
    "8000": {"bm25": 0.254, "aider_repo_map": 0.258},
}


# -- the evaluation data -------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    id: str
    path: str
    qualname: str
    start: int  # 1-based, first decorator line
    def_line: int  # 1-based
    end: int  # 1-based, inclusive


@dataclass(frozen=True)
class Pair:
    focus: str
    targets: tuple[str, ...]
    commit: str


@dataclass
class EvalData:
    chunks: dict[str, Chunk]
    records: list[dict[str, Any]]
    pairs: list[Pair]
    baselines: dict[str, Any]
    by_file: dict[str, list[Chunk]]


def load_eval(eval_dir: Path) -> EvalData:
    chunks: dict[str, Chunk] = {}
    with open(eval_dir / "snapshot-chunks.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                chunks[row["id"]] = Chunk(row["id"], row["path"], row["qualname"], row["start"], row["def_line"],
                                          row["end"])  # fmt: skip
    records: list[dict[str, Any]] = []
    with open(eval_dir / "cochange-dev.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                records.append(json.loads(line))
    pairs: list[Pair] = []
    for record in records:
        ids = record["chunks"]
        missing = [i for i in ids if i not in chunks]
        if missing:
            raise SystemExit(f"{record['commit']}: chunk ids not in the snapshot: {missing}")
        for focus in ids:
            pairs.append(Pair(focus, tuple(t for t in ids if t != focus), record["commit"]))
    baselines = json.loads((eval_dir / "baselines.json").read_text(encoding="utf-8"))
    by_file: dict[str, list[Chunk]] = collections.defaultdict(list)
    for chunk in chunks.values():
        by_file[chunk.path].append(chunk)
    return EvalData(chunks, records, pairs, baselines, dict(by_file))


def distinct_focuses(pairs: Iterable[Pair]) -> list[str]:
    return list(dict.fromkeys(p.focus for p in pairs))


class Sources:
    """Whole-chunk source sizes, from the unpacked wheel: ceil(chars / 4) of lines start..end."""

    def __init__(self, root: Path, chunks: dict[str, Chunk]) -> None:
        self.root = root
        self.chunks = chunks
        self._lines: dict[str, list[str]] = {}
        self._tokens: dict[str, int] = {}

    def lines(self, path: str) -> list[str]:
        if path not in self._lines:
            text = (self.root / path).read_bytes().decode("utf-8")
            self._lines[path] = text.splitlines(keepends=True)
        return self._lines[path]

    def span_tokens(self, path: str, first: int, last: int) -> int:
        """Tokens of lines first..last (1-based, inclusive), newlines included."""
        text = "".join(self.lines(path)[first - 1 : last])
        return -(-len(text) // CHARS_PER_TOKEN)

    def tokens(self, chunk_id: str, fallback: tuple[str, int, int] | None = None) -> int:
        """A chunk's full-source tokens; chunks the snapshot lacks use `fallback` (path, first, last)."""
        if chunk_id not in self._tokens:
            chunk = self.chunks.get(chunk_id)
            if chunk is not None:
                self._tokens[chunk_id] = self.span_tokens(chunk.path, chunk.start, chunk.end)
            elif fallback is not None:
                self._tokens[chunk_id] = self.span_tokens(*fallback)
            else:
                raise KeyError(chunk_id)
        return self._tokens[chunk_id]


def pack_whole(candidates: Sequence[str], budget: int, cost: Callable[[str], int]) -> list[str]:
    """Walk candidates in order; keep each whole chunk that still fits, skip the ones that do not."""
    kept: list[str] = []
    used = 0
    for chunk_id in candidates:
        tokens = cost(chunk_id)
        if used + tokens <= budget:
            kept.append(chunk_id)
            used += tokens
    return kept


# -- scoring -------------------------------------------------------------------------------


def score(pairs: Sequence[Pair], answers: dict[str, Iterable[str]], chunks: dict[str, Chunk]) -> dict[str, Any]:
    """Mean recall over pairs (all targets, same-file targets, cross-file targets) and target-level shares."""
    per_pair: dict[str, list[float]] = {"all": [], "same_file": [], "cross_file": []}
    hits = {"all": 0, "same_file": 0, "cross_file": 0}
    totals = {"all": 0, "same_file": 0, "cross_file": 0}
    for pair in pairs:
        got = set(answers[pair.focus])
        home = chunks[pair.focus].path
        subsets = {
            "all": list(pair.targets),
            "same_file": [t for t in pair.targets if chunks[t].path == home],
            "cross_file": [t for t in pair.targets if chunks[t].path != home],
        }
        for name, targets in subsets.items():
            if not targets:
                continue
            found = sum(1 for t in targets if t in got)
            per_pair[name].append(found / len(targets))
            hits[name] += found
            totals[name] += len(targets)
    result: dict[str, Any] = {"pairs": len(pairs)}
    for name in per_pair:
        values = per_pair[name]
        key = "recall" if name == "all" else f"recall_{name}"
        result[key] = statistics.fmean(values) if values else None
        result[f"pairs_{name}"] = len(values)
        result[f"target_pairs_{name}"] = totals[name]
        result[f"target_share_{name}"] = hits[name] / totals[name] if totals[name] else None
    return result


def same_file_nearest(data: EvalData, sources: Sources, focuses: Iterable[str], budget: int) -> dict[str, list[str]]:
    """The baseline: A's file's other chunks, nearest def line first, whole chunks packed best-first."""
    answers: dict[str, list[str]] = {}
    for focus in focuses:
        home = data.chunks[focus]
        ordered = sorted(
            (c for c in data.by_file[home.path] if c.id != focus),
            key=lambda c: (abs(c.def_line - home.def_line), c.start),
        )
        answers[focus] = pack_whole([c.id for c in ordered], budget, sources.tokens)
    return answers


# -- answers -------------------------------------------------------------------------------


@dataclass
class Answer:
    """What is kept of one aurora/context answer."""

    focus_asked: str
    budget: int
    ids: list[str]
    tokens: list[int]
    details: list[str]
    spans: list[tuple[str, int, int] | None]  # (path, first, last) 1-based from the item's range
    text_tokens: list[int]  # ceil(len(text) / 4) of each item's text
    used_tokens: Any
    token_budget: Any
    focus: Any
    seconds: float
    error: str | None = None


def relative(uri: str | None, root: Path) -> str | None:
    if not uri:
        return None
    return relative_path(uri, root)


def make_answer(focus: str, budget: int, result: Any, seconds: float, root: Path, error: str | None) -> Answer:
    if error is not None or not isinstance(result, dict):
        return Answer(focus, budget, [], [], [], [], [], None, None, None, seconds,
                      error or f"result is not an object: {type(result).__name__}")  # fmt: skip
    items = result.get("items") or []
    spans: list[tuple[str, int, int] | None] = []
    for item in items:
        path = relative(item.get("uri"), root)
        rng = item.get("range") or {}
        try:
            spans.append((path, rng["start"]["line"] + 1, rng["end"]["line"] + 1) if path else None)
        except (KeyError, TypeError):
            spans.append(None)
    return Answer(
        focus_asked=focus,
        budget=budget,
        ids=[str(item.get("id")) for item in items],
        tokens=[item.get("tokens") for item in items],
        details=[str(item.get("detail")) for item in items],
        spans=spans,
        text_tokens=[-(-len(item.get("text") or "") // CHARS_PER_TOKEN) for item in items],
        used_tokens=result.get("usedTokens"),
        token_budget=result.get("tokenBudget"),
        focus=result.get("focus"),
        seconds=seconds,
    )


def full_source_ids(answer: Answer, budget: int, sources: Sources, charge_focus: bool = True) -> list[str]:
    """The answer's ranking packed as whole chunks; without `charge_focus` the focus is left out
    (the baselines never spend budget on A itself)."""
    fallback = dict(zip(answer.ids, answer.spans, strict=True))
    ids = answer.ids if charge_focus else [i for i in answer.ids if i != answer.focus_asked]

    def cost(chunk_id: str) -> int:
        try:
            return sources.tokens(chunk_id, fallback.get(chunk_id))
        except (KeyError, OSError):
            return budget + 1  # unknown chunk, no range: cannot be charged, so never kept

    return pack_whole(ids, budget, cost)


# Violations of the aurora/context contract (the rest of what check_answers counts describes answers).
HARD_CHECKS = ("errors", "used_tokens_missing", "used_tokens_over_budget", "used_tokens_not_item_sum",
               "token_budget_not_requested", "item_tokens_over_budget", "item_tokens_not_int")  # fmt: skip


class AnswerChecks:
    """Counts of each kind of finding over the answers, with up to five examples of each."""

    def __init__(self, chunks: dict[str, Chunk]) -> None:
        self.chunks = chunks
        self.counts: collections.Counter[str] = collections.Counter()
        self.examples: dict[str, list[Any]] = collections.defaultdict(list)
        self.details: collections.Counter[str] = collections.Counter()

    def flag(self, kind: str, example: Any) -> None:
        self.counts[kind] += 1
        if len(self.examples[kind]) < 5:
            self.examples[kind].append(example)

    def check(self, answer: Answer) -> None:
        where = {"focus": answer.focus_asked, "budget": answer.budget}
        if answer.error is not None:
            self.flag("errors", {**where, "error": answer.error})
            return
        self._tokens(answer, where)
        self._ids(answer, where)
        self.details.update(answer.details)

    def _tokens(self, answer: Answer, where: dict[str, Any]) -> None:
        """usedTokens within the budget and the items' sum; each item's tokens ceil(len(text) / 4)."""
        item_sum = sum(t for t in answer.tokens if isinstance(t, int))
        if not isinstance(answer.used_tokens, int):
            self.flag("used_tokens_missing", where)
        elif answer.used_tokens > (answer.token_budget if isinstance(answer.token_budget, int) else answer.budget):
            self.flag("used_tokens_over_budget", {**where, "usedTokens": answer.used_tokens,
                                                  "tokenBudget": answer.token_budget})  # fmt: skip
        if isinstance(answer.used_tokens, int) and answer.used_tokens != item_sum:
            self.flag("used_tokens_not_item_sum", {**where, "usedTokens": answer.used_tokens, "sum": item_sum})
        if answer.token_budget != answer.budget:
            self.flag("token_budget_not_requested", {**where, "tokenBudget": answer.token_budget})
        if item_sum > answer.budget:
            self.flag("item_tokens_over_budget", {**where, "sum": item_sum})
        if any(not isinstance(t, int) for t in answer.tokens):
            self.flag("item_tokens_not_int", where)
        mismatched = [i for i, (t, c) in enumerate(zip(answer.tokens, answer.text_tokens, strict=True)) if t != c]
        if mismatched:
            first = mismatched[0]
            self.flag("item_tokens_not_ceil_text_over_4", {**where, "id": answer.ids[first],
                                                           "tokens": answer.tokens[first],
                                                           "ceil_text_over_4": answer.text_tokens[first]})  # fmt: skip

    def _ids(self, answer: Answer, where: dict[str, Any]) -> None:
        """Distinct ids known to the snapshot, the focus asked for, a non-empty answer."""
        if len(set(answer.ids)) != len(answer.ids):
            self.flag("duplicate_ids", where)
        if answer.focus != answer.focus_asked:
            self.flag("focus_differs", {**where, "focus": answer.focus})
        if answer.focus_asked in answer.ids:
            self.counts["focus_in_items"] += 1
        unknown = [i for i in answer.ids if i not in self.chunks]
        if unknown:
            self.flag("answers_with_ids_not_in_snapshot", {**where, "ids": unknown[:3]})
            self.counts["ids_not_in_snapshot"] += len(unknown)
        if not answer.ids:
            self.flag("empty_answers", where)


def check_answers(answers: Sequence[Answer], chunks: dict[str, Chunk]) -> dict[str, Any]:
    """Contract checks on every answer, and what the answers look like."""
    checks = AnswerChecks(chunks)
    for answer in answers:
        checks.check(answer)
    ok = [a for a in answers if a.error is None]
    return {
        "answers": len(answers),
        "contract_violations": sum(checks.counts[k] for k in HARD_CHECKS),
        "counts": dict(checks.counts),
        "examples": dict(checks.examples),
        "mean_items": statistics.fmean(len(a.ids) for a in ok) if ok else None,
        "mean_used_tokens": statistics.fmean(a.used_tokens for a in ok if isinstance(a.used_tokens, int))
        if any(isinstance(a.used_tokens, int) for a in ok)
        else None,
        "detail_counts": dict(checks.details),
        "latency": latency_summary([a.seconds for a in answers]) if answers else None,
    }


def hits_by_detail(pairs: Sequence[Pair], answers: dict[str, Answer]) -> dict[str, int]:
    """Target pairs hit in the answers as returned, by the detail the hit item was shown at."""
    counts: collections.Counter[str] = collections.Counter()
    for pair in pairs:
        answer = answers[pair.focus]
        shown = dict(zip(answer.ids, answer.details, strict=True))
        counts.update(shown[t] for t in pair.targets if t in shown)
    return dict(counts)


def evaluate(pairs: Sequence[Pair], answers: dict[str, Answer], budget: int, data: EvalData,
             sources: Sources) -> dict[str, Any]:  # fmt: skip
    as_returned = {focus: answer.ids for focus, answer in answers.items()}
    full = {focus: full_source_ids(answer, budget, sources) for focus, answer in answers.items()}
    without_focus = {focus: full_source_ids(answer, budget, sources, charge_focus=False)
                     for focus, answer in answers.items()}  # fmt: skip
    not_names = {focus: [i for i, d in zip(answer.ids, answer.details, strict=True) if d != "name"]
                 for focus, answer in answers.items()}  # fmt: skip
    return {
        "budget": budget,
        "aurora_tokens": score(pairs, as_returned, data.chunks),
        "full_source": score(pairs, full, data.chunks),
        "full_source_focus_not_charged": score(pairs, without_focus, data.chunks),
        # the answers as returned, counting only items shown in full or as a signature
        "aurora_tokens_without_name_items": score(pairs, not_names, data.chunks),
        "target_hits_by_detail": hits_by_detail(pairs, answers),
        "full_source_mean_items": statistics.fmean(len(v) for v in full.values()) if full else None,
        "checks": check_answers(list(answers.values()), data.chunks),
    }


# -- asking Aurora over LSP ----------------------------------------------------------------


def context_params(root: Path, chunk: Chunk, budget: int) -> dict[str, Any]:
    return {
        "textDocument": {"uri": (root / chunk.path).as_uri()},
        "position": {"line": chunk.def_line - 1, "character": 0},
        "tokenBudget": budget,
    }


def server_options(folder: Path, record_accesses: bool) -> dict[str, Any]:
    return {"databasePath": str(folder / "index.sqlite3"), "recordAccesses": record_accesses}


async def ask_every_focus(session: Session, root: Path, data: EvalData, focuses: list[str],
                          budgets: Sequence[int]) -> dict[int, dict[str, Answer]]:  # fmt: skip
    """Each focus chunk asked once per budget, in order."""
    answers: dict[int, dict[str, Answer]] = {b: {} for b in budgets}
    started = time.perf_counter()
    for index, focus in enumerate(focuses):
        for budget in budgets:
            result, seconds, error = await ask_context(session, context_params(root, data.chunks[focus], budget))
            answers[budget][focus] = make_answer(focus, budget, result, seconds, root, error)
        if (index + 1) % 200 == 0:
            print(f"[lsp] {index + 1}/{len(focuses)} ({time.perf_counter() - started:.0f} s)", file=sys.stderr,
                  flush=True)  # fmt: skip
    return answers


async def stability(session: Session, root: Path, data: EvalData, focuses: list[str], budget: int,
                    first: dict[str, Answer]) -> dict[str, Any]:  # fmt: skip
    """The first focus chunks asked again, after everything else was asked: did the answers move?"""
    changed = []
    for focus in focuses[:STABILITY_SAMPLE]:
        result, seconds, error = await ask_context(session, context_params(root, data.chunks[focus], budget))
        again = make_answer(focus, budget, result, seconds, root, error)
        if again.ids != first[focus].ids:
            changed.append({"focus": focus, "first": first[focus].ids[:8], "again": again.ids[:8]})
    return {"budget": budget, "asked_again": min(STABILITY_SAMPLE, len(focuses)), "changed": len(changed),
            "examples": changed[:5]}  # fmt: skip


async def lsp_answers(root: Path, data: EvalData, focuses: list[str], budgets: Sequence[int], state: Path,
                      record_accesses: bool) -> dict[str, Any]:  # fmt: skip
    spec = ServerSpec(
        name="aurora",
        command=console_command(),
        has_index=True,
        options=lambda folder: server_options(folder, record_accesses),
    )
    session = Session(spec, root, state, "context-quality", sample_interval=1.0)
    await session.start()
    plain_json_results(session)
    answers: dict[int, dict[str, Answer]] = {b: {} for b in budgets}
    facts: dict[str, Any] = {"server_command": spec.command, "initialization_options": spec.options(state)}
    try:
        await session.initialize()
        facts["stats_when_ready"] = await wait_indexed(session)
        facts["ready_seconds"] = session.since_initialize()
        print(f"[lsp] indexed {facts['stats_when_ready']['chunks']} chunks in {facts['ready_seconds']:.1f} s; "
              f"asking {len(focuses)} focus chunks × {len(budgets)} budgets", file=sys.stderr, flush=True)  # fmt: skip
        started = time.perf_counter()
        answers = await ask_every_focus(session, root, data, focuses, budgets)
        facts["asking_seconds"] = time.perf_counter() - started
        facts["stability"] = await stability(session, root, data, focuses, budgets[0], answers[budgets[0]])
        facts["stats_at_end"] = await session.stats()
    finally:
        facts["session"] = await session.close()
    return {"answers": answers, "facts": facts}


# -- in process: the ablation --------------------------------------------------------------


def _db_files(db: Path) -> list[Path]:
    return [Path(str(db) + suffix) for suffix in ("", "-wal", "-shm")]


def _settings(db: Path, record_accesses: bool) -> Any:
    import attrs

    from harness.aurora import Settings

    if "record_accesses" in attrs.fields_dict(Settings):
        return Settings(database_path=str(db), record_accesses=record_accesses)
    return Settings(database_path=str(db))


def pristine_index(root: Path, pristine: Path, record_accesses: bool) -> tuple[float, int]:
    """(seconds, chunks) of a fresh index of the workspace built in process into `pristine`."""
    from harness.aurora import Workspace

    started = time.perf_counter()
    with Workspace.open(root, _settings(pristine, record_accesses)) as workspace:
        report = workspace.refresh()
    index_seconds = time.perf_counter() - started
    print(f"[ablation] indexed {report.chunks} chunks in process in {index_seconds:.1f} s", file=sys.stderr)
    stop_forkserver()
    return index_seconds, report.chunks


def in_process_answers(root: Path, data: EvalData, focuses: list[str], db: Path, parameters: Any, budget: int,
                       record_accesses: bool) -> dict[str, Answer]:  # fmt: skip
    """WorkspaceService.ask for every focus chunk with these activation parameters, on the index in `db`."""
    from harness.aurora import Workspace, ask

    answers: dict[str, Answer] = {}
    with Workspace.open(root, _settings(db, record_accesses)) as workspace:
        workspace.refresh()
        for focus in focuses:
            chunk = data.chunks[focus]
            asked = time.perf_counter()
            error = None
            result: Any = None
            try:
                result = ask(workspace, chunk.path, chunk.def_line - 1, budget, parameters)
            except Exception as failure:  # counted, the run goes on
                error = f"{type(failure).__name__}: {failure}"
            answers[focus] = make_answer(focus, budget, result, time.perf_counter() - asked, root, error)
    stop_forkserver()
    return answers


def add_differences(results: dict[str, Any]) -> None:
    """Each configuration's recall minus the full configuration's, per scoring."""
    full = results["full"]
    for evaluated in results.values():
        for scoring in ("aurora_tokens", "full_source"):
            figures = evaluated[scoring]
            for key in ("recall", "recall_same_file", "recall_cross_file"):
                if figures.get(key) is not None and full[scoring].get(key) is not None:
                    figures[f"{key}_minus_full"] = figures[key] - full[scoring][key]


def ablation(root: Path, data: EvalData, pairs: Sequence[Pair], focuses: list[str], sources: Sources,
             folder: Path, budget: int, record_accesses: bool) -> dict[str, Any]:  # fmt: skip
    """Full configuration and each component off, in process, each on its own copy of one fresh index."""
    import attrs

    from harness.aurora import ABLATIONS, ActivationParameters

    pristine = folder / "pristine.sqlite3"
    index_seconds, indexed_chunks = pristine_index(root, pristine, record_accesses)
    shipped = ActivationParameters()
    configurations: dict[str, Any] = {"full": shipped}
    for name, changes in ABLATIONS.items():
        configurations[name] = attrs.evolve(shipped, **changes)
    results: dict[str, Any] = {}
    full_answers: dict[str, Answer] = {}
    for index, (name, parameters) in enumerate(configurations.items()):
        db = folder / f"config-{index}.sqlite3"
        for source, target in zip(_db_files(pristine), _db_files(db), strict=True):
            if source.exists():
                shutil.copyfile(source, target)
        begun = time.perf_counter()
        answers = in_process_answers(root, data, focuses, db, parameters, budget, record_accesses)
        for path in _db_files(db):
            path.unlink(missing_ok=True)
        evaluated = evaluate(pairs, answers, budget, data, sources)
        evaluated["seconds"] = time.perf_counter() - begun
        evaluated["parameters"] = attrs.asdict(parameters) if attrs.has(type(parameters)) else repr(parameters)
        evaluated["changes"] = ABLATIONS.get(name, {}) if name != "full" else {}
        results[name] = evaluated
        if name == "full":
            full_answers = answers
        print(f"[ablation] {name}: recall {evaluated['aurora_tokens']['recall']:.3f} "
              f"({evaluated['seconds']:.1f} s)", file=sys.stderr, flush=True)  # fmt: skip
    add_differences(results)
    return {"budget": budget, "index_seconds": index_seconds, "indexed_chunks": indexed_chunks,
            "components": list(ABLATIONS), "configurations": results, "_full_answers": full_answers}  # fmt: skip


# -- the table -----------------------------------------------------------------------------


def _f(value: Any, width: int = 7) -> str:
    return f"{value:>{width}.3f}" if isinstance(value, (int, float)) else f"{'—':>{width}}"


def _row(label: str, s: dict[str, Any] | None) -> None:
    if s is None:
        return
    shares = "/".join(_f(s.get(f"target_share_{k}"), 5).strip() for k in ("all", "same_file", "cross_file"))
    print(f"{label:<34}{_f(s.get('recall'))}{_f(s.get('recall_same_file'))}{_f(s.get('recall_cross_file'))}"
          f"   {shares:>27}")  # fmt: skip


def _print_baselines(base: dict[str, Any], cross: dict[str, Any]) -> None:
    for label, key, cross_key in (("same file, nearest (baselines)", "same_file", None),
                                  ("bm25 (baselines)", "bm25", "bm25"),
                                  ("aider repo map (README)", None, "aider_repo_map"),
                                  ("random (baselines)", "random_mean5seeds", None),
                                  ("best possible (baselines)", "oracle_upper_bound", None)):  # fmt: skip
        print(
            f"{label:<34}{_f(base.get(key) if key else None)}{_f(None)}"
            f"{_f(cross.get(cross_key) if cross_key else (0.0 if key == 'same_file' else None))}"
        )


def _print_checks(figures: dict[str, Any]) -> None:
    checks = figures.get("checks")
    if figures.get("target_hits_by_detail"):
        print(f"target pairs hit, by the detail shown: {figures['target_hits_by_detail']}")
    if not checks:
        return
    print(f"answers: {checks['answers']}, mean items {_f(checks['mean_items'], 0).strip()} "
          f"(full-source kept {_f(figures.get('full_source_mean_items'), 0).strip()}), mean usedTokens "
          f"{_f(checks['mean_used_tokens'], 0).strip()}, details {checks['detail_counts']}, "
          f"latency p50 {_f(checks['latency']['p50_ms'], 0).strip()} ms "
          f"p95 {_f(checks['latency']['p95_ms'], 0).strip()} ms")  # fmt: skip
    if checks["contract_violations"]:
        print(f"!!! CONTRACT VIOLATIONS: {checks['contract_violations']} — {checks['counts']}")
        for kind, found in checks["examples"].items():
            print(f"!!!   {kind}: {found[:2]}")
    else:
        print(f"contract checks: no violations; other counts {checks['counts']}")


def _print_ablation(ab: dict[str, Any] | None) -> None:
    if ab and "configurations" in ab:
        print(f"\nablation at {ab['budget']} tokens (in process)")
        print(f"{'component off':<28}{'aurora tok':>11}{'Δ':>8}{'cross':>8}{'Δ':>8}{'full src':>10}{'Δ':>8}")
        for name, figures in ab["configurations"].items():
            a, f = figures["aurora_tokens"], figures["full_source"]
            print(f"{name:<28}{_f(a['recall'], 11)}{_f(a.get('recall_minus_full'), 8)}"
                  f"{_f(a['recall_cross_file'], 8)}{_f(a.get('recall_cross_file_minus_full'), 8)}"
                  f"{_f(f['recall'], 10)}{_f(f.get('recall_minus_full'), 8)}")  # fmt: skip
        agreement = ab.get("lsp_agreement")
        if agreement:
            print(f"in-process full vs LSP at {ab['budget']}: identical answers {agreement['identical']}/"
                  f"{agreement['compared']}; recall {_f(agreement['in_process_recall'], 0).strip()} vs "
                  f"{_f(agreement['lsp_recall'], 0).strip()}")  # fmt: skip
    elif ab:
        print(f"\nablation: {ab}")


def print_tables(report: dict[str, Any]) -> None:
    head = f"{'':<34}{'all':>7}{'same':>7}{'cross':>7}   {'target share all/same/cross':>27}"
    for budget_text, figures in report["budgets"].items():
        pairs = figures.get("same_file_nearest_subset", {}).get("pairs")
        print(f"\nco-change recall, budget {budget_text} tokens, {pairs} pairs")
        print(head)
        _row("aurora (aurora tokens)", figures.get("aurora_tokens"))
        _row("aurora (full source)", figures.get("full_source"))
        _row("aurora (full source, focus free)", figures.get("full_source_focus_not_charged"))
        _row("aurora, name-only items dropped", figures.get("aurora_tokens_without_name_items"))
        _row("same file, nearest (ours)", figures.get("same_file_nearest_subset"))
        _print_baselines(report["baselines"].get(budget_text, {}), README_CROSS_FILE.get(budget_text, {}))
        _print_checks(figures)
    self_check = report["self_check"]
    print("\nself-check, same file nearest first on all pairs: "
          + ", ".join(f"{b}: ours {v['ours']:.4f} vs baselines.json {v['baselines']:.4f} ({v['verdict']})"
                      for b, v in self_check.items()))  # fmt: skip
    _print_ablation(report.get("ablation"))


# -- main ----------------------------------------------------------------------------------

NOTES = [
    "recall = mean over pairs of |answer ids ∩ targets| / |targets|; same_file / cross_file: the same over the "
    "targets in / outside A's file, mean over pairs that have such targets; target_share = hit target pairs / "
    "target pairs.",
    "aurora_tokens: the answer's ids as returned. full_source: the answer's items in order, each charged "
    "ceil(chars/4) of its whole source (snapshot lines start..end with newlines; items the snapshot lacks: "
    "their LSP range), kept if it still fits in the budget, skipped otherwise; the focus is charged too.",
    "same_file_nearest: A's file's other chunks ordered by |def_line - A.def_line| (ties: start line), packed "
    "whole with the full-source rule; self_check compares it on all pairs with baselines.json.",
    "Cross-file BM25 and aider figures are quoted from shared/eval/README.md, not computed here.",
    "Latencies are client-side wall times of aurora/context over stdio (pytest-lsp client; results of the "
    "custom requests taken as plain JSON, see context_speed.py).",
    "recordAccesses is false unless --record-accesses: no answer leaves history behind, so every answer sees "
    "the fresh index the evaluation assumes and the order of requests does not matter.",
    "stability: the first focus chunks asked again at the end of the LSP session; changed answers would mean "
    "that earlier requests (access history) moved the ranking.",
]


@dataclass
class Evaluation:
    """What every part of one run works on: the workspace, the evaluation data and the pairs used."""

    root: Path
    wheel: Path
    data: EvalData
    pairs: list[Pair]
    focuses: list[str]
    sources: Sources


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", type=int, nargs="+", default=list(DEFAULT_BUDGETS), help="token budgets")
    parser.add_argument("--limit-pairs", type=int, default=None, metavar="N", help="only the first N pairs")
    parser.add_argument("--no-ablation", action="store_true", help="skip the in-process ablation")
    parser.add_argument("--no-lsp", action="store_true", help="skip the LSP run (self-check and ablation only)")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR, help="the shared/eval folder")
    parser.add_argument("--record-accesses", action="store_true",
                        help="let answers record accesses, as shipped (default: recordAccesses false, a fresh index "
                        "for every answer)")  # fmt: skip
    parser.add_argument("--dump-answers", type=Path, default=None, help="also write every LSP answer here (JSON)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    return parser.parse_args(argv)


def prepare(args: argparse.Namespace) -> Evaluation:
    data = load_eval(args.eval_dir)
    pairs = data.pairs[: args.limit_pairs] if args.limit_pairs else data.pairs
    focuses = distinct_focuses(pairs)
    root, wheel = wheel_workspace(WORKSPACE)
    root = root.resolve()
    return Evaluation(root, wheel, data, pairs, focuses, Sources(root, data.chunks))


def self_check(run: Evaluation, budgets: list[int], dev: dict[str, Any]) -> dict[str, Any]:
    """The same-file baseline on all pairs, against baselines.json."""
    checked: dict[str, Any] = {}
    all_focuses = distinct_focuses(run.data.pairs)
    for budget in budgets:
        answers = same_file_nearest(run.data, run.sources, all_focuses, budget)
        ours = score(run.data.pairs, answers, run.data.chunks)["recall"]
        theirs = dev.get(str(budget), {}).get("same_file")
        if theirs is not None:
            verdict = "matches" if abs(ours - theirs) < 0.002 else "DIFFERS"
            checked[str(budget)] = {"ours": ours, "baselines": theirs, "verdict": verdict}
    return checked


def new_report(args: argparse.Namespace, run: Evaluation, dev: dict[str, Any], checked: dict[str, Any],
               versions_at_start: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return {
        "benchmark": "context_quality",
        "timestamp": timestamp(),
        "workspace": {"root": str(run.root), "wheel": run.wheel.name, "wheel_sha256": WHEELS[WORKSPACE]["sha256"]},
        "eval": {
            "dir": str(args.eval_dir),
            "records": len(run.data.records),
            "pairs": len(run.data.pairs),
            "pairs_used": len(run.pairs),
            "distinct_focus": len(run.focuses),
            "snapshot_chunks": len(run.data.chunks),
            "share_targets_in_same_file": dev.get("share_targets_in_same_file"),
        },  # fmt: skip
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine_facts(),
        "versions": versions_at_start,
        "baselines": {k: v for k, v in dev.items() if isinstance(v, dict)},
        "baselines_cross_file_from_readme": README_CROSS_FILE,
        "self_check": checked,
        "budgets": {},
    }


def run_lsp(report: dict[str, Any], args: argparse.Namespace, run: Evaluation, state: Path) -> dict[str, Answer]:
    """The LSP answers, scored per budget into `report`; returns the answers at ABLATION_BUDGET."""
    outcome = asyncio.run(lsp_answers(run.root, run.data, run.focuses, args.budgets, state, args.record_accesses))
    report["lsp"] = outcome["facts"]
    for budget in args.budgets:
        report["budgets"][str(budget)].update(evaluate(run.pairs, outcome["answers"][budget], budget, run.data,
                                                       run.sources))  # fmt: skip
    if args.dump_answers:
        dump = {str(b): {f: vars(a) for f, a in answers.items()} for b, answers in outcome["answers"].items()}
        args.dump_answers.parent.mkdir(parents=True, exist_ok=True)
        args.dump_answers.write_text(json.dumps(dump) + "\n", encoding="utf-8")
    lsp_full: dict[str, Answer] = outcome["answers"].get(ABLATION_BUDGET, {})
    return lsp_full


def run_ablation(report: dict[str, Any], args: argparse.Namespace, run: Evaluation, folder: Path,
                 lsp_full: dict[str, Answer]) -> None:  # fmt: skip
    """The ablation into `report`, with how its full configuration agrees with the LSP answers."""
    try:
        folder.mkdir(parents=True)
        result = ablation(run.root, run.data, run.pairs, run.focuses, run.sources, folder, ABLATION_BUDGET,
                          args.record_accesses)  # fmt: skip
    except ImportError as error:
        result = {"skipped": f"the ablation API is not there: {error}"}
    full_answers = result.pop("_full_answers", None)
    focuses = run.focuses
    if full_answers and lsp_full:
        same = sum(1 for f in focuses if full_answers[f].ids == lsp_full[f].ids)
        result["lsp_agreement"] = {
            "compared": len(focuses),
            "identical": same,
            "in_process_recall": result["configurations"]["full"]["aurora_tokens"]["recall"],
            "lsp_recall": report["budgets"][str(ABLATION_BUDGET)]["aurora_tokens"]["recall"],
            "examples": [{"focus": f, "lsp": lsp_full[f].ids[:8], "in_process": full_answers[f].ids[:8]}
                         for f in focuses if full_answers[f].ids != lsp_full[f].ids][:5],
        }  # fmt: skip
    report["ablation"] = result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.simplefilter("ignore", LspSpecificationWarning)
    wall_started = time.perf_counter()
    run = prepare(args)
    versions_at_start = versions(("lsprotocol", "pytest-lsp", "attrs"), source_sha256=True)
    print(f"[eval] {len(run.data.records)} records, {len(run.data.pairs)} pairs ({len(run.pairs)} used), "
          f"{len(run.focuses)} distinct focus chunks, {len(run.data.chunks)} snapshot chunks; workspace {run.root}",
          file=sys.stderr)  # fmt: skip
    dev = run.data.baselines.get("dev", run.data.baselines)
    report = new_report(args, run, dev, self_check(run, args.budgets, dev), versions_at_start)
    for budget in args.budgets:
        subset = score(run.pairs, same_file_nearest(run.data, run.sources, run.focuses, budget), run.data.chunks)
        report["budgets"][str(budget)] = {"same_file_nearest_subset": subset}
    state = Path(tempfile.mkdtemp(prefix="aurora-context-quality-"))
    try:
        lsp_full = {} if args.no_lsp else run_lsp(report, args, run, state / "lsp")
        if not args.no_ablation:
            run_ablation(report, args, run, state / "ablation", lsp_full)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    report["notes"] = NOTES
    write_report(report, args.output, wall_started)
    print_tables(report)
    stability = report.get("lsp", {}).get("stability")
    if stability:
        print(f"stability: {stability['changed']}/{stability['asked_again']} answers changed when asked again")
    warn_if_code_changed(report)
    print(f"\nwall time {report['wall_seconds']:.0f} s; written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
