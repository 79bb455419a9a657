"""Context answers: candidates, activation, explanations and token-budget packing.

A request names a focus (a position in a file), a query, or both. The answer is built in
four steps, each bounded by the neighbourhood of the request, not by the repository:

1. Sources of activation: the focus chunk, the focus's file, the chunks used most
   recently, and (with a query and no focus) the best query matches.
2. Spreading along links, both ways: calls, references, decorators and base classes
   (edges), the enclosing class, its methods and sibling methods (structure), for at
   most `max_hops` links; a node linked to many chunks primes each less (fan effect).
3. Context: BM25 over names, qualified names, signatures and docstrings for the query
   words (or, for a focus alone, the focus's own name words), exact names first; the
   commonest words are left out while the rarer ones hold enough chunks.
4. Base level from the recorded accesses, then packing best first under the budget:
   full text while the full-text share lasts, then signature and docstring, then names.

Every item carries its activation parts and one line saying why it is there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aurora_lsp.context.activation import (
    EVENT_WEIGHTS,
    ActivationParameters,
    associative_strength,
    base_floor,
    base_level,
    context_match,
    hop_factor,
    proximity,
)
from aurora_lsp.records import Chunk, ChunkId, name_words
from aurora_lsp.store.chunks import ChunkStore
from aurora_lsp.tokens import count_tokens

# How many candidates in a row may fail to fit even by name before packing stops looking.
GIVE_UP_AFTER_MISSES = 40
# Share of the budget for full text, then cumulative share up to which signatures go.
FULL_TEXT_SHARE = 0.6
SIGNATURE_SHARE = 0.85
RECENT_WINDOW_SECONDS = 3600.0
RECENT_ROLE = "recently used"
CONTEXT_MATCHES = 60
# Chunks (summed over the query's terms) BM25 may score for one request; about 15 ms at 262K chunks.
MATCH_POSTINGS = 20_000
HOP_FRONTIER = 40  # nodes expanded per further hop, the most active first
QUERY_SOURCES = 3
RESOLVE_BATCH = 64  # ranked candidates whose chunks are read together while packing
# One access per chunk and kind of use within this window counts; more are repeats.
ACCESS_MIN_INTERVAL_SECONDS = {"context": 600.0}
ACCESS_DEFAULT_INTERVAL_SECONDS = 60.0

# Turning a component off, for the ablation in benchmarks/context_quality.py.
ABLATIONS: dict[str, dict[str, float]] = {
    "base": {"base_weight": 0.0},
    "spreading (links)": {"spreading_weight": 0.0},
    "file proximity": {"proximity_weight": 0.0},
    "context (query match)": {"context_weight": 0.0},
}

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LINK_WORDS = {
    "call": ("calls", "called by"),
    "base": ("subclasses", "base of"),
    "decorator": ("decorated with", "decorates"),
    "reference": ("uses", "used by"),
    "parent": ("inside", "contains"),
    "sibling": ("beside", "beside"),
}


@dataclass(slots=True)
class Reach:
    """How much activation spreading brought to a chunk, and the best path that did."""

    value: float = 0.0
    best: float = 0.0
    path: tuple[str, ...] = ()  # the source's role, then steps: ("focus", "calls", "<id>", ...)


@dataclass(slots=True)
class Scored:
    chunk_id: str
    base: float
    spreading: float
    context: float
    reach: Reach | None = None
    proximity_distance: int | None = None
    uses: tuple[tuple[str, int], ...] = ()  # (kind of use, count)
    last_use_age: float | None = None
    matched: bool = False
    exact: bool = False
    is_focus: bool = False
    chunk: Chunk | None = None  # read when packing reaches it; None if it left the index

    @property
    def total(self) -> float:
        return self.base + self.spreading + self.context


@dataclass(slots=True)
class ContextRequest:
    path: str | None = None  # workspace-relative POSIX path of the focus's file
    line: int | None = None  # 0-based
    character: int = 0
    query: str | None = None
    token_budget: int = 2000
    limit: int | None = None


class ContextEngine:
    """Answers context requests from one workspace's chunk store (one thread at a time)."""

    def __init__(self, root: Path, chunks: ChunkStore) -> None:
        self.root = root
        self.chunks = chunks
        self.db = chunks.db

    def answer(
        self, request: ContextRequest, now: float, parameters: ActivationParameters | None = None
    ) -> dict[str, Any]:
        parameters = parameters or ActivationParameters()
        focus, file_chunks, focus_index = self._focus(request)
        scored = self._rank(request, focus, file_chunks, focus_index, now, parameters)
        items = self._pack(scored, request.token_budget, request.limit)
        return {
            "focus": focus.id if focus else None,
            "tokenBudget": request.token_budget,
            "usedTokens": sum(item["tokens"] for item in items),
            "items": items,
        }

    # -- 1. the focus ---------------------------------------------------------------------

    def _focus(self, request: ContextRequest) -> tuple[Chunk | None, list[Chunk], int | None]:
        """The innermost chunk at the position, the file's chunks, and where the position sits among them."""
        if request.path is None or request.line is None:
            return None, [], None
        file_chunks = self.chunks.chunks_in_file(request.path)
        line = request.line
        focus: Chunk | None = None
        for chunk in file_chunks:  # source order: later matches are nested deeper
            if chunk.start_line <= line <= chunk.end_line:
                focus = chunk
        if focus is not None:
            return focus, file_chunks, file_chunks.index(focus)
        before = sum(1 for chunk in file_chunks if chunk.start_line <= line)
        return None, file_chunks, before

    # -- 2, 3, 4. activation ------------------------------------------------------------

    def _rank(
        self,
        request: ContextRequest,
        focus: Chunk | None,
        file_chunks: list[Chunk],
        focus_index: int | None,
        now: float,
        parameters: ActivationParameters,
    ) -> list[Scored]:
        matches, exact_ids = self._query_matches(request, focus)
        # what the person used lately; chunks merely shown in answers are not sources (no feedback loop)
        recent = self.db.recently_accessed(now - RECENT_WINDOW_SECONDS, parameters.recent_sources, "context")
        recent = [cid for cid in recent if focus is None or cid != focus.id]

        # W is shared by the sources: the focus (or the best query matches), its file, recent chunks
        sources: dict[str, tuple[float, str]] = {}
        focus_weight = parameters.source_activation * parameters.focus_share
        if focus is not None:
            sources[focus.id] = (focus_weight, "focus")
        elif matches and request.query:
            best = sorted(matches, key=lambda cid: matches[cid])[:QUERY_SOURCES]  # stable: see _query_matches
            for cid in best:
                sources[cid] = (focus_weight / len(best), f"best match {_short(cid)}")
        for cid in recent:
            weight = parameters.source_activation * parameters.recent_share / len(recent)
            previous = sources.get(cid)
            sources[cid] = (weight + previous[0], previous[1]) if previous else (weight, f"{RECENT_ROLE} {_short(cid)}")

        reaches = self._spread(sources, parameters) if sources else {}

        proximity_values: dict[str, tuple[float, int]] = {}
        if focus_index is not None and file_chunks:
            file_weight = parameters.source_activation * parameters.file_share * parameters.max_associative_strength
            for index, chunk in enumerate(file_chunks):
                if focus is not None and chunk.id == focus.id:
                    continue
                distance = abs(index - focus_index) if focus is not None else abs(index - focus_index) + 1
                proximity_values[chunk.id] = (
                    file_weight * proximity(distance, parameters.proximity_half_distance),
                    distance,
                )

        candidate_set = set(reaches) | set(matches) | set(proximity_values) | set(recent)
        if focus is not None:
            candidate_set.add(focus.id)
        candidate_ids = sorted(candidate_set)
        history = self.db.access_history(candidate_ids)
        best_bm25 = min(matches.values()) if matches else 0.0
        floor = base_floor(parameters)

        scored: list[Scored] = []
        for cid in candidate_ids:
            events = history.get(cid, [])
            level = base_level(
                [now - at for at, _ in events],
                parameters.decay,
                [EVENT_WEIGHTS.get(event, 1.0) for _, event in events],
            )
            base = max(level, floor) if level is not None else floor
            reach = reaches.get(cid)
            spread = reach.value if reach else 0.0
            near = proximity_values.get(cid)
            is_focus = focus is not None and cid == focus.id
            if is_focus:
                spread = parameters.source_activation * parameters.max_associative_strength
            spreading = parameters.spreading_weight * spread + parameters.proximity_weight * (near[0] if near else 0.0)
            context = 0.0
            if cid in matches:
                scale, bonus = (
                    (parameters.query_context_scale, parameters.query_exact_name_bonus)
                    if request.query
                    else (parameters.context_scale, parameters.exact_name_bonus)
                )
                context = parameters.context_weight * context_match(
                    matches[cid], best_bm25, cid in exact_ids, scale, bonus
                )
            if spreading <= 0 and context <= 0:
                continue  # use alone does not make a chunk relevant here; it only lifts relevant ones
            scored.append(
                Scored(
                    chunk_id=cid,
                    base=parameters.base_weight * base,
                    spreading=spreading,
                    context=context,
                    reach=reach,
                    proximity_distance=near[1] if near else None,
                    uses=_use_counts(events),
                    last_use_age=now - max(at for at, _ in events) if events else None,
                    matched=cid in matches,
                    exact=cid in exact_ids,
                    is_focus=is_focus,
                )
            )
        scored.sort(key=lambda item: (not item.is_focus, -item.total, item.chunk_id))
        return scored

    def _query_matches(self, request: ContextRequest, focus: Chunk | None) -> tuple[dict[str, float], set[str]]:
        """chunk id -> BM25 (negative, lower is better) and the ids whose name is a query word."""
        if request.query:
            words = _WORD.findall(request.query)
        elif focus is not None:
            words = [focus.name]
        else:
            return {}, set()
        if not words:
            return {}, set()
        terms = sorted({part for word in words for part in name_words(word).split()})
        if not terms:
            return {}, set()
        expression = " OR ".join(f'"{term}"' for term in self._telling_terms(terms))
        matches = dict(self.db.full_text(expression, CONTEXT_MATCHES))
        exact_ids = set(self.db.ids_named(sorted(set(words)), CONTEXT_MATCHES))
        if focus is not None:
            matches.pop(focus.id, None)
            exact_ids.discard(focus.id)
        best = min(matches.values()) if matches else -1.0
        # in a fixed order: the best matches become sources, ties going to the earlier entry
        # (better full text, then by id), and a set's order changes from process to process
        for cid in sorted(exact_ids):
            matches[cid] = min(matches.get(cid, 0.0), best)
        return matches, exact_ids

    def _telling_terms(self, terms: list[str]) -> list[str]:
        """The terms to match on: the commonest are left out, one at a time, while the chunks
        holding the others are more than MATCH_POSTINGS. BM25 has to score every chunk that
        holds any term, so "test" (in a third of 262K chunks) made a query cost 100 ms,
        although a term that common adds little to the score (Lucene's common-terms idea).
        The rarest term always stays, so a query of common words still finds something."""
        counts = self.db.term_chunk_counts(terms)
        kept = sorted(terms, key=lambda term: (counts.get(term, 0), term))
        postings = sum(counts.get(term, 0) for term in kept)
        while len(kept) > 1 and postings > MATCH_POSTINGS:
            postings -= counts.get(kept.pop(), 0)
        return kept

    def _spread(self, sources: dict[str, tuple[float, str]], parameters: ActivationParameters) -> dict[str, Reach]:
        """Activation arriving at each chunk over at most `max_hops` links from the sources."""
        reaches: dict[str, Reach] = {}
        strength = parameters.max_associative_strength
        known: dict[str, list[tuple[str, str, int, float]]] = {}  # links read once per request
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
                    known.update(self._links(unknown, parameters.guessed_link_factor))
                links = known
                reached: dict[str, tuple[float, tuple[str, ...]]] = {}
                for node in frontier:
                    neighbours = links.get(node, [])
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
                frontier = sorted(reached, key=lambda cid: -reached[cid][0])[:HOP_FRONTIER]
                if not frontier:
                    break
        return reaches

    def _links(self, nodes: Sequence[str], guess_factor: float) -> dict[str, list[tuple[str, str, int, float]]]:
        """Each node's neighbours: edges both ways, its enclosing chunk, its children and siblings."""
        links: dict[str, list[tuple[str, str, int, float]]] = {node: [] for node in nodes}
        node_set = set(nodes)
        for src, dst, kind, how in self.db.links(list(nodes)):
            factor = guess_factor if how == "attr-unique" else 1.0
            if src in node_set:
                links[src].append((dst, kind, 0, factor))
            if dst in node_set:
                links[dst].append((src, kind, 1, factor))
        parents: dict[str, str] = {}
        for chunk in self.chunks.get_many(nodes):  # the ones not resident in one query
            if chunk.parent:
                parents[chunk.id] = chunk.parent
                links[chunk.id].append((chunk.parent, "parent", 0, 1.0))
        wanted = sorted(set(nodes) | set(parents.values()))
        children: dict[str, list[str]] = {}
        for child, container in self.db.children(wanted):
            children.setdefault(container, []).append(child)
        for node in nodes:
            for child in children.get(node, []):
                links[node].append((child, "parent", 1, 1.0))
            enclosing = parents.get(node)
            if enclosing:
                for sibling in children.get(enclosing, []):
                    if sibling != node:
                        links[node].append((sibling, "sibling", 0, 1.0))
        return links

    # -- packing --------------------------------------------------------------------------

    def _pack(self, scored: list[Scored], budget: int, limit: int | None) -> list[dict[str, Any]]:
        return pack(self._with_chunks(scored), budget, limit, self._render, self.root)

    def _with_chunks(self, scored: list[Scored]) -> Iterator[Scored]:
        """The ranked entries with their chunks, read a batch at a time as packing reaches
        them: a request ranks hundreds of candidates and shows a few dozen, and each chunk
        read may come from SQLite and churn the memory tier."""
        for start in range(0, len(scored), RESOLVE_BATCH):
            batch = scored[start : start + RESOLVE_BATCH]
            chunks = {chunk.id: chunk for chunk in self.chunks.get_many([entry.chunk_id for entry in batch])}
            for entry in batch:
                entry.chunk = chunks.get(entry.chunk_id)
                yield entry

    def _render(self, chunk: Chunk, detail: str) -> str:
        if detail == "full":
            return self.chunks.text(chunk.id) or ""
        if detail == "signature":
            docstring = (self.chunks.docstring(chunk.id) or "").strip()
            return signature_text(chunk, docstring)
        return name_text(chunk)


