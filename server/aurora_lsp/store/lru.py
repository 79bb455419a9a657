"""The bounded in-memory tier: an LRU over entries and bytes, pure Python.

Bytes are accounted honestly: each value's size comes from a size function that counts
the objects the value owns (`sys.getsizeof`, as tracemalloc sees them), and the table's
own memory is `sys.getsizeof` of the OrderedDict, which includes its per-entry nodes.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruTier(Generic[K, V]):
    """At most `max_entries` values and `max_bytes` bytes; least recently used goes first."""

    def __init__(self, max_entries: int, max_bytes: int, size_of: Callable[[V], int]) -> None:
        if max_entries < 0 or max_bytes < 0:
            raise ValueError("bounds must be non-negative")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._value_bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    @property
    def resident_bytes(self) -> int:
        """Bytes held: the values plus the table itself."""
        return self._value_bytes + sys.getsizeof(self._entries)

    def get(self, key: K) -> V | None:
        """The value, marked most recently used; counts a hit or a miss."""
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    def peek(self, key: K) -> V | None:
        """The value without touching recency or counters."""
        return self._entries.get(key)

    def put(self, key: K, value: V) -> None:
        """Insert or replace, then evict least recently used entries until within bounds."""
        old = self._entries.pop(key, None)
        if old is not None:
            self._value_bytes -= self._size_of(old)
        size = self._size_of(value)
        self._entries[key] = value
        self._value_bytes += size
        self._shrink()

    def discard(self, key: K) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._value_bytes -= self._size_of(old)

    def resize(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._shrink()

    def clear(self) -> None:
        """Drop every entry and give the table's memory back."""
        self._entries = OrderedDict()
        self._value_bytes = 0

    def keys(self) -> Iterator[K]:
        return iter(list(self._entries))

    def _shrink(self) -> None:
        entries = self._entries
        while entries and (len(entries) > self.max_entries or self.resident_bytes > self.max_bytes):
            _, evicted = entries.popitem(last=False)
            self._value_bytes -= self._size_of(evicted)
            self.evictions += 1
        if not entries and self.resident_bytes > self.max_bytes:
            self._entries = OrderedDict()  # a table that grew keeps its size until replaced
