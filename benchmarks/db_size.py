"""Database size (issue 18: at most 2× the source): Aurora's database, table by table, against the source.

For each workspace (the Django 5.2.19 and sympy 1.14.0 wheels unless --workspace says),
a child process indexes it cold into a fresh database as index_bench.py does
(`Workspace.open` + `refresh()`) and reports its CPU seconds, its parsing workers' included.
Then, from here: the database file's bytes (closed, so no WAL) against the source's bytes
(the sum of the sizes of its .py files), SQLite's `dbstat` bytes for each table and index,
and the same database vacuumed.

`--steps` also measures what each step of schema 8 saves, on the same rows: the index is
read back through the store and written into scratch databases as each step left it, from
schema 7's layout (ids as text in every table and index, texts whole, full-text tables
keeping a copy of their columns), one step at a time; the last step, integer keys, is
Aurora's own database vacuumed. Every scratch database is vacuumed, so the steps compare
like with like.

    python benchmarks/db_size.py                      # Django and sympy, with --steps
    python benchmarks/db_size.py --workspace django --no-steps
    python benchmarks/db_size.py --baseline 3c8f4b6     # also index with schema 7's Aurora, taking turns

The baseline's parsing and resolution are its own too: for the cost of the store alone,
pass a folder holding a copy of this checkout's server/ with store/ as the baseline had it.

Results: benchmarks/results/db_size.json (with machine facts, versions and load average).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from harness.machine import loadavg_1min, machine_facts, versions
from harness.paths import BENCHMARKS
from harness.report import timestamp, warn_if_code_changed, write_report
from harness.stats import nearest_rank
from harness.workspaces import wheel_workspace

OUTPUT = BENCHMARKS / "results" / "db_size.json"
TARGET_RATIO = 2.0
MB = 1_000_000


# -- the cold index, in a child process ------------------------------------------------------


def child_index(root: Path, db: str, out: str) -> None:
    from harness.aurora import Settings, Workspace, stop_forkserver

    started, cpu = time.perf_counter(), time.process_time()
    workspace = Workspace.open(root, Settings(database_path=db))
    report = workspace.refresh()
    workspace.close()
    wall = time.perf_counter() - started
    stop_forkserver()  # its reaped workers then count in RUSAGE_CHILDREN
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "seconds": wall,
        "cpu_seconds": time.process_time() - cpu,
        "workers_cpu_seconds": children.ru_utime + children.ru_stime,
        "files": report.files,
        "chunks": report.chunks,
        "edges": report.edges,
        "aurora_lsp": str(Path(sys.modules["aurora_lsp"].__file__ or "").parent),  # which Aurora indexed
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")


# workspace/symbol queries (lsp_bench.py's) and questions, read in process after a cold index
SYMBOL_QUERIES = {
    "django": ("Model", "QuerySet.filter", "get_response", "getresp", "qs.filter", "Field", "save", "as_sql",
               "HttpRequest", "ForeignKey", "CharField.formfield", "__init__", "ModelAdmin.get_urls", "tmpl", "m"),
    "sympy": ("Symbol", "Poly.degree", "get_general_solution", "getgensol", "dm.rref", "Expr", "subs", "doit",
              "Integral", "MatrixBase.inv", "_eval_derivative", "__init__", "Basic.subs", "mtrx", "m"),
}  # fmt: skip
QUESTIONS = {
    "django": ("how does a request get its response through the middleware", "where is a queryset filtered",
               "how are migrations applied to the database", "validate a form field and raise ValidationError"),
    "sympy": ("how is an expression simplified", "solve an ordinary differential equation with dsolve",
              "degree of a polynomial", "derivative of a function evaluated"),
}  # fmt: skip
READ_ROUNDS = 3  # rounds of the symbol queries: the first with an empty memory tier
CONTEXT_FOCI = 60  # definitions asked about (random.Random(7) picks them)


def child_reads(root: Path, db: str, out: str, workspace_name: str) -> None:
    """CPU milliseconds of each read on an indexed database: workspace/symbol, context at a
    definition, questions."""
    import random

    from harness.aurora import Settings, Workspace, answer_at, ask_question

    def cpu_ms(work: Any) -> float:
        started = time.process_time()
        work()
        return (time.process_time() - started) * 1000

    with Workspace.open(root, Settings(database_path=db)) as workspace:
        answers: list[list[str]] = []

        def kept(answer: Any) -> None:
            answers.append([str(item["id"]) for item in answer["items"]])

        symbols = [
            cpu_ms(lambda query=query: workspace.symbols(query, 100))
            for _ in range(READ_ROUNDS)
            for query in SYMBOL_QUERIES[workspace_name]
        ]
        foci = random.Random(7).sample(sorted(workspace.db.iter_chunks(), key=lambda c: c.id), CONTEXT_FOCI)
        context = [
            cpu_ms(lambda c=c: kept(answer_at(workspace, c.id.partition("::")[0], c.start_line, 2000, 1.0e9)))
            for c in foci
        ]
        questions = [cpu_ms(lambda q=q: kept(ask_question(workspace, q, 2000))) for q in QUESTIONS[workspace_name]]
        symbol_answers = [[hit.match.id for hit in workspace.symbols(q, 100)] for q in SYMBOL_QUERIES[workspace_name]]
    timings = {"symbol_ms": symbols, "context_ms": context, "question_ms": questions}
    Path(out).write_text(json.dumps({"timings": timings, "answers": answers + symbol_answers}))


def reads(root: Path, db: Path, workspace_name: str, server: Path | None) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    command = [sys.executable, str(Path(__file__).resolve()), "--reads", str(root), str(db), out, workspace_name]
    environment = dict(os.environ) if server is None else {**os.environ, "PYTHONPATH": str(server)}
    subprocess.run(command, check=True, env=environment)
    read = json.loads(Path(out).read_text(encoding="utf-8"))
    os.unlink(out)
    found: dict[str, list[float]] = read["timings"]
    summary = {f"{name}_p50": nearest_rank(values, 50) for name, values in found.items()} | {
        f"{name}_p95": nearest_rank(values, 95) for name, values in found.items()
    }
    return summary | {"answers": read["answers"]}


def index_cold(root: Path, db: Path, server: Path | None = None) -> dict[str, Any]:
    """A cold index in a child process: of this checkout's Aurora, or of the one whose
    `aurora_lsp` package is in the folder `server`."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(root), str(db), out]
    environment = dict(os.environ) if server is None else {**os.environ, "PYTHONPATH": str(server)}
    load = loadavg_1min()
    subprocess.run(command, check=True, env=environment)
    result: dict[str, Any] = json.loads(Path(out).read_text(encoding="utf-8"))
    os.unlink(out)
    result["total_cpu_seconds"] = result["cpu_seconds"] + result["workers_cpu_seconds"]
    result["loadavg_1min_before"] = load
    return result


