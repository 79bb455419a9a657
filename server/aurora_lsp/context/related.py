"""What one chunk is connected to: callers, callees, base classes, subclasses and other uses.

Read from the resolved edges (index/resolve.py), in both directions, through ChunkStore.
Each related chunk is shown by its signature with a one-line reason, like the items of a
context answer. Co-changed chunks join here when the history does.

The records are the answer's shape for the MCP `related` tool (camelCase on the wire via
`protocol.to_wire`); they move into protocol.py once an LSP request returns them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import attrs

from aurora_lsp.protocol import Range
from aurora_lsp.records import Chunk, ChunkId
from aurora_lsp.store.chunks import ChunkStore
from aurora_lsp.tokens import count_tokens


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
}


@attrs.frozen
class RelatedItem:
    """A related chunk: the fields a context item has, and the relation it is in."""

    id: str
    uri: str
    range: Range
    name: str
    qualified_name: str
    kind: str
    detail: str  # always "signature": the def or class line
    text: str
    tokens: int
    relation: str  # "subject" or one of RELATIONS' names
    how: str  # how the edge was resolved ("" for the subject)
    why: str


@attrs.frozen
class RelatedAnswer:
    query: str
    subject: RelatedItem | None
    items: list[RelatedItem]
    totals: dict[str, int]  # relation -> how many there are (items hold at most `limit` of each)


def related(chunks: ChunkStore, root: Path, subject: Chunk, why: str, query: str, limit: int) -> RelatedAnswer:
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
        related_item(root, chunk, relation.name, how, f"{relation.says} {subject_name} ({HOW_WORDS.get(how, how)})")
        for relation, other, how in chosen
        if (chunk := found.get(other)) is not None
    ]
    return RelatedAnswer(
        query=query, subject=related_item(root, subject, "subject", "", why), items=items, totals=totals
    )


def related_item(root: Path, chunk: Chunk, relation: str, how: str, why: str) -> RelatedItem:
    return RelatedItem(
        id=chunk.id,
        uri=(root / chunk.path).as_uri(),
        range=Range.of(*chunk.range),
        name=chunk.name,
        qualified_name=chunk.qualname,
        kind=chunk.kind,
        detail="signature",
        text=chunk.signature,
        tokens=count_tokens(chunk.signature),
        relation=relation,
        how=how,
        why=why,
    )
