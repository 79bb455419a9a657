"""A workspace of generated real Python: a few hundred modules that import and call each other.

Large enough for the indexer's worker processes (and so its first pass), with the shapes
ids and ranges must get right: nested classes and functions, decorators, async methods,
a name defined twice in one file (`#2`), non-ASCII text before a definition on its line,
and a method name (`save`) that every module defines and calls.
"""

from __future__ import annotations

from pathlib import Path

MODULE = '''"""Module {index}: orders and their lines (généré)."""

from __future__ import annotations

import functools

from pkg.mod{previous} import Order{previous}


def helper_{index}(value: int) -> int:
    """Double a value."""
    return value * 2


def helper_{index}(value: int) -> int:  # redefined: the second one is `helper_{index}#2`
    return value * 3


class Order{index}(Order{previous}):
    """An order of module {index}."""

    class Line:
        """One line of an order: a product, a quantity and a price, each checked when it is set,
        so that an order never holds a line it could not bill (padding a module to a real size)."""

        def total(self) -> int:
            return helper_{index}(1)

    @functools.lru_cache(maxsize=None)
    def save(self, other: Order{previous}) -> None:
        other.save(other)
        self.Line().total()

    async def refresh_{index}(self) -> int:
        def inner() -> int:
            return helper_{index}(2)

        return inner()


é = 1; x_{index} = "ü"
'''


def write_generated_workspace(root: Path, modules: int) -> list[str]:
    """`modules` modules under root/pkg (each importing the one before it); their paths."""
    package = root / "pkg"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    paths = []
    for index in range(modules):
        path = package / f"mod{index}.py"
        path.write_text(MODULE.format(index=index, previous=(index - 1) % modules), encoding="utf-8")
        paths.append(path.relative_to(root).as_posix())
    return paths


def append_function(root: Path, path: str, name: str) -> None:
    """A new module-level function at the end of a file, as an edit would add it."""
    with open(root / path, "a", encoding="utf-8") as handle:
        handle.write(f"\n\ndef {name}() -> int:\n    return 1\n")
