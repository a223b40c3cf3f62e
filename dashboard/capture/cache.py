"""The activation cache: captured layer outputs per (model key, image key), by bytes."""

from __future__ import annotations

import numpy as np

from dashboard.caching import ComputeOnceCache

Activations = dict[str, np.ndarray]


def activations_nbytes(value: Activations) -> int:
    return sum(array.nbytes for array in value.values())


def activation_cache(budget_bytes: int) -> ComputeOnceCache[Activations]:
    """A compute-once LRU of ``{layer: array}`` results bounded by ``budget_bytes``."""
    return ComputeOnceCache(budget_bytes, getsizeof=activations_nbytes)
