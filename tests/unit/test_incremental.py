"""Incremental refresh equals a fresh index, over random edits, additions, deletions, renames."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from aurora_lsp.config import Settings
from aurora_lsp.workspace.service import WorkspaceService
from conftest import dump_index
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NAMES = ["alpha", "beta", "Gamma", "Delta", "run"]
PATHS = ["pkg/m1.py", "pkg/m2.py", "pkg/sub/m3.py", "top.py", "pkg/__init__.py", "pkg/sub/__init__.py"]


@st.composite
def module_source(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        source = draw(st.sampled_from(["pkg.m1", "pkg.m2", "pkg.sub.m3", "top", ".m1", "..m2"]))
        form = draw(st.sampled_from(["star", "module", "name", "alias"]))
        if form in ("star", "module"):
            lines.append(f"from {source} import *" if source.startswith(".") else f"import {source} as mod")
        elif form == "name":
            lines.append(f"from {source} import {draw(st.sampled_from(NAMES))}")
        else:  # a re-export under another name, which other modules may import in turn
            lines.append(f"from {source} import {draw(st.sampled_from(NAMES))} as {draw(st.sampled_from(NAMES))}")
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(NAMES))
        called = draw(st.sampled_from(NAMES))
        if name[0].isupper():
            base = draw(st.sampled_from(["", "(Gamma)", "(Delta)", "(mod.Gamma)"]))
            lines.append(f"class {name}{base}:")
            lines.append(f"    def {draw(st.sampled_from(NAMES)).lower()}(self):")
            lines.append(f"        return self.{called.lower()}() + {called}()")
        else:
            annotation = draw(st.sampled_from(["", ": Gamma", ": mod.Gamma", ": Delta | None"]))
            lines.append(f"def {name}(x{annotation}):")
            lines.append(f"    def inner():\n        return {called}(x)")
            lines.append(f"    return mod.{called}(inner()) if x else x.{called.lower()}()")
        if draw(st.booleans()):
            lines.append("def broken(:")  # a syntax error now and then
    return "\n".join(lines) + "\n"


# an import put before a file's code: every definition stays, moves a line down and keeps its
# text, while what its names bind to may change (the store keeps those chunks and their edges)
import_line = st.builds(
    "from {} import {}\n".format,
    st.sampled_from(["pkg.m1", "pkg.m2", "pkg.sub.m3", "top", ".m1"]),
    st.sampled_from(NAMES),
)

operation = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(PATHS), module_source()),
    st.tuples(st.just("prepend"), st.sampled_from(PATHS), import_line),
    st.tuples(st.just("delete"), st.sampled_from(PATHS), st.just("")),
    st.tuples(st.just("rename"), st.sampled_from(PATHS), st.sampled_from(PATHS)),
)


def apply(root: Path, op: tuple[str, str, str]) -> None:
    kind, path, arg = op
    target = root / path
    if kind == "write":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(arg)
    elif kind == "prepend" and target.exists():
        target.write_text(arg + target.read_text())
    elif kind == "delete":
        target.unlink(missing_ok=True)
    elif kind == "rename" and target.exists() and arg != path:
        destination = root / arg
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, destination)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    initial=st.lists(st.tuples(st.sampled_from(PATHS), module_source()), min_size=1, max_size=5),
    steps=st.lists(st.lists(operation, min_size=1, max_size=3), min_size=1, max_size=4),
)
def test_incremental_equals_fresh(initial: list[tuple[str, str]], steps: list[list[tuple[str, str, str]]]) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="aurora-incremental-"))
    try:
        root = scratch / "ws"
        root.mkdir()
        for path, source in initial:
            apply(root, ("write", path, source))
        with WorkspaceService.open(root, Settings(database_path=str(scratch / "live.sqlite3"))) as live:
            live.refresh()
            for step in steps:
                for op in step:
                    apply(root, op)
                live.refresh()
                assert live.db.dump() == dump_index(root, scratch / f"fresh-{time.monotonic_ns()}.sqlite3")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_refresh_rechunks_only_changed_files(shop: Path, workspace_factory) -> None:
    workspace = workspace_factory(shop)
    first = workspace.refresh()
    assert first.changed == 6 and first.unchanged == 0
    old = time.time() - 60  # files untouched for a minute: their stat is trusted
    for path in shop.rglob("*.py"):
        os.utime(path, (old, old))
    workspace.refresh(full=True)
    assert workspace.refresh().changed == 0
    cart = shop / "shop" / "models" / "cart.py"
    source = cart.read_text()

    def targets_of_total_price() -> list[str]:
        return [target for target, _, _ in workspace.chunks.dependencies("shop/services/pricing.py::total_price")]

    assert "shop/models/cart.py::Cart.total_cents" in targets_of_total_price()
    cart.write_text(source.replace("def total_cents", "def total_cost"))
    report = workspace.refresh()
    assert (report.changed, report.unchanged, report.removed) == (1, 5, 0)
    assert report.changed_paths == ["shop/models/cart.py"]
    # pricing.py did not change, but its edge into the renamed method was repaired
    assert not [t for t in targets_of_total_price() if "total_c" in t]
    cart.write_text(source.replace("def subtotal_cents", "def total_cents").replace("line.subtotal_cents", "line.x"))
    workspace.refresh()
    assert "shop/models/cart.py::CartLine.total_cents" not in targets_of_total_price()  # two now: no guess
    kept = "shop/models/cart.py::CartLine.total_cents"
    assert [chunk.id for chunk in workspace.db.get_chunks([kept])] == [kept]


def test_deleted_file_drops_its_chunks_and_edges_into_it(shop: Path, workspace_factory) -> None:
    workspace = workspace_factory(shop)
    workspace.refresh()
    assert workspace.chunks.dependents("shop/services/pricing.py::apply_discount")
    (shop / "shop" / "services" / "pricing.py").unlink()
    report = workspace.refresh()
    assert report.removed_paths == ["shop/services/pricing.py"]
    edges = workspace.db.dump()["edges"]
    assert edges and not [edge for edge in edges if "shop/services/pricing.py" in f"{edge[0]} {edge[1]}"]
    assert not [i for i, _ in workspace.db.full_text("discount", 10)]


def test_same_size_edit_within_the_racy_window_is_seen(tmp_path: Path, workspace_factory) -> None:
    (tmp_path / "a.py").write_text("def aa():\n    pass\n")
    workspace = workspace_factory(tmp_path, name="../racy.sqlite3")
    workspace.refresh()
    stat = (tmp_path / "a.py").stat()
    (tmp_path / "a.py").write_text("def bb():\n    pass\n")  # same size
    os.utime(tmp_path / "a.py", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and same mtime
    workspace.refresh()
    assert [row[0] for row in workspace.db.symbol_rows()] == ["a.py::bb"]


def test_a_new_class_in_a_submodule_reaches_a_package_import(tmp_path: Path, workspace_factory) -> None:
    """`import pkg` then `pkg.mod.Thing()`: a Thing that appears in pkg/mod.py gives the call its edge."""
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mod.py").write_text("def old():\n    return 1\n")
    (root / "user.py").write_text("import pkg.mod\n\n\ndef use():\n    return pkg.mod.Thing()\n")
    workspace = workspace_factory(root)
    workspace.refresh()
    assert workspace.db.dependencies("user.py::use") == []
    (root / "pkg" / "mod.py").write_text("def old():\n    return 1\n\n\nclass Thing:\n    pass\n")
    workspace.refresh()
    assert [dst for dst, _, _ in workspace.db.dependencies("user.py::use")] == ["pkg/mod.py::Thing"]
    assert workspace.db.dump() == dump_index(root, tmp_path / "fresh.sqlite3")
