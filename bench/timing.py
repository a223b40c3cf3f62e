"""Small timing helpers: a monotonic stopwatch and robust summaries."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """(fn(), elapsed milliseconds)."""
    start = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - start) * 1000.0


def summary(samples_ms: Sequence[float]) -> dict:
    """Median, min, max and n of a list of milliseconds (n == 0: all None)."""
    if not samples_ms:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {
        "median": round(statistics.median(samples_ms), 2),
        "min": round(min(samples_ms), 2),
        "max": round(max(samples_ms), 2),
        "n": len(samples_ms),
    }


def median(samples: Sequence[float]) -> float | None:
    return statistics.median(samples) if samples else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator
