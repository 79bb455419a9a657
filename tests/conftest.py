"""Shared fixtures: small real workspaces copied into tmp_path, and a stdlib workspace.

Also the helpers unit and e2e tests share (`from conftest import open_workspace, dump_index`),
and tests/e2e on sys.path, so every test folder imports the one LSP client helper (`lsp_client`).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aurora_lsp import protocol
from aurora_lsp.config import Settings
from aurora_lsp.context.activation import ActivationParameters
from aurora_lsp.context.engine import ContextRequest
from aurora_lsp.store.sqlite import SqliteStore
from aurora_lsp.workspace.service import WorkspaceService

sys.path.insert(0, str(Path(__file__).parent / "e2e"))
from lsp_client import start_server  # noqa: E402
from pytest_lsp import LanguageClient  # noqa: E402

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


@pytest_asyncio.fixture
async def server(shop: Path, tmp_path: Path) -> AsyncIterator[tuple[LanguageClient, Path]]:
    """A language server on a copy of `shop` over a real LSP client, and the workspace's root."""
    client = await start_server(shop, tmp_path / "index.sqlite3")
    yield client, shop
    if not client.stopped:
        await client.shutdown_session()


def open_workspace(root: Path, db: Path, **settings: object) -> WorkspaceService:
    return WorkspaceService.open(root, Settings(database_path=str(db), **settings))  # type: ignore[arg-type]


def ask(
    workspace: WorkspaceService,
    path: str | None,
    line: int | None,
    character: int = 0,
    query: str | None = None,
    token_budget: int | None = None,
    parameters: ActivationParameters | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The context answer as the wire has it, its uses recorded, as the command line asks."""
    budget = token_budget or workspace.settings.current.context_token_budget
    request = ContextRequest(path, line, character, query, budget, limit)
    answer: dict[str, Any] = protocol.to_wire(workspace.ask(request, parameters=parameters))
    return answer


def dump_index(
    root: Path, db: Path, *, refresh: bool = True, **settings: object
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the index of `root` in `db`, refreshed first unless `refresh` is False.

    Comparing it with the dump of a fresh database is how tests show an index is exactly right.
    """
    with open_workspace(root, db, **settings) as workspace:
        if refresh:
            workspace.refresh()
        return workspace.db.dump()


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
def stdlib_store(stdlib_db: Path) -> Iterator[SqliteStore]:
    """The indexed stdlib workspace's database, opened for one test."""
    store = SqliteStore(stdlib_db)
    yield store
    store.close()


@pytest.fixture
def workspace_factory(tmp_path: Path) -> Iterator[object]:
    opened: list[WorkspaceService] = []

    def make(root: Path, name: str = "index.sqlite3", **settings: object) -> WorkspaceService:
        workspace = open_workspace(root, tmp_path / name, **settings)
        opened.append(workspace)
        return workspace

    yield make
    for workspace in opened:
        try:
            workspace.close()
        except Exception:
            pass
