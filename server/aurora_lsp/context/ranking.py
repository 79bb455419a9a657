"""Ranking: the candidates of a request and their activation, best first.

1. Sources of activation share W: the focus chunk (or, with a query and no focus, the
   best query matches), the focus's file, and the chunks used most recently.
2. Spreading from the sources (spreading.py), and closeness to the focus in its file.
3. Context: BM25 over names, qualified names, signatures and docstrings for the query
   words (or, for a focus alone, the focus's own name words), exact names first; the
   commonest words are left out while the rarer ones hold enough chunks.
4. Base level from the recorded accesses: it lifts relevant chunks, it never makes a
   chunk relevant on its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from aurora_lsp.context.activation import (
    EVENT_WEIGHTS,
    ActivationParameters,
    base_floor,
    base_level,
    context_match,
    proximity,
)
from aurora_lsp.context.question import (
    ALL_PARTS,
    Question,
    QuestionParts,
    looks_like_code,
    path_suffixes,
    read_question,
)
from aurora_lsp.context.spreading import RECENT_ROLE, Reach, Sources, spread
from aurora_lsp.records import Chunk, ChunkId, name_words
from aurora_lsp.store.chunks import ChunkStore

RECENT_WINDOW_SECONDS = 3600.0
_WORD_RUN = re.compile(r"[A-Za-z0-9_]+")
CONTEXT_MATCHES = 60
# Chunks (summed over the query's terms) BM25 may score for one request; about 15 ms at 262K chunks.
MATCH_POSTINGS = 20_000
# The same for the words of the chunks' text, which are many more: a question's common words
# ("the", "self") are in most chunks' text, and BM25 over 20,000 of them took 50 ms on Django.
BODY_POSTINGS_SHARE = 0.1  # of MATCH_POSTINGS
QUERY_SOURCES = 3
# Rank fusion's constant: a match's share of its list's scale is (k + 1) / (k + 1 + rank) times
# its score over the best (Cormack et al.'s reciprocal-rank fusion, k = 60, fused by rank alone;
# rank alone gave a lone weak match the whole scale). On the dev sets at 2,000 tokens,
# recall_code issues / subjects: by score alone 0.753 / 0.482; by rank alone, k = 60: 0.753 /
# 0.464, k = 10: 0.753 / 0.501, k = 3: 0.733 / 0.517; rank times score, k = 3: 0.693 / 0.526,
# k = 10: 0.733 / 0.521.
FUSION_K = 10
FILE_CLUSTER_TOP = 20  # a question's best matches counted per file
FILE_CLUSTER_WEIGHT = 0.5  # 1.0 on the dev sets: subjects 0.528 -> 0.535 recall_code, issues 0.753 -> 0.713
# The definitions jedi finds for the name at the position: the code the person is looking at,
# wherever it lives. Each is as active as the focus (S·W, shared between them) and spreads to
# its own neighbours with this share of W, as the focus spreads with focus_share.
CURSOR_SHARE = 0.5
CURSOR_ROLE = "the definition under the cursor"
# A query is read as its first QUERY_WORDS distinct words and the first QUERY_TERMS distinct
# parts of them. A question is a few words, a pasted traceback a few dozen; each word costs
# a lookup of the chunks so named and each term a phrase for BM25 (1,000 terms took 0.7 s
# at 262K chunks, 5,000 took 10 s), while words past the first dozens change little.
QUERY_WORDS = 64
QUERY_TERMS = 64
# How exactly a question names a chunk, as a share of the exact-name bonus: a dotted name
# (`Session.request`) or a traceback frame names one chunk; a plain name is shared by every
# chunk so called (the fan effect, 1 / (1 + ln n)); a chunk whose words match in a file the
# question names gets a share too (file-level evidence).
QUALIFIED_MENTION = 1.5
# A traceback is ordered evidence: the workspace's frame nearest the error gets this much
# more, the next half of it, and so on (the frame where it went wrong, then its callers).
FRAME_ORDER = 0.5
FILE_MENTION = 0.5
# A code name the question gives that no chunk has (a variable, an attribute: `builtin_str`)
# points at the chunks whose text uses it: all of its parts in their words, shared by them.
USED_MENTION = 0.5
USED_MENTIONS = 8  # such names looked up, the first written first
USED_MATCHES = 20
FILES_PER_PATH = 3  # a path that ends more files than this names none of them
USED_IN_FILE_NAMES = 16  # code names looked up in the text of the files the question names
FILES_READ = 4  # named files whose chunks' text is read
FILE_USERS = 3  # chunks of one file that may use a name for it to point at them
FILES_NAMED = 64  # files of one name read at once to find a path's longest ending
# An option or an error message the question quotes names the chunks whose text spells it
# (read to check: the text index holds words, not their order), shared by them.
LITERAL_MATCHES = 40  # chunks holding every word of a literal that are read
LITERAL_USERS = 4  # a literal more chunks spell than this names none of them


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
    mention: str = ""  # how the question named it, if it did
    is_focus: bool = False
    at_cursor: bool = False  # a definition of the name at the position (jedi)
    chunk: Chunk | None = None  # read when packing reaches it; None if it left the index

    @property
    def total(self) -> float:
        return self.base + self.spreading + self.context


@dataclass(slots=True)
class Focus:
    """Where a request stands in a file: the innermost chunk there (if any), the file's
    chunks in source order, and the position's index among them."""

    chunk: Chunk | None = None
    file_chunks: tuple[Chunk, ...] = ()
    index: int | None = None
    definitions: tuple[str, ...] = ()  # chunks of jedi's definitions of the name at the position


