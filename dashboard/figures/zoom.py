"""See every value: an overview sized to the screen, and full-resolution zoom windows.

The feature grid (features.feature_grid) is one heatmap in overview coordinates: cell
(r, c) is centred on (x=c, y=r) and, at block factor f, averages f×f original pixels.
A zoom window draws the real pixels of the visible part instead: in full-resolution
coordinates every tile is f*tile_h × f*tile_w pixels (its map, then padding where h or w
is not a multiple of f), so full-resolution cell (Y, X) of the window mosaic is pixel
(Y mod f*tile_h, X mod f*tile_w) of tile (Y div f*tile_h, X div f*tile_w), centred on
x = (X + 0.5) / f - 0.5, y = (Y + 0.5) / f - 0.5: inside the overview cell that averaged it.
"""

from __future__ import annotations

import math

import numpy as np

from dashboard.figures.cells import cell_spec
from dashboard.figures.features import (
    cell_hovertemplate,
    colour_index,
    colour_limits,
)
from dashboard.figures.mosaic import checked_array, clean_float32
from dashboard.figures.tiles import (
    MAX_GRID_CELLS,
    MAX_WINDOW_CELLS,
    FeatureGeometry,
    checked_order,
)
from dashboard.modes import ScaleMode

MIN_OVERVIEW_CELLS = 4_096  # a 64×64 overview at least, even for a tiny or unmeasured graph


def overview_cells(
    width_px: int | None, height_px: int | None, budget: int = MAX_GRID_CELLS
) -> int:
    """Cell budget of a feature-grid overview drawn in a graph of that drawable size.

    About one cell per screen pixel (finer would not be seen), at least MIN_OVERVIEW_CELLS
    and never above `budget` (the response budget). An unknown size (None) gets `budget`.
    """
    if width_px is None or height_px is None:
        return budget
    pixels = max(int(width_px), 0) * max(int(height_px), 0)
    return min(budget, max(MIN_OVERVIEW_CELLS, pixels))


def _pixel_span(lo: float, hi: float, f: int, total: int) -> tuple[int, int]:
    """[start, stop) of the full-resolution cells overlapping [lo, hi] (overview units)."""
    lo, hi = sorted((lo, hi))
    # pixel k spans [k / f - 0.5, (k + 1) / f - 0.5]
    start = max(0, math.floor(f * (lo + 0.5)))
    stop = min(total, math.ceil(f * (hi + 0.5)))
    return start, stop


def finite_range(values: tuple[float, float], name: str) -> tuple[float, float]:
    """An axis range as two finite floats (a zoom's x or y range).

    Raises:
        ValueError: not two numbers, or not finite.
    """
    try:
        a, b = (float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be two numbers, got {values!r}.") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"{name} must be two finite numbers, got {values!r}.")
    return a, b


def feature_window(
    maps: np.ndarray,
    geometry: FeatureGeometry,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    *,
    scale: ScaleMode | str = ScaleMode.TILE,
    max_cells: int = MAX_WINDOW_CELLS,
    order: np.ndarray | None = None,
) -> dict | None:
    """The real pixels under a zoomed feature-grid overview, as properties of data[0].

    Args:
        maps: the (C, H, W) activations the overview was drawn from.
        geometry: the overview's geometry (its layout.meta without "grid").
        x_range, y_range: the plotly axis ranges in overview coordinates, either order
            (the y axis is reversed); clamped to the mosaic.
        scale: the overview's scale: colours use the same full-resolution min-max.
        max_cells: the window is refused above this many full-resolution cells.
        order: the overview's display order (feature_grid's): tile i shows channel
            order[i]; None = identity. meta.cells then carries it, as the overview's.

    Returns:
        None when geometry.factor == 1 (the overview is full resolution), when the window
        would hold more than `max_cells` cells, or when it lies wholly off the mosaic.
        Else {z: uint8 colour, customdata: float32 (rows, cols) raw values and meta.cells
        (the browser derives [raw value, channel, row, col] from them, figures/cells.py;
        padding past a map's edge and empty slots: value 0, channel -1), x0, dx, y0, dy
        (dx = dy = 1/f), zmin, zmax, hovertemplate} to update data[0] with (keep its
        colorscale); feature_grid's own data[0] restores the overview.

    Raises:
        ValueError: ranges that are not finite numbers, an unknown scale, a geometry
            that does not describe `maps`, or an `order` that is not a permutation.
    """
    if scale not in tuple(ScaleMode):
        raise ValueError(f"scale must be one of {tuple(map(str, ScaleMode))}, got {scale!r}.")
    arr = checked_array(maps, "maps", 3, "channels, height, width")
    c, h, w = arr.shape
    g, f = geometry, geometry.factor
    if (g.channels, g.tile_h, g.tile_w) != (c, -(-h // f), -(-w // f)) or f < 1:
        raise ValueError(f"geometry {g} does not describe maps of shape {arr.shape}.")
    xs, ys = finite_range(x_range, "x_range"), finite_range(y_range, "y_range")
    order = checked_order(order, c)
    if f == 1:
        return None
    pitch_h, pitch_w = f * g.tile_h, f * g.tile_w
    x_start, x_stop = _pixel_span(*xs, f, g.ncols * pitch_w)
    y_start, y_stop = _pixel_span(*ys, f, g.nrows * pitch_h)
    rows, cols = y_stop - y_start, x_stop - x_start
    if rows <= 0 or cols <= 0 or rows * cols > max_cells:
        return None

    raw, n_bad = clean_float32(arr)
    lo, factor = colour_limits(raw, ScaleMode(scale))
    tile_row, row = np.divmod(np.arange(y_start, y_stop), pitch_h)
    tile_col, col = np.divmod(np.arange(x_start, x_stop), pitch_w)
    position = tile_row[:, None] * g.ncols + tile_col[None, :]
    real = (row < h)[:, None] & (col < w)[None, :] & (position < c)
    ch = np.where(real, position, 0)
    if order is not None:  # the true channel drawn at each position
        ch = order[ch]
    r = np.broadcast_to(np.minimum(row, h - 1)[:, None], ch.shape)
    k = np.broadcast_to(np.minimum(col, w - 1)[None, :], ch.shape)
    values = raw[ch, r, k]

    z = np.where(real, colour_index(values, lo[ch, 0, 0], factor[ch, 0, 0]), 0).astype(np.uint8)
    cells = cell_spec(
        origin=(y_start, x_start),
        pitch=(pitch_h, pitch_w),
        size=(h, w),
        step=1,
        ncols=g.ncols,
        channels=c,
        order=order,
    )
    return {
        "z": z,
        "customdata": np.where(real, values, 0.0).astype(np.float32),
        "meta": {"cells": cells},
        "x0": (x_start + 0.5) / f - 0.5,
        "dx": 1 / f,
        "y0": (y_start + 0.5) / f - 0.5,
        "dy": 1 / f,
        "zmin": 0,
        "zmax": 255,
        "hovertemplate": cell_hovertemplate(1, False, n_bad),
    }
