"""Shared fixtures: small real workspaces copied into tmp_path, and a stdlib workspace."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from aurora_lsp.config import Settings
from aurora_lsp.workspace import Workspace

FIXTURES = Path(__file__).parent / "fixtures" / "workspaces"
STDLIB = Path(json.__file__).resolve().parent.parent
# stdlib packages present on every supported Python (3.10 to 3.13), tests excluded
STDLIB_PACKAGES = (
    "asyncio",
    "email",
    "json",
    "logging",
    "concurrent",
    "http",
    "urllib",
    "xml",
    "importlib",
    "unittest",
    "multiprocessing",
    "wsgiref",
    "html",
)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of the `shop` fixture workspace that a test may change."""
    target = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", target)
    return target


def open_workspace(root: Path, db: Path, **settings: object) -> Workspace:
    return Workspace.open(root, Settings(database_path=str(db), **settings))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def stdlib_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real code with well over 10,000 chunks: the top-level stdlib modules and some packages."""
    root = tmp_path_factory.mktemp("stdlib") / "workspace"
    root.mkdir()
    for module in sorted(STDLIB.glob("*.py")):
        shutil.copy2(module, root / module.name)
    ignore = shutil.ignore_patterns("test", "tests", "__pycache__", "idle_test")
    for package in STDLIB_PACKAGES:
        if (STDLIB / package).is_dir():
            shutil.copytree(STDLIB / package, root / package, ignore=ignore)
    return root


@pytest.fixture(scope="session")
def stdlib_db(stdlib_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stdlib workspace indexed once for the session."""
    db = tmp_path_factory.mktemp("stdlib-db") / "index.sqlite3"
    with open_workspace(stdlib_workspace, db) as workspace:
        report = workspace.refresh()
        assert report.chunks > 12_000, report.chunks
    return db


@pytest.fixture
def workspace_factory(tmp_path: Path) -> Iterator[object]:
    opened: list[Workspace] = []

    def make(root: Path, name: str = "index.sqlite3", **settings: object) -> Workspace:
        workspace = open_workspace(root, tmp_path / name, **settings)
        opened.append(workspace)
        return workspace

    yield make
    for workspace in opened:
        try:
            workspace.close()
        except Exception:
            pass