def rank(
    chunks: ChunkStore,
    query: str | None,
    focus: Focus,
    now: float,
    parameters: ActivationParameters,
    parts: QuestionParts = ALL_PARTS,
) -> list[Scored]:
    """Every candidate with its activation parts, the focus first, then best first."""
    focus_chunk = focus.chunk
    found = query_matches(chunks, query, focus_chunk, parts)
    matches = found.bm25
    # what the person used lately; chunks merely shown in answers are not sources (no feedback loop)
    recent = chunks.recently_accessed(now - RECENT_WINDOW_SECONDS, parameters.recent_sources, "context")
    recent = [cid for cid in recent if focus_chunk is None or cid != focus_chunk.id]
    scale, bonus = (
        (parameters.query_context_scale, parameters.query_exact_name_bonus)
        if query
        else (parameters.context_scale, parameters.exact_name_bonus)
    )
    fuse = _fused if query and parts.rank_fusion else _by_score
    contexts = fuse(found, scale, bonus, parameters)
    if query and parts.file_cluster:
        _add_file_evidence(contexts)
    sources = _sources(focus_chunk, query if parts.spreading else None, contexts, recent, parameters)
    for cid in focus.definitions:  # what the person is looking at: a source as the focus is
        sources.setdefault(cid, (parameters.source_activation * CURSOR_SHARE / len(focus.definitions), CURSOR_ROLE))
    reaches = spread(chunks, sources, parameters) if sources else {}
    near = _proximity(focus, parameters)

    candidate_set = set(reaches) | set(matches) | set(found.body) | set(near) | set(recent) | set(focus.definitions)
    if focus_chunk is not None:
        candidate_set.add(focus_chunk.id)
    candidate_ids = sorted(candidate_set)
    history = chunks.access_history(candidate_ids)
    floor = base_floor(parameters)

    scored: list[Scored] = []
    for cid in candidate_ids:
        events = history.get(cid, [])
        level = base_level(
            [now - at for at, _ in events], parameters.decay, [EVENT_WEIGHTS.get(event, 1.0) for _, event in events]
        )
        base = max(level, floor) if level is not None else floor
        reach = reaches.get(cid)
        is_focus = focus_chunk is not None and cid == focus_chunk.id
        spread_value = reach.value if reach else 0.0
        if is_focus:
            spread_value = parameters.source_activation * parameters.max_associative_strength
        at_cursor = cid in focus.definitions and not is_focus
        if at_cursor:  # as active as the focus: it is what the person is looking at
            own = parameters.source_activation * parameters.max_associative_strength
            spread_value = max(spread_value, own / len(focus.definitions))
        closeness = near.get(cid)
        spreading = parameters.spreading_weight * spread_value + parameters.proximity_weight * (
            closeness[0] if closeness else 0.0
        )
        context = contexts.get(cid, 0.0)
        if spreading <= 0 and context <= 0:
            continue  # use alone does not make a chunk relevant here; it only lifts relevant ones
        scored.append(
            Scored(
                chunk_id=cid,
                base=parameters.base_weight * base,
                spreading=spreading,
                context=context,
                reach=reach,
                proximity_distance=closeness[1] if closeness else None,
                uses=_use_counts(events),
                last_use_age=now - max(at for at, _ in events) if events else None,
                matched=cid in matches or cid in found.body,
                exact=cid in found.named,
                mention=found.how.get(cid, ""),
                is_focus=is_focus,
                at_cursor=at_cursor,
            )
        )
    scored.sort(key=lambda item: (not item.is_focus, -item.total, item.chunk_id))
    return scored