# -- sizes ------------------------------------------------------------------------------------


def source_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*.py") if path.is_file())


def breakdown(db: Path) -> dict[str, int]:
    """Bytes of each table and index (dbstat pages), largest first."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    return {str(name): int(size) for name, size in rows}


def vacuumed_bytes(db: Path) -> int:
    copy = db.with_name(db.name + ".vacuumed")
    copy.unlink(missing_ok=True)
    with sqlite3.connect(db) as connection:
        connection.execute("VACUUM INTO ?", [str(copy)])
    size = copy.stat().st_size
    copy.unlink()
    return size


# -- the steps, rebuilt from the index's rows --------------------------------------------------

_SCHEMA_7 = (
    "CREATE TABLE files (path TEXT PRIMARY KEY, hash TEXT, module TEXT, imports TEXT, star_imports TEXT,"
    " problems TEXT, chunk_count INTEGER)",
    "CREATE TABLE chunks (id TEXT PRIMARY KEY, path TEXT, seq INTEGER, qualname TEXT, name TEXT, kind TEXT,"
    " start_line INTEGER, start_char INTEGER, end_line INTEGER, end_char INTEGER, sel_line INTEGER,"
    " sel_char INTEGER, signature TEXT, summary TEXT, docstring TEXT, decorators TEXT, parent TEXT,"
    " content_hash TEXT, tokens INTEGER, text BLOB, text_at INTEGER, text_size INTEGER, refs TEXT)",
    "CREATE INDEX idx_chunks_path_seq ON chunks (path, seq)",
    "CREATE INDEX idx_chunks_name ON chunks (name)",
    "CREATE INDEX idx_chunks_parent ON chunks (parent)",
    "CREATE INDEX chunks_name_nocase ON chunks (name COLLATE NOCASE, id, qualname)",
    "CREATE INDEX chunks_qualname_id ON chunks (qualname, id)",
    "CREATE TABLE edges (src TEXT NOT NULL, dst TEXT NOT NULL, kind TEXT NOT NULL, how TEXT NOT NULL,"
    " PRIMARY KEY (src, dst)) WITHOUT ROWID",
    "CREATE INDEX idx_edges_dst ON edges (dst)",
)
STEPS = (
    ("schema 7's layout", set()),
    ("+ a text inside its parent's stored as a span of it", {"spans"}),
    ("+ the other texts zlib-compressed", {"spans", "zlib"}),
    (
        "+ full-text tables without a copy of their columns (body words with positions)",
        {"spans", "zlib", "contentless"},
    ),
)


def rebuilt(dump: dict[str, list[tuple[Any, ...]]], target: Path, steps: set[str]) -> int:
    """Bytes of the index in `dump` written as `steps` leave it, vacuumed."""
    from harness.aurora import body_words, name_words

    target.unlink(missing_ok=True)
    connection = sqlite3.connect(target)
    for statement in _SCHEMA_7:
        connection.execute(statement)
    connection.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", dump["files"])
    texts = {row[0]: row[19] for row in dump["chunks"]}
    rows = []
    for row in dump["chunks"]:
        parent, text = row[16], row[19]
        at = texts[parent].find(text) if "spans" in steps and parent in texts else -1
        if at >= 0:
            stored: tuple[Any, ...] = (None, at, len(text))
        else:
            data = zlib.compress(text.encode("utf-8", "surrogatepass")) if "zlib" in steps else text
            stored = (data, None, None)
        rows.append((*row[:19], *stored, row[20]))
    connection.executemany(f"INSERT INTO chunks VALUES ({','.join('?' * 23)})", rows)
    connection.executemany("INSERT INTO edges VALUES (?, ?, ?, ?)", dump["edges"])
    content = ", content=''" if "contentless" in steps else ""
    tokenize = "tokenize='unicode61 remove_diacritics 2'"
    connection.execute(
        f"CREATE VIRTUAL TABLE chunks_fts USING fts5(words, qualname, signature, docstring, {tokenize}{content})"
    )
    # without content, bm25 needs the positions to count a term's hits (schema 8 keeps them)
    detail = "" if content else "detail=none, "
    connection.execute(f"CREATE VIRTUAL TABLE chunks_body_fts USING fts5(body, {detail}{tokenize}{content})")
    rowids = dict(connection.execute("SELECT id, rowid FROM chunks"))
    connection.executemany(
        "INSERT INTO chunks_fts (rowid, words, qualname, signature, docstring) VALUES (?, ?, ?, ?, ?)",
        [(rowids[row[0]], name_words(row[3]), row[3], row[12], row[14]) for row in dump["chunks"]],
    )
    connection.executemany(
        "INSERT INTO chunks_body_fts (rowid, body) VALUES (?, ?)",
        [(rowids[row[0]], body_words(row[19])) for row in dump["chunks"]],
    )
    connection.commit()
    connection.execute("VACUUM")
    connection.close()
    size = target.stat().st_size
    target.unlink()
    return size


def steps_of(root: Path, db: Path, source: int) -> list[dict[str, Any]]:
    from harness.aurora import Settings, Workspace

    with Workspace.open(root, Settings(database_path=str(db))) as workspace:
        dump = workspace.db.dump()
    found = []
    for name, steps in STEPS:
        size = rebuilt(dump, db.with_name("step.sqlite3"), steps)
        found.append({"step": name, "bytes": size, "ratio": size / source})
    size = vacuumed_bytes(db)
    found.append(
        {
            "step": "+ integer keys for chunks, summaries made when read (schema 8, Aurora's database)",
            "bytes": size,
            "ratio": size / source,
        }
    )
    return found


# -- the driver -------------------------------------------------------------------------------


def baseline_server(baseline: str, scratch: Path) -> Path:
    """The folder holding the baseline's `aurora_lsp`: `baseline` itself if it is one, else
    the server/ of that git commit, extracted here."""
    if (Path(baseline) / "aurora_lsp").is_dir():
        return Path(baseline)
    archive = subprocess.run(
        ["git", "-C", str(BENCHMARKS.parent), "archive", baseline, "server"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True)
    return scratch / "server"


def against_baseline(name: str, root: Path, scratch: Path, server: Path, source: int, repeat: int) -> dict[str, Any]:
    """Cold indexes by this Aurora and by the baseline, taking turns: CPU seconds and database bytes."""
    runs: dict[str, list[dict[str, Any]]] = {"current": [], "baseline": []}
    for _ in range(repeat):
        for which, folder in (("baseline", server), ("current", None)):
            db = scratch / f"{which}.sqlite3"
            run = index_cold(root, db, folder)
            run["db_bytes"] = db.stat().st_size
            run["reads_cpu_ms"] = reads(root, db, name, folder)
            run["answers"] = run["reads_cpu_ms"].pop("answers")
            runs[which].append(run)
    medians = {which: statistics.median(r["total_cpu_seconds"] for r in found) for which, found in runs.items()}
    read_medians = {
        which: {key: statistics.median(r["reads_cpu_ms"][key] for r in found) for key in found[0]["reads_cpu_ms"]}
        for which, found in runs.items()
    }
    baseline_bytes = runs["baseline"][-1]["db_bytes"]
    # the same ids in the same order: context at each focus, each question, each symbol query
    pairs = list(zip(runs["current"][0]["answers"], runs["baseline"][0]["answers"], strict=True))
    for found in runs.values():
        for run in found:
            del run["answers"]
    return {
        "server": str(server),
        "runs": runs,
        "median_total_cpu_seconds": medians,
        "median_reads_cpu_ms": read_medians,
        "cpu_ratio_current_to_baseline": medians["current"] / medians["baseline"],
        "baseline_db_bytes": baseline_bytes,
        "baseline_ratio": baseline_bytes / source,
        "answers_identical": sum(a == b for a, b in pairs),
        "answers_compared": len(pairs),
    }


def measure(name: str, with_steps: bool, baseline: str | None, repeat: int) -> dict[str, Any]:
    root, _ = wheel_workspace(name)
    source = source_bytes(root)
    with tempfile.TemporaryDirectory(prefix="aurora-db-size-") as scratch:
        db = Path(scratch) / "index.sqlite3"
        index = index_cold(root, db)
        size = db.stat().st_size
        result: dict[str, Any] = {
            "source_bytes": source,
            "db_bytes": size,
            "ratio": size / source,
            "target_ratio_le": TARGET_RATIO,
            "holds": size / source <= TARGET_RATIO,
            "vacuumed_bytes": vacuumed_bytes(db),
            "index": index,
            "tables": breakdown(db),
        }
        if with_steps:
            result["steps"] = steps_of(root, db, source)
        if baseline:
            server = baseline_server(baseline, Path(scratch))
            result["baseline"] = against_baseline(name, root, Path(scratch), server, source, repeat)
    return result


def print_result(name: str, result: dict[str, Any]) -> None:
    source = result["source_bytes"]
    index = result["index"]
    print(
        f"{name}: source {source / MB:.2f} MB, database {result['db_bytes'] / MB:.2f} MB = {result['ratio']:.2f}x"
        f" (vacuumed {result['vacuumed_bytes'] / MB:.2f} MB), {index['chunks']} chunks;"
        f" cold index {index['total_cpu_seconds']:.1f} CPU-s ({index['cpu_seconds']:.1f} + workers"
        f" {index['workers_cpu_seconds']:.1f}), {index['seconds']:.1f} s wall"
    )
    for table, size in list(result["tables"].items())[:14]:
        print(f"  {table:32s} {size / MB:7.2f} MB  {size / source:.3f}x")
    for step in result.get("steps", []):
        print(f"  {step['step']:60s} {step['bytes'] / MB:7.2f} MB  {step['ratio']:.2f}x")
    if "baseline" in result:
        against = result["baseline"]
        cpu = against["median_total_cpu_seconds"]
        print(
            f"  baseline: database {against['baseline_db_bytes'] / MB:.2f} MB = {against['baseline_ratio']:.2f}x;"
            f" cold index median CPU-s {cpu['current']:.2f} now, {cpu['baseline']:.2f} baseline"
            f" (ratio {against['cpu_ratio_current_to_baseline']:.2f});"
            f" answers identical {against['answers_identical']} of {against['answers_compared']}"
        )
        for which, found in against["median_reads_cpu_ms"].items():
            print(f"  reads, CPU ms ({which}): " + ", ".join(f"{key} {value:.1f}" for key, value in found.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", action="append", help="a pinned wheel (default: django and sympy)")
    parser.add_argument("--no-steps", action="store_true", help="skip rebuilding each step of schema 8")
    parser.add_argument(
        "--baseline", help="a git commit, or a folder holding aurora_lsp: index with it too, taking turns, and compare"
    )
    parser.add_argument("--repeat", type=int, default=3, help="cold indexes of each side with --baseline")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--child", nargs=3, metavar=("ROOT", "DB", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--reads", nargs=4, metavar=("ROOT", "DB", "OUT", "NAME"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_index(Path(args.child[0]), args.child[1], args.child[2])
        return 0
    if args.reads:
        child_reads(Path(args.reads[0]), args.reads[1], args.reads[2], args.reads[3])
        return 0
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "db_size",
        "timestamp": timestamp(),
        "command": "python benchmarks/db_size.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine_facts(),
        "versions": versions(source_sha256=True),
        "workspaces": {},
    }
    for name in args.workspace or ["django", "sympy"]:
        result = measure(name, not args.no_steps, args.baseline, args.repeat)
        report["workspaces"][name] = result
        print_result(name, result)
    write_report(report, args.output, started)
    warn_if_code_changed(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
