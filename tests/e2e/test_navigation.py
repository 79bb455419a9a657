"""References, call hierarchy and type hierarchy end to end: a real LSP client, the shop workspace.

shop/models/base.py defines Record (save calls validate) and Product(Record); cart.py
defines Cart(Record), whose add calls save; services/pricing.py's total_price calls
apply_discount and Cart.total_cents. Positions are 0-based, as LSP counts them.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from lsp_client import TIMEOUT, RawSession, start_server
from lsprotocol import types
from pytest_lsp import LanguageClient

BASE = "shop/models/base.py"
CART = "shop/models/cart.py"
PRICING = "shop/services/pricing.py"


def span(line: int, start: int, end: int) -> types.Range:
    return types.Range(types.Position(line, start), types.Position(line, end))


def doc(root: Path, path: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=(root / path).as_uri())


async def references(client: LanguageClient, root: Path, path: str, line: int, character: int, declaration: bool):
    params = types.ReferenceParams(
        text_document=doc(root, path),
        position=types.Position(line, character),
        context=types.ReferenceContext(include_declaration=declaration),
    )
    found = await client.text_document_references_async(params) or []
    return [(Path(location.uri).name, location.range) for location in found]


async def prepare_calls(client: LanguageClient, root: Path, path: str, line: int, character: int):
    params = types.CallHierarchyPrepareParams(text_document=doc(root, path), position=types.Position(line, character))
    return await client.text_document_prepare_call_hierarchy_async(params)


async def prepare_types(client: LanguageClient, root: Path, path: str, line: int, character: int):
    params = types.TypeHierarchyPrepareParams(text_document=doc(root, path), position=types.Position(line, character))
    return await client.text_document_prepare_type_hierarchy_async(params)


def navigated(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT chunk_id FROM accesses WHERE event = 'navigate' ORDER BY at, chunk_id")
        return [row[0] for row in rows]


@pytest.mark.asyncio
async def test_references_across_files_at_the_name_and_at_a_use(server) -> None:
    client, shop = server
    validate = [("base.py", span(16, 8, 16)), ("base.py", span(14, 13, 21)), ("base.py", span(27, 13, 21))]
    assert await references(client, shop, BASE, 16, 10, declaration=True) == sorted(
        validate, key=lambda pair: pair[1].start.line
    )
    assert await references(client, shop, BASE, 16, 10, declaration=False) == [validate[1], validate[2]]
    # on the base class named in `class Cart(Record):` in another file: Record's references
    record = await references(client, shop, CART, 16, 13, declaration=False)
    assert record == [("base.py", span(22, 14, 20)), ("cart.py", span(16, 11, 17))]
    # on a call: the callee, declared in the same file, used by total_price
    assert await references(client, shop, PRICING, 18, 20, declaration=True) == [
        ("pricing.py", span(12, 4, 18)),
        ("pricing.py", span(18, 17, 31)),
    ]
    # a word naming no chunk (`math`), a position past the end, a file outside the workspace
    assert await references(client, shop, PRICING, 13, 12, declaration=True) == []
    assert await references(client, shop, PRICING, 500, 0, declaration=True) == []
    outside = shop.parent / "elsewhere.py"
    outside.write_text("def apply_discount():\n    pass\n")
    params = types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=outside.as_uri()),
        position=types.Position(0, 5),
        context=types.ReferenceContext(include_declaration=True),
    )
    assert list(await client.text_document_references_async(params) or []) == []


@pytest.mark.asyncio
async def test_call_hierarchy_incoming_and_outgoing(server) -> None:
    client, shop = server
    items = await prepare_calls(client, shop, PRICING, 18, 20)  # on the call of apply_discount
    assert items is not None and [(item.name, item.detail) for item in items] == [("apply_discount", PRICING)]
    item = items[0]
    assert item.uri == (shop / PRICING).as_uri() and item.selection_range == span(12, 4, 18)
    assert item.data == {"chunkId": f"{PRICING}::apply_discount"}
    incoming = await client.call_hierarchy_incoming_calls_async(types.CallHierarchyIncomingCallsParams(item=item))
    sites = [(call.from_.name, list(call.from_ranges)) for call in incoming or []]
    assert sites == [("total_price", [span(18, 17, 31)])]

    total_price = (await prepare_calls(client, shop, PRICING, 16, 6))[0]  # on its own name
    outgoing = await client.call_hierarchy_outgoing_calls_async(
        types.CallHierarchyOutgoingCallsParams(item=total_price)
    )
    assert [(call.to.name, call.to.detail, list(call.from_ranges)) for call in outgoing or []] == [
        ("total_cents", "Cart", [span(18, 37, 48)]),
        ("apply_discount", PRICING, [span(18, 17, 31)]),
    ]
    # an item whose data the client dropped is found again by its position
    bare = types.CallHierarchyItem(
        name="validate", kind=types.SymbolKind.Method, uri=(shop / BASE).as_uri(),
        range=span(16, 4, 18), selection_range=span(16, 8, 16),
    )  # fmt: skip
    callers = await client.call_hierarchy_incoming_calls_async(types.CallHierarchyIncomingCallsParams(item=bare))
    assert [(call.from_.name, call.from_.detail) for call in callers or []] == [
        ("__post_init__", "Product"),
        ("save", "Record"),
    ]
    assert await prepare_calls(client, shop, PRICING, 400, 0) is None


@pytest.mark.asyncio
async def test_type_hierarchy_supertypes_and_subtypes(server) -> None:
    client, shop = server
    record = await prepare_types(client, shop, BASE, 7, 8)
    assert record is not None and [item.name for item in record] == ["Record"]
    subtypes = await client.type_hierarchy_subtypes_async(types.TypeHierarchySubtypesParams(item=record[0]))
    assert [(item.name, Path(item.uri).name) for item in subtypes or []] == [
        ("Product", "base.py"),
        ("Cart", "cart.py"),
    ]
    # inside a method of Cart, on no name: the class around it
    cart = await prepare_types(client, shop, CART, 25, 0)
    assert cart is not None and [item.name for item in cart] == ["Cart"]
    supertypes = await client.type_hierarchy_supertypes_async(types.TypeHierarchySupertypesParams(item=cart[0]))
    assert [(item.name, Path(item.uri).name, item.kind) for item in supertypes or []] == [
        ("Record", "base.py", types.SymbolKind.Class)
    ]
    assert not await client.type_hierarchy_supertypes_async(types.TypeHierarchySupertypesParams(item=record[0]))


@pytest.mark.asyncio
async def test_an_open_document_is_navigated_as_the_editor_has_it(server) -> None:
    client, shop = server
    path = shop / PRICING
    text = path.read_text()
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    top = types.Position(0, 0)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(top, top), text="# new\n# lines\n")
            ],
        )
    )
    items = await prepare_calls(client, shop, PRICING, 20, 20)  # the call of apply_discount, two lines down
    assert items is not None and [item.name for item in items] == ["apply_discount"]


def item(root: Path, kind: type, chunk_id: str, line: int, start: int, end: int):
    """A hierarchy item as a client keeps it between requests."""
    path, _, qualname = chunk_id.partition("::")
    name = qualname.rpartition(".")[2]
    return kind(
        name=name, kind=types.SymbolKind.Class, uri=(root / path).as_uri(), range=span(line, start, end),
        selection_range=span(line, start, end), data={"chunkId": chunk_id},
    )  # fmt: skip


@pytest.mark.asyncio
async def test_each_request_naming_a_chunk_is_recorded_as_a_use(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "uses.sqlite3"
    client = await start_server(shop, db)
    call_item, type_item = types.CallHierarchyItem, types.TypeHierarchyItem
    await references(client, shop, BASE, 16, 10, declaration=True)  # Record.validate
    await prepare_calls(client, shop, PRICING, 16, 6)  # total_price
    apply_discount = item(shop, call_item, f"{PRICING}::apply_discount", 12, 4, 18)
    await client.call_hierarchy_incoming_calls_async(types.CallHierarchyIncomingCallsParams(item=apply_discount))
    await prepare_types(client, shop, BASE, 7, 8)  # Record
    cart = item(shop, type_item, f"{CART}::Cart", 16, 6, 10)
    await client.type_hierarchy_supertypes_async(types.TypeHierarchySupertypesParams(item=cart))
    product = item(shop, type_item, f"{BASE}::Product", 22, 6, 13)
    await client.type_hierarchy_subtypes_async(types.TypeHierarchySubtypesParams(item=product))
    await references(client, shop, PRICING, 13, 12, declaration=True)  # `math`: names no chunk
    await references(client, shop, BASE, 16, 10, declaration=False)  # a repeat within a minute
    await client.shutdown_session()
    assert sorted(navigated(db)) == [
        f"{BASE}::Product",
        f"{BASE}::Record",
        f"{BASE}::Record.validate",
        f"{CART}::Cart",
        f"{PRICING}::apply_discount",
        f"{PRICING}::total_price",
    ]


@pytest.mark.asyncio
async def test_record_accesses_false_records_no_navigation(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "read-only.sqlite3"
    client = await start_server(shop, db, recordAccesses=False)
    assert await references(client, shop, BASE, 16, 10, declaration=False) != []
    items = await prepare_calls(client, shop, PRICING, 18, 20)
    assert await client.call_hierarchy_incoming_calls_async(types.CallHierarchyIncomingCallsParams(item=items[0]))
    await client.shutdown_session()
    assert navigated(db) == []


@pytest.mark.asyncio
async def test_capabilities_and_malformed_params(shop: Path, tmp_path: Path) -> None:
    session = await RawSession.start()
    try:
        capabilities = (await session.initialize(shop, tmp_path / "raw.sqlite3"))["result"]["capabilities"]
        assert capabilities["referencesProvider"] and capabilities["callHierarchyProvider"]
        assert capabilities["typeHierarchyProvider"]
        uri = (shop / PRICING).as_uri()
        for method, params in [
            ("textDocument/references", {"textDocument": {"uri": uri}, "position": {"line": "x", "character": 0}}),
            ("textDocument/references", {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 0}}),
            ("textDocument/prepareCallHierarchy", {"textDocument": 5, "position": {"line": 1, "character": 0}}),
            ("callHierarchy/incomingCalls", {"item": {"name": "x"}}),
            ("typeHierarchy/subtypes", {}),
        ]:
            reply = await session.request(method, params)
            assert reply.get("error", {}).get("code") == -32602, (method, reply)
        while (await session.request("aurora/stats", None))["result"]["indexing"]["lastRunSeconds"] is None:
            await asyncio.sleep(0.05)
        position = {"line": 18, "character": 20}
        reply = await session.request(
            "textDocument/prepareCallHierarchy", {"textDocument": {"uri": uri}, "position": position}
        )
        assert [item["name"] for item in reply["result"]] == ["apply_discount"]
        assert (await session.request("shutdown", None))["result"] is None
        session.send({"method": "exit"})
        assert await asyncio.wait_for(session.process.wait(), TIMEOUT) == 0
    finally:
        if session.process.returncode is None:
            session.process.kill()
