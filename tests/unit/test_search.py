"""Workspace symbol ranking on real code: the fast paths give what ranking everything gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from aurora_lsp import search
from aurora_lsp.config import Settings
from aurora_lsp.records import ChunkId
from aurora_lsp.search import TIER_QUALIFIED_SUFFIX, rank, search_symbols
from aurora_lsp.store.chunks import ChunkStore
from aurora_lsp.store.sqlite import SqliteStore
from aurora_lsp.workspace.service import WorkspaceService

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
    "logger.INFO",  # caseless qualified name
    "ogger.info",  # qualified suffix
    "Decoder.",
    ".decode",
    "\ud800",  # a lone surrogate: SQLite cannot hold it, nothing matches
    "get\x00",
    "_" * 300,  # longer than the LIKE pattern spells
    "İ",  # lower() of it has two characters; ASCII folding leaves it one
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


@pytest.mark.parametrize("query", ["decode", "info", "e.close", "r.run", "t.get"])
def test_loose_matches_past_the_candidate_limit_never_crowd_out_better_ones(
    stdlib_store: SqliteStore, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more loose matches than the limit (as at 262K chunks), exact, caseless, prefix and
    qualified-suffix matches are still all there, in the order ranking every chunk gives."""
    monkeypatch.setattr(search, "CANDIDATE_LIMIT", 60)
    found = search_symbols(ChunkStore(stdlib_store, 0, 0), query, 30)
    best = [m.id for m in found if m.tier <= TIER_QUALIFIED_SUFFIX]
    expected = brute_force(stdlib_store, query, 30)
    expected_best = [cid for cid in expected if rank(query, ChunkId.qualname(cid))[0] <= TIER_QUALIFIED_SUFFIX]
    assert best == expected_best and best


def test_an_exact_name_beyond_a_cut_among_caseless_equals_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More names `GV` than the candidate limit (they come first by id) still leave `gv` first."""
    root = tmp_path / "workspace"
    root.mkdir()
    for index in range(12):
        (root / f"a{index:02}.py").write_text("def GV():\n    pass\n")
    (root / "zz.py").write_text("def gv():\n    pass\n")
    monkeypatch.setattr(search, "CANDIDATE_LIMIT", 5)
    with WorkspaceService.open(root, Settings(database_path=str(tmp_path / "index.sqlite3"))) as workspace:
        workspace.refresh()
        found = search_symbols(workspace.chunks, "gv", 3)
    assert [(m.id, m.tier) for m in found][:1] == [("zz.py::gv", search.TIER_EXACT)]
