"""jedi's edges for open documents, with real jedi on the `depot` fixture and a real SQLite index.

depot/orders.py::place makes `inventory = open_inventory()` (a return type static resolution
cannot read: `.reserve` is a guess) and `journal = open_journal()` (unannotated; `.record`
is defined twice, so static resolution has no edge at all); summary calls `lines.append`,
which static resolution guesses is the workspace's one `append`, Shelf.append.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from aurora_lsp.index.inferred import Goto, Site
from aurora_lsp.workspace.service import WorkspaceService
from conftest import FIXTURES, open_workspace

ORDERS = "depot/orders.py"
STOCK = "depot/stock.py"
PLACE = f"{ORDERS}::place"
SUMMARY = f"{ORDERS}::summary"


@pytest.fixture
def depot(tmp_path: Path) -> Path:
    target = tmp_path / "depot"
    shutil.copytree(FIXTURES / "depot", target)
    return target


def edges_of(workspace: WorkspaceService, source: str) -> dict[str, str]:
    """target -> how, of a chunk's outgoing edges."""
    return {target: how for target, _, how in workspace.db.dependencies(source)}


def infer(workspace: WorkspaceService, path: str, text: str) -> None:
    """A whole pass of jedi over a document, its edges written as the server does."""
    inference = workspace.start_inference(path, text)
    while not workspace.continue_inference(inference, 0.05):
        pass
    assert workspace.record_inferred(inference.inferred) is not None


def test_jedi_confirms_one_guess_drops_a_wrong_one_and_adds_what_static_resolution_missed(
    depot: Path, tmp_path: Path
) -> None:
    text = (depot / ORDERS).read_text()
    with open_workspace(depot, tmp_path / "index.sqlite3") as workspace:
        workspace.refresh(buffers={ORDERS: text})
        assert edges_of(workspace, PLACE)[f"{STOCK}::Inventory.reserve"] == "attr-unique"
        assert f"{STOCK}::Journal.record" not in edges_of(workspace, PLACE)
        assert edges_of(workspace, SUMMARY) == {f"{STOCK}::Shelf.append": "attr-unique"}

        infer(workspace, ORDERS, text)
        place = edges_of(workspace, PLACE)
        assert place[f"{STOCK}::Inventory.reserve"] == "jedi"  # the guess, confirmed
        assert place[f"{STOCK}::Journal.record"] == "jedi"  # a call on a local of inferred type
        assert place[f"{STOCK}::Ledger.record"] == "typed"  # static answers stay as they were
        assert f"{STOCK}::Journal.record" in place and len(place) == 6
        assert edges_of(workspace, SUMMARY) == {}  # lines.append is list.append, not Shelf.append
        # refill's `store` has no type jedi can find: its guess stays
        assert edges_of(workspace, f"{ORDERS}::refill") == {f"{STOCK}::Inventory.restock": "attr-unique"}


def test_jedi_edges_survive_a_refresh_and_go_with_their_version_or_when_the_document_closes(
    depot: Path, tmp_path: Path
) -> None:
    text = (depot / ORDERS).read_text()
    with open_workspace(depot, tmp_path / "index.sqlite3") as workspace:
        workspace.refresh(buffers={ORDERS: text})
        infer(workspace, ORDERS, text)
        # a change elsewhere re-resolves place (it uses Journal): jedi's edges are joined again
        stock = depot / STOCK
        stock.write_text(stock.read_text().replace("print(line)", "print(line, flush=True)"))
        report = workspace.refresh(buffers={ORDERS: text})
        assert report.resolved_sources > 0
        assert edges_of(workspace, PLACE)[f"{STOCK}::Journal.record"] == "jedi"
        assert SUMMARY not in {source for source, *_ in workspace.db.dump()["edges"]}

        # a full re-index keeps them too
        workspace.refresh(full=True, buffers={ORDERS: text})
        assert edges_of(workspace, PLACE)[f"{STOCK}::Journal.record"] == "jedi"

        # a pass of an older version is refused once another version is indexed
        edited = text.replace("    lines.append", "    lines.append('start')\n    lines.append")
        workspace.refresh(buffers={ORDERS: edited})
        assert edges_of(workspace, SUMMARY) == {f"{STOCK}::Shelf.append": "attr-unique"}  # static again
        assert "jedi" not in edges_of(workspace, PLACE).values()  # its text stayed, jedi's edges went
        stale = workspace.start_inference(ORDERS, text)
        while not workspace.continue_inference(stale, 0.05):
            pass
        assert workspace.record_inferred(stale.inferred) is None

        # closing the document gives its chunks their static edges back
        infer(workspace, ORDERS, edited)
        assert f"{STOCK}::Journal.record" in edges_of(workspace, PLACE)
        workspace.forget_inferred(ORDERS)
        assert edges_of(workspace, PLACE)[f"{STOCK}::Inventory.reserve"] == "attr-unique"
        assert f"{STOCK}::Journal.record" not in edges_of(workspace, PLACE)


def test_goto_follows_imports_and_stays_in_the_workspace(depot: Path, tmp_path: Path) -> None:
    text = (depot / ORDERS).read_text()
    lines = text.splitlines()
    with open_workspace(depot, tmp_path / "index.sqlite3") as workspace:
        workspace.refresh()
        line = lines.index('    journal.record(f"placed {sku}")')
        found = workspace.goto(ORDERS, text, line, lines[line].index("record") + 2)
        assert found == Goto("record", (Site(STOCK, 26, 8, 14, "record", "function"),))
        # through an import
        line = lines.index("    inventory = open_inventory()")
        found = workspace.goto(ORDERS, text, line, lines[line].index("open_inventory"))
        assert [(site.path, site.name) for site in found.sites or ()] == [(STOCK, "open_inventory")]
        # no name at the position (a keyword, a blank): jedi is not asked
        assert workspace.goto(ORDERS, text, line - 1, 0) == Goto("def", ())
        # list.append lives outside the workspace: a site with no path, never a location
        line = lines.index('    lines.append("end")')
        found = workspace.goto(ORDERS, text, line, lines[line].index("append"))
        assert found.sites and not any(site.in_workspace for site in found.sites)
        assert workspace.definitions(ORDERS, line, 10, found) == []
        # past the end of the document: nothing
        assert workspace.goto(ORDERS, text, len(lines) + 5, 0).sites is None
        assert workspace.goto(ORDERS, text, line, 500).sites is None


def test_definition_falls_back_to_the_edges_when_jedi_finds_nothing(depot: Path, tmp_path: Path) -> None:
    text = (depot / ORDERS).read_text()
    lines = text.splitlines()
    line = lines.index("    store.restock(sku, 10)")
    with open_workspace(depot, tmp_path / "index.sqlite3") as workspace:
        workspace.refresh()
        found = workspace.goto(ORDERS, text, line, lines[line].index("restock"))
        assert found.sites == ()  # jedi cannot know what `store` is
        answer = workspace.definitions(ORDERS, line, lines[line].index("restock"), found)
        assert [d.chunk_id for d in answer] == [f"{STOCK}::Inventory.restock"]
        # jedi out of time (no answer at all): the same, from the word in the chunk's text
        answer = workspace.definitions(ORDERS, line, lines[line].index("restock") + 3, None)
        assert [d.chunk_id for d in answer] == [f"{STOCK}::Inventory.restock"]