def _add_file_evidence(contexts: dict[str, float]) -> None:
    """Several of a question's best matches in one file are evidence for the file: each match
    there gains FILE_CLUSTER_WEIGHT × ln(their number)."""
    top = sorted(contexts, key=lambda cid: (-contexts[cid], cid))[:FILE_CLUSTER_TOP]
    per_file: dict[str, int] = {}
    for cid in top:
        per_file[ChunkId.path(cid)] = per_file.get(ChunkId.path(cid), 0) + 1
    for cid in contexts:
        count = per_file.get(ChunkId.path(cid), 0)
        if count > 1:
            contexts[cid] += FILE_CLUSTER_WEIGHT * math.log(count)


def _by_score(found: QueryMatches, scale: float, bonus: float, parameters: ActivationParameters) -> dict[str, float]:
    """The context of the matches by score alone: each list (names, text words) relative to
    its best match, an exact name's bonus on the names' list."""
    best_bm25 = min(found.bm25.values(), default=0.0)
    contexts = {
        cid: parameters.context_weight
        * context_match(value, best_bm25, cid in found.named, scale, bonus * found.named.get(cid, 0.0))
        for cid, value in found.bm25.items()
    }
    best_body = min(found.body.values(), default=0.0)
    for cid, value in found.body.items():
        words = parameters.context_weight * context_match(value, best_body, False, parameters.query_body_scale, 0.0)
        contexts[cid] = contexts.get(cid, 0.0) + words
    return contexts


def _fused(found: QueryMatches, scale: float, bonus: float, parameters: ActivationParameters) -> dict[str, float]:
    """The context of a question's matches, each list (names, text words) fused by rank as
    well as score: its scale × (k + 1) / (k + 1 + rank) × score / best, so the many matches
    close behind the best of a list fall off with their rank, not only with their score."""
    fused: dict[str, float] = {}
    for values, list_scale in ((found.bm25, scale), (found.body, parameters.query_body_scale)):
        ranks = {value: index for index, value in enumerate(sorted(set(values.values())))}  # ties share a rank
        best = min(values.values(), default=0.0)
        for cid, value in values.items():
            share = (FUSION_K + 1) / (FUSION_K + 1 + ranks[value]) * (value / best if best < 0 else 0.0)
            fused[cid] = fused.get(cid, 0.0) + parameters.context_weight * list_scale * share
    for cid, strength in found.named.items():
        fused[cid] = fused.get(cid, 0.0) + parameters.context_weight * bonus * strength
    return fused


def _sources(
    focus: Chunk | None,
    query: str | None,
    contexts: dict[str, float],
    recent: list[str],
    parameters: ActivationParameters,
) -> Sources:
    """W shared by the sources: the focus (or the best query matches) and recent chunks."""
    sources: Sources = {}
    focus_weight = parameters.source_activation * parameters.focus_share
    if focus is not None:
        sources[focus.id] = (focus_weight, "focus")
    elif contexts and query:
        best = sorted(contexts, key=lambda cid: -contexts[cid])[:QUERY_SOURCES]  # stable: see query_matches
        for cid in best:
            sources[cid] = (focus_weight / len(best), f"best match {ChunkId.qualname(cid)}")
    for cid in recent:
        weight = parameters.source_activation * parameters.recent_share / len(recent)
        previous = sources.get(cid)
        sources[cid] = (
            (weight + previous[0], previous[1]) if previous else (weight, f"{RECENT_ROLE} {ChunkId.qualname(cid)}")
        )
    return sources


