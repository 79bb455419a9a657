"""What one chunk is connected to: callers, callees, base classes, subclasses, other uses,
and what the team changed together with it.

Read from the resolved edges (index/resolve.py), in both directions, and from the counts of
the workspace's git history (index/history.py, `history` setting), through ChunkStore. Each
related chunk is shown by its signature with a one-line reason, like the items of a context
answer.

The records are the answer's shape for the MCP `related` tool (camelCase on the wire via
`protocol.to_wire`), lean because agents read them as JSON; they move into protocol.py once
an LSP request returns them too.
"""

from __future__ import annotations

from dataclasses import dataclass

import attrs

from aurora_lsp.records import Chunk, ChunkId
from aurora_lsp.store.chunks import ChunkStore


@dataclass(frozen=True, slots=True)
class Relation:
    """One kind of connection: which edges, which way, and how to say it."""

    name: str
    outbound: bool  # the subject's own edges (what it uses) or edges into it (what uses it)
    edge_kinds: frozenset[str]
    says: str  # "<related chunk> <says> <subject>"


RELATIONS = (
    Relation("callers", False, frozenset({"call"}), "calls"),
    Relation("callees", True, frozenset({"call"}), "called by"),
    Relation("bases", True, frozenset({"base"}), "base class of"),
    Relation("subclasses", False, frozenset({"base"}), "subclass of"),
    Relation("uses", True, frozenset({"reference", "decorator"}), "used by"),
    Relation("usedBy", False, frozenset({"reference", "decorator"}), "uses"),
)
# How an edge was resolved, as the reason says it (resolve.py); a guess is marked as one.
HOW_WORDS = {
    "local": "same file",
    "import": "through an import",
    "self": "through self",
    "typed": "through a type",
    "attr-unique": "a guess: the only definition so named",
    "jedi": "resolved by jedi",
}
CHANGED_WITH = "changedWith"  # chunks that changed in the same commits, the most often first
HISTORY_HOW = "history"
HISTORY_PARTNERS = 1000  # partners read to count them; the heaviest `limit` are shown


@attrs.frozen
class RelatedItem:
    """A related chunk: its id, kind, lines (from 1, first and last), signature, the relation
    it is in, how that edge was resolved ("" for the subject) and why, in one line."""

    id: str
    kind: str
    lines: list[int]
    text: str
    relation: str  # "subject" or one of RELATIONS' names
    how: str
    why: str


@attrs.frozen
class RelatedAnswer:
    query: str
    subject: RelatedItem | None
    items: list[RelatedItem]
    totals: dict[str, int]  # relation -> how many there are (items hold at most `limit` of each)


def related(chunks: ChunkStore, subject: Chunk, why: str, query: str, limit: int) -> RelatedAnswer:
    """The chunks connected to `subject`, at most `limit` per relation, certain edges first."""
    outbound = chunks.dependencies(subject.id)
    inbound = chunks.dependents(subject.id)
    chosen: list[tuple[Relation, str, str]] = []  # (relation, other chunk id, how)
    totals: dict[str, int] = {}
    for relation in RELATIONS:
        edges = outbound if relation.outbound else inbound
        best: dict[str, str] = {}  # other id -> how (one row per chunk, the surest edge)
        for other, kind, how in edges:
            if kind in relation.edge_kinds and other != subject.id:
                if other not in best or best[other] == "attr-unique":
                    best[other] = how
        ordered = sorted(best.items(), key=lambda pair: (pair[1] == "attr-unique", pair[0]))
        totals[relation.name] = len(ordered)
        chosen.extend((relation, other, how) for other, how in ordered[:limit])
    found = {chunk.id: chunk for chunk in chunks.get_many(dict.fromkeys(other for _, other, _ in chosen))}
    subject_name = ChunkId.plain_qualname(subject.id)
    items = [
        related_item(chunk, relation.name, how, f"{relation.says} {subject_name} ({HOW_WORDS.get(how, how)})")
        for relation, other, how in chosen
        if (chunk := found.get(other)) is not None
    ]
    changed, totals[CHANGED_WITH] = _changed_with(chunks, subject, limit)
    items.extend(changed)
    return RelatedAnswer(query=query, subject=related_item(subject, "subject", "", why), items=items, totals=totals)


def _changed_with(chunks: ChunkStore, subject: Chunk, limit: int) -> tuple[list[RelatedItem], int]:
    """The chunks that changed in the same commits as the subject, the most often first (by
    the commits' fan-weighted count, as context/learned.py weighs them), and how many there
    are; a partner no longer in the index is not counted."""
    # a chunk's partners are chunks (files pair with files), never itself
    partners = [(other, together) for _, other, together, _ in chunks.history_partners([subject.id], HISTORY_PARTNERS)]
    if not partners:
        return [], 0
    found = {chunk.id: chunk for chunk in chunks.get_many(dict.fromkeys(other for other, _ in partners))}
    present = [(found[other], together) for other, together in partners if other in found]
    changes = chunks.history_changes([subject.id]).get(subject.id, 0)
    name = ChunkId.plain_qualname(subject.id)
    items = []
    for chunk, together in present[:limit]:
        why = f"changed together with {name} in {together} of {changes} commits"
        items.append(related_item(chunk, CHANGED_WITH, HISTORY_HOW, why))
    return items, len(present)


def related_item(chunk: Chunk, relation: str, how: str, why: str) -> RelatedItem:
    return RelatedItem(
        id=chunk.id,
        kind=chunk.kind,
        lines=[chunk.start_line + 1, chunk.end_line + 1],
        text=chunk.signature,
        relation=relation,
        how=how,
        why=why,
    )
