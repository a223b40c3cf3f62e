"""Outlines over figures: many feature-map tiles at once (the channels a histogram range
reaches), a unit's receptive fields on the input, and the unit itself on its map."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dashboard.figures.tiles import FeatureGeometry

MEASURED_FIELD, THEORETICAL_FIELD = "#ff3b30", "#00c7ff"
FIELD_HALO = "rgba(0, 0, 0, 0.55)"
RANGE_COLOUR = "#ff9f0a"  # orange: apart from the selection's outline and the viridis maps


def channels_outline(
    geometry: FeatureGeometry, channels: Sequence[int], *, order: np.ndarray | None = None
) -> list[dict]:
    """One path shape framing the tiles of ``channels`` (true channel numbers) in a grid
    drawn in ``order`` (None: by channel number); [] when there are none.

    One shape for any number of tiles: plotly draws thousands of separate shapes slowly.
    """
    wanted = [int(c) for c in channels if 0 <= int(c) < geometry.channels]
    if not wanted:
        return []
    positions = np.asarray(wanted)
    if order is not None:
        inverse = np.empty(geometry.channels, dtype=np.int64)
        inverse[np.asarray(order)] = np.arange(geometry.channels)
        positions = inverse[positions]
    parts = []
    for position in np.sort(positions):
        tr, tc = divmod(int(position), geometry.ncols)
        x0, y0 = tc * geometry.tile_w - 0.5, tr * geometry.tile_h - 0.5
        x1, y1 = x0 + geometry.tile_w, y0 + geometry.tile_h
        parts.append(f"M{x0},{y0}H{x1}V{y1}H{x0}Z")
    return [
        {
            "type": "path",
            "xref": "x",
            "yref": "y",
            "layer": "above",
            "path": "".join(parts),
            "line": {"color": RANGE_COLOUR, "width": 2, "dash": "dot"},
            "fillcolor": "rgba(0,0,0,0)",
            "name": "range",
        }
    ]


Box = Sequence[int]  # (top, left, bottom, right), or an object with those attributes


def _edges(box: object) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) pixel edges of an inclusive (top, left, bottom, right) box."""
    if hasattr(box, "top"):
        box = (box.top, box.left, box.bottom, box.right)
    top, left, bottom, right = (int(v) for v in box)  # type: ignore[union-attr]
    if bottom < top or right < left:
        raise ValueError(f"box (top, left, bottom, right) = {box} has a negative size.")
    return left - 0.5, right + 0.5, top - 0.5, bottom + 0.5


def _rect(edges, xref: str, yref: str, colour: str, dash: str, name: str) -> list[dict]:
    x0, x1, y0, y1 = edges
    rect = {"type": "rect", "xref": xref, "yref": yref, "layer": "above", "name": name}
    rect.update(x0=x0, x1=x1, y0=y0, y1=y1, fillcolor="rgba(0,0,0,0)")
    halo = {**rect, "line": {"color": FIELD_HALO, "width": 4}}  # readable on light images
    return [halo, {**rect, "line": {"color": colour, "width": 2, "dash": dash}}]


def field_shapes(
    measured: tuple[int, int, int, int] | None,
    theoretical: tuple[int, int, int, int] | None,
    *,
    xref: str = "x2",
    yref: str = "y2",
) -> list[dict]:
    """Outlines of a unit's receptive field on input-image axes (pixel centres at integers).

    Boxes are (top, left, bottom, right) inclusive pixel indices, or objects with those
    attributes (the analysis' Box); pixel i spans [i - 0.5, i + 0.5]. The measured
    (gradient) field is solid red, the theoretical one dashed cyan, each over a dark halo;
    either may be None. Boxes are drawn as given, also past the image edge: the image axes
    have fixed ranges, so the part outside is simply not visible.
    """
    shapes: list[dict] = []
    if theoretical is not None:
        edges = _edges(theoretical)
        shapes += _rect(edges, xref, yref, THEORETICAL_FIELD, "dash", "theoretical field")
    if measured is not None:
        shapes += _rect(_edges(measured), xref, yref, MEASURED_FIELD, "solid", "measured field")
    return shapes


def pixel_marker(row: int, col: int, *, xref: str = "x", yref: str = "y") -> dict:
    """An outline around map pixel (row, col), in the measured field's red."""
    return {
        "type": "rect",
        "xref": xref,
        "yref": yref,
        "layer": "above",
        "name": "unit",
        "x0": col - 0.5,
        "x1": col + 0.5,
        "y0": row - 0.5,
        "y1": row + 0.5,
        "fillcolor": "rgba(0,0,0,0)",
        "line": {"color": MEASURED_FIELD, "width": 2},
    }
