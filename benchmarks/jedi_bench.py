"""What jedi adds to the edges of open documents, and what it costs, on Django 5.2.19.

    python benchmarks/jedi_bench.py --files 30         # 30 files, 10 definitions each (about 2 minutes on 2 cores)
    python benchmarks/jedi_bench.py --files 5 --seed 2
    python benchmarks/jedi_bench.py --recheck        # precision again, after editing jedi_checked.json
    python benchmarks/jedi_bench.py --files 30 --lsp # the LSP phase, added to the last results

The workspace is the pinned Django wheel (harness/workspaces.py), indexed into a fresh
database by the same WorkspaceService the server runs. --files Python files of at least
--min-bytes are picked with random.Random(--seed); each is treated as an open document, as
the server treats one after a refresh: a pass of jedi over its attribute names, timed, in
steps of 50 ms (the server's STEP_SECONDS) on this one thread, then its answers written
through the indexer. Per file: the names resolved, pass seconds, and the edges jedi
gained (static resolution had none to that target), confirmed (an `attr-unique` guess,
same target) and dropped (a guess jedi showed wrong). Then at --definitions positions per
file (called names and attribute names, picked by Python's ast with the same seed), the
definition as the server answers it (`goto` on the outline thread's code, then the reader's
`definitions`) is timed in process (no JSON-RPC): `cold` is the first position of a file
never asked before, a new jedi Script; `warm` the rest, the file's Script kept, as for an
open document.

Precision: 30 of the edges jedi made (`--sample`, by the seed) are listed with the lines
that made them, and 10 of the guesses it dropped; benchmarks/jedi_checked.json holds a
person's verdict on each ("source -> target": {"right": bool, "why": ...}; for a dropped
guess, right means the guess was wrong); precision is right / checked.
With --lsp, the same files are opened in the server (the virtualenv's `aurora-lsp` over
stdio, harness/lsp.py's Session, a fresh database) and at the same positions
textDocument/definition is asked twice — at once, while the passes over the just opened
files run (`during_passes`), then once the index's edge count has been still for 5 s
(`warm`) — and aurora/context once (warm), timed from the client; this phase is added to
the last results.
Results go to benchmarks/results/jedi.json with machine facts and versions.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from harness.aurora import Settings, Workspace, console_command
from harness.lsp import OpenDocument, ServerSpec, Session, plain_json_results, wait_indexed
from harness.machine import machine_facts, versions
from harness.paths import BENCHMARKS
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import timestamp, warn_if_code_changed, write_report
from harness.stats import latency_summary, nearest_rank
from harness.workspaces import WHEELS, outside_git, wheel_workspace

RESULTS = RESULTS_DIR / "jedi.json"
CHECKED = BENCHMARKS / "jedi_checked.json"
STEP_SECONDS = 0.05


def utf16_column(line: bytes, byte_offset: int) -> int:
    """ast counts columns in UTF-8 bytes; LSP in UTF-16 code units."""
    return len(line[:byte_offset].decode("utf-8", "replace").encode("utf-16-le")) // 2


def positions_in(source: bytes) -> list[tuple[int, int, str]]:
    """(0-based line, UTF-16 column, name) of every called name and attribute name in a file."""
    lines = source.split(b"\n")
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.end_lineno is not None and node.end_col_offset is not None:
            name, lineno, offset = node.attr, node.end_lineno, node.end_col_offset - len(node.attr.encode())
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name, lineno, offset = node.func.id, node.func.lineno, node.func.col_offset
        else:
            continue
        line = lines[lineno - 1]
        if line[offset : offset + len(name.encode())] == name.encode():
            found.append((lineno - 1, utf16_column(line, offset), name))
    return sorted(set(found))


def edges_by_how(workspace: Any, path: str) -> dict[str, list[tuple[str, str, str]]]:
    """how -> (source, target, kind) of the outgoing edges of a file's chunks."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for chunk in workspace.db.chunks_in_file(path):
        for target, kind, how in workspace.db.dependencies(chunk.id):
            found.setdefault(how, []).append((chunk.id, target, kind))
    return found


