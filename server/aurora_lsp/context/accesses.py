"""Access bookkeeping: which uses an answer records, and which repeats are dropped.

Uses feed the base level. What an answer showed counts only weakly and rarely (see
`shown_events`), so asking the same question again and again does not make its own
answers more active: no feedback loop.
"""

from __future__ import annotations

from collections.abc import Iterable

from aurora_lsp.protocol import ContextAnswer
from aurora_lsp.records import Event

# One access per chunk and kind of use within this window counts; more are repeats.
ACCESS_MIN_INTERVAL_SECONDS = {"context": 600.0}
ACCESS_DEFAULT_INTERVAL_SECONDS = 60.0


def shown_events(answer: ContextAnswer, now: float) -> list[Event]:
    """The accesses an answer records: its focus, and chunks it showed in full.

    Names and signatures are not counted as uses, and a chunk counts as shown at most
    once per ACCESS_MIN_INTERVAL_SECONDS["context"] (see `repeats_removed`), with the
    weak weight EVENT_WEIGHTS["context"]: asking the same question again and again does
    not make its own answers more active (no feedback loop).
    """
    events: list[Event] = []
    if answer.focus:
        events.append((answer.focus, now, "focus"))
    for item in answer.items:
        if item.detail == "full" and item.id != answer.focus:
            events.append((item.id, now, "context"))
    return events


def repeats_removed(events: Iterable[Event], last_times: dict[tuple[str, str], float]) -> list[Event]:
    """Drop events that repeat a use of the same kind within its minimum interval."""
    kept: list[Event] = []
    for chunk_id, at, event in events:
        interval = ACCESS_MIN_INTERVAL_SECONDS.get(event, ACCESS_DEFAULT_INTERVAL_SECONDS)
        last = last_times.get((chunk_id, event))
        if last is not None and at - last < interval:
            continue
        last_times[(chunk_id, event)] = at
        kept.append((chunk_id, at, event))
    return kept
