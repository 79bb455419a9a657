"""Learned associations: what the team changed together, as ACT-R associative strengths.

The counts come from the workspace's git history (index/history.py, stored by
workspace/learning.py). ACT-R's fan formula S_ji = S − ln(fan_j) is the case P(i|j) =
1 / fan_j of S_ji = S + ln P(i|j); here P(i|j) is learned from the commits
(activation.learned_probability, with a prior for rare pairs), at two grains:

- chunk to chunk: of the commits that changed j, the share that changed i;
- file to file, then into the file's chunks: P(F_i | F_j) · P(i | F_i changed), the second
  the chunk's share of its file's changes (Laplace: a chunk never changed counts one half),
  so a co-changed file leads to the chunks its changes usually touch.

A chunk reached both ways keeps the larger strength. Each reach carries the one line that
explains it ("changed together with X in 7 of 9 commits"). Nothing here writes; without
history rows nothing is reached.
"""

from __future__ import annotations

from collections.abc import Mapping

from aurora_lsp.context.activation import ActivationParameters, learned_probability, learned_strength
from aurora_lsp.records import ChunkId
from aurora_lsp.store.chunks import ChunkStore

PARTNERS = 40  # partners read per source (chunk or file), the most frequent first
FILES = 8  # co-changed files spread into per source, the likeliest first
COMMITS_KEY = "history_commits"  # meta: how many commits the counts come from

Learned = dict[str, tuple[float, str]]  # chunk id -> (activation, why)


def learned_reaches(
    chunks: ChunkStore, sources: Mapping[str, tuple[float, str]], parameters: ActivationParameters
) -> Learned:
    """Activation each chunk receives from the sources along learned links, with its reason."""
    if parameters.learned_weight <= 0:
        return {}
    commits = int(chunks.get_meta(COMMITS_KEY) or 0)
    if commits <= 0:
        return {}
    found: Learned = {}
    for source, (weight, _role) in sources.items():
        strengths: dict[str, tuple[float, str]] = {}  # this source's S_ji, the larger of the two grains
        strongest = parameters.max_associative_strength
        path = ChunkId.path(source)
        partners = chunks.history_partners([source, path], PARTNERS)
        changes = chunks.history_changes([source, path, *(other for _, other, _, _ in partners)])
        prior = parameters.learned_prior_commits
        name = ChunkId.plain_qualname(source)
        files: list[tuple[float, str, int]] = []
        for key, other, together, weight_together in partners:
            if other == source:
                continue
            probability = learned_probability(
                weight_together, changes.get(key, 0), changes.get(other, 0), commits, prior
            )
            if key == source:
                _offer(
                    strengths,
                    other,
                    learned_strength(probability, strongest),
                    f"changed together with {name} in {together} of {changes[key]} commits",
                )
            else:
                files.append((probability, other, together))
        files.sort(key=lambda item: (-item[0], item[1]))
        for file_probability, other_file, together in files[:FILES]:
            inside = chunks.chunks_in_file(other_file)
            counts = chunks.history_changes([chunk.id for chunk in inside])
            file_changes = max(changes.get(other_file, 0), sum(counts.values()) and 1)
            why = f"its file changed together with {path} in {together} of {changes[path]} commits"
            for chunk in inside:
                share = (counts.get(chunk.id, 0) + 0.5) / (file_changes + 0.5 * len(inside))
                _offer(strengths, chunk.id, learned_strength(file_probability * share, strongest), why)
        for cid, (s_ji, why) in strengths.items():
            value = weight * parameters.learned_weight * s_ji
            previous = found.get(cid)
            found[cid] = (value, why) if previous is None else (previous[0] + value, max(previous, (value, why))[1])
    return found


def _offer(strengths: dict[str, tuple[float, str]], cid: str, s_ji: float, why: str) -> None:
    if s_ji > strengths.get(cid, (0.0, ""))[0]:
        strengths[cid] = (s_ji, why)