def signature_text(chunk: Chunk, docstring: str, max_docstring_lines: int = 6) -> str:
    """The `signature` tier: the def line and the start of the docstring."""
    if not docstring:
        return chunk.signature
    lines = docstring.splitlines()
    shown = "\n".join(lines[:max_docstring_lines]) + ("\n…" if len(lines) > max_docstring_lines else "")
    return f'{chunk.signature}\n    """{shown}"""'


def name_text(chunk: Chunk) -> str:
    """The `name` tier: where to find it."""
    return f"{chunk.kind} {ChunkId.qualname(chunk.id)} — {chunk.path}:{chunk.start_line + 1}"


Render = Callable[[Chunk, str], str]  # a chunk's text at a level of detail


def pack(scored: Iterable[Scored], budget: int, limit: int | None, render: Render, root: Path) -> list[dict[str, Any]]:
    """Best first under `budget`: full text within the full share, then signatures, then names.

    An item too large for the room its tier has left drops to the next tier, so one big
    class does not swallow the budget; a chunk inside one already shown in full is named
    only. An entry without its chunk (gone from the index) is passed over. The sum of the
    items' tokens never exceeds the budget.
    """
    items: list[dict[str, Any]] = []
    used = 0
    full_room = int(budget * FULL_TEXT_SHARE)
    signature_room = int(budget * SIGNATURE_SHARE)
    shown_full: list[tuple[str, str]] = []  # (path, "Qualname.") of chunks shown in full
    misses = 0
    for entry in scored:
        if limit is not None and len(items) >= limit:
            break
        if used >= budget or misses >= GIVE_UP_AFTER_MISSES:
            break
        chunk = entry.chunk
        if chunk is None:
            continue
        path, qualname = ChunkId.split(chunk.id)
        inside_full = any(path == other and qualname.startswith(prefix) for other, prefix in shown_full)
        chosen: tuple[str, str, int] | None = None
        for detail, room in (("full", full_room), ("signature", signature_room), ("name", budget)):
            if detail != "name" and (inside_full or used >= room):
                continue
            if detail == "full" and used + chunk.tokens > room:
                continue  # the stored token count of its text says it cannot fit: do not read it
            text = render(chunk, detail)
            tokens = count_tokens(text)
            if used + tokens <= room:
                chosen = (detail, text, tokens)
                break
        if chosen is None:
            misses += 1
            continue  # not even its name fits; a shorter name further down may
        misses = 0
        detail, text, tokens = chosen
        used += tokens
        if detail == "full":
            shown_full.append((path, qualname + "."))
        items.append(item_dict(root, entry, chunk, detail, text, tokens))
    return items


