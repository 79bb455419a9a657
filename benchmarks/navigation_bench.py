"""Navigation speed: definition, references, call and type hierarchy over LSP on Django 5.2.19.

    python benchmarks/navigation_bench.py                 # 120 positions, each asked every method (a few minutes)
    python benchmarks/navigation_bench.py --positions 200 --seed 3

The workspace is the pinned Django wheel (harness/workspaces.py). Aurora starts as an
editor starts it (the virtualenv's `aurora-lsp` over stdio, pytest-lsp's client with VS
Code's capabilities, harness/lsp.py's Session) on a fresh database with the shipped
settings (so every request records a use, as in an editor). Once `aurora/stats` says the
index is idle, positions are picked with random.Random(--seed), half on definition names
(every class/def by Python's ast) and half on call sites (the called name of an ast Call
inside a def); --warmup of them are asked first and not measured. At each measured
position each advertised method is asked:

  definition       textDocument/definition (only if the server advertises definitionProvider)
  references       textDocument/references, includeDeclaration true
  call hierarchy   prepareCallHierarchy, then incomingCalls and outgoingCalls of its item:
                   the three requests' total, as an editor's call hierarchy view makes them
  type hierarchy   prepareTypeHierarchy, then supertypes and subtypes of its item: the total

Latency is client-side wall time from the first request sent to the last answer;
percentiles are nearest-rank. Target: definition and call hierarchy p95 <= 50 ms.
Results go to benchmarks/results/navigation.json with machine facts and versions.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp.checks import LspSpecificationWarning

from harness.aurora import console_command
from harness.lsp import ServerSpec, Session, wait_indexed
from harness.machine import machine_facts, versions
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import timestamp, warn_if_code_changed, write_report
from harness.stats import latency_summary
from harness.workspaces import WHEELS, wheel_workspace

WORKSPACE = "django"
RESULTS = RESULTS_DIR / "navigation.json"
TARGET_P95_MS = 50.0
TARGETED = ("definition", "call hierarchy")


@dataclass(frozen=True)
class Spot:
    """A position to navigate from: a definition's name or a called name (0-based, UTF-16)."""

    path: str
    line: int
    character: int
    name: str
    what: str  # "definition" or "call"


def utf16_column(line: bytes, byte_offset: int) -> int:
    """ast counts columns in UTF-8 bytes; LSP in UTF-16 code units."""
    return len(line[:byte_offset].decode("utf-8", "replace").encode("utf-16-le")) // 2


def spots_in(root: Path) -> tuple[list[Spot], list[Spot]]:
    """Every definition name and every call site (the called name, inside a def) of the workspace."""
    names: list[Spot] = []
    calls: list[Spot] = []
    for file in sorted(root.rglob("*.py")):
        path = file.relative_to(root).as_posix()
        source = file.read_bytes()
        try:
            tree = ast.parse(source, filename=path)
        except (SyntaxError, ValueError):
            continue
        lines = source.split(b"\n")
        for node in ast.walk(tree):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                line = lines[node.lineno - 1]
                start = line.find(node.name.encode(), node.col_offset)
                if start >= 0:
                    names.append(Spot(path, node.lineno - 1, utf16_column(line, start), node.name, "definition"))
                if not isinstance(node, ast.ClassDef):
                    calls.extend(call_spots(path, lines, node))
    return names, calls


def call_spots(path: str, lines: list[bytes], function: ast.AST) -> list[Spot]:
    found: list[Spot] = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        if isinstance(called, ast.Name):
            name, lineno, offset = called.id, called.lineno, called.col_offset
        elif isinstance(called, ast.Attribute) and called.end_lineno is not None and called.end_col_offset is not None:
            name, lineno, offset = called.attr, called.end_lineno, called.end_col_offset - len(called.attr.encode())
        else:
            continue
        line = lines[lineno - 1]
        if line[offset : offset + len(name.encode())] == name.encode():
            found.append(Spot(path, lineno - 1, utf16_column(line, offset), name, "call"))
    return found


