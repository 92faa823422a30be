"""The one cache of the serving path: a bounded map that forgets its least recently used entry.

Every in-memory cache on the feed path (verified resident tokens, rankings, ad relevance, live
bookings, reach by mask, slot layouts, prepared item matrices, client keys) is one of these, so there is
one eviction rule to reason about and each cache's memory is capped by its size. A lock makes
each operation whole: the event loop reads while background threads (the relevance loader's
precompute) fill. Values are never copied: callers keep them immutable, or replace them whole.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    __slots__ = ("_items", "_lock", "size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("an LruCache holds at least one entry")
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value for `key` (now the most recently used), or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> V:
        """Remember `value` as the most recently used, forgetting the least recently used
        entry when full; returns `value`."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value for `key`, made and remembered when missing (`make` runs unlocked: two
        threads may both make it, and the later one's value stays)."""
        found = self.get(key)
        return found if found is not None else self.put(key, make())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        return len(self._items)