def item_dict(root: Path, entry: Scored, chunk: Chunk, detail: str, text: str, tokens: int) -> dict[str, Any]:
    return {
        "id": chunk.id,
        "uri": (root / chunk.path).as_uri(),
        "range": {
            "start": {"line": chunk.start_line, "character": chunk.start_char},
            "end": {"line": chunk.end_line, "character": chunk.end_char},
        },
        "name": chunk.name,
        "qualifiedName": chunk.qualname,
        "kind": chunk.kind,
        "detail": detail,
        "text": text,
        "tokens": tokens,
        "score": round(entry.total, 4),
        "activation": {
            "base": round(entry.base, 4),
            "spreading": round(entry.spreading, 4),
            "context": round(entry.context, 4),
            "total": round(entry.total, 4),
        },
        "why": explain(entry),
    }


def explain(entry: Scored) -> str:
    """One line a person can read: what put this chunk here."""
    parts: list[str] = []
    if entry.is_focus:
        parts.append("the focus")
    if entry.reach is not None and entry.reach.path:
        role, *steps = entry.reach.path
        readable = [f"{steps[i]} {_short(steps[i + 1])}" for i in range(0, len(steps) - 1, 2)]
        parts.append(f"{role} " + " → ".join(readable))
    if entry.proximity_distance is not None:
        distance = entry.proximity_distance
        parts.append(f"same file, {distance} chunk{'s' if distance != 1 else ''} away")
    if entry.exact:
        parts.append("name matches exactly")
    elif entry.matched:
        parts.append("words match")
    if entry.uses:
        counts = ", ".join(f"{count} {USE_WORDS.get(kind, kind)}" for kind, count in entry.uses)
        parts.append(f"used: {counts}, last {_age(entry.last_use_age or 0.0)} ago")
    return "; ".join(parts) or "recently used"


