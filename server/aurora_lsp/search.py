"""Workspace symbol search: every chunk findable by a fuzzy match on name and qualified name.

Exact names come first, then prefixes, then qualified-name suffixes (`QuerySet.filter`),
then matches at word starts (`getresp` → `get_response`, `qs.filter` →
`QuerySet.filter`), then any in-order subsequence. Caseless means ASCII case, as SQLite's
NOCASE and LIKE have it. SQLite narrows the candidates; the ranking happens here.

Every exact, caseless, prefix and qualified-suffix match has a name that starts with (for
a dotted query: equals) the query's last part, so those come from a range of the caseless
name index, never from the bounded LIKE scan that finds the loose matches: no number of
loose matches can crowd out a better one. Any text is a query: one that SQLite cannot hold
(a lone surrogate) matches nothing, and one too long for a LIKE pattern is narrowed by its
first characters and its length.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from aurora_lsp.positions import is_utf8
from aurora_lsp.records import Chunk
from aurora_lsp.store.chunks import ChunkStore

CANDIDATE_LIMIT = 20000
# The LIKE pattern spells at most this many of the query's first characters (SQLite refuses
# patterns over 50,000 bytes); a length bound stands in for the rest.
LIKE_CHARACTERS = 200

TIER_EXACT = 0
TIER_EXACT_CASELESS = 1
TIER_PREFIX = 2
TIER_QUALIFIED_SUFFIX = 3
TIER_WORD_STARTS = 4
TIER_SUBSEQUENCE = 5


@dataclass(slots=True, frozen=True)
class SymbolMatch:
    id: str
    qualname: str
    tier: int
    gaps: int

    @property
    def sort_key(self) -> tuple[int, int, int, str]:
        return (self.tier, self.gaps, len(self.qualname), self.id)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """Lower case for ASCII letters only, as SQLite's NOCASE and LIKE compare."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _escaped(query: str) -> list[str]:
    return [("\\" + c) if c in "%_\\" else c for c in query]


def like_pattern(query: str) -> str:
    """The query's characters in order, anything between: `%g%e%t%`."""
    return "%" + "%".join(_escaped(query)) + "%"


def _subsequence_gaps(query: str, target: str) -> int | None:
    """How loosely `query` runs through `target` as an in-order subsequence, or None.

    Counts the jumps, and the characters skipped inside the match, so that `getresp`
    fits `get_response` better than `get_exception_response`.
    """
    position = 0
    jumps = 0
    first = -1
    previous = -1
    for char in query:
        found = target.find(char, position)
        if found < 0:
            return None
        if previous >= 0 and found != previous + 1:
            jumps += 1
        if first < 0:
            first = found
        previous = found
        position = found + 1
    skipped = (previous - first + 1) - len(query)
    return jumps * 100 + skipped


def rank(query: str, qualname: str) -> tuple[int, int] | None:
    """(tier, gaps) of a qualified name for a query, or None if it does not match."""
    name = qualname.rpartition(".")[2]
    if name == query or qualname == query:
        return TIER_EXACT, 0
    lowered = fold(query)
    folded = fold(qualname)
    folded_name = folded.rpartition(".")[2]
    if folded_name == lowered or folded == lowered:
        return TIER_EXACT_CASELESS, 0
    if folded_name.startswith(lowered):
        return TIER_PREFIX, 0
    dotted = "." in query
    if dotted and folded.endswith(lowered):
        return TIER_QUALIFIED_SUFFIX, 0
    target, folded_target = (qualname, folded) if dotted else (name, folded_name)
    gaps = _subsequence_gaps(lowered, folded_target)
    if gaps is None and target is not qualname:
        target, folded_target = qualname, folded
        gaps = _subsequence_gaps(lowered, folded)
    if gaps is None:
        return None
    if _starts_every_gap(lowered, target, folded_target):
        return TIER_WORD_STARTS, gaps
    return TIER_SUBSEQUENCE, gaps


def _starts_every_gap(query: str, target: str, folded_target: str) -> bool:
    """Does every run of the (folded) query begin at a word start of the target (snake, camel, dot)?"""
    position = 0
    previous = -2
    for char in query:
        found = folded_target.find(char, position)
        if found < 0:
            return False
        if found != previous + 1 and char.isalnum():
            at_word_start = (
                found == 0
                or not target[found - 1].isalnum()
                or (target[found].isupper() and target[found - 1].islower())
            )
            if not at_word_start:
                return False
        previous = found
        position = found + 1
    return True


