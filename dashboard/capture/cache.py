"""A thread-safe LRU of captured activations, bounded by bytes, computing each key once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
from cachetools import LRUCache

Activations = dict[str, np.ndarray]


def activations_nbytes(value: Activations) -> int:
    return sum(array.nbytes for array in value.values())


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0  # one miss = one forward pass

    @property
    def forward_passes(self) -> int:
        return self.misses


class ActivationCache:
    """LRU of ``{layer: array}`` results keyed by (model key, image digest).

    Concurrent requests for the same key wait for the first one's forward pass instead of
    running their own (no stampede); different keys compute in parallel. A result larger
    than the whole budget is returned but not kept.
    """

    def __init__(self, budget_bytes: int) -> None:
        self._cache: LRUCache = LRUCache(maxsize=max(1, budget_bytes), getsizeof=activations_nbytes)
        self._lock = threading.Lock()
        self._pending: dict[Hashable, threading.Event] = {}
        self.stats = CacheStats()

    @property
    def budget_bytes(self) -> int:
        return int(self._cache.maxsize)

    @property
    def used_bytes(self) -> int:
        with self._lock:
            return int(self._cache.currsize)

    def peek(self, key: Hashable) -> Activations | None:
        """The cached value for ``key`` (counted as a hit), or None without computing."""
        with self._lock:
            value = self._cache.get(key)
            if value is not None:
                self.stats.hits += 1
            return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], Activations]) -> Activations:
        """Return the cached value for ``key``, computing it once if absent."""
        while True:
            with self._lock:
                if key in self._cache:
                    self.stats.hits += 1
                    return self._cache[key]
                event = self._pending.get(key)
                if event is None:
                    event = self._pending[key] = threading.Event()
                    self.stats.misses += 1
                    break
            event.wait()  # another thread computes it; loop to read (or retry if it failed)
        try:
            value = compute()
            with self._lock:
                if activations_nbytes(value) <= self._cache.maxsize:
                    self._cache[key] = value
            return value
        finally:
            with self._lock:
                del self._pending[key]
            event.set()

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
