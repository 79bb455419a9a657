"""The bounded in-memory tier on its own: both bounds, recency, counters."""

from __future__ import annotations

import sys

import pytest
from aurora_lsp.store.lru import LruTier


def sized(value: str) -> int:
    return sys.getsizeof(value)


def test_entry_bound_evicts_least_recently_used() -> None:
    tier: LruTier[str, str] = LruTier(max_entries=3, max_bytes=10**9, size_of=sized)
    for key in "abc":
        tier.put(key, key * 10)
    assert tier.get("a") == "a" * 10  # a is now the most recent
    tier.put("d", "d" * 10)
    assert "b" not in tier and set(tier.keys()) == {"a", "c", "d"}
    assert tier.evictions == 1
    assert list(tier.keys()) == ["c", "a", "d"]


def test_byte_bound_counts_values_and_table() -> None:
    value = "x" * 1000
    reference: LruTier[str, str] = LruTier(10, 10**9, sized)
    for key in "abc":
        reference.put(key, value)
    budget = reference.resident_bytes  # exactly three values and their table
    assert budget > 3 * sys.getsizeof(value)
    tier: LruTier[str, str] = LruTier(max_entries=100, max_bytes=budget, size_of=sized)
    for index in range(10):
        tier.put(str(index), value)
        assert tier.resident_bytes <= budget
    # as many of the most recent values as fit, and no room for one more
    assert len(tier) >= 2
    assert tier.resident_bytes + sys.getsizeof(value) > budget
    assert list(tier.keys()) == [str(i) for i in range(10 - len(tier), 10)]
    assert tier.evictions == 10 - len(tier)


def test_value_larger_than_budget_is_not_kept() -> None:
    tier: LruTier[str, str] = LruTier(max_entries=10, max_bytes=200, size_of=sized)
    tier.put("big", "y" * 10_000)
    assert len(tier) == 0 and tier.resident_bytes <= 200


def test_hits_misses_and_peek() -> None:
    tier: LruTier[str, str] = LruTier(max_entries=2, max_bytes=10**9, size_of=sized)
    tier.put("a", "1")
    assert tier.get("a") == "1"
    assert tier.get("zz") is None
    assert tier.peek("a") == "1"
    assert (tier.hits, tier.misses) == (1, 1)


def test_replacing_a_value_keeps_bytes_exact() -> None:
    tier: LruTier[str, str] = LruTier(max_entries=5, max_bytes=10**9, size_of=sized)
    tier.put("a", "short")
    tier.put("a", "a much longer value than before")
    tier.discard("a")
    assert len(tier) == 0
    assert tier.resident_bytes == sys.getsizeof(tier._entries)


def test_resize_shrinks_at_once() -> None:
    tier: LruTier[str, str] = LruTier(max_entries=10, max_bytes=10**9, size_of=sized)
    for index in range(10):
        tier.put(str(index), "v")
    tier.resize(max_entries=4, max_bytes=10**9)
    assert list(tier.keys()) == ["6", "7", "8", "9"]


def test_negative_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        LruTier[str, str](-1, 10, sized)