def one_file(workspace: Any, root: Path, path: str, picked: list[tuple[int, int, str]]) -> dict[str, Any]:
    text = (root / path).read_text(encoding="utf-8")
    before = edges_by_how(workspace, path)
    started = time.perf_counter()
    inference = workspace.start_inference(path, text)
    steps = 1
    while not workspace.continue_inference(inference, STEP_SECONDS):
        steps += 1
    pass_seconds = time.perf_counter() - started
    counts = workspace.record_inferred(inference.inferred)
    after = edges_by_how(workspace, path)
    lines = text.split("\n")
    made = []
    for source, target, kind in after.get("jedi", []):
        name = target.rpartition("::")[2].rpartition(".")[2].split("#")[0]
        chunk = next(c for c in workspace.db.chunks_in_file(path) if c.id == source)
        evidence = sorted(
            {
                lines[use.line].strip()
                for use in inference.inferred.uses
                if use.name == name and chunk.start_line <= use.line <= chunk.end_line
            }
        )
        was = next((how for how, rows in before.items() if (source, target, kind) in rows), None)
        made.append({"source": source, "target": target, "kind": kind, "was": was, "lines": evidence[:3]})
    dropped = []
    kept = {(source, target) for rows in after.values() for source, target, _ in rows}
    for source, target, _ in before.get("attr-unique", []):
        if (source, target) not in kept:
            name = target.rpartition("::")[2].rpartition(".")[2].split("#")[0]
            evidence = sorted({lines[use.line].strip() for use in inference.inferred.uses if use.name == name})
            dropped.append({"source": source, "target": target, "lines": evidence[:3]})
    workspace.forget_document(path)  # the first definition below meets a new Script: cold
    timings: list[float] = []
    answered = 0
    for line, character, _ in picked:
        started = time.perf_counter()
        found = workspace.goto(path, text, line, character)
        answer = workspace.definitions(path, line, character, found)
        timings.append(time.perf_counter() - started)
        answered += bool(answer)
    uses = inference.inferred.uses
    return {
        "path": path,
        "bytes": len(text.encode("utf-8")),
        "names": len(uses),
        "resolved": sum(1 for use in uses if use.sites is not None),
        "resolved_in_workspace": sum(1 for use in uses if use.sites),
        "complete": inference.inferred.complete,
        "pass_seconds": pass_seconds,
        "steps": steps,
        "static_edges": sum(len(rows) for how, rows in before.items()),
        "guesses_before": len(before.get("attr-unique", [])),
        "gained": counts.gained if counts else None,
        "confirmed": counts.confirmed if counts else None,
        "dropped": counts.dropped if counts else None,
        "jedi_edges": made,
        "dropped_guesses": dropped,
        "definition_seconds": timings,
        "definitions_answered": answered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--definitions", type=int, default=10, help="positions asked per file")
    parser.add_argument("--min-bytes", type=int, default=4000)
    parser.add_argument("--sample", type=int, default=30, help="jedi edges listed for checking by hand")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--lsp", action="store_true", help="only the LSP phase, added to the last results (same files and positions)"
    )
    parser.add_argument(
        "--recheck", action="store_true", help="only recount precision in the last results with jedi_checked.json"
    )
    args = parser.parse_args()
    if args.recheck:
        last = json.loads(RESULTS.read_text())
        last["precision"] = precision(last["files"], argparse.Namespace(**last["arguments"]))
        RESULTS.write_text(json.dumps(last, indent=2, default=str) + "\n", encoding="utf-8")
        print(json.dumps(last["precision"]["figures"], indent=2))
        return
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "jedi",
        "timestamp": timestamp(),
        "machine": machine_facts(),
        "versions": versions(["jedi", "parso"], {"django_wheel": WHEELS["django"]["wheel"]}, source_sha256=True),
        "arguments": vars(args),
    }
    unpacked, _ = wheel_workspace("django")
    root = outside_git(unpacked)
    chooser = random.Random(args.seed)
    candidates = sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*.py") if p.stat().st_size >= args.min_bytes
    )
    paths = chooser.sample(candidates, args.files)
    picked = {}
    for path in paths:  # in this order, after the paths: the same positions as every earlier run
        spots = positions_in((root / path).read_bytes())
        picked[path] = chooser.sample(spots, min(args.definitions, len(spots)))
    if args.lsp:
        last = json.loads(RESULTS.read_text())
        last["lsp"] = asyncio.run(over_lsp(root, paths, picked))
        last["lsp"]["timestamp"] = timestamp()
        RESULTS.write_text(json.dumps(last, indent=2, default=str) + "\n", encoding="utf-8")
        print(json.dumps({k: v for k, v in last["lsp"].items() if k != "samples"}, indent=2))
        return
    with tempfile.TemporaryDirectory() as state:
        workspace = Workspace.open(root, Settings(database_path=str(Path(state) / "index.sqlite3")))
        try:
            indexed = workspace.refresh()
            report["index"] = {"files": indexed.files, "chunks": indexed.chunks, "edges": indexed.edges}
            files = []
            for number, path in enumerate(paths, 1):
                result = one_file(workspace, root, path, picked[path])
                files.append(result)
                print(
                    f"[jedi] {number}/{len(paths)} {path}: {result['names']} names in {result['pass_seconds']:.1f} s,"
                    f" +{result['gained']} gained, {result['confirmed']} confirmed, {result['dropped']} dropped",
                    file=sys.stderr,
                    flush=True,
                )
        finally:
            workspace.close()
    report["files"] = files
    report["summary"] = summarize(files, args)
    report["precision"] = precision(files, args)
    write_report(report, RESULTS, started)
    warn_if_code_changed(report)
    print(json.dumps({"summary": report["summary"], "precision": report["precision"]["figures"]}, indent=2))


