"""jedi's answers as plain records, and how they join the static edges (no jedi here).

A pass of jedi over an open document (index/inference.py) resolves its attribute names
(`x.name`) by inference. Its answers join the edges static resolution made for the same
chunk: an edge jedi finds that static resolution missed is added with how `jedi`; a guess
(`attr-unique`) is *covered* when jedi resolved every use of that name in the chunk, and
then it stays only if jedi found the same target (its how becomes `jedi`), otherwise it
goes. Edges resolved statically another way (`local`, `import`, `self`, `typed`) stay as
they are. A name jedi found nothing for keeps its guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aurora_lsp.index.builder import content_hash
from aurora_lsp.records import ChunkId, Edge

JEDI = "jedi"  # the `how` of an edge jedi resolved
GUESS = "attr-unique"


@dataclass(slots=True, frozen=True)
class Site:
    """Where jedi found a definition: a workspace-relative path ("" outside the workspace),
    0-based line, UTF-16 columns of the name, the name and jedi's type for it."""

    path: str
    line: int
    start: int
    end: int
    name: str
    type: str

    @property
    def in_workspace(self) -> bool:
        return bool(self.path)


@dataclass(slots=True, frozen=True)
class Goto:
    """What jedi found at a position: the name there and its definitions (`sites` None: the
    position is past the end of the text)."""

    word: str
    sites: tuple[Site, ...] | None


@dataclass(slots=True, frozen=True)
class InferredUse:
    """One attribute name of a document as jedi resolved it: the 0-based line of the use,
    whether it is called, and its definitions in the workspace that can be chunks (empty:
    jedi found definitions, but outside the workspace or not callable, such as an instance
    attribute or `list.append`; None: jedi found nothing)."""

    line: int
    name: str
    called: bool
    sites: tuple[Site, ...] | None


@dataclass(slots=True)
class InferredFile:
    """What jedi resolved in one version (content hash) of a document."""

    path: str
    content_hash: str
    uses: list[InferredUse] = field(default_factory=list)
    complete: bool = False  # False: the pass stopped at its name limit or was abandoned


@dataclass(slots=True)
class MergeCounts:
    """What jedi changed in a file's edges: edges it added, guesses it covered (confirmed:
    the same target, now `jedi`; dropped: a wrong guess)."""

    gained: int = 0
    confirmed: int = 0
    dropped: int = 0

    def add(self, other: MergeCounts) -> None:
        self.gained += other.gained
        self.confirmed += other.confirmed
        self.dropped += other.dropped


def text_hash(text: str) -> str:
    """The content hash the index stores for a buffer with this text."""
    return content_hash(text.encode("utf-8", "surrogatepass"))


StaticEdge = tuple[str, str, str]  # (target id, kind, how), as static resolution stored it
ResolvedUse = tuple[InferredUse, tuple[str, ...]]  # a use and the chunk ids its sites are


def merge(source: str, static: Sequence[StaticEdge], uses: Sequence[ResolvedUse]) -> tuple[list[Edge], MergeCounts]:
    """A chunk's edges once jedi's answers for its uses join its static edges."""
    counts = MergeCounts()
    resolved_names: set[str] = set()
    unresolved_names: set[str] = set()
    found: dict[str, str] = {}  # target -> kind ("call" wins over "reference")
    for use, targets in uses:
        if use.sites is None:
            unresolved_names.add(use.name)
            continue
        resolved_names.add(use.name)
        for target in targets:
            if target != source and found.get(target) != "call":
                found[target] = "call" if use.called else "reference"
    covered = resolved_names - unresolved_names
    edges: dict[str, tuple[str, str]] = {}
    for target, kind, how in static:
        if how == GUESS and ChunkId.plain_qualname(target).rpartition(".")[2] in covered:
            if target in found:
                edges[target] = (kind, JEDI)
                counts.confirmed += 1
            else:
                counts.dropped += 1
            continue
        edges[target] = (kind, how)
    for target, kind in found.items():
        if target not in edges:
            edges[target] = (kind, JEDI)
            counts.gained += 1
    return [(source, target, kind, how) for target, (kind, how) in sorted(edges.items())], counts
