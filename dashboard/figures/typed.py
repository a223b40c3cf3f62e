"""Read back the typed arrays plotly writes ({dtype, bdata, shape}), for tests and tools."""

from __future__ import annotations

import base64

import numpy as np


def decode_typed(spec: object) -> np.ndarray:
    """A plotly typed array {dtype, bdata, shape} (base64, little-endian) or a list, as numpy."""
    if not isinstance(spec, dict):
        return np.asarray(spec)
    flat = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype("<" + spec["dtype"]))
    shape = spec.get("shape")
    return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
