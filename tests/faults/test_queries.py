"""Faults of queries: huge, odd, or lost among many near matches.

workspace/symbol, `aurora/context` and the command line's `symbols` and `context --query`
answer every query, possibly with nothing, or refuse it with InvalidParams: never an
internal error, and the next query is answered as if nothing had happened. An exact name
(then a caseless one, a prefix, a qualified suffix) is found however many loose matches the
workspace holds. A context query is read as its first words (ranking.QUERY_WORDS).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aurora_lsp.config import Settings
from aurora_lsp.context.engine import ContextRequest
from aurora_lsp.context.ranking import QUERY_WORDS
from aurora_lsp.search import rank, search_symbols
from aurora_lsp.workspace.service import WorkspaceService
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_client import TIMEOUT, RawSession, run_cli, start_server, symbols

# 25,000 methods get_<f>_<i>_value: each a loose match of "gv" and of "Holder.gv", and each
# stored (in the caseless name index that SQLite scans) before the names the tests look for
CROWD_FILES, CROWD_PER_FILE = 50, 500
TARGETS = """\
def gv():
    return 1


def GV_total():
    return 2


class Holder:
    def gv(self):
        return 3
"""

MORE = '''\
import json


def get_value(raw):
    """Parse the total value."""
    return json.loads(raw)


class Größe:
    def getValue(self):
        return get_value("1")

    def __init__(self):
        pass
'''

INVALID_PARAMS = -32602

# Queries as a careless or hostile client sends them, each with what it probes.
HOSTILE = {
    "25,000 characters": "a" * 25_000,  # was -32603 "LIKE or GLOB pattern too complex"
    "a million characters": "gv" * 500_000,
    "lone high surrogate": "\ud800",  # was -32603 UnicodeEncodeError
    "lone low surrogate inside a name": "g\udfffv",
    "NUL": "\x00",
    "NUL inside a name": "g\x00v",
    "punctuation only": "!@#$^&*()[]{}<>?/|~`';,",
    "LIKE wildcards and escape": "%_\\",
    "FTS5 syntax": '"gv" OR NEAR(gv total) AND NOT * ^ : - + {gv}',
    "FTS5 operators alone": "AND OR NOT NEAR",
    "emoji and astral letters": "gv😀𝔤𝔳",
    "combining mark and bidi override": "g\u0301v \u202egv",
    "whitespace beyond ASCII": "\u3000\u2028\u00a0",
    "a byte order mark": "\ufeff",
    "dots only": "." * 30_000,
    "a dotted name too long for a pattern": "Holder." + "g" * 30_000,
    "20,000 words": " ".join(f"w{index}" for index in range(20_000)),
    "20,000 real words": "gv total holder value " * 5_000,
    "one word of 5,000 parts": "_".join(f"p{index}" for index in range(5_000)),
}


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A workspace of 25,000 loose matches of `gv` and the few better ones, indexed once: (root, database)."""
    base = tmp_path_factory.mktemp("crowded")
    root = base / "workspace"
    root.mkdir()
    for file in range(CROWD_FILES):
        methods = "".join(
            f"    def get_{file}_{index}_value(self):\n        return {index}\n\n" for index in range(CROWD_PER_FILE)
        )
        (root / f"crowd_{file}.py").write_text(f"class Holder:\n{methods}")
    (root / "targets.py").write_text(TARGETS)
    database = base / "index.sqlite3"
    done = run_cli("index", str(root), "--db", str(database), timeout=300)
    assert done.returncode == 0, done.stderr
    return root, database


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few names that share letters with the hostile queries, and a non-ASCII one."""
    root = tmp_path_factory.mktemp("small") / "workspace"
    root.mkdir()
    (root / "targets.py").write_text(TARGETS)
    (root / "more.py").write_text(MORE)
    return root


@pytest.fixture(scope="module")
def service(small: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceService]:
    database = tmp_path_factory.mktemp("small-db") / "index.sqlite3"
    with WorkspaceService.open(small, Settings(database_path=str(database))) as workspace:
        workspace.refresh()
        yield workspace


def _names(found: list[dict[str, Any]]) -> list[str]:
    return [item["qualifiedName"] for item in found]


# -- an exact name among many loose matches (issue 15, case 6) ----------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "best"),
    [
        ("gv", ["gv", "Holder.gv", "GV_total"]),  # exact (shorter first), then a prefix
        ("GV", ["gv", "Holder.gv", "GV_total"]),  # caseless exact, then a prefix
        ("Holder.gv", ["Holder.gv"]),  # an exact qualified name
        ("holder.GV", ["Holder.gv"]),  # caseless
        ("older.gv", ["Holder.gv"]),  # a qualified suffix
    ],
)
def test_the_command_line_finds_an_exact_name_among_25000_loose_matches(
    crowded: tuple[Path, Path], query: str, best: list[str]
) -> None:
    root, database = crowded
    done = run_cli("symbols", str(root), query, "--db", str(database), "--json", "--no-refresh")
    assert done.returncode == 0, done.stderr
    assert _names(json.loads(done.stdout))[: len(best)] == best


@pytest.mark.slow
@pytest.mark.asyncio
async def test_workspace_symbol_finds_an_exact_name_among_25000_loose_matches(crowded: tuple[Path, Path]) -> None:
    root, database = crowded
    client = await start_server(root, database)
    try:
        found = await symbols(client, "gv")
        assert [(s.name, s.container_name) for s in found[:3]] == [("gv", None), ("gv", "Holder"), ("GV_total", None)]
        assert len(found) == 100  # the rest of the answer: the loose matches, after them
        dotted = await symbols(client, "Holder.gv")
        assert (dotted[0].name, dotted[0].container_name) == ("gv", "Holder")
    finally:
        await client.shutdown_session()


# -- hostile queries (issue 15, case 7, and its siblings) --------------------------------------


async def _indexed(session: RawSession) -> None:
    deadline = time.monotonic() + TIMEOUT
    while True:
        stats = (await session.request("aurora/stats", None))["result"]
        if stats["indexing"]["state"] == "idle" and stats["indexing"]["lastRunSeconds"] is not None:
            return
        assert time.monotonic() < deadline, stats
        await asyncio.sleep(0.05)


def _answered_or_refused(answer: dict[str, Any]) -> bool:
    """A result, or InvalidParams; never an internal error."""
    return "result" in answer or answer["error"]["code"] == INVALID_PARAMS


@pytest.mark.asyncio
async def test_the_server_answers_every_hostile_query_and_the_next_one(small: Path, tmp_path: Path) -> None:
    """Over raw JSON-RPC: a typed client cannot even send a lone surrogate (its JSON is UTF-8)."""
    session = await RawSession.start()
    try:
        await session.initialize(small, tmp_path / "index.sqlite3")
        await _indexed(session)
        for label, query in HOSTILE.items():
            found = await session.request("workspace/symbol", {"query": query})
            assert isinstance(found.get("result"), list), (label, found.get("error"))
            context = await session.request("aurora/context", {"query": query})
            assert _answered_or_refused(context), (label, context["error"])
            after = await session.request("workspace/symbol", {"query": "gv"})
            assert [item["name"] for item in after["result"][:2]] == ["gv", "gv"], label
            again = await session.request("aurora/context", {"query": "gv"})
            assert again["result"]["items"][0]["id"] in {"targets.py::gv", "targets.py::Holder.gv"}, label
    finally:
        session.process.kill()
        await session.process.wait()


@pytest.mark.parametrize(
    "query", ["a" * 25_000, "\udcff", "g\udcffv", "." * 30_000, " ".join(f"w{i}" for i in range(10_000))]
)
def test_the_command_line_answers_hostile_queries(small: Path, tmp_path: Path, query: str) -> None:
    """A byte that is not UTF-8 in an argument reaches Python as a lone surrogate (\\udcff)."""
    database = str(tmp_path / "index.sqlite3")
    found = run_cli("symbols", str(small), query, "--db", database, "--json")
    assert found.returncode == 0 and json.loads(found.stdout) == [], found.stderr
    context = run_cli("context", str(small), "--query", query, "--db", database, "--json")
    assert context.returncode == 0, context.stderr
    assert "items" in json.loads(context.stdout)


def test_a_context_query_of_many_words_costs_what_its_first_words_cost(service: WorkspaceService) -> None:
    """20,000 words made 20,000 lookups and a BM25 expression of 20,000 phrases (5,000 real
    terms took 10 s at 262K chunks, with the reader thread blocked for everyone)."""
    words = [f"word{index}" for index in range(20_000)]
    words[3] = "GV_total"  # a name among the first words (a long question's two-letter prose words are left out)

    def statements_and_answer(query: str) -> tuple[int, list[str]]:
        issued: list[str] = []
        connection = service.chunks.db.db.conn
        connection.set_trace_callback(issued.append)
        try:
            answer = service.context(ContextRequest(None, None, 0, query, 2000, None), time.time())
        finally:
            connection.set_trace_callback(None)
        return len(issued), [item.id for item in answer.items]

    first_words = " ".join(words[:QUERY_WORDS])
    statements_and_answer(first_words)  # the memory tier and the vocabulary table, warmed
    first_statements, first_answer = statements_and_answer(first_words)
    all_statements, all_answer = statements_and_answer(" ".join(words))
    assert all_answer == first_answer and first_answer[0] == "targets.py::GV_total"
    assert all_statements == first_statements


# -- queries as arbitrary text (a property) -----------------------------------------------------

queries = st.text(
    st.sampled_from("gvGVtolaHder_.%\\ ")  # letters of the names, LIKE's specials
    | st.sampled_from("öÖßéÉİK\x00")  # case beyond ASCII (Kelvin sign, dotted I), NUL
    | st.characters(categories=["Cs"])  # lone surrogates
    | st.characters(exclude_categories=()),  # anything else
    max_size=12,
) | st.builds(lambda text, times: text * times, st.text(max_size=3), st.integers(1, 30_000))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries)
def test_any_text_is_a_query_that_ranks_as_ranking_every_chunk(service: WorkspaceService, query: str) -> None:
    """The search's fast paths give what ranking every chunk gives, for any text at all; a
    context query of the same text answers too."""
    found = search_symbols(service.chunks, query, 30)
    stripped = query.strip()
    ranked = sorted(
        ((match[0], match[1], len(qualname), chunk_id), chunk_id)
        for chunk_id, _path, qualname, _kind, _parent in service.db.symbol_rows()
        if stripped and (match := rank(stripped, qualname)) is not None
    )
    assert [match.id for match in found] == [chunk_id for _, chunk_id in ranked[:30]]
    service.context(ContextRequest(None, None, 0, query, 2000, None), time.time())
