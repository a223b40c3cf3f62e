"""The one compute-once cache: a thread-safe LRU that computes each missing key once.

Used for models (bounded by count), captured activations (bounded by bytes) and the
memoised kernel pages and display images. Concurrent requests for a missing key wait for
the first caller's computation instead of running their own (no stampede); different
keys compute in parallel. A failed computation is not cached: waiters retry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cachetools import LRUCache

V = TypeVar("V")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0  # one miss = one computation

    @property
    def forward_passes(self) -> int:
        return self.misses


class ComputeOnceCache(Generic[V]):
    """LRU of computed values, bounded by ``maxsize`` measured with ``getsizeof``.

    With ``getsizeof`` None every value counts 1 (a count bound). A value larger than the
    whole budget is returned but not kept.
    """

    def __init__(self, maxsize: int, getsizeof: Callable[[V], int] | None = None) -> None:
        self._sizeof = getsizeof or (lambda _value: 1)
        self._lru: LRUCache = LRUCache(maxsize=max(1, maxsize), getsizeof=self._sizeof)
        self._lock = threading.Lock()
        self._pending: dict[Hashable, threading.Event] = {}
        self.stats = CacheStats()

    @property
    def budget(self) -> int:
        return int(self._lru.maxsize)

    @property
    def used(self) -> int:
        with self._lock:
            return int(self._lru.currsize)

    def peek(self, key: Hashable) -> V | None:
        """The cached value for ``key`` (counted as a hit), or None without computing."""
        with self._lock:
            value = self._lru.get(key)
            if value is not None:
                self.stats.hits += 1
            return value

    def get_or_compute(
        self,
        key: Hashable,
        compute: Callable[[], V],
        stale: Callable[[V], bool] | None = None,
    ) -> V:
        """The cached value for ``key``, else ``compute()`` once (other callers wait).

        ``stale(value)`` true makes a cached value count as missing (it is recomputed).
        """
        while True:
            with self._lock:
                value = self._lru.get(key)
                if value is not None and (stale is None or not stale(value)):
                    self.stats.hits += 1
                    return value
                event = self._pending.get(key)
                if event is None:
                    event = self._pending[key] = threading.Event()
                    self.stats.misses += 1
                    break
            event.wait()  # another thread computes it; loop to read (or retry if it failed)
        try:
            value = compute()
            with self._lock:
                if self._sizeof(value) <= self._lru.maxsize:
                    self._lru[key] = value
                else:
                    self._lru.pop(key, None)  # never serve the stale value it replaced
            return value
        finally:
            with self._lock:
                del self._pending[key]
            event.set()

    def values(self) -> list[V]:
        with self._lock:
            return list(self._lru.values())

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._lru.keys())

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()