def pick(root: Path, count: int, seed: int) -> list[Spot]:
    """`count` spots, half definition names and half call sites, by random.Random(seed)."""
    names, calls = spots_in(root)
    chooser = random.Random(seed)
    picked = chooser.sample(names, count // 2) + chooser.sample(calls, count - count // 2)
    chooser.shuffle(picked)
    return picked


class Navigator:
    """The navigation requests at one spot, timed."""

    def __init__(self, session: Session, root: Path) -> None:
        assert session.client is not None and session.capabilities is not None
        self.session = session
        self.client = session.client
        self.root = root
        capabilities = session.capabilities
        self.methods = {
            "definition": bool(capabilities.definition_provider),
            "references": bool(capabilities.references_provider),
            "call hierarchy": bool(capabilities.call_hierarchy_provider),
            "type hierarchy": bool(capabilities.type_hierarchy_provider),
        }

    async def ask(self, method: str, spot: Spot) -> tuple[float, int]:
        """(seconds, how many results) of one method at a spot."""
        document = types.TextDocumentIdentifier(uri=(self.root / spot.path).as_uri())
        position = types.Position(spot.line, spot.character)
        client, request = self.client, self.session.request
        started = time.perf_counter()
        if method == "definition":
            found: Any = await request(
                client.text_document_definition_async(types.DefinitionParams(text_document=document, position=position))
            )
            count = len(found) if isinstance(found, list) else int(found is not None)
        elif method == "references":
            context = types.ReferenceContext(include_declaration=True)
            found = await request(
                client.text_document_references_async(
                    types.ReferenceParams(text_document=document, position=position, context=context)
                )
            )
            count = len(found or [])
        elif method == "call hierarchy":
            items = await request(
                client.text_document_prepare_call_hierarchy_async(
                    types.CallHierarchyPrepareParams(text_document=document, position=position)
                )
            )
            count = 0
            if items:
                incoming = client.call_hierarchy_incoming_calls_async(
                    types.CallHierarchyIncomingCallsParams(item=items[0])
                )
                outgoing = client.call_hierarchy_outgoing_calls_async(
                    types.CallHierarchyOutgoingCallsParams(item=items[0])
                )
                count = len(await request(incoming) or []) + len(await request(outgoing) or [])
        else:
            items = await request(
                client.text_document_prepare_type_hierarchy_async(
                    types.TypeHierarchyPrepareParams(text_document=document, position=position)
                )
            )
            count = 0
            if items:
                supertypes = client.type_hierarchy_supertypes_async(types.TypeHierarchySupertypesParams(item=items[0]))
                subtypes = client.type_hierarchy_subtypes_async(types.TypeHierarchySubtypesParams(item=items[0]))
                count = len(await request(supertypes) or []) + len(await request(subtypes) or [])
        return time.perf_counter() - started, count


async def session_run(root: Path, spots: list[Spot], args: argparse.Namespace, state: Path) -> dict[str, Any]:
    options: dict[str, Any] = {"databasePath": str(state / "index.sqlite3")}
    spec = ServerSpec(name="aurora", command=console_command(), has_index=True, options=lambda _folder: options)
    session = Session(spec, root, state, "navigation", sample_interval=args.sample_interval)
    await session.start()
    run: dict[str, Any] = {"initialization_options": options}
    try:
        await session.initialize()
        run["stats_when_ready"] = await wait_indexed(session)
        run["ready_seconds"] = session.since_initialize()
        print(f"[navigation] indexed {run['stats_when_ready']['chunks']} chunks in {run['ready_seconds']:.1f} s",
              file=sys.stderr, flush=True)  # fmt: skip
        navigator = Navigator(session, root)
        run["advertised"] = navigator.methods
        asked = [method for method, advertised in navigator.methods.items() if advertised]
        for spot in spots[: args.warmup]:
            for method in asked:
                await navigator.ask(method, spot)
        records = []
        for spot in spots[args.warmup :]:
            for method in asked:
                seconds, count = await navigator.ask(method, spot)
                records.append({"method": method, "seconds": round(seconds, 6), "results": count, **asdict(spot)})
        run["records"] = records
        run["stats_at_end"] = await session.stats()
    finally:
        run["session"] = await session.close()
    return run


def summary(records: list[dict[str, Any]], advertised: dict[str, bool]) -> dict[str, Any]:
    methods: dict[str, Any] = {}
    for method, served in advertised.items():
        mine = [r for r in records if r["method"] == method]
        if not served:
            methods[method] = {"skipped": "not advertised by the server"}
            continue
        figures = latency_summary([r["seconds"] for r in mine])
        for what in ("definition", "call"):
            part = [r for r in mine if r["what"] == what]
            figures[f"answered_at_{what}_sites"] = sum(1 for r in part if r["results"]) / len(part) if part else None
        figures["mean_results"] = sum(r["results"] for r in mine) / len(mine) if mine else None
        figures["slowest"] = [
            {"at": f"{r['path']}:{r['line'] + 1}:{r['character']} {r['name']}", "ms": round(r["seconds"] * 1000, 1),
             "results": r["results"]}
            for r in sorted(mine, key=lambda r: -r["seconds"])[:5]
        ]  # fmt: skip
        if method in TARGETED:
            figures["p95_within_target"] = figures["p95_ms"] is not None and figures["p95_ms"] <= TARGET_P95_MS
        methods[method] = figures
    return methods


def print_table(report: dict[str, Any]) -> None:
    print(f"\nnavigation latency, Django 5.2.19, {report['settings']['positions']} positions "
          f"({report['settings']['warmup']} warm-up), seed {report['settings']['seed']}")  # fmt: skip
    print(f"{'method':<16}{'count':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'at defs':>9}{'at calls':>9}"
          f"  target p95 <= {TARGET_P95_MS:.0f} ms")  # fmt: skip
    for method, figures in report["summary"].items():
        if "skipped" in figures:
            print(f"{method:<16}  skipped: {figures['skipped']}")
            continue
        target = {True: "met", False: "MISSED"}.get(figures.get("p95_within_target"), "")
        print(f"{method:<16}{figures['count']:>6}{figures['p50_ms']:>9.1f}{figures['p95_ms']:>9.1f}"
              f"{figures['max_ms']:>9.1f}{figures['answered_at_definition_sites']:>9.2f}"
              f"{figures['answered_at_call_sites']:>9.2f}  {target}")  # fmt: skip


NOTES = [
    "Latency: client-side wall time from the first request sent to the last answer (pygls client over stdio); "
    "call and type hierarchy are the total of prepare and both follow-ups. Percentiles nearest-rank.",
    "at defs / at calls: share of positions of each kind where the method answered something "
    "(a hierarchy counts its follow-ups' items; a leaf or a root class has none).",
    "Every request records a use (recordAccesses true, the shipped setting), as in an editor.",
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--positions", type=int, default=120, help="measured positions (half names, half calls)")
    parser.add_argument("--warmup", type=int, default=10, help="positions asked first, not measured")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the positions")
    parser.add_argument("--sample-interval", type=float, default=0.5, help="process tree memory sampling, s")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    if args.positions < 2 or args.warmup < 0:
        parser.error("--positions must be at least 2 and --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.simplefilter("ignore", LspSpecificationWarning)
    wall_started = time.perf_counter()
    root, wheel = wheel_workspace(WORKSPACE)
    root = root.resolve()
    spots = pick(root, args.warmup + args.positions, args.seed)
    versions_at_start = versions(("lsprotocol", "pytest-lsp", "jedi"), source_sha256=True)
    load_at_start = os.getloadavg()
    state = Path(tempfile.mkdtemp(prefix="aurora-navigation-"))
    try:
        run = asyncio.run(session_run(root, spots, args, state))
    finally:
        shutil.rmtree(state, ignore_errors=True)
    report: dict[str, Any] = {
        "benchmark": "navigation",
        "timestamp": timestamp(),
        "workspace": {"root": str(root), "wheel": wheel.name, "wheel_sha256": WHEELS[WORKSPACE]["sha256"]},
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine_facts(),
        "versions": versions_at_start,
        "loadavg_at_start": load_at_start,
        "loadavg_at_end": os.getloadavg(),
        "target_p95_ms": TARGET_P95_MS,
        "summary": summary(run["records"], run["advertised"]),
        "notes": NOTES,
        "run": run,
    }
    write_report(report, args.output, wall_started)
    print_table(report)
    warn_if_code_changed(report)
    print(f"\nwall time {report['wall_seconds']:.0f} s; written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