def _proximity(focus: Focus, parameters: ActivationParameters) -> dict[str, tuple[float, int]]:
    """chunk id -> (activation from the focus's file, distance in chunks) for the file's chunks."""
    if focus.index is None or not focus.file_chunks:
        return {}
    file_weight = parameters.source_activation * parameters.file_share * parameters.max_associative_strength
    values: dict[str, tuple[float, int]] = {}
    for index, chunk in enumerate(focus.file_chunks):
        if focus.chunk is not None and chunk.id == focus.chunk.id:
            continue
        distance = abs(index - focus.index) if focus.chunk is not None else abs(index - focus.index) + 1
        values[chunk.id] = (file_weight * proximity(distance, parameters.proximity_half_distance), distance)
    return values


@dataclass(slots=True)
class QueryMatches:
    bm25: dict[str, float]  # chunk id -> BM25 (negative, lower is better); named chunks at least the best
    named: dict[str, float]  # chunk id -> how exactly the request names it (a share of the exact-name bonus)
    how: dict[str, str]  # chunk id -> how the question named it, for the `why` line
    body: dict[str, float] = field(default_factory=dict)  # chunk id -> BM25 over its text's words (questions)


def query_matches(
    chunks: ChunkStore, query: str | None, focus: Chunk | None, parts: QuestionParts = ALL_PARTS
) -> QueryMatches:
    """The chunks the request's words match, and those it names."""
    question: Question | None = None
    if query:
        question = read_question(query, parts)
        words = list(question.words[:QUERY_WORDS])
        names = list(question.mentions[:QUERY_WORDS])
    elif focus is not None:
        words = names = [focus.name]
    else:
        return QueryMatches({}, {}, {})
    terms = query_terms(words)
    telling = telling_terms(chunks, terms) if terms else []
    expression = " OR ".join(f'"{term}"' for term in telling)  # terms are [a-z0-9]+: no FTS5 syntax
    matches = dict(chunks.full_text(expression, CONTEXT_MATCHES)) if telling else {}
    named: dict[str, float] = {}
    how: dict[str, str] = {}
    body: dict[str, float] = {}
    weak: set[str] = set()
    spelled: set[str] = set()  # chunks whose text spells a literal of the question
    if question is None:
        named = dict.fromkeys(chunks.ids_named(sorted(set(names)), CONTEXT_MATCHES), 1.0)
    else:
        _named_by(chunks, question, names, matches, named, how, weak, parts)
        spelled = {cid for literal in question.literals for cid in _saying(chunks, literal)}
        literal_fan = 1.0 + math.log(len(spelled)) if spelled else 1.0
        for cid in sorted(spelled):
            if QUALIFIED_MENTION / literal_fan > named.get(cid, 0.0):
                named[cid] = QUALIFIED_MENTION / literal_fan
                how[cid] = "says what the question quotes"
            weak.discard(cid)
    if question is not None and parts.body_index:
        body_postings = max(1, int(MATCH_POSTINGS * BODY_POSTINGS_SHARE))
        body_terms = telling_terms(chunks, terms, chunks.body_term_chunk_counts, body_postings) if terms else []
        body_expression = " OR ".join(f'"{term}"' for term in body_terms)
        body = dict(chunks.body_text(body_expression, CONTEXT_MATCHES)) if body_terms else {}
        if body and parts.named_as_text:
            # a chunk the question names outright is what it is about: its text counts as the
            # best text match, so a long chunk sharing many of a long issue's words does not
            # outrank the function the issue names; so does one that spells what it quotes
            best_body = min(body.values())
            for cid, strength in named.items():
                if (strength >= 1.0 or cid in spelled) and cid not in weak:
                    body[cid] = min(body.get(cid, 0.0), best_body)
    if focus is not None:
        matches.pop(focus.id, None)
        named.pop(focus.id, None)
    best = min(matches.values()) if matches else -1.0
    worst = max(matches.values()) if matches else -1.0
    # in a fixed order: the best matches become sources, ties going to the earlier entry
    # (better full text, then by id), and a set's order changes from process to process
    for cid in sorted(named):
        matches[cid] = min(matches.get(cid, 0.0), worst if cid in weak and cid not in matches else best)
    return QueryMatches(matches, named, how, body if question is not None else {})


