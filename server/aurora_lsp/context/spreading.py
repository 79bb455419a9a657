"""Spreading activation: from the sources along links, both ways, for a bounded number of hops.

Links are the resolved dependency edges (calls, references, decorators, base classes) and
the class structure (the enclosing chunk, its children, sibling methods), and, one hop from
the sources, what the git history changed together (learned.py). A node linked to
many chunks primes each less (the fan effect); only the most active nodes of a hop spread
further, so the walk is bounded by the neighbourhood of the request, not the repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aurora_lsp.context.activation import ActivationParameters, associative_strength, hop_factor
from aurora_lsp.context.learned import learned_reaches
from aurora_lsp.store.chunks import ChunkStore

HOP_FRONTIER = 40  # nodes expanded per further hop, the most active first
RECENT_ROLE = "recently used"
LINK_WORDS = {
    "call": ("calls", "called by"),
    "base": ("subclasses", "base of"),
    "decorator": ("decorated with", "decorates"),
    "reference": ("uses", "used by"),
    "parent": ("inside", "contains"),
    "sibling": ("beside", "beside"),
}

Link = tuple[str, str, int, float]  # (other chunk id, kind, direction 0 out / 1 in, trust)
Sources = dict[str, tuple[float, str]]  # chunk id -> (W_j, role that explains it)


@dataclass(slots=True)
class Reach:
    """How much activation spreading brought to a chunk, and the best path that did."""

    value: float = 0.0
    best: float = 0.0
    path: tuple[str, ...] = ()  # the source's role, then steps: ("focus", "calls", "<id>", ...)
    learned: str = ""  # why the git history links it to a source, if it does


def spread(chunks: ChunkStore, sources: Sources, parameters: ActivationParameters) -> dict[str, Reach]:
    """Activation arriving at each chunk over at most `max_hops` links from the sources."""
    reaches: dict[str, Reach] = {}
    strength = parameters.max_associative_strength
    known: dict[str, list[Link]] = {}  # links read once per request
    for source, (weight, role) in sources.items():
        arrived: dict[str, tuple[float, tuple[str, ...]]] = {source: (weight, (role,))}
        frontier = [source]
        seen = {source}
        # a recent chunk primes its direct neighbours; its second hop would cost as much as
        # the focus's own walk for a share of W a tenth as large
        hops = parameters.max_hops if not role.startswith(RECENT_ROLE) else 1
        for hop in range(1, hops + 1):
            unknown = [node for node in frontier if node not in known]
            if unknown:
                known.update(links(chunks, unknown, parameters.guessed_link_factor))
            reached: dict[str, tuple[float, tuple[str, ...]]] = {}
            for node in frontier:
                neighbours = known.get(node, [])
                s_ji = associative_strength(len(neighbours) + 1, strength)
                if s_ji <= 0:
                    continue
                incoming, path = arrived[node]
                # the first hop carries W·S_ji; later hops scale what arrived by S_ji / S
                factor = s_ji if hop == 1 else hop_factor(hop, parameters.spread_per_hop) * s_ji / strength
                for other, kind, direction, trust in neighbours:
                    if other in seen:
                        continue
                    value = incoming * factor * trust
                    step = (LINK_WORDS[kind][direction], other)
                    previous = reached.get(other)
                    if previous is None or previous[0] < value:
                        reached[other] = (value, (*path, *step))
            for other, (value, path) in reached.items():
                reach = reaches.setdefault(other, Reach())
                reach.value += value
                if value > reach.best:
                    reach.best, reach.path = value, path
            seen.update(reached)
            arrived.update(reached)
            # ties broken by id: the same answer whatever order the database returned rows in
            frontier = sorted(reached, key=lambda cid: (-reached[cid][0], cid))[:HOP_FRONTIER]
            if not frontier:
                break
    for cid, (value, why) in learned_reaches(chunks, sources, parameters).items():
        reach = reaches.setdefault(cid, Reach())
        reach.value += value
        reach.learned = why
    return reaches


def links(chunks: ChunkStore, nodes: Sequence[str], guess_factor: float) -> dict[str, list[Link]]:
    """Each node's neighbours: edges both ways, its enclosing chunk, its children and siblings."""
    found: dict[str, list[Link]] = {node: [] for node in nodes}
    node_set = set(nodes)
    for src, dst, kind, how in chunks.links(list(nodes)):
        factor = guess_factor if how == "attr-unique" else 1.0
        if src in node_set:
            found[src].append((dst, kind, 0, factor))
        if dst in node_set:
            found[dst].append((src, kind, 1, factor))
    parents: dict[str, str] = {}
    for chunk in chunks.get_many(nodes):  # the ones not resident in one query
        if chunk.parent:
            parents[chunk.id] = chunk.parent
            found[chunk.id].append((chunk.parent, "parent", 0, 1.0))
    wanted = sorted(set(nodes) | set(parents.values()))
    children: dict[str, list[str]] = {}
    for child, container in chunks.children(wanted):
        children.setdefault(container, []).append(child)
    for node in nodes:
        for child in children.get(node, []):
            found[node].append((child, "parent", 1, 1.0))
        enclosing = parents.get(node)
        if enclosing:
            for sibling in children.get(enclosing, []):
                if sibling != node:
                    found[node].append((sibling, "sibling", 0, 1.0))
    for neighbours in found.values():  # in a fixed order, so sums add up the same in every process
        neighbours.sort()
    return found
