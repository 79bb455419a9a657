"""workspace/symbol during a cold index: every definition findable before the full index writes it.

The test holds the database's write lock (another process's transaction) from before the
server starts, so the full index cannot write a row until the test lets go: whatever
workspace/symbol answers meanwhile came from the first pass. No sleeps, no timing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from aurora_lsp.store.sqlite import SqliteStore
from generated import write_generated_workspace
from lsp_client import AURORA, eventually, symbols, wait_until
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

MODULES = 300


def _shown(found: list[types.SymbolInformation]) -> list[tuple[object, ...]]:
    return [
        (s.name, s.kind, s.location.uri, s.location.range.start, s.location.range.end, s.container_name) for s in found
    ]


@pytest.mark.asyncio
async def test_symbols_answer_from_the_first_pass_while_the_index_cannot_write(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write_generated_workspace(root, MODULES)
    db = tmp_path / "index.sqlite3"
    SqliteStore(db).close()  # the schema exists; the server opens it without writing
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, until the test lets go
    client = await ClientServerConfig(server_command=AURORA).start()
    assert isinstance(client, LanguageClient)
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                initialization_options={"databasePath": str(db)},
            )
        )
        # The first pass hands its batches over in path order, and pkg/mod99.py is the last
        # path: once `inner` names Order0 … Order99 (the 100 shortest), every batch is in.
        complete = {
            "inner": lambda found: {f[5] for f in found} == {f"Order{i}.refresh_{i}" for i in range(100)},
            "refresh_250": lambda found: len(found) == 2,  # the method, and `inner` inside it
            "helper_5": lambda found: len(found) == 100,  # its two definitions first, then the looser
        }
        early: dict[str, list[tuple[object, ...]]] = {}

        async def every_answer_complete() -> bool:
            for query in complete:
                early[query] = _shown(await symbols(client, query))
            return all(check(early[query]) for query, check in complete.items())

        await eventually(every_answer_complete)
        nested = _shown(await symbols(client, "Order17.Line.total"))
        assert holder.execute("SELECT count(*) FROM chunks").fetchone()[0] == 0  # nothing written yet
        assert early["refresh_250"][0][0] == "refresh_250" and early["refresh_250"][0][5] == "Order250"
        assert [hit[0] for hit in early["helper_5"][:3]] == ["helper_5", "helper_5", "helper_50"]
        assert nested[0][0] == "total" and nested[0][5] == "Order17.Line"

        holder.execute("ROLLBACK")  # let go: the index is written
        await wait_until(client, lambda stats: stats["chunks"] == MODULES * 8 and stats["indexing"]["state"] == "idle")
        for query in complete:
            assert _shown(await symbols(client, query)) == early[query]  # the same answer, from SQLite
        assert _shown(await symbols(client, "Order17.Line.total"))[0] == nested[0]
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
        await client.shutdown_session()
