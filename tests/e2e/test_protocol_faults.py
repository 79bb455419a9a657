"""What a careless or hostile client sends: requests after shutdown, cancels at random,
unknown schemes, files outside the workspace, positions past the end, a burst of
watched-file events. Each gets the right answer or LSP error, and the server keeps serving."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest
from conftest import dump_index
from lsp_client import TIMEOUT, RawSession, eventually, outline, request, start_server, symbols, wait_until
from lsprotocol import types


async def _replies(session: RawSession, ids: set[int], seen: list[str]) -> dict[int, dict[str, Any]]:
    replies: dict[int, dict[str, Any]] = {}
    while not ids <= set(replies):
        message = await asyncio.wait_for(session.receive(), TIMEOUT)
        if "method" in message:
            seen.append(message["method"])
        if "method" in message and "id" in message:  # the server asks something: answer it
            session.send({"id": message["id"], "result": None})
        elif message.get("id") in ids:
            assert message["id"] not in replies, "two answers to one request"
            replies[message["id"]] = message
    return replies


@pytest.mark.asyncio
async def test_random_cancels_get_an_answer_or_request_cancelled(shop: Path, tmp_path: Path) -> None:
    session = await RawSession.start()
    try:
        await session.initialize(shop, tmp_path / "index.sqlite3")
        rng = random.Random(7)
        uri = (shop / "shop/models/cart.py").as_uri()
        requests = [
            ("workspace/symbol", {"query": "cart"}),
            ("aurora/context", {"query": "total cents"}),
            ("aurora/context", {"textDocument": {"uri": uri}, "position": {"line": 30, "character": 8}}),
            ("aurora/stats", None),
            ("textDocument/documentSymbol", {"textDocument": {"uri": uri}}),
        ]
        sent: set[int] = set()
        cancelled: set[int] = set()
        for _ in range(150):
            session.next_id += 1
            method, params = rng.choice(requests)
            session.send({"id": session.next_id, "method": method, "params": params})
            sent.add(session.next_id)
            if rng.random() < 0.5:
                target = rng.choice(sorted(sent))
                session.send({"method": "$/cancelRequest", "params": {"id": target}})
                cancelled.add(target)
        from_server: list[str] = []
        replies = await _replies(session, sent, from_server)
        # this client declared no window.workDoneProgress: it gets no progress (LSP 3.15)
        assert not {"$/progress", "window/workDoneProgress/create"} & set(from_server), from_server
        while (await session.request("aurora/stats", None))["result"]["indexing"]["state"] != "idle":
            await asyncio.sleep(0.05)
        for request_id, reply in replies.items():
            if "error" in reply:
                assert request_id in cancelled and reply["error"]["code"] == -32800, reply
            else:
                assert "result" in reply
        assert any("error" in reply for reply in replies.values())  # some cancels did land in time
        found = await session.request("workspace/symbol", {"query": "CartLine"})
        assert found["result"][0]["name"] == "CartLine"
    finally:
        session.process.kill()
        await session.process.wait()


@pytest.mark.asyncio
async def test_requests_after_shutdown_get_invalid_request(shop: Path, tmp_path: Path) -> None:
    session = await RawSession.start()
    try:
        await session.initialize(shop, tmp_path / "index.sqlite3")
        assert (await session.request("shutdown", None))["result"] is None
        for method, params in [("workspace/symbol", {"query": "Cart"}), ("aurora/stats", None)]:
            reply = await session.request(method, params)
            assert reply["error"]["code"] == -32600, reply
        session.send({"method": "exit"})
        assert await asyncio.wait_for(session.process.wait(), TIMEOUT) == 0
    finally:
        if session.process.returncode is None:
            session.process.kill()


@pytest.mark.asyncio
async def test_unknown_schemes_outside_files_and_positions_past_the_end(shop: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "secret.py"
    outside.parent.mkdir()
    outside.write_text("def secret_function():\n    return 'do not read me'\n")
    client = await start_server(shop, tmp_path / "index.sqlite3")
    try:
        # never opened, outside every workspace folder: not read, not answered from disk
        assert await outline(client, outside) == []
        answer = await request(
            client,
            "aurora/context",
            {"textDocument": {"uri": outside.as_uri()}, "position": {"line": 0, "character": 0}},
        )
        assert answer["focus"] is None and answer["items"] == []
        for uri in ("untitled:Untitled-1", "git:/shop/models/cart.py?ref=HEAD", "vscode-notebook-cell:/x#y"):
            reply = await client.text_document_document_symbol_async(
                types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
            )
            assert list(reply or []) == []
        # a change to a document never opened is ignored
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=2, uri=(shop / "shop/blob.py").as_uri()),
                [types.TextDocumentContentChangeWholeDocument(text="def injected():\n    pass\n")],
            )
        )
        assert not [s for s in await symbols(client, "injected") if s.name == "injected"]
        # a position past the end of the document: no focus, the file's chunks nearest the end
        past = await request(
            client,
            "aurora/context",
            {
                "textDocument": {"uri": (shop / "shop/services/pricing.py").as_uri()},
                "position": {"line": 10_000, "character": 99},
            },
        )
        assert past["focus"] is None and past["items"][0]["id"] == "shop/services/pricing.py::make_line"
        # an open document the editor sent is served even outside the folders: it came from the editor
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(outside.as_uri(), "python", 1, "def from_the_editor():\n    pass\n")
            )
        )
        assert [s.name for s in await outline(client, outside)] == ["from_the_editor"]
        assert not [s for s in await symbols(client, "secret_function") if s.name == "secret_function"]
    finally:
        await client.shutdown_session()


@pytest.mark.asyncio
async def test_a_branch_switch_burst_of_watched_file_events(stdlib_workspace: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    sources = sorted(stdlib_workspace.rglob("*.py"))[:300]
    for index, source in enumerate(sources):
        (root / f"{index:03d}_{source.name}").write_bytes(source.read_bytes())
    client = await start_server(root, tmp_path / "index.sqlite3")
    try:
        changed = sorted(root.glob("*.py"))[:250]
        events = []
        for index, path in enumerate(changed):  # `git checkout` rewrites 250 files at once
            with path.open("a", encoding="utf-8") as handle:
                handle.write(f"\n\ndef on_branch_{index}():\n    return {index}\n")
            events.append(types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Changed))
        for event in events:  # one notification each, as fast as a client sends them
            client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[event]))

        async def all_seen() -> bool:
            found = await symbols(client, f"on_branch_{len(changed) - 1}")
            return bool(found) and found[0].name == f"on_branch_{len(changed) - 1}"

        await eventually(all_seen)
        stats = await wait_until(client, lambda s: True)
        assert len(changed) == 250 and stats["indexing"]["lastRun"]["changed"] <= 250
    finally:
        await client.shutdown_session()
    assert dump_index(root, tmp_path / "index.sqlite3", refresh=False) == dump_index(root, tmp_path / "fresh.sqlite3")
