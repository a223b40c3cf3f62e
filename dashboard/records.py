"""Computed results as bytes for the shared store, and back, never pickled: whatever can
write to Redis must not be able to make a web process run code.

An array is one ``.npy`` (its dtype, shape and raw bytes: exact); a result dataclass of
arrays, numbers and strings is one ``.npz`` of its fields.
"""

from __future__ import annotations

import dataclasses
import io
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def array_bytes(array: np.ndarray) -> bytes:
    """``array`` as ``.npy`` bytes (a ~128-byte header, then its raw bytes)."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def array_from(data: bytes) -> np.ndarray:
    """:func:`array_bytes` read back (object arrays refused)."""
    return np.load(io.BytesIO(data), allow_pickle=False)


def record_bytes(record: object) -> bytes:
    """A dataclass of arrays, numbers and strings as ``.npz`` bytes (no pickle)."""
    buffer = io.BytesIO()
    fields = {f.name: np.asarray(getattr(record, f.name)) for f in dataclasses.fields(record)}
    np.savez(buffer, **fields)
    return buffer.getvalue()


def record_from(kind: type[T], data: bytes) -> T:
    """:func:`record_bytes` read back: 0-d arrays become Python numbers and strings."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        values = {
            f.name: arrays[f.name].item() if arrays[f.name].ndim == 0 else arrays[f.name]
            for f in dataclasses.fields(kind)
        }
    return kind(**values)
