"""The language server end to end: a real LSP client (pytest-lsp) over stdio, real files."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from lsp_client import TIMEOUT, RawSession, eventually, outline, start_server, stats_of, symbols
from lsprotocol import types


def names(tree: list[Any]) -> list[Any]:
    return [(s.name, names(s.children or [])) if s.children else s.name for s in tree]


@pytest.mark.asyncio
async def test_indexing_reports_progress_and_finds_methods_and_nested_functions(server) -> None:
    client, shop = server
    reports = [report for values in client.progress_reports.values() for report in values]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].title == "Aurora: indexing"
    assert any(isinstance(r, types.WorkDoneProgressReport) and r.percentage == 100 for r in reports)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and "21 chunks" in (reports[-1].message or "")

    nested = await symbols(client, "line_total")
    assert [(s.name, s.container_name, s.kind) for s in nested][0] == (
        "line_total",
        "Cart.total_cents",
        types.SymbolKind.Function,
    )
    method = (await symbols(client, "CartLine.subtotal"))[0]
    assert (method.name, method.container_name, method.kind) == ("subtotal_cents", "CartLine", types.SymbolKind.Method)
    assert method.location.uri == (shop / "shop/models/cart.py").as_uri()
    assert method.location.range.start == types.Position(12, 4)
    fuzzy = await symbols(client, "totcents")
    assert fuzzy[0].name == "total_cents"


@pytest.mark.asyncio
async def test_document_symbols_follow_the_file_structure(server) -> None:
    client, shop = server
    tree = await outline(client, shop / "shop/models/cart.py")
    assert names(tree) == [
        ("CartLine", ["__init__", "subtotal_cents"]),
        ("Cart", ["__init__", "add", ("total_cents", ["line_total"])]),
    ]
    cart = tree[1]
    assert cart.kind == types.SymbolKind.Class
    assert cart.selection_range == types.Range(types.Position(16, 6), types.Position(16, 10))
    assert cart.range.start == types.Position(16, 0) and cart.range.end.line == 33
    assert cart.detail == "class Cart(Record)"


@pytest.mark.asyncio
async def test_edits_show_in_document_and_workspace_symbols(server) -> None:
    client, shop = server
    path = shop / "shop/services/pricing.py"
    uri = path.as_uri()
    text = path.read_text()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    lines = text.splitlines()
    end = types.Position(len(lines), 0)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(end, end), text="\n\ndef brand_new():\n    pass\n"
                )
            ],
        )
    )
    line = next(i for i, text_line in enumerate(lines) if text_line.startswith("def apply_discount"))
    start, stop = types.Position(line, 4), types.Position(line, 4 + len("apply_discount"))
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(start, stop), text="apply_rebate")
            ],
        )
    )
    top = [s.name for s in await outline(client, path)]
    assert top == ["apply_rebate", "total_price", "fetch_exchange_rate", "make_line", "brand_new"]

    async def renamed_everywhere() -> bool:
        return [s.name for s in await symbols(client, "apply_rebate")][:1] == ["apply_rebate"] and not [
            s for s in await symbols(client, "apply_discount") if s.name == "apply_discount"
        ]

    await eventually(renamed_everywhere)
    assert (await symbols(client, "brand_new"))[0].location.uri == uri
    # closing without saving: the file is what is on disk again
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=uri)))

    async def back_to_disk() -> bool:
        return not [s for s in await symbols(client, "brand_new") if s.name == "brand_new"]

    await eventually(back_to_disk)
    assert (await symbols(client, "total_pr"))[0].name == "total_price"  # a partial query: not a use
    assert (await symbols(client, "total_price"))[0].name == "total_price"  # the exact name: a use
    await client.shutdown_session()
    with sqlite3.connect(shop.parent / "index.sqlite3") as db:
        events = dict(db.execute("SELECT event, count(*) FROM accesses GROUP BY event").fetchall())
        edited = [row[0] for row in db.execute("SELECT chunk_id FROM accesses WHERE event = 'edit'")]
        asked = [row[0] for row in db.execute("SELECT chunk_id FROM accesses WHERE event = 'symbol'")]
    assert events["open"] == 4  # the four functions of pricing.py when it was opened
    assert "shop/services/pricing.py::apply_discount" in edited or "shop/services/pricing.py::apply_rebate" in edited
    assert asked.count("shop/services/pricing.py::total_price") == 1
    assert "shop/services/pricing.py::brand_new" in asked


@pytest.mark.asyncio
async def test_changes_on_disk_arrive_through_watched_files(server) -> None:
    client, shop = server
    new_file = shop / "shop/services/shipping.py"
    new_file.write_text("class Courier:\n    def ship_parcel(self):\n        return 1\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=new_file.as_uri(), type=types.FileChangeType.Created)]
        )
    )

    async def found() -> bool:
        return [s.name for s in await symbols(client, "ship_parcel")][:1] == ["ship_parcel"]

    await eventually(found)
    new_file.unlink()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=new_file.as_uri(), type=types.FileChangeType.Deleted)]
        )
    )

    async def gone() -> bool:
        return not await symbols(client, "ship_parcel")

    await eventually(gone)


@pytest.mark.asyncio
async def test_tiny_memory_budget_is_obeyed_and_reported(shop: Path, tmp_path: Path) -> None:
    client = await start_server(shop, tmp_path / "tiny.sqlite3", memoryBudgetMb=0.005, maxChunks="many")
    try:
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert warnings == ["aurora.maxChunks: expected an integer, got 'many'; using the default"]
        for query in ("Cart", "total", "line", "price", "save", "init"):
            assert await symbols(client, query)
        stats = await stats_of(client)
        assert stats["memoryBudgetBytes"] == int(0.005 * 1024 * 1024) and stats["maxChunks"] == 50000
        assert 0 < stats["residentBytes"] <= stats["memoryBudgetBytes"]
        assert stats["residentChunks"] < stats["chunks"] == 21
        assert stats["evictions"] > 0
    finally:
        await client.shutdown_session()


@pytest.mark.asyncio
async def test_restart_on_an_unchanged_workspace_rechunks_nothing(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "restart.sqlite3"
    first = await start_server(shop, db)
    assert (await stats_of(first))["indexing"]["lastRun"]["changed"] == 6
    await first.shutdown_session()
    second = await start_server(shop, db)
    try:
        stats = await stats_of(second)
        assert stats["indexing"]["lastRun"] == {"changed": 0, "unchanged": 6, "removed": 0}
        assert stats["chunks"] == 21
    finally:
        await second.shutdown_session()


@pytest.mark.asyncio
async def test_malformed_params_get_invalid_params_and_the_server_keeps_answering(shop: Path, tmp_path: Path) -> None:
    session = await RawSession.start()
    try:
        answer = await session.initialize(shop, tmp_path / "raw.sqlite3")
        assert answer["result"]["capabilities"]["workspaceSymbolProvider"]
        for method, params in [
            ("workspace/symbol", {"query": 42}),
            ("textDocument/documentSymbol", {"textDocument": 5}),
            ("aurora/reindex", {"full": "yes"}),
        ]:
            reply = await session.request(method, params)
            assert reply.get("error", {}).get("code") == -32602, (method, reply)
        unknown = await session.request("textDocument/documentSymbol", {"textDocument": {"uri": "untitled:Untitled-1"}})
        assert unknown["result"] == []
        session.next_id += 1  # a request may leave out params altogether (Neovim does)
        session.send({"id": session.next_id, "method": "aurora/stats"})
        while (reply := await asyncio.wait_for(session.receive(), TIMEOUT)).get("id") != session.next_id:
            pass
        assert set(reply["result"]) >= {"chunks", "residentBytes", "indexing"}
        reindexed = await session.request("aurora/reindex", {"full": True})
        assert reindexed["result"]["chunks"] == 21
        found = await session.request("workspace/symbol", {"query": "Cart"})
        assert found["result"][0]["name"] == "Cart"
        assert (await session.request("shutdown", None))["result"] is None
        session.send({"method": "exit"})
        assert await asyncio.wait_for(session.process.wait(), TIMEOUT) == 0
    finally:
        if session.process.returncode is None:
            session.process.kill()


@pytest.mark.asyncio
async def test_workspace_folders_can_be_added_and_removed(server, tmp_path: Path) -> None:
    client, _ = server
    other = tmp_path / "other"
    other.mkdir()
    (other / "tools.py").write_text("def sharpen_pencil():\n    return 1\n")
    folder = types.WorkspaceFolder(uri=other.as_uri(), name="other")
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(types.WorkspaceFoldersChangeEvent(added=[folder], removed=[]))
    )

    async def found() -> bool:
        return [s.location.uri for s in await symbols(client, "sharpen_pencil")] == [(other / "tools.py").as_uri()]

    await eventually(found)
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(types.WorkspaceFoldersChangeEvent(added=[], removed=[folder]))
    )

    async def gone() -> bool:
        return not await symbols(client, "sharpen_pencil") and bool(await symbols(client, "Cart"))

    await eventually(gone)