USE_WORDS = {"edit": "edit", "open": "open", "symbol": "symbol search", "focus": "focus", "context": "shown"}


def _use_counts(events: list[tuple[float, str]]) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for _, kind in events:
        counts[kind] = counts.get(kind, 0) + 1
    return tuple(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{max(seconds, 0.0):.0f} s"


def _short(chunk_id: str) -> str:
    return ChunkId.qualname(chunk_id)


def merge_answers(answers: list[dict[str, Any]], budget: int) -> dict[str, Any]:
    """One answer from several folders' answers: best first, within the budget."""
    if len(answers) == 1:
        return answers[0]
    focus = next((answer["focus"] for answer in answers if answer["focus"]), None)
    items: list[dict[str, Any]] = []
    used = 0
    for item in sorted((item for answer in answers for item in answer["items"]), key=lambda i: -i["score"]):
        if used + item["tokens"] <= budget:
            items.append(item)
            used += item["tokens"]
    return {"focus": focus, "tokenBudget": budget, "usedTokens": used, "items": items}


def shown_events(answer: dict[str, Any], now: float) -> list[tuple[str, float, str]]:
    """The accesses an answer records: its focus, and chunks it showed in full.

    Names and signatures are not counted as uses, and a chunk counts as shown at most
    once per ACCESS_MIN_INTERVAL_SECONDS["context"] (see `repeats_removed`), with the
    weak weight EVENT_WEIGHTS["context"]: asking the same question again and again does
    not make its own answers more active (no feedback loop).
    """
    events: list[tuple[str, float, str]] = []
    if answer.get("focus"):
        events.append((answer["focus"], now, "focus"))
    for item in answer["items"]:
        if item["detail"] == "full" and item["id"] != answer.get("focus"):
            events.append((item["id"], now, "context"))
    return events


def repeats_removed(
    events: Iterable[tuple[str, float, str]], last_times: dict[tuple[str, str], float]
) -> list[tuple[str, float, str]]:
    """Drop events that repeat a use of the same kind within its minimum interval."""
    kept: list[tuple[str, float, str]] = []
    for chunk_id, at, event in events:
        interval = ACCESS_MIN_INTERVAL_SECONDS.get(event, ACCESS_DEFAULT_INTERVAL_SECONDS)
        last = last_times.get((chunk_id, event))
        if last is not None and at - last < interval:
            continue
        last_times[(chunk_id, event)] = at
        kept.append((chunk_id, at, event))
    return kept
