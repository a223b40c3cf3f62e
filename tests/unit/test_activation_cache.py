"""The activation cache: byte budget, LRU order, one computation per key under threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from dashboard.capture import activation_cache as ActivationCache


def value(nbytes: int) -> dict[str, np.ndarray]:
    return {"a": np.zeros(nbytes, dtype=np.uint8)}


def test_cache01_hits_do_not_recompute() -> None:
    cache = ActivationCache(1000)
    calls = []
    for _ in range(3):
        cache.get_or_compute("k", lambda: calls.append(1) or value(10))
    assert len(calls) == 1
    assert cache.stats.misses == 1 and cache.stats.hits == 2


def test_cache02_evicts_least_recently_used_within_budget() -> None:
    cache = ActivationCache(300)
    for key in "abc":
        cache.get_or_compute(key, lambda: value(100))
    cache.get_or_compute("a", lambda: pytest.fail("a was evicted too early"))
    cache.get_or_compute("d", lambda: value(100))  # evicts b, the least recently used
    assert cache.used <= 300
    assert cache.peek("b") is None
    assert cache.peek("a") is not None and cache.peek("d") is not None


def test_cache03_oversized_value_is_returned_not_kept() -> None:
    cache = ActivationCache(50)
    assert cache.get_or_compute("big", lambda: value(100))["a"].size == 100
    assert cache.peek("big") is None and cache.used == 0


def test_cache04_concurrent_requests_compute_once() -> None:
    cache = ActivationCache(10_000)
    calls = []
    barrier = threading.Barrier(8)

    def slow() -> dict[str, np.ndarray]:
        calls.append(1)
        time.sleep(0.2)
        return value(10)

    results = []

    def worker() -> None:
        barrier.wait()
        results.append(cache.get_or_compute("same", slow))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_cache05_failure_is_not_cached_and_waiters_retry() -> None:
    cache = ActivationCache(1000)

    def boom() -> dict[str, np.ndarray]:
        raise RuntimeError("forward failed")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("k", boom)
    assert cache.get_or_compute("k", lambda: value(5))["a"].size == 5
