"""Every class, def and async def of a workspace, at any depth, by Python's ast.

The ground truth the LSP benchmarks sample from: lsp_bench.py's completeness sample and
outline counts, context_speed.py's focus requests.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Definition:
    path: str
    name: str
    qualname: str
    line: int  # 0-based line of `def`/`class`
    first_line: int  # 0-based line of the first decorator, else `line`


def wheel_definitions(root: Path) -> tuple[list[Definition], list[str]]:
    """Every class, def and async def at any depth in the workspace's .py files, by ast."""
    found: list[Definition] = []
    failed: list[str] = []
    for file in sorted(root.rglob("*.py")):
        path = file.relative_to(root).as_posix()
        try:
            tree = ast.parse(file.read_bytes(), filename=path)
        except (SyntaxError, ValueError) as error:
            failed.append(f"{path}: {error}")
            continue

        def walk(node: ast.AST, prefix: str) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    qualname = f"{prefix}{child.name}"
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    found.append(Definition(path, child.name, qualname, child.lineno - 1, first - 1))  # noqa: B023
                    walk(child, qualname + ".")
                else:
                    walk(child, prefix)

        walk(tree, "")
    return found, failed