def _named_by(
    chunks: ChunkStore,
    question: Question,
    names: list[str],
    matches: dict[str, float],
    named: dict[str, float],
    how: dict[str, str],
    weak: set[str],
    on: QuestionParts,
) -> None:
    """Fill `named` and `how` with the chunks the question names: by name, dotted name,
    traceback frame, the names their text uses (those also in `weak`), and (for chunks its
    words match) the files it names."""

    def note(cid: str, strength: float, reason: str, weakly: bool = False) -> None:
        if not weakly:
            weak.discard(cid)
        if strength > named.get(cid, 0.0):
            named[cid] = strength
            how[cid] = reason

    by_name: dict[str, list[str]] = {}
    for cid in chunks.ids_named(sorted(set(names)), CONTEXT_MATCHES):
        by_name.setdefault(ChunkId.qualname(cid).rpartition(".")[2].split("#")[0], []).append(cid)
    for ids in by_name.values():
        for cid in ids:
            note(cid, 1.0 / (1.0 + math.log(len(ids))), "")
    looked_up = 0
    for name in names:
        parts = [part for part in name_words(name).split() if len(part) > 2]
        if name in by_name or len(parts) < 2 or looked_up >= USED_MENTIONS or not on.body_index:
            continue
        looked_up += 1
        users = chunks.body_ids(" AND ".join(f'"{part}"' for part in parts), USED_MATCHES)
        for cid in users:
            if cid not in named:
                weak.add(cid)  # named by what it uses, not by its own words: its match is the weakest
            note(cid, USED_MENTION / (1.0 + math.log(len(users))), f"uses {name}", weakly=True)
    for name, suffix in question.qualified:
        for cid, _ in chunks.name_suffix_candidates(name, suffix, FILES_PER_PATH):
            note(cid, QUALIFIED_MENTION, f"the question names {suffix}")
    files: dict[str, None] = {}
    nearer = 0  # frames in the workspace nearer the error than this one
    for path, function in question.frames:
        found = False
        for file in _files_ending(chunks, path):
            files.setdefault(file)
            for chunk in chunks.chunks_in_file(file):
                if chunk.name == function:
                    order = FRAME_ORDER / (1 + nearer) if on.frame_order else 0.0
                    note(chunk.id, QUALIFIED_MENTION + order, f"traceback frame {file} in {function}")
                    found = True
        nearer += found
    if on.siblings:
        # `e.value` is ExceptionInfo.value, so `str(e)` is ExceptionInfo's __str__: of the
        # chunks a shared name names, those in the class of a chunk named outright are meant
        classes = {cid.rpartition(".")[0] for cid, strength in named.items() if strength >= 1.0 and cid not in weak}
        for name, ids in by_name.items():
            for cid in ids if len(ids) > 1 else []:
                if cid.rpartition(".")[0] in classes:
                    note(cid, 1.0, f"{name} of a class the question names")
        # and a class two of whose members it names is named itself
        members: dict[str, list[str]] = {}
        for cid, strength in named.items():
            if strength >= 1.0 and cid not in weak and "." in ChunkId.qualname(cid):
                members.setdefault(cid.rpartition(".")[0], []).append(ChunkId.qualname(cid).rpartition(".")[2])
        for owner, names_in in sorted(members.items()):
            if len(names_in) > 1:
                note(owner, 1.0, f"holds {', '.join(sorted(names_in))}, which the question names")
    named_files: dict[str, None] = {}
    for path in question.paths:
        named_files.update(dict.fromkeys(_files_ending(chunks, path)))
    files.update(named_files)
    if on.file_evidence:
        code_names = [name for name in names if looks_like_code(name)]
        in_files = _users_in_files(chunks, code_names, list(named_files)[:FILES_READ])
        for cid, name in in_files.items():
            note(cid, QUALIFIED_MENTION / (1.0 + math.log(len(in_files))), f"uses {name} in a file the question names")
    for cid in list(matches) + list(named) if on.file_evidence else []:
        if ChunkId.path(cid) in files:
            note(cid, max(named.get(cid, 0.0), FILE_MENTION), "in a file the question names")


