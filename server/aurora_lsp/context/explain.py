"""The one line each context item carries: what put this chunk in the answer."""

from __future__ import annotations

from aurora_lsp.context.ranking import CURSOR_ROLE, Scored
from aurora_lsp.records import ChunkId

USE_WORDS = {
    "edit": "edit",
    "open": "open",
    "symbol": "symbol search",
    "focus": "focus",
    "context": "shown",
    "navigate": "navigation",
}


def explain(entry: Scored) -> str:
    """One line a person can read: what put this chunk here."""
    parts: list[str] = []
    if entry.is_focus:
        parts.append("the focus")
    if entry.at_cursor:
        parts.append(CURSOR_ROLE)
    if entry.reach is not None and entry.reach.path:
        role, *steps = entry.reach.path
        readable = [f"{steps[i]} {ChunkId.qualname(steps[i + 1])}" for i in range(0, len(steps) - 1, 2)]
        parts.append(f"{role} " + " → ".join(readable))
    if entry.reach is not None and entry.reach.learned:
        parts.append(entry.reach.learned)
    if entry.proximity_distance is not None:
        distance = entry.proximity_distance
        parts.append(f"same file, {distance} chunk{'s' if distance != 1 else ''} away")
    if entry.mention:
        parts.append(entry.mention)
    elif entry.exact:
        parts.append("name matches exactly")
    elif entry.matched:
        parts.append("words match")
    if entry.uses:
        counts = ", ".join(f"{count} {USE_WORDS.get(kind, kind)}" for kind, count in entry.uses)
        parts.append(f"used: {counts}, last {_age(entry.last_use_age or 0.0)} ago")
    return "; ".join(parts) or "recently used"


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{max(seconds, 0.0):.0f} s"
