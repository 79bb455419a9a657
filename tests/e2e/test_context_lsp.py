"""aurora/context end to end: a real LSP client over stdio, a real workspace and database."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from lsp_client import eventually, request, start_server
from lsprotocol import types
from pytest_lsp import LanguageClient

PRICING = "shop/services/pricing.py"


async def context(client: LanguageClient, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = await request(client, "aurora/context", params)
    return result


def ids(answer: dict[str, Any]) -> list[str]:
    return [item["id"] for item in answer["items"]]


@pytest.mark.asyncio
async def test_a_focus_on_a_call_site_brings_in_the_callee_and_its_class(shop: Path, tmp_path: Path) -> None:
    client = await start_server(shop, tmp_path / "index.sqlite3", contextTokenBudget=600)
    try:
        uri = (shop / PRICING).as_uri()
        line = (
            (shop / PRICING)
            .read_text()
            .splitlines()
            .index("    discounted = apply_discount(cart.total_cents(), discount_percent)")
        )
        answer = await context(client, textDocument={"uri": uri}, position={"line": line, "character": 40})
    finally:
        await client.shutdown_session()
    assert answer["focus"] == f"{PRICING}::total_price"
    assert answer["tokenBudget"] == 600  # the setting is the default budget
    assert answer["usedTokens"] == sum(item["tokens"] for item in answer["items"]) <= 600
    found = ids(answer)
    assert found[0] == answer["focus"] and answer["items"][0]["detail"] == "full"
    assert {"shop/models/cart.py::Cart.total_cents", "shop/models/cart.py::Cart", f"{PRICING}::apply_discount"} <= set(
        found
    )
    item = answer["items"][found.index("shop/models/cart.py::Cart.total_cents")]
    assert item["uri"] == (shop / "shop/models/cart.py").as_uri()
    assert item["range"]["start"] == {"line": 29, "character": 4}
    assert item["text"].startswith("    def total_cents(self) -> int:")  # whole lines, as in the file
    assert set(item["activation"]) == {"base", "spreading", "context", "total"}
    assert "calls Cart.total_cents" in item["why"]


@pytest.mark.asyncio
async def test_opening_and_editing_raise_chunks_and_a_restart_keeps_the_memory(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    target = "shop/models/cart.py::CartLine.subtotal_cents"
    client = await start_server(shop, db)
    try:
        before = ids(await context(client, query="cents", limit=50))
        path = shop / "shop/models/cart.py"
        text = path.read_text()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=path.as_uri(), language_id="python", version=1, text=text)
            )
        )
        line = text.splitlines().index("        return self.product.price_cents * self.quantity")
        where = types.Range(types.Position(line, 8), types.Position(line, 8))
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=2),
                content_changes=[types.TextDocumentContentChangePartial(range=where, text="# a note\n        ")],
            )
        )
        after: list[str] = []

        async def risen() -> bool:  # uses are written in the background, never holding up an answer
            nonlocal after
            after = ids(await context(client, query="cents", limit=50))
            return target in after and after.index(target) < before.index(target)

        await eventually(risen)
    finally:
        await client.shutdown_session()
    rank_before = before.index(target) if target in before else len(before)
    assert after.index(target) < rank_before
    with sqlite3.connect(db) as connection:
        events = {row[0] for row in connection.execute("SELECT event FROM accesses WHERE chunk_id = ?", [target])}
    assert {"open", "edit"} <= events

    restarted = await start_server(shop, db)
    try:
        remembered = await context(restarted, query="cents", limit=50)
    finally:
        await restarted.shutdown_session()
    assert ids(remembered).index(target) < rank_before
    why = remembered["items"][ids(remembered).index(target)]["why"]
    assert "1 edit" in why and "1 open" in why


@pytest.mark.asyncio
async def test_empty_workspace_unknown_documents_and_bad_params(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    client = await start_server(empty, tmp_path / "index.sqlite3")
    try:
        assert await context(client, query="anything") == {
            "focus": None,
            "tokenBudget": 2000,
            "usedTokens": 0,
            "items": [],
            "namesOnlyTokens": 0,
        }
        untitled = await context(
            client, textDocument={"uri": "untitled:Untitled-1"}, position={"line": 3, "character": 0}
        )
        assert untitled["items"] == [] and untitled["focus"] is None
        for bad in (
            {},
            {"position": {"line": 1, "character": 0}},
            {"query": 5},
            {"query": "x", "tokenBudget": 0},
            {"query": "x", "limit": "ten"},
            {"textDocument": {"uri": (empty / "a.py").as_uri()}, "position": {"line": -1, "character": 0}},
        ):
            with pytest.raises(Exception) as error:
                await context(client, **bad)
            assert "-32602" in str(error.value) or "InvalidParams" in type(error.value).__name__, bad
        assert (await context(client, query="still serving"))["items"] == []
    finally:
        await client.shutdown_session()
