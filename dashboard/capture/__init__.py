"""Hooked inference: run a model once, return conv-layer outputs as numpy; the cache."""

from dashboard.capture.cache import ActivationCache, CacheStats
from dashboard.capture.hooks import capture_activations

__all__ = ["ActivationCache", "CacheStats", "capture_activations"]
