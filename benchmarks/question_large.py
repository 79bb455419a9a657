"""Question mode on a large project: SQLAlchemy's commit subjects and messages as questions.

Issue 19's dev questions come from three small projects (pytest, requests, flask, about
2,000 chunks each) and its held-out check is "a larger project". This set is a large
project that no tuning looked at: SQLAlchemy's `lib/sqlalchemy` (255 files) at a pinned
commit of its main branch, and as questions the subject lines of the commits before it
that changed 1 to 10 of its functions, methods or classes, those chunks the targets — the
shape of the co-change subjects set of `question_quality.py`, on a project six times
larger. Built from the git mirror the `fetch` tool gives (`sqlalchemy+sqlalchemy/repo`
under MIRRORS), with the shared eval's own chunk rules (`../shared/eval-questions`):

- the workspace is `lib/sqlalchemy` at SNAPSHOT (test files left out by the shared rules);
- a commit (newest first, no merges, touching at most 30 workspace files) counts when its
  changed lines (new side of `git log -p -U0`) fall in 1 to 10 chunks of the files as the
  commit left them that still exist in the snapshot, and its subject has 3 or more words;
- the first QUESTIONS such commits are asked, in process, at 2,000 and 8,000 tokens, with
  BM25 over whole chunks in the same run (run.py's), scored by run.py's metrics: as two
  sets, "subjects" (the subject line) and "messages" (the whole message without its
  trailers, `Fixes:`, `Change-Id:` …, for the commits whose message has MIN_BODY_WORDS words
  beyond the subject). SQLAlchemy's messages are its changelog's prose, written like an
  issue — "Fixed issue where :meth:`.Session.merge` …" — though by the one who fixed it, so
  they name the solution's code more often than a report does.

    MIRRORS=/work/.mirror python benchmarks/question_large.py      # about 5 minutes

Results, with machine and versions: benchmarks/results/question_large.json. Not tuned on:
figures from it are a check of what generalises, reported beside the dev sets.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import question_quality as qq
from harness.aurora import Workspace, stop_forkserver
from harness.paths import CACHE
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import new_report, warn_if_code_changed, write_report

MIRROR = "sqlalchemy+sqlalchemy/repo"
SNAPSHOT = "f35da7e2b9349a08b8de1f6bd3b07c8bf8616790"  # main, 2026-08-21
PACKAGE = ["lib/sqlalchemy"]
QUESTIONS = 300
MAX_FILES = 30
MAX_TARGETS = 10
MIN_BODY_WORDS = 20
SETS = ("subjects", "messages")
_TRAILER = re.compile(r"^(?:Fixes|Closes|References|Change-Id|Signed-off-by|Co-authored-by|Reviewed-by)\s*:", re.I)
RESULTS = RESULTS_DIR / "question_large.json"
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class Blobs:
    """Files as a commit left them (`<commit>:<path>`), through one `git cat-file --batch`."""

    def __init__(self, mirror: str) -> None:
        self.process = subprocess.Popen(["git", "--git-dir", mirror, "cat-file", "--batch"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip

    def read(self, commit: str, path: str) -> str | None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{commit}:{path}\n".encode())
        self.process.stdin.flush()
        header = self.process.stdout.readline().split()
        if len(header) != 3:
            return None
        data = self.process.stdout.read(int(header[2]))
        self.process.stdout.read(1)
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


def commits(mirror: str) -> Iterator[tuple[str, str, dict[str, list[tuple[int, int]]]]]:
    """(sha, subject, {workspace path: new-side hunks (first line, count)}), newest first."""
    command = ["git", "--git-dir", mirror, "log", "--no-merges", "-p", "-U0", "--no-color", "--no-ext-diff",
               "--no-textconv", "--no-renames", "--format=%x00%H%x09%s", SNAPSHOT, "--", *PACKAGE]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    sha, subject, files, current = "", "", {}, None  # type: ignore[var-annotated]
    for raw in process.stdout:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if line.startswith("\x00"):
            if sha:
                yield sha, subject, files
            sha, _, subject = line[1:].partition("\t")
            files, current = {}, None
        elif line.startswith("+++ "):
            current = files.setdefault(line[6:], []) if line.startswith("+++ b/") else None
        elif line.startswith("@@") and current is not None:
            match = _HUNK.match(line)
            if match:
                current.append((int(match.group(1)), int(match.group(2)) if match.group(2) is not None else 1))
    if sha:
        yield sha, subject, files
    process.wait()


def messages(mirror: str) -> dict[str, str]:
    """Each commit's message without its trailers, by sha."""
    command = ["git", "--git-dir", mirror, "log", "--no-merges", "--format=%H%x00%B%x1e", SNAPSHOT, "--", *PACKAGE]
    out = subprocess.run(command, capture_output=True, check=True).stdout.decode("utf-8", "replace")
    found: dict[str, str] = {}
    for entry in out.split("\x1e"):
        sha, _, message = entry.strip("\n").partition("\x00")
        if sha:
            found[sha] = "\n".join(line for line in message.splitlines() if not _TRAILER.match(line.strip())).strip()
    return found


