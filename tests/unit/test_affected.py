"""affected.py's pure parts against their plain definitions."""

from __future__ import annotations

from aurora_lsp.index.affected import _ancestry, classes_with_new_ancestry
from hypothesis import given, settings
from hypothesis import strategies as st

CLASSES = [f"m.py::C{i}" for i in range(8)]
bases = st.lists(st.sampled_from(CLASSES), max_size=3).map(lambda found: tuple(sorted(set(found))))
bases_map = st.dictionaries(st.sampled_from(CLASSES), bases)
# a refresh changes the bases of a few classes: None, a class that vanished
edits = st.dictionaries(st.sampled_from(CLASSES), st.none() | bases, max_size=2)


@settings(max_examples=300, deadline=None)
@given(old=bases_map, edit=edits)
def test_classes_with_new_ancestry_compares_only_what_can_differ(
    old: dict[str, tuple[str, ...]], edit: dict[str, tuple[str, ...] | None]
) -> None:
    new = {c: b for c, b in {**old, **edit}.items() if b is not None}
    every_class = {c for c in old.keys() | new.keys() if _ancestry(c, old) != _ancestry(c, new)}
    assert classes_with_new_ancestry(old, new) == every_class
