"""A branch switch in a real git repository, refreshed incrementally, equals a fresh index.

The workspace is the standard library's asyncio (re-exports through `import *`, class
hierarchies across modules) and a small app that uses it by its public names. A second
branch changes it the ways that reach unchanged files: a renamed method, a module gone and
one new, a dropped `import *`, a class given another base, an alias re-exported, a new
function whose name an attribute guess used. The app itself does not change. Both ways, the refreshed index must equal a
fresh index of the same tree, edges included, while re-resolving only part of it.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import dump_index, open_workspace

ASYNCIO = Path(asyncio.__file__).resolve().parent

APP = {  # each function reaches the change through one door
    "app/__init__.py": "from app.loop import *\n",
    "app/loop.py": (
        "import asyncio\n"
        "from asyncio import BoundedSemaphore as Gate\n"
        "from asyncio.events import AbstractEventLoop\n\n\n"
        "class AppLoop(AbstractEventLoop):\n"
        "    def start(self):\n"
        "        return self.run_until_done(None)\n\n"
        "    def stop(self):\n"
        "        return super().stop()\n\n\n"
        "def race():\n"
        "    return asyncio.staggered.staggered_race([], None)\n\n\n"
        "def drain(item):\n"
        "    return item.drain_everything()\n"
    ),
    "app/use.py": (
        "from app import AppLoop\n"
        "from app.loop import Gate as Limit\n\n\n"
        "def limit():\n"
        "    return Limit()\n\n\n"
        "def main():\n"
        "    loop = AppLoop()\n"
        "    return loop.run_until_done(None)\n"
    ),
}

# (path, old text, new text): each must apply to the asyncio of every supported Python
EDITS = [
    ("asyncio/events.py", "def run_until_complete(self, future):", "def run_until_done(self, future):"),
    ("asyncio/__init__.py", "from .locks import *\n", ""),
    (
        "asyncio/selector_events.py",
        "class BaseSelectorEventLoop(base_events.BaseEventLoop):",
        "class BaseSelectorEventLoop(events.AbstractEventLoop):",
    ),
]


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Aurora", "-c", "user.email=aurora@example.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """asyncio and the app on branch `main`; branch `other` with EDITS, a module gone and one new."""
    root = tmp_path / "repo"
    shutil.copytree(ASYNCIO, root / "asyncio", ignore=shutil.ignore_patterns("__pycache__"))
    for path, text in APP.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "main")
    git(root, "checkout", "-q", "-b", "other")
    for path, old, new in EDITS:
        text = (root / path).read_text()
        assert old in text, f"{path} no longer has {old!r}"
        (root / path).write_text(text.replace(old, new, 1))
    git(root, "rm", "-q", "asyncio/staggered.py")
    (root / "asyncio/extra.py").write_text(
        "from .events import *\n\n\n"
        "class ExtraLoop(AbstractEventLoop):\n"
        "    def run_until_complete(self, future):\n"
        "        return future\n\n\n"
        "def drain_everything():\n"
        "    return None\n"
    )
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "other")
    git(root, "checkout", "-q", "main")
    return root


def test_branch_switch_both_ways_equals_a_fresh_index(repository: Path, tmp_path: Path) -> None:
    with open_workspace(repository, tmp_path / "live.sqlite3") as live:
        total = live.refresh().chunks
        for number, branch in enumerate(("other", "main")):
            git(repository, "checkout", "-q", branch)
            report = live.refresh()
            assert report.changed_paths  # the switch was seen
            fresh = dump_index(repository, tmp_path / f"fresh-{number}.sqlite3")
            assert live.db.dump() == fresh
            assert 0 < report.resolved_sources < total  # incremental: not every chunk again


def test_the_switch_moves_the_edges_that_cross_files(repository: Path, tmp_path: Path) -> None:
    """The unchanged app follows the changes it reaches only through other files."""
    with open_workspace(repository, tmp_path / "live.sqlite3") as live:
        live.refresh()

        def targets(chunk_id: str) -> set[str]:
            return {target for target, _, _ in live.chunks.dependencies(chunk_id)}

        # through app.loop's alias of what asyncio re-exports with `from .locks import *`
        assert "asyncio/locks.py::BoundedSemaphore" in targets("app/use.py::limit")
        assert not targets("app/loop.py::AppLoop.start")  # no such method yet
        assert targets("app/use.py::main") == {"app/loop.py::AppLoop"}
        assert "asyncio/staggered.py::staggered_race" in targets("app/loop.py::race")
        assert not targets("app/loop.py::drain")
        git(repository, "checkout", "-q", "other")
        report = live.refresh()
        assert not {"app/__init__.py", "app/loop.py", "app/use.py"} & set(report.changed_paths)
        assert "asyncio/locks.py::BoundedSemaphore" not in targets("app/use.py::limit")
        renamed = "asyncio/events.py::AbstractEventLoop.run_until_done"
        assert renamed in targets("app/loop.py::AppLoop.start") and renamed in targets("app/use.py::main")
        assert not targets("app/loop.py::race")
        assert targets("app/loop.py::drain") == {"asyncio/extra.py::drain_everything"}  # a guess, unique now