def _saying(chunks: ChunkStore, literal: str) -> list[str]:
    """The innermost chunks whose text spells `literal` as written: a word as a string of
    its own (`"--collect-only"`, `"routes"`), a message fragment anywhere."""
    terms = sorted({part for part in name_words(" ".join(_WORD_RUN.findall(literal))).split() if len(part) > 2})
    if not terms:
        return []
    if " " not in literal:  # an option or a subcommand: a string of its own
        pattern = re.compile(r"(?<=[\"'])" + re.escape(literal) + r"(?=[\"'=])")
    else:
        pattern = re.compile(r"\s+".join(map(re.escape, literal.split())))
    ids = chunks.body_ids(" AND ".join(f'"{term}"' for term in terms), LITERAL_MATCHES)
    inner = sorted(_innermost([cid for cid in ids if pattern.search(chunks.text(cid) or "")]))
    return inner if len(inner) <= LITERAL_USERS else []


def _innermost(ids: list[str]) -> list[str]:
    """Those of the chunks that hold none of the others: a class that says or uses something
    through its method is the method's container, not a sayer or user of its own."""
    return [cid for cid in ids if not any(other.startswith(cid + ".") for other in ids)]


def _users_in_files(chunks: ChunkStore, names: list[str], files: list[str]) -> dict[str, str]:
    """The innermost chunks of these files whose text uses a code name the question gives
    (`In requests/sessions.py: method = builtin_str(method)` points at the chunk there that
    says it), with the name; a name used in more than FILE_USERS chunks of a file points at none."""
    wanted = names[:USED_IN_FILE_NAMES]
    if not wanted:
        return {}
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, wanted)) + r")\b")
    found: dict[str, str] = {}
    for file in files:
        users: dict[str, list[str]] = {}
        for chunk in chunks.chunks_in_file(file):
            text = chunks.text(chunk.id) or ""
            for name in dict.fromkeys(match.group() for match in pattern.finditer(text)):
                if name != chunk.name:
                    users.setdefault(name, []).append(chunk.id)
        for name, ids in users.items():
            inner = _innermost(ids)
            if len(inner) <= FILE_USERS:
                for cid in inner:
                    found.setdefault(cid, name)
    return found


def _files_ending(chunks: ChunkStore, path: str) -> list[str]:
    """The indexed files a path as written names: the longest of its endings that some file
    has, unless more than FILES_PER_PATH files have it (`__init__.py` names no file)."""
    suffixes = path_suffixes(path)
    if not suffixes:
        return []
    # one read of the files with its name, then the longest ending in memory; a name that
    # common (`__init__.py`) is looked up ending by ending
    named = chunks.paths_ending(suffixes[-1], FILES_NAMED)
    for suffix in suffixes:
        if len(named) < FILES_NAMED:
            found = [file for file in named if file == suffix or file.endswith("/" + suffix)]
        else:
            found = chunks.paths_ending(suffix, FILES_PER_PATH + 1)
        if found:
            return found if len(found) <= FILES_PER_PATH else []
    return []


def query_terms(words: list[str]) -> list[str]:
    """The first QUERY_TERMS distinct parts of these words (`get_response` → get, response), sorted."""
    terms: dict[str, None] = {}
    for word in words:
        for part in name_words(word).split():
            terms.setdefault(part)
            if len(terms) >= QUERY_TERMS:
                return sorted(terms)
    return sorted(terms)


def telling_terms(
    chunks: ChunkStore,
    terms: list[str],
    counter: Callable[[list[str]], dict[str, int]] | None = None,
    postings_limit: int | None = None,
) -> list[str]:
    """The terms to match on: those the index holds (another adds a phrase to BM25 and
    nothing to any score), then the commonest left out, one at a time, while the chunks
    holding the others are more than MATCH_POSTINGS. BM25 has to score every chunk that
    holds any term, so "test" (in a third of 262K chunks) made a query cost 100 ms,
    although a term that common adds little to the score (Lucene's common-terms idea).
    The rarest term always stays, so a query of common words still finds something."""
    counts = (counter or chunks.term_chunk_counts)(terms)
    kept = sorted((term for term in terms if counts.get(term, 0) > 0), key=lambda term: (counts[term], term))
    postings = sum(counts.get(term, 0) for term in kept)
    while len(kept) > 1 and postings > (postings_limit or MATCH_POSTINGS):
        postings -= counts.get(kept.pop(), 0)
    return kept


def _use_counts(events: list[tuple[float, str]]) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for _, kind in events:
        counts[kind] = counts.get(kind, 0) + 1
    return tuple(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))
