"""The server's modules import along one flow and never in a circle (docs/ARCHITECTURE.md).

entry points → features → server → workspace → index, context, search → store → records.
Every import counts, also those inside functions and under TYPE_CHECKING: a lazy import
is still a dependency a reader has to hold in their head.
"""

from __future__ import annotations

import ast
from pathlib import Path

import aurora_lsp

PACKAGE = Path(aurora_lsp.__file__).parent

# Lowest last. A module may import modules of its own layer or of any layer below it.
LAYERS = [
    ("entry points", {"__main__", "cli"}),
    ("features", {"features", "agent"}),
    ("server", {"server"}),
    ("workspace", {"workspace"}),
    ("engines", {"index", "context", "search"}),
    ("store", {"store"}),
    ("records", {"records", "protocol", "config", "convert", "positions", "tokens", "__init__"}),
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """module -> the aurora_lsp modules it imports (names relative to the package)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    found: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aurora_lsp"):
                base = node.module.removeprefix("aurora_lsp").lstrip(".")
                for alias in node.names:
                    candidate = f"{base}.{alias.name}" if base else alias.name
                    targets.add(candidate if candidate in modules else base or "__init__")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("aurora_lsp."):
                        targets.add(alias.name.removeprefix("aurora_lsp."))
        found[name] = {target for target in targets if target != name}
    return found


def _layer(module: str) -> int:
    head = module.split(".")[0]
    for index, (_, members) in enumerate(LAYERS):
        if head in members:
            return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS and docs/ARCHITECTURE.md")


def test_every_import_follows_the_flow() -> None:
    against = [
        f"{module} ({LAYERS[_layer(module)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for module, targets in _imports().items()
        for target in sorted(targets)
        if _layer(target) < _layer(module)
    ]
    assert against == []


def test_no_import_cycles() -> None:
    graph = _imports()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_check_sees_imports_inside_functions() -> None:
    """The cli imports the features only when it serves; that import still counts."""
    assert "features" in _imports()["cli"]
