"""ACT-R activation: pure functions with the model's parameters named after the model.

A chunk's activation is A_i = B_i + S_i + C_i (Anderson & Lebiere 1998, *The Atomic
Components of Thought*; Anderson et al. 2004, "An integrated theory of the mind"):

- B_i, base level: ln(Σ_j w_j · t_j^−d) over the chunk's past accesses, t_j seconds ago,
  decay d = 0.5. `w_j` weighs the kind of use (an edit counts more than a chunk merely
  shown in a context answer); with every w_j = 1 it is the textbook formula. A chunk never
  used has the floor: the activation of one use `base_floor_age_seconds` ago.
- S_i, spreading: Σ_j W_j · S_ji from the sources of activation (the focus chunk, its
  file, recently used chunks), with the associative strength S_ji = S − ln(fan_j) of the
  fan effect, clipped at 0, along dependency and structure links, for a bounded number
  of hops, each further hop damped by `spread_per_hop`.
- C_i, context: how well the chunk matches the request's words (BM25 from the full-text
  index, scaled to the best match), with a bonus for an exact name.

Nothing here touches the database; ranking.py and spreading.py gather the inputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import attrs

# How much one use of each kind counts towards the base level (w_j).
EVENT_WEIGHTS: Mapping[str, float] = {
    "edit": 1.0,
    "open": 0.5,
    "symbol": 0.5,
    "focus": 0.5,
    # An AI agent named the chunk (the focus of its context request, an exact symbol, the subject
    # of `related`): a use, at half a person's, since agents look at more code than they change.
    "agent": 0.25,
    # A person asked where a chunk is defined, used, called from or what it calls (definition,
    # references, call and type hierarchy): interest like a context focus, less than an edit.
    "navigate": 0.5,
    # Shown in a context answer: at most +0.45 over the floor right after (less than one link
    # of spreading), gone within minutes, so an answer cannot lock itself in (accesses.shown_events).
    "context": 0.002,
}


@attrs.define(frozen=True)
class ActivationParameters:
    """The model's parameters. Defaults: the ACT-R literature's values where it has one."""

    # base level
    decay: float = 0.5  # d, "the default value of 0.5 ... has emerged" (Anderson & Lebiere 1998)
    base_floor_age_seconds: float = 7 * 24 * 3600.0  # never used: as if used once a week ago
    # How much recency and frequency count against links and words. At 1.0 a chunk touched
    # seconds ago (about +6 over the floor) outranks the exact answer to a question.
    base_weight: float = 0.5
    # spreading
    source_activation: float = 1.0  # W, ACT-R's :ga default, shared by the focus's sources
    max_associative_strength: float = 8.0  # S (ACT-R's :mas has no default; tuned on the dev split)
    spread_per_hop: float = 0.5
    max_hops: int = 2
    focus_share: float = 0.5  # of W: the focus chunk (or the best query matches)
    file_share: float = 0.4  # of W: the focus's file, by closeness to the focus
    recent_share: float = 0.1  # of W: the most recently used chunks
    recent_sources: int = 5
    spreading_weight: float = 1.0
    # A link resolved only because one method in the workspace has that name ("attr-unique")
    # is a guess; it carries this share of what a resolved link does.
    guessed_link_factor: float = 1.0
    # file proximity (the focus's file as a source): decays with distance in chunks
    proximity_half_distance: float = 4.0
    proximity_weight: float = 1.0
    # context (query match)
    context_scale: float = 0.5  # a focus's own name words (tuned on the dev split)
    exact_name_bonus: float = 1.0
    # A question states what is wanted, so its match weighs like a recent use: a chunk edited
    # a minute ago (about +4 over the floor) does not outrank an exact answer to the question.
    query_context_scale: float = 4.0
    query_exact_name_bonus: float = 2.0
    # A question's words in a chunk's text (identifiers used, string literals, comments), relative
    # to the best such match: evidence, weaker than the same words in its names.
    query_body_scale: float = 6.0
    context_weight: float = 1.0
    # learned associations (the workspace's git history, context/learned.py): S_ji = S + ln P(i|j),
    # P(i|j) estimated with `learned_prior_commits` pseudo-commits in which i occurs at its base rate.
    # Half the weight of a resolved link: at 1.0 learned links crowded static ones out (dev split,
    # first 900 pairs: answered 0.673 at 0.5 with prior 5, 0.660 at 1.0 with prior 20).
    learned_weight: float = 0.5
    learned_prior_commits: float = 5.0

    def without(self, **changes: float) -> ActivationParameters:
        changed: ActivationParameters = attrs.evolve(self, **changes)  # type: ignore[arg-type]
        return changed


# Turning a component off, for the ablation in benchmarks/context_quality.py.
ABLATIONS: dict[str, dict[str, float]] = {
    "base": {"base_weight": 0.0},
    "spreading (links)": {"spreading_weight": 0.0},
    "file proximity": {"proximity_weight": 0.0},
    "context (query match)": {"context_weight": 0.0},
}


def base_level(
    ages_seconds: Iterable[float],
    decay: float = 0.5,
    weights: Iterable[float] | None = None,
) -> float | None:
    """B = ln(Σ w_j · t_j^−d); None when there is no access. Ages below 1 s count as 1 s."""
    total = 0.0
    weight_list = list(weights) if weights is not None else None
    for index, age in enumerate(ages_seconds):
        weight = 1.0 if weight_list is None else weight_list[index]
        total += weight * max(age, 1.0) ** -decay
    return math.log(total) if total > 0 else None


def base_floor(parameters: ActivationParameters) -> float:
    """The base level of a chunk never used: one use `base_floor_age_seconds` ago."""
    return -parameters.decay * math.log(parameters.base_floor_age_seconds)


def associative_strength(fan: int, max_associative_strength: float) -> float:
    """S_ji = S − ln(fan_j), never below 0: a source linked to many chunks primes each less."""
    return max(0.0, max_associative_strength - math.log(max(fan, 1)))


def learned_probability(together: float, source_changes: int, target_changes: int, commits: int, prior: float) -> float:
    """P(i|j) from commit counts: `together` is the commits that changed both, each weighed by
    1 / (what it changed − 1), the fan of that commit, over the commits that changed j; with
    `prior` pseudo-commits of j in which i changes at its base rate P(i) = (n_i + 1) / (N + 1),
    so one commit together says less than seven of nine (Anderson's rational analysis)."""
    base_rate = (target_changes + 1) / (commits + 1)
    return (together + prior * base_rate) / (source_changes + prior)


def learned_strength(probability: float, max_associative_strength: float) -> float:
    """S_ji = S + ln P(i|j), never below 0: the fan effect's S − ln(fan_j) with the learned
    P(i|j) in place of 1 / fan_j (ACT-R derives the fan formula from P(i|j) = 1 / fan_j)."""
    return max(0.0, max_associative_strength + math.log(max(probability, 1e-300)))


def hop_factor(hop: int, spread_per_hop: float) -> float:
    """Damping of activation arriving over `hop` links (1 for a direct link)."""
    return spread_per_hop ** (hop - 1)


def proximity(distance_in_chunks: int, half_distance: float) -> float:
    """Closeness in a file, 1 for the next chunk, halving every `half_distance` chunks."""
    return float(0.5 ** ((max(distance_in_chunks, 1) - 1) / half_distance))


def context_match(bm25: float, best_bm25: float, exact_name: bool, scale: float, exact_name_bonus: float) -> float:
    """C: BM25 relative to the best match (SQLite's bm25() is negative, lower is better)."""
    relative = bm25 / best_bm25 if best_bm25 < 0 else 0.0
    return scale * relative + (exact_name_bonus if exact_name else 0.0)
