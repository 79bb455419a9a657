"""textDocument/definition and the context's cursor source, end to end: a real LSP client over
stdio, the `depot` workspace (see tests/unit/test_inference.py), real jedi and SQLite."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from aurora_lsp.store.sqlite import SqliteStore
from conftest import FIXTURES
from lsp_client import RawSession, eventually, request, start_server
from lsprotocol import types
from pytest_lsp import LanguageClient

ORDERS = "depot/orders.py"
STOCK = "depot/stock.py"


@pytest.fixture
def depot(tmp_path: Path) -> Path:
    target = tmp_path / "depot"
    shutil.copytree(FIXTURES / "depot", target)
    return target


def position_of(root: Path, path: str, line_text: str, word: str) -> types.Position:
    lines = (root / path).read_text().splitlines()
    line = lines.index(line_text)
    return types.Position(line, lines[line].index(word) + 1)


async def definition(client: LanguageClient, root: Path, path: str, position: types.Position) -> list[Any]:
    params = types.DefinitionParams(types.TextDocumentIdentifier((root / path).as_uri()), position)
    found = await client.text_document_definition_async(params)
    assert isinstance(found, list)
    return [(Path(urlparse(location.uri).path).relative_to(root).as_posix(), location.range) for location in found]


def span(line: int, start: int, end: int) -> types.Range:
    return types.Range(types.Position(line, start), types.Position(line, end))


def open_document(client: LanguageClient, root: Path, path: str) -> None:
    item = types.TextDocumentItem((root / path).as_uri(), "python", 1, (root / path).read_text())
    client.text_document_did_open(types.DidOpenTextDocumentParams(item))


async def jedi_pass_done(db: Path) -> None:
    """Until the pass over the opened orders.py wrote its edges (place -> Journal.record, how jedi).

    Asking after it keeps the tests apart from how fast jedi is: a request waits for jedi
    only so long (GOTO_SECONDS), and the pass leaves the document's jedi Script warm."""

    async def written() -> bool:
        store = SqliteStore(db)
        try:
            edges = store.dependencies(f"{ORDERS}::place")
        finally:
            store.close()
        return [how for target, _, how in edges if target == f"{STOCK}::Journal.record"] == ["jedi"]

    await eventually(written)


@pytest.mark.asyncio
async def test_definition_in_the_same_file_through_an_import_and_through_an_inferred_local(
    depot: Path, tmp_path: Path
) -> None:
    db = tmp_path / "index.sqlite3"
    client = await start_server(depot, db)
    try:
        open_document(client, depot, ORDERS)
        await jedi_pass_done(db)
        same_file = position_of(depot, ORDERS, "    return sum(1 for sku in skus if place(sku, 1))", "place(")
        assert await definition(client, depot, ORDERS, same_file) == [(ORDERS, span(5, 4, 9))]
        imported = position_of(depot, ORDERS, "    inventory = open_inventory()", "open_inventory")
        assert await definition(client, depot, ORDERS, imported) == [(STOCK, span(38, 4, 18))]
        # `journal = open_journal()`: jedi follows the return value to Journal, not Ledger
        inferred = position_of(depot, ORDERS, '    journal.record(f"placed {sku}")', "record")
        assert await definition(client, depot, ORDERS, inferred) == [(STOCK, span(26, 8, 14))]
        # list.append is not in the workspace: no answer (never Shelf.append, the edge's guess)
        outside = position_of(depot, ORDERS, '    lines.append("end")', "append")
        assert await definition(client, depot, ORDERS, outside) == []
        # jedi cannot type `store`: the resolved edge answers
        guessed = position_of(depot, ORDERS, "    store.restock(sku, 10)", "restock")
        assert await definition(client, depot, ORDERS, guessed) == [(STOCK, span(13, 8, 15))]
        # a file that is not open: the edges answer (jedi serves the open documents)
        closed = position_of(depot, STOCK, "    return Inventory()", "Inventory")
        assert await definition(client, depot, STOCK, closed) == [(STOCK, span(3, 6, 15))]
        closed = position_of(depot, STOCK, "        self.entries.append(line)", "entries")
        assert await definition(client, depot, STOCK, closed) == []
        assert await definition(client, depot, ORDERS, types.Position(400, 0)) == []  # past the end
        assert await definition(client, depot, ORDERS, types.Position(5, 400)) == []
    finally:
        await client.shutdown_session()
    with sqlite3.connect(db) as connection:
        navigated = {row[0] for row in connection.execute("SELECT chunk_id FROM accesses WHERE event = 'navigate'")}
    assert {f"{ORDERS}::place", f"{STOCK}::open_inventory", f"{STOCK}::Journal.record"} <= navigated


@pytest.mark.asyncio
async def test_malformed_definition_params_get_invalid_params_and_the_server_keeps_serving(
    depot: Path, tmp_path: Path
) -> None:
    session = await RawSession.start()
    try:
        await session.initialize(depot, tmp_path / "index.sqlite3")

        async def indexed() -> bool:
            stats = await session.request("aurora/stats", None)
            return bool(stats["result"]["indexing"]["lastRunSeconds"] is not None)

        await eventually(indexed)
        uri = (depot / ORDERS).as_uri()
        for params in ({"textDocument": {"uri": uri}}, {"textDocument": {"uri": uri}, "position": {"line": -1}}):
            answer = await session.request("textDocument/definition", params)
            assert answer["error"]["code"] == -32602
        answer = await session.request(
            "textDocument/definition", {"textDocument": {"uri": uri}, "position": {"line": 5, "character": 5}}
        )
        assert answer["result"] == [
            {"uri": uri, "range": {"start": {"line": 5, "character": 4}, "end": {"line": 5, "character": 9}}}
        ]
    finally:
        session.process.kill()
        await session.process.wait()


@pytest.mark.asyncio
async def test_the_definition_under_the_cursor_joins_the_context_and_an_open_document_gets_jedi_edges(
    depot: Path, tmp_path: Path
) -> None:
    db = tmp_path / "index.sqlite3"
    client = await start_server(depot, db, contextTokenBudget=1200)
    try:
        open_document(client, depot, ORDERS)
        await jedi_pass_done(db)  # the open document's jedi edges are written
        cursor = position_of(depot, ORDERS, '    journal.record(f"placed {sku}")', "record")
        params = {
            "textDocument": {"uri": (depot / ORDERS).as_uri()},
            "position": {"line": cursor.line, "character": cursor.character},
        }
        answer: dict[str, Any] = await request(client, "aurora/context", params)
        assert answer["focus"] == f"{ORDERS}::place"
        items = {item["id"]: item for item in answer["items"]}
        record = items[f"{STOCK}::Journal.record"]
        assert "the definition under the cursor" in record["why"]
        assert record["detail"] == "full"
    finally:
        await client.shutdown_session()
