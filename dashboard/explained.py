"""One explained unit, and the flat record it is shared as between processes.

The decomposition needs the layer's input (a partial forward pass) and the measured field a
backward pass: with a shared store, one process computes them and every other reads the
record (a few KB to ~100 KB: two ``(C_in, kh, kw)`` float64 arrays and ``C_in`` terms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard import analysis
from dashboard.views import View

NO_BOX = np.zeros(0, dtype=np.int64)  # a field that does not exist, in a record


@dataclass(frozen=True)
class Explained:
    """One explained unit: what both the panel and its export are made of."""

    view: View  # with the channel clamped to the layer
    layer: str
    parts: analysis.Contributions
    shown: float  # the map's value at the unit
    measured: analysis.Box | None
    theoretical: analysis.Box | None
    input_size: tuple[int, int]
    plain: bool  # the way to the layer is a plain stack (a theoretical field exists)


@dataclass(frozen=True, eq=False)
class UnitRecord:
    """:class:`Explained` without its view, in arrays and numbers (``records.py``)."""

    layer: str
    channel: int
    row: int
    col: int
    value: float
    bias: float
    terms: np.ndarray
    input_channels: np.ndarray
    patch: np.ndarray
    kernel: np.ndarray
    box: np.ndarray  # (top, left, bottom, right), or empty
    shown: float
    measured: np.ndarray
    theoretical: np.ndarray
    input_size: np.ndarray
    plain: bool


def unit_record(unit: Explained) -> UnitRecord:
    parts = unit.parts
    return UnitRecord(
        layer=unit.layer,
        channel=parts.channel,
        row=parts.row,
        col=parts.col,
        value=parts.value,
        bias=parts.bias,
        terms=parts.terms,
        input_channels=parts.input_channels,
        patch=parts.patch,
        kernel=parts.kernel,
        box=_edges(parts.box),
        shown=unit.shown,
        measured=_edges(unit.measured),
        theoretical=_edges(unit.theoretical),
        input_size=np.asarray(unit.input_size, dtype=np.int64),
        plain=unit.plain,
    )


def explained_from(record: UnitRecord, view: View) -> Explained:
    """The unit ``record`` holds, for ``view`` (whose channel it explains)."""
    parts = analysis.Contributions(
        channel=int(record.channel),
        row=int(record.row),
        col=int(record.col),
        value=float(record.value),
        bias=float(record.bias),
        terms=_read_only(record.terms),
        input_channels=_read_only(record.input_channels),
        patch=_read_only(record.patch),
        kernel=_read_only(record.kernel),
        box=_box(record.box),
    )
    height, width = (int(side) for side in record.input_size)
    return Explained(
        view,
        str(record.layer),
        parts,
        float(record.shown),
        _box(record.measured),
        _box(record.theoretical),
        (height, width),
        bool(record.plain),
    )


def _edges(box: analysis.Box | None) -> np.ndarray:
    if box is None:
        return NO_BOX
    return np.asarray([box.top, box.left, box.bottom, box.right], dtype=np.int64)


def _box(edges: np.ndarray) -> analysis.Box | None:
    return None if edges.size == 0 else analysis.Box(*(int(edge) for edge in edges))


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
