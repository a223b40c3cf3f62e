"""Hooked inference: run a model once, return conv-layer outputs as numpy; the cache."""

from dashboard.capture.cache import Activations, activation_cache
from dashboard.capture.hooks import capture_activations
from dashboard.capture.queue import InferenceQueue

__all__ = ["Activations", "InferenceQueue", "activation_cache", "capture_activations"]
