"""Computed results in the shared store (Redis), for every web process and worker.

Activations go one key per (model key, image key, layer), as ``.npy`` float32: a page that
shows one layer reads only that layer's bytes. Other results (explained units) go one key
each, as a ``.npz`` record. Model keys name their weights and image keys their pixels (or a
sample's file, or a mirror of one), so every process agrees on what a key holds.

Nothing here is needed for a correct page: an entry Redis does not hold, one over the
store's per-entry cap, an unreadable one, or a Redis that does not answer is a miss (logged),
and the caller computes the result in its own process as it would without Redis.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import zipfile
from collections.abc import Hashable, Mapping
from typing import TypeVar

import numpy as np

from dashboard.errors import SharedStoreError
from dashboard.records import array_bytes, array_from, record_bytes, record_from
from dashboard.shared import SharedStore

log = logging.getLogger(__name__)
T = TypeVar("T")
ACTIVATIONS = "act:v1:"
RECORDS = "record:v1:"
BUDGET_CHECK_S = 1.0  # Redis's memory use is asked at most this often
BATCH_BYTES = 64 * 2**20  # a pipeline sends at most about this much before it is flushed
_UNREADABLE = (ValueError, OSError, EOFError, KeyError, TypeError, zipfile.BadZipFile)


def pair_digest(model_key: str, image_key: str) -> str:
    return hashlib.sha256(f"{model_key}\0{image_key}".encode()).hexdigest()[:32]


def layer_key(model_key: str, image_key: str, layer: str) -> str:
    return f"{ACTIVATIONS}{pair_digest(model_key, image_key)}:{layer}"


def record_key(key: Hashable) -> str:
    return RECORDS + hashlib.sha256(repr(key).encode()).hexdigest()


class SharedResults:
    """Activations and result records in ``store``, counted for /healthz.

    ``budget_bytes``: results are written only while Redis uses less than this in all
    (read from ``INFO memory`` at most once a second), so that they, which any process can
    compute again, never push out uploads, which nobody can.
    """

    def __init__(self, store: SharedStore, budget_bytes: int) -> None:
        self.store = store
        self.budget_bytes = budget_bytes
        self._lock = threading.Lock()
        self._counts = {
            "hits": 0,
            "misses": 0,
            "writes": 0,
            "too_large": 0,
            "over_budget": 0,
            "down": 0,
        }
        self._used = (0.0, 0)  # (when read, Redis's used bytes)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def _count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self._counts[what] += n

    def layer(self, model_key: str, image_key: str, layer: str) -> np.ndarray | None:
        """One layer's output, None when Redis does not hold it (or does not answer)."""
        data = self._get(layer_key(model_key, image_key, layer))
        if data is None:
            return None
        try:
            array = array_from(data)
        except _UNREADABLE as exc:
            return self._unreadable(exc)
        if array.dtype != np.float32 or array.ndim != 3:
            return self._unreadable(f"{array.dtype} {array.shape}")
        return array

    def ready(self, model_key: str, image_key: str, layers: list[str]) -> bool:
        """Whether Redis holds every one of ``layers`` for this (model, image): one EXISTS."""
        try:
            return self.store.count([layer_key(model_key, image_key, n) for n in layers]) == len(
                layers
            )
        except SharedStoreError:
            self._count("down")
            return False

    def publish(self, model_key: str, image_key: str, outputs: Mapping[str, np.ndarray]) -> None:
        """Store every layer of ``outputs`` that fits the per-entry cap, pipelined."""
        batch: dict[str, bytes] = {}
        size = 0
        for name, array in outputs.items():
            data = array_bytes(np.ascontiguousarray(array, dtype=np.float32))
            if not self.store.fits(len(data)):
                log.info(
                    "%s of %s on %s: %d bytes, over the cap", name, model_key, image_key, len(data)
                )
                self._count("too_large")
                continue
            batch[layer_key(model_key, image_key, name)] = data
            size += len(data)
            if size >= BATCH_BYTES:
                self._put(batch)
                batch, size = {}, 0
        if batch:
            self._put(batch)

    def record(self, key: Hashable, kind: type[T]) -> T | None:
        """The record stored for ``key``, None without one (or when Redis does not answer)."""
        data = self._get(record_key(key))
        if data is None:
            return None
        try:
            return record_from(kind, data)
        except _UNREADABLE as exc:
            return self._unreadable(exc)

    def put_record(self, key: Hashable, record: object) -> None:
        data = record_bytes(record)
        if self.store.fits(len(data)):
            self._put({record_key(key): data})
        else:
            self._count("too_large")

    def _get(self, key: str) -> bytes | None:
        try:
            data = self.store.get(key)
        except SharedStoreError:
            self._count("down")
            return None
        self._count("misses" if data is None else "hits")
        return data

    def _room_for(self, size: int) -> bool:
        """Whether ``size`` more bytes of results stay within the budget."""
        now = time.monotonic()
        with self._lock:
            read_at, used = self._used
        if now - read_at >= BUDGET_CHECK_S:
            used = self.store.memory_used()
            with self._lock:
                self._used = (now, used)
        with self._lock:
            self._used = (self._used[0], self._used[1] + size)  # until the next read
        return used + size <= self.budget_bytes

    def _put(self, values: dict[str, bytes]) -> None:
        try:
            if not self._room_for(sum(len(v) for v in values.values())):
                self._count("over_budget", len(values))  # computed again where needed
                return
            self.store.put_many(values)
        except SharedStoreError:
            self._count("down")  # kept in this process only; the next pass publishes again
        else:
            self._count("writes", len(values))

    def _unreadable(self, why: object) -> None:
        log.warning("a shared result could not be read (%s); computing it here", why)
        return None
