"""What the page lets a visitor take away: arrays as file bytes, and the files' names.

Pure numpy and stdlib (no dash, no torch): the callbacks hand in the arrays the page shows
and send the bytes. Every number leaves at full precision: ``.npy`` keeps the array's own
dtype, the CSV writes float32 with 9 significant digits (enough to read back every value
exactly), the ``.npz`` keeps the explanation's float64 arithmetic.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np

MAX_PART = 80  # characters kept of a model or layer name in a file name
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Figures a visitor can save from the modebar's camera, by what they draw.
IMAGE_FORMATS = ("png", "svg")
IMAGE_SCALE = {"png": 2, "svg": 1}  # PNG at twice the screen size; SVG is vector anyway


def safe_part(text: str, fallback: str) -> str:
    """``text`` as one file-name part: letters, digits, ``.``, ``_`` and ``-`` only, no
    leading dot or dash (no hidden files, no options), at most ``MAX_PART`` characters."""
    part = _UNSAFE.sub("-", text).lstrip(".-")[:MAX_PART].rstrip(".-")
    return part or fallback


def file_stem(model: str, layer: str, channel: int | None = None, pixel=None) -> str:
    """``vgg16_features.28``, ``…_ch17`` with a channel, ``…_ch17_r12c40`` with a pixel."""
    stem = f"{safe_part(model, 'model')}_{safe_part(layer, 'layer')}"
    if channel is not None:
        stem += f"_ch{int(channel)}"
    if pixel is not None:
        stem += f"_r{int(pixel[0])}c{int(pixel[1])}"
    return stem


def figure_stem(model: str, layer: str, what: str, channel: int | None = None) -> str:
    """A plot's image file name without extension: ``vgg16_features.28_ch17_map``."""
    return f"{file_stem(model, layer, channel)}_{what}"


def activations_name(model: str, layer: str) -> str:
    return f"{file_stem(model, layer)}_activations.npy"


def kernels_name(model: str, layer: str) -> str:
    return f"{file_stem(model, layer)}_kernels.npy"


def map_name(model: str, layer: str, channel: int) -> str:
    return f"{file_stem(model, layer, channel)}_map.csv"


def explanation_name(model: str, layer: str, channel: int, row: int, col: int) -> str:
    return f"{file_stem(model, layer, channel, (row, col))}_explanation.npz"


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` as a ``.npy`` file: its dtype and shape, C order, no pickles."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def csv_bytes(feature_map: np.ndarray) -> bytes:
    """A 2-D map as CSV, one line per row; ``%.9g`` reads back every float32 exactly."""
    if feature_map.ndim != 2:
        raise ValueError(f"a map is 2-D, got shape {feature_map.shape}")
    buffer = io.BytesIO()
    np.savetxt(buffer, feature_map, fmt="%.9g", delimiter=",")
    return buffer.getvalue()


@dataclass(frozen=True)
class ExplanationRecord:
    """The explanation panel's numbers: unit, sum, receptive fields and drawn rows.

    Boxes are ``(top, left, bottom, right)`` input pixels, all edges inclusive, or None.
    ``top_channels`` are the rows the panel draws as patch, kernel and product.
    """

    model: str
    layer: str
    channel: int
    row: int
    col: int
    total: float  # bias + terms.sum(), float64
    shown: float  # the map's float32 value at that pixel
    bias: float
    terms: np.ndarray  # (C_g,) float64, one per input channel of the unit's group
    input_channels: np.ndarray  # (C_g,) absolute input-channel numbers
    top_channels: np.ndarray  # (k,) indices into terms, largest |term| first
    patch: np.ndarray  # (C_g, kh, kw) input under the taps
    kernel: np.ndarray  # (C_g, kh, kw) the output channel's weights
    measured_field: tuple[int, int, int, int] | None
    theoretical_field: tuple[int, int, int, int] | None


def _box(box: tuple[int, int, int, int] | None) -> np.ndarray:
    """A box as 4 ints, or an empty array where there is none (no pickled None)."""
    return np.asarray(box if box is not None else (), dtype=np.int64)


def npz_bytes(record: ExplanationRecord) -> bytes:
    """The explanation as a compressed ``.npz`` that loads without ``allow_pickle``."""
    top = np.asarray(record.top_channels, dtype=np.int64)
    patches, kernels = record.patch[top], record.kernel[top]
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        model=np.str_(record.model),
        layer=np.str_(record.layer),
        channel=np.int64(record.channel),
        row=np.int64(record.row),
        col=np.int64(record.col),
        total=np.float64(record.total),
        shown=np.float32(record.shown),
        bias=np.float64(record.bias),
        terms=np.asarray(record.terms, dtype=np.float64),
        input_channels=np.asarray(record.input_channels, dtype=np.int64),
        top_input_channels=np.asarray(record.input_channels, dtype=np.int64)[top],
        top_terms=np.asarray(record.terms, dtype=np.float64)[top],
        top_patches=patches,
        top_kernels=kernels,
        top_products=patches * kernels,
        receptive_field=_box(record.measured_field),
        theoretical_field=_box(record.theoretical_field),
    )
    return buffer.getvalue()


def image_options(stem: str, image_format: str) -> dict:
    """The modebar camera's options: save as ``stem.<format>`` at the format's scale."""
    return {"filename": stem, "format": image_format, "scale": IMAGE_SCALE[image_format]}
