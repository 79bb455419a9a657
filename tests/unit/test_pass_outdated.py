"""A newer version of an open document stops jedi's pass over the older one at once.

The pass would be refused by the indexer at the next refresh anyway; until then its steps
held the GIL against the outline of the new version (edit -> documentSymbol on Django's
query.py). Real jedi on the `depot` fixture, a real SQLite index, the server's threads.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from aurora_lsp.workspace.inferring import Inference
from aurora_lsp.workspace.threads import Threads
from conftest import FIXTURES, open_workspace

ORDERS = "depot/orders.py"
PLACE = f"{ORDERS}::place"


def _hows(root: Path, db: Path) -> set[str]:
    with open_workspace(root, db) as workspace:
        return {how for _, _, how in workspace.db.dependencies(PLACE)}


@pytest.mark.parametrize("edited", [False, True])
def test_an_edit_stops_the_pass_of_the_older_version(tmp_path: Path, edited: bool) -> None:
    root = tmp_path / "depot"
    shutil.copytree(FIXTURES / "depot", root)
    db = tmp_path / "index.sqlite3"
    threads = Threads()
    with open_workspace(root, db) as workspace:
        workspace.refresh()
        text = (root / ORDERS).read_text()

        async def pass_of_version_1() -> None:
            inference = Inference(threads)
            inference.after_refresh(workspace, {ORDERS: text})
            [(_, task)] = inference._running.values()
            if edited:
                inference.outdated(workspace, ORDERS)
            await asyncio.gather(task, return_exceptions=True)
            assert task.cancelled() is edited

        try:
            asyncio.run(pass_of_version_1())
        finally:
            threads.shutdown()
    assert ("jedi" in _hows(root, db)) is not edited  # a finished pass wrote jedi's edges; a stopped one none
