"""Workspace symbol search: every chunk findable by a fuzzy match on name and qualified name.

Exact names come first, then prefixes, then qualified-name suffixes (`QuerySet.filter`),
then matches at word starts (`getresp` → `get_response`, `qs.filter` →
`QuerySet.filter`), then any in-order subsequence. SQLite narrows the candidates: names
starting with the query (a range of a caseless index), then a LIKE pattern (the query's
characters in order); the ranking happens here.
"""

from __future__ import annotations

from dataclasses import dataclass

from aurora_lsp.store.chunks import ChunkStore

CANDIDATE_LIMIT = 20000

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
    lowered = query.lower()
    if name == query or qualname == query:
        return TIER_EXACT, 0
    if name.lower() == lowered or qualname.lower() == lowered:
        return TIER_EXACT_CASELESS, 0
    if name.lower().startswith(lowered):
        return TIER_PREFIX, 0
    if "." in query and qualname.lower().endswith(lowered):
        return TIER_QUALIFIED_SUFFIX, 0
    target = qualname if "." in query else name
    gaps = _subsequence_gaps(lowered, target.lower())
    if gaps is None and target is name:
        target = qualname
        gaps = _subsequence_gaps(lowered, qualname.lower())
    if gaps is None:
        return None
    if _starts_every_gap(lowered, target):
        return TIER_WORD_STARTS, gaps
    return TIER_SUBSEQUENCE, gaps


def _starts_every_gap(query: str, target: str) -> bool:
    """Does every run of the query begin at a word start of the target (snake, camel, dot)?"""
    lowered = target.lower()
    position = 0
    previous = -2
    for char in query:
        found = lowered.find(char, position)
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
    if not query:
        return []
    if "." not in query:
        # Exact names and prefixes rank first; when they alone fill the answer (short
        # queries: "e", "get"), nothing further down can enter it, so skip the rest.
        found = _ranked(query, store.name_prefix_candidates(query, CANDIDATE_LIMIT))
        if sum(1 for match in found if match.tier <= TIER_PREFIX) >= limit:
            found.sort(key=lambda m: m.sort_key)
            return found[:limit]
    matches = _ranked(query, store.name_candidates(like_pattern(query), CANDIDATE_LIMIT))
    matches.sort(key=lambda m: m.sort_key)
    return matches[:limit]


def _ranked(query: str, candidates: list[tuple[str, str]]) -> list[SymbolMatch]:
    matches: list[SymbolMatch] = []
    for chunk_id, qualname in candidates:
        ranked = rank(query, qualname)
        if ranked is not None:
            matches.append(SymbolMatch(chunk_id, qualname, ranked[0], ranked[1]))
    return matches