def changed_chunks(shared: Any, source: str, path: str, hunks: list[tuple[int, int]]) -> set[str]:
    """The innermost chunks holding the changed lines; a deletion (count 0) counts for the
    chunk that holds the lines on both sides of it."""
    try:
        chunks = shared.extract_chunks(source, path)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    found: set[str] = set()
    for first, count in hunks:
        for line in range(first, first + count) if count else (first,):
            chunk = shared.innermost(chunks, line)
            if chunk is not None and (count or chunk["end"] > first):
                found.add(chunk["id"])
    return found


def build(shared: Any, mirror: str, known: set[str], limit: int) -> list[dict[str, Any]]:
    """The questions: each counted commit's subject and the snapshot's chunks it changed."""
    records: list[dict[str, Any]] = []
    texts = messages(mirror)
    blobs = Blobs(mirror)
    try:
        for sha, subject, files in commits(mirror):
            paths = [p for p in files if shared.workspace_file(p, PACKAGE)]
            if not paths or len(paths) > MAX_FILES or len(subject.split()) < qq.MIN_SUBJECT_WORDS:
                continue
            targets: set[str] = set()
            for path in paths:
                source = blobs.read(sha, path)
                if source is not None:
                    targets |= changed_chunks(shared, source, path, files[path])
            targets &= known
            if 1 <= len(targets) <= MAX_TARGETS:
                message = texts.get(sha, subject)
                records.append({"commit": sha, "subject": subject, "message": message, "chunks": sorted(targets)})
                if len(records) >= limit:
                    break
    finally:
        blobs.close()
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", default=os.environ.get("MIRRORS"), help="folder of <owner>+<name>/repo mirrors")
    parser.add_argument("--questions", type=Path, default=qq.SHARED / "eval-questions", help="eval-questions folder")
    parser.add_argument("--limit", type=int, default=QUESTIONS, help="questions to ask")
    parser.add_argument("--sets", default=",".join(SETS), help="subjects, messages or both")
    parser.add_argument("--ablations", action="store_true", help="each part of question mode off in turn, too")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not args.mirrors:
        parser.error("set MIRRORS or --mirrors to the folder of git mirrors (the fetch tool's /work/.mirror)")
    mirror = os.path.join(args.mirrors, MIRROR)
    qq.QUICK = not args.ablations
    started = time.perf_counter()
    runner = qq.load_runner(args.questions)
    shared = importlib.import_module("common")  # the eval's chunk rules, beside run.py
    root = CACHE / f"sqlalchemy-{SNAPSHOT[:12]}"
    if not (root / PACKAGE[0]).is_dir():
        stage = Path(tempfile.mkdtemp(prefix="stage-", dir=CACHE))
        runner.materialize(mirror, SNAPSHOT, PACKAGE, str(stage))
        shutil.rmtree(root, ignore_errors=True)
        stage.rename(root)
    universe = qq.wheel_universe(runner, root)
    records = build(shared, mirror, {c["id"] for c in universe}, args.limit)
    print(f"{len(records)} questions over {len(universe)} chunks", file=sys.stderr, flush=True)
    asked = {
        "subjects": [(r, r["subject"]) for r in records],
        "messages": [(r, r["message"]) for r in records
                     if len(r["message"].split()) - len(r["subject"].split()) >= MIN_BODY_WORDS],
    }  # fmt: skip
    runs = {name: qq.SetRun(runner) for name in args.sets.split(",")}
    work = Path(tempfile.mkdtemp(prefix="aurora-large-"))
    try:
        with Workspace.open(root, qq.settings(work / "large.db")) as workspace:
            workspace.refresh()
            for name, run in runs.items():
                for record, question in asked[name]:
                    files = sorted({t.split("::")[0] for t in record["chunks"]})
                    run.ask_all(workspace, record["commit"][:12] + " " + record["subject"], question,
                                record["chunks"], files, universe)  # fmt: skip
        stop_forkserver()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = new_report(
        "question_large",
        command="MIRRORS=/work/.mirror python benchmarks/question_large.py",
        snapshot={"mirror": MIRROR, "commit": SNAPSHOT, "package": PACKAGE, "chunks": len(universe)},
        budgets=list(qq.BUDGETS),
        notes=__doc__,
        **{name: run.summary() | {"questions": len(asked[name])} for name, run in runs.items()},
        records=records,
    )
    write_report(report, args.output, started)
    warn_if_code_changed(report)
    for name in runs:
        qq.print_table(f"sqlalchemy {name}", report[name])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
