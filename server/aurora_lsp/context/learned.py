"""Learned associations: what the team changed together, as ACT-R associative strengths.

The counts come from the workspace's git history (index/history.py, stored by
workspace/learning.py). From each source of activation j they spread at two grains:

- chunk to chunk: S_ji = ln P(i|j) / P(i) over the commits that changed j
  (activation.learned_strength, with a prior for rare pairs);
- file to file, then into the chunks of the co-changed file: the file pair's S, shared out
  by how often each of the file's chunks changed (a chunk never changed gets the share of
  one change), so the file leads to the chunks its changes usually touch.

Each reach carries the one line that explains it ("changed together with X in 7 of 9
commits"). Nothing here writes; without history rows nothing is reached.
"""

from __future__ import annotations

from collections.abc import Mapping

from aurora_lsp.context.activation import ActivationParameters, learned_strength
from aurora_lsp.records import ChunkId
from aurora_lsp.store.chunks import ChunkStore

PARTNERS = 40  # partners read per source (chunk or file), the most frequent first
FILES = 5  # co-changed files spread into per source, the strongest first
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

    def add(cid: str, value: float, why: str) -> None:
        previous = found.get(cid)
        if previous is None:
            found[cid] = (value, why)
        else:
            found[cid] = (previous[0] + value, previous[1] if previous[0] >= value else why)

    for source, (weight, _role) in sources.items():
        path = ChunkId.path(source)
        partners = chunks.history_partners([source, path], PARTNERS)
        changes = chunks.history_changes([source, path, *(other for _, other, _ in partners)])
        scale = weight * parameters.learned_weight
        prior = parameters.learned_prior_commits
        name = ChunkId.plain_qualname(source)
        files: list[tuple[float, str, int]] = []
        for key, other, together in partners:
            s_ji = learned_strength(together, changes.get(key, 0), changes.get(other, 0), commits, prior)
            if s_ji <= 0 or other == source:
                continue
            if key == source:
                add(other, scale * s_ji, f"changed together with {name} in {together} of {changes.get(key, 0)} commits")
            else:
                files.append((s_ji, other, together))
        files.sort(key=lambda item: (-item[0], item[1]))
        for s_file, other_file, together in files[:FILES]:
            inside = chunks.chunks_in_file(other_file)
            counts = chunks.history_changes([chunk.id for chunk in inside])
            most = max([1, *counts.values()])
            why = f"its file changed together with {path} in {together} of {changes.get(path, 0)} commits"
            for chunk in inside:
                add(chunk.id, scale * s_file * max(counts.get(chunk.id, 0), 1) / most, why)
    return found
