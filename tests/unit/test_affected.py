"""affected.py's pure parts against their plain definitions."""

from __future__ import annotations

from aurora_lsp.index.affected import _ancestry, classes_with_new_ancestry
from hypothesis import given, settings
from hypothesis import strategies as st

CLASSES = [f"m.py::C{i}" for i in range(8)]
bases_map = st.dictionaries(
    st.sampled_from(CLASSES), st.lists(st.sampled_from(CLASSES), max_size=3).map(lambda b: tuple(sorted(set(b))))
)


@settings(max_examples=300, deadline=None)
@given(old=bases_map, new=bases_map)
def test_classes_with_new_ancestry_compares_only_what_can_differ(
    old: dict[str, tuple[str, ...]], new: dict[str, tuple[str, ...]]
) -> None:
    every_class = {c for c in old.keys() | new.keys() if _ancestry(c, old) != _ancestry(c, new)}
    assert classes_with_new_ancestry(old, new) == every_class
