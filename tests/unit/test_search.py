"""Workspace symbol ranking on real code: the fast paths give what ranking everything gives."""

from __future__ import annotations

import pytest
from aurora_lsp.search import rank, search_symbols
from aurora_lsp.store.chunks import ChunkStore
from aurora_lsp.store.sqlite import SqliteStore

QUERIES = [
    "e",
    "get",
    "get_",
    "GET_",
    "jsond",
    "parse",
    "JSONDecoder",
    "decode",
    "getresp",
    "Logger.info",
    "hdlr",
    "_",
    "%",
    "zzzq",
]


def brute_force(db: SqliteStore, query: str, limit: int) -> list[str]:
    ranked = []
    for chunk_id, _path, qualname, _kind, _parent in db.symbol_rows():
        found = rank(query, qualname)
        if found is not None:
            ranked.append(((found[0], found[1], len(qualname), chunk_id), chunk_id))
    return [chunk_id for _, chunk_id in sorted(ranked)[:limit]]


@pytest.mark.parametrize("query", QUERIES)
def test_search_equals_ranking_every_chunk(stdlib_store: SqliteStore, query: str) -> None:
    found = search_symbols(ChunkStore(stdlib_store, 0, 0), query, 30)
    assert [m.id for m in found] == brute_force(stdlib_store, query, 30)


def test_ranking_order() -> None:
    assert rank("get_response", "BaseHandler.get_response") == (0, 0)
    assert rank("Get_Response", "BaseHandler.get_response")[0] == 1
    assert rank("get_res", "BaseHandler.get_response")[0] == 2
    assert rank("Handler.get_response", "BaseHandler.get_response")[0] == 3
    assert rank("getresp", "BaseHandler.get_response")[0] == 4
    assert rank("qs.filter", "QuerySet.filter")[0] == 4
    assert rank("etrsp", "BaseHandler.get_response")[0] == 5
    assert rank("xyz", "BaseHandler.get_response") is None