async def passes_done(session: Session, quiet_seconds: float = 5.0) -> None:
    """Until the index's edge count has not moved for `quiet_seconds`: jedi's passes are written."""
    last, since = None, time.perf_counter()
    while time.perf_counter() - since < quiet_seconds:
        edges = (await session.stats())["edges"]
        if edges != last:
            last, since = edges, time.perf_counter()
        await asyncio.sleep(0.5)


async def over_lsp(root: Path, paths: list[str], picked: dict[str, list[tuple[int, int, str]]]) -> dict[str, Any]:
    """Definitions and context requests over LSP at the same positions, the files open."""
    with tempfile.TemporaryDirectory() as state:
        options = {"databasePath": str(Path(state) / "index.sqlite3")}
        spec = ServerSpec(name="aurora", command=console_command(), has_index=True, options=lambda _folder: options)
        session = Session(spec, root, Path(state), "jedi", sample_interval=0.5)
        await session.start()
        plain_json_results(session)  # context results as JSON, as an editor takes them
        try:
            await session.initialize()
            await wait_indexed(session)
            for path in paths:
                OpenDocument(session, root / path).open()
            await asyncio.sleep(1.0)  # past the debounce: the refresh that indexes the open buffers
            await wait_indexed(session)
            client = session.client
            assert client is not None
            rounds: dict[str, list[float]] = {"definition_during_passes": [], "definition_warm": [], "context_warm": []}
            answered = 0
            for round_name in ("during_passes", "warm"):
                if round_name == "warm":
                    await passes_done(session)
                for path in paths:
                    document = types.TextDocumentIdentifier((root / path).as_uri())
                    for line, character, _ in picked[path]:
                        position = types.Position(line, character)
                        started = time.perf_counter()
                        found = await session.request(
                            client.text_document_definition_async(types.DefinitionParams(document, position))
                        )
                        rounds[f"definition_{round_name}"].append(time.perf_counter() - started)
                        if round_name == "warm":
                            answered += bool(found)
                            params = {
                                "textDocument": {"uri": document.uri},
                                "position": {"line": line, "character": character},
                            }
                            started = time.perf_counter()
                            await session.custom("aurora/context", params)
                            rounds["context_warm"].append(time.perf_counter() - started)
            stats = await session.stats()
            return {
                "open_documents": len(paths),
                "server_rss_mib_at_end": round(stats["processRssBytes"] / 2**20, 1),
                "loadavg_at_end": os.getloadavg(),
                "definitions_answered": answered,
                **{name: latency_summary(values) for name, values in rounds.items()},
            }
        finally:
            await session.close()


def summarize(files: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    passes = [f["pass_seconds"] for f in files]
    cold = [f["definition_seconds"][0] for f in files if f["definition_seconds"]]
    warm = [s for f in files for s in f["definition_seconds"][1:]]
    total = {key: sum(f[key] or 0 for f in files) for key in ("names", "gained", "confirmed", "dropped")}
    static = sum(f["static_edges"] for f in files)
    return {
        "files": len(files),
        **total,
        "static_edges": static,
        "guesses_before": sum(f["guesses_before"] for f in files),
        "per_file": {key: round(value / len(files), 2) for key, value in total.items()},
        "pass_seconds_p50": nearest_rank(passes, 50),
        "pass_seconds_p95": nearest_rank(passes, 95),
        "pass_ms_per_name": 1000 * sum(passes) / max(1, total["names"]),
        "definition_cold": latency_summary(cold),
        "definition_warm": latency_summary(warm),
        "definitions_answered": sum(f["definitions_answered"] for f in files),
        "definitions_asked": sum(len(f["definition_seconds"]) for f in files),
    }


def precision(files: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    made = [edge for f in files for edge in f["jedi_edges"]]
    sample = random.Random(args.seed).sample(made, min(args.sample, len(made)))
    dropped = [edge for f in files for edge in f["dropped_guesses"]]
    dropped_sample = random.Random(args.seed).sample(dropped, min(args.sample // 3, len(dropped)))
    checked = json.loads(CHECKED.read_text()) if CHECKED.exists() else {}
    for edge in sample + dropped_sample:
        verdict = checked.get(f"{edge['source']} -> {edge['target']}")
        edge["right"] = verdict["right"] if verdict else None
        edge["why"] = verdict["why"] if verdict else None
    judged = [edge for edge in sample if edge["right"] is not None]
    judged_drops = [edge for edge in dropped_sample if edge["right"] is not None]
    return {
        "figures": {
            "jedi_edges": len(made),
            "sampled": len(sample),
            "checked": len(judged),
            "right": sum(1 for edge in judged if edge["right"]),
            "precision": round(sum(1 for e in judged if e["right"]) / len(judged), 3) if judged else None,
            # a dropped guess is "right" when the guess was indeed wrong (jedi was right to drop it)
            "dropped_guesses": len(dropped),
            "dropped_sampled": len(dropped_sample),
            "dropped_checked": len(judged_drops),
            "dropped_rightly": sum(1 for edge in judged_drops if edge["right"]),
        },
        "sample": sample,
        "dropped_sample": dropped_sample,
    }


if __name__ == "__main__":
    main()