def search_symbols(store: ChunkStore, query: str, limit: int = 50) -> list[SymbolMatch]:
    """The best `limit` chunks for `query`, best first. An empty query lists nothing."""
    query = query.strip()
    if not query or limit < 1 or not is_utf8(query):
        return []  # no stored name holds a lone surrogate, and every tier needs each character
    # Exact names, prefixes and qualified suffixes rank first; when they alone fill the
    # answer (short queries: "e", "get"), nothing further down can enter it, so skip the rest.
    found = _ranked(query, _named_candidates(store, query))
    if len(found) >= limit:
        found.sort(key=lambda m: m.sort_key)
        return found[:limit]
    # A match holds the query's characters in order, so its qualified name is at least as long.
    loose = store.name_candidates(like_pattern(query[:LIKE_CHARACTERS]), len(query), CANDIDATE_LIMIT)
    seen = {match.id for match in found}
    found.extend(_ranked(query, [candidate for candidate in loose if candidate[0] not in seen]))
    found.sort(key=lambda m: m.sort_key)
    return found[:limit]


def _named_candidates(store: ChunkStore, query: str) -> list[tuple[str, str]]:
    """Every chunk an exact, caseless, prefix or qualified-suffix match can name, read from
    the caseless name index: names starting with the query, or for a dotted query, named
    like its last part with a qualified name ending in it."""
    if "." in query:
        found = store.name_suffix_candidates(query.rpartition(".")[2], query, CANDIDATE_LIMIT)
    else:
        found = store.name_prefix_candidates(query, CANDIDATE_LIMIT)
    if len(found) >= CANDIDATE_LIMIT:
        # cut short among thousands of caseless equals: the exact ones may lie beyond the cut
        seen = {chunk_id for chunk_id, _ in found}
        found.extend(row for row in store.exact_name_candidates(query, CANDIDATE_LIMIT) if row[0] not in seen)
    return found


def _ranked(query: str, candidates: list[tuple[str, str]]) -> list[SymbolMatch]:
    matches: list[SymbolMatch] = []
    for chunk_id, qualname in candidates:
        ranked = rank(query, qualname)
        if ranked is not None:
            matches.append(SymbolMatch(chunk_id, qualname, ranked[0], ranked[1]))
    return matches


class FirstPassNames:
    """Definitions the first pass of a large refresh found, findable before the full index
    has written them (`indexer.Indexer.first_pass`).

    Filled on the writer's thread a batch at a time, searched on the reader's, emptied
    once a refresh has written everything. A search ranks every name held with `rank`,
    as `search_symbols` ranks what SQLite narrows, so a definition ranks the same here as
    in the finished index; the chunks carry what a symbol answer shows (id, kind, range,
    parent), nothing more.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id -> (qualified name, folded, chunk); a refresh tried again finds the same ids
        self._held: dict[str, tuple[str, str, Chunk]] = {}

    def add(self, chunks: Iterable[Chunk]) -> None:
        found = {chunk.id: (chunk.qualname, fold(chunk.qualname), chunk) for chunk in chunks}
        with self._lock:
            self._held.update(found)

    def clear(self) -> None:
        with self._lock:
            self._held = {}

    def __len__(self) -> int:
        return len(self._held)

    def search(self, query: str, limit: int) -> list[tuple[SymbolMatch, Chunk]]:
        """The best `limit` names held for `query`, best first, each with its chunk."""
        query = query.strip()
        if not self._held or not query or limit < 1 or not is_utf8(query):
            return []
        with self._lock:
            held = list(self._held.values())
        # every tier holds the query's characters in order (caseless): a cheap test first
        spelled = re.compile(".*?".join(re.escape(char) for char in fold(query)), re.DOTALL)
        found: list[tuple[SymbolMatch, Chunk]] = []
        for qualname, folded, chunk in held:
            if spelled.search(folded) is None:
                continue
            ranked = rank(query, qualname)
            if ranked is not None:
                found.append((SymbolMatch(chunk.id, qualname, ranked[0], ranked[1]), chunk))
        found.sort(key=lambda pair: pair[0].sort_key)
        return found[:limit]
