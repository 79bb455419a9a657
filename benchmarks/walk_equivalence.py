"""The chunker's two readers on real code: every field of every record, ast against parso.

    python benchmarks/walk_equivalence.py                 # Django, sympy and pytest
    python benchmarks/walk_equivalence.py --only pytest

A file on disk is chunked with Python's `ast` (`chunk_file`), an editor buffer with parso
(`chunk_text`). For every `.py` file of each pinned wheel (harness/workspaces.py) this
chunks the bytes both ways and counts, per field (ids, kinds, ranges, selection ranges,
signatures, docstrings, decorators, hashes, tokens, text, refs, imports, star imports,
problems), the records that differ, with examples. Files Python cannot compile are read by
parso both ways, and valid files parso cannot read by ast both ways: both are counted, not
compared. Results go to benchmarks/results/walk_equivalence.json.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from harness.aurora import NotPythonSource, chunk_file, chunk_text
from harness.machine import loadavg_1min, machine_facts, versions
from harness.paths import RESULTS as RESULTS_DIR
from harness.report import timestamp, write_report
from harness.workspaces import wheel_workspace

RESULTS = RESULTS_DIR / "walk_equivalence.json"
DEFAULT_WORKSPACES = ("django", "sympy", "pytest")
EXAMPLES_PER_FIELD = 5
PARSO_CANNOT_READ = "chunked with ast"  # chunk_text's problem for valid code parso cannot read
FILE_FIELDS = ("content_hash", "imports", "star_imports", "problems")


def _module(relative: Path) -> tuple[str, bool]:
    parts = list(relative.with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def compare_file(path: str, on_disk: Any, buffer: Any) -> list[tuple[str, str]]:
    """(field, example) for every field that differs between the two answers for one file."""
    found: list[tuple[str, str]] = []
    if [c.id for c in on_disk.chunks] != [c.id for c in buffer.chunks]:
        found.append(("ids", f"{path}: ast {len(on_disk.chunks)} chunks, parso {len(buffer.chunks)}"))
    theirs = {chunk.id: chunk for chunk in buffer.chunks}
    for chunk in on_disk.chunks:
        other = theirs.get(chunk.id)
        if other is None:
            continue
        for field in dataclasses.fields(chunk):
            mine, their = getattr(chunk, field.name), getattr(other, field.name)
            if mine != their:
                if field.name == "refs":
                    mine, their = sorted(set(mine) - set(their)), sorted(set(their) - set(mine))
                found.append((field.name, f"{chunk.id}: ast {mine!r:.200} parso {their!r:.200}"))
    for name in FILE_FIELDS:
        if getattr(on_disk, name) != getattr(buffer, name):
            found.append((name, f"{path}: ast {getattr(on_disk, name)!r:.200} parso {getattr(buffer, name)!r:.200}"))
    return found


def compare_workspace(root: Path) -> dict[str, Any]:
    files = compared = 0
    not_python: list[str] = []
    parso_cannot_read: list[str] = []
    ast_cannot_compile: list[str] = []
    differing_records: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[str]] = collections.defaultdict(list)
    chunks = 0
    started, cpu = time.perf_counter(), time.process_time()
    for file in sorted(root.rglob("*.py")):
        relative = file.relative_to(root)
        module, is_package = _module(relative)
        data = file.read_bytes()
        files += 1
        try:
            on_disk = chunk_file(relative.as_posix(), data, module, is_package)
        except NotPythonSource:
            not_python.append(relative.as_posix())
            continue
        if any(problem.startswith("syntax error") for problem in on_disk.problems):
            ast_cannot_compile.append(relative.as_posix())
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            not_python.append(relative.as_posix())
            continue
        buffer = chunk_text(relative.as_posix(), text, module, is_package)
        if any(PARSO_CANNOT_READ in problem for problem in buffer.problems):
            parso_cannot_read.append(relative.as_posix())
            continue
        compared += 1
        chunks += len(on_disk.chunks)
        for field, example in compare_file(relative.as_posix(), on_disk, buffer):
            differing_records[field] += 1
            if len(examples[field]) < EXAMPLES_PER_FIELD:
                examples[field].append(example)
    return {
        "root": str(root),
        "files": files,
        "compared_files": compared,
        "compared_chunks": chunks,
        "differing_records_by_field": dict(differing_records),
        "examples": dict(examples),
        "parso_cannot_read_valid_python": parso_cannot_read,
        "python_cannot_compile": ast_cannot_compile,
        "not_utf8_or_binary": not_python,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=DEFAULT_WORKSPACES, help="workspace(s) to compare")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "walk_equivalence",
        "timestamp": timestamp(),
        "machine": machine_facts(),
        "versions": versions(source_sha256=True),
        "loadavg_1min_before": loadavg_1min(),
        "workspaces": {},
    }
    for name in args.only or DEFAULT_WORKSPACES:
        root, _wheel = wheel_workspace(name)
        result = report["workspaces"][name] = compare_workspace(root)
        by_field = result["differing_records_by_field"]
        unread, broken = len(result["parso_cannot_read_valid_python"]), len(result["python_cannot_compile"])
        print(
            f"{name}: {result['compared_files']} of {result['files']} files compared "
            f"({result['compared_chunks']} chunks), {sum(by_field.values())} differing fields {by_field}; "
            f"parso cannot read {unread}, Python cannot compile {broken}",
            flush=True,
        )
        for field, examples in result["examples"].items():
            for example in examples:
                print(f"  {field}: {example}")
    write_report(report, args.output, started)
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
