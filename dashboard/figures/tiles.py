"""Row-major tile mosaics (feature maps, RGB kernels): layout, selection outline, order.

Mosaic coordinates are heatmap cell indices: cell (row r, col c) is centred on
(x=c, y=r) and spans ±0.5, which is exactly what plotly reports as clickData x/y.

A display order (every grid takes one) says which channel each position draws: position
p shows channel order[p]. Figures get the unpermuted arrays plus the order; every channel
number they send (hover, customdata, labels) is the true one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.figures.mosaic import grid_shape, positive_shape, smallest_block_factor
from dashboard.figures.style import outline_rects

MAX_GRID_CELLS = 65_536  # cells of one overview mosaic; keeps a grid response ~1.5 MB worst case
# Measured JSON per cell (base64, and plotly's to_json escapes each "/" as "\u002f", which
# base64 of float32 data is rich in): feature ~23 B (uint8 + 4 float32), RGB kernel ~41 B
# (3 uint8 + 6 float32); kernel grids: paging.MAX_KERNEL_CELLS.
MAX_RGB_CELLS = 32_768  # <= ~1.3 MB
# Full-resolution cells of one zoom window (zoom.feature_window), feature cells as above
# (measured 23.9 B on dense random float32): 75_000 cells ~1.8 MB (test_figures_zoom.py).
MAX_WINDOW_CELLS = 75_000


@dataclass(frozen=True)
class FeatureGeometry:
    """Where tile i sits in a row-major mosaic (feature maps, RGB kernels)."""

    channels: int
    ncols: int
    nrows: int
    tile_h: int
    tile_w: int
    factor: int  # block size of the overview downsampling (1 = full resolution)


def feature_geometry(
    shape: tuple[int, int, int], max_cells: int = MAX_GRID_CELLS
) -> FeatureGeometry:
    """Near-square layout of C tiles, block-downsampled by the smallest factor that fits.

    Factor 1 (nothing averaged) whenever the full-resolution mosaic fits `max_cells`. If
    even 1×1 tiles exceed `max_cells` (more channels than cells), the factor stops at
    max(H, W) and the mosaic has one cell per channel.
    """
    channels, h, w = positive_shape(shape, "shape", 3)
    nrows, ncols = grid_shape(channels)
    if nrows * ncols * h * w <= max_cells:  # exact in integers, no float division
        return FeatureGeometry(channels, ncols, nrows, h, w, 1)
    factor = smallest_block_factor(h, w, max_cells / (nrows * ncols))
    return FeatureGeometry(channels, ncols, nrows, -(-h // factor), -(-w // factor), factor)


def kernel_rgb_geometry(
    shape: tuple[int, int, int, int], max_cells: int = MAX_RGB_CELLS
) -> FeatureGeometry:
    """Layout of RGB kernel tiles (one per output channel, full resolution).

    `channels` is how many output channels fit in `max_cells` (the first ones).
    """
    out, _, kh, kw = positive_shape(shape, "weight shape", 4)
    shown = out
    nrows, ncols = grid_shape(shown)
    while shown > 1 and nrows * ncols * kh * kw > max_cells:
        shown = max(1, min(shown - 1, int(shown * max_cells / (nrows * ncols * kh * kw))))
        nrows, ncols = grid_shape(shown)
    return FeatureGeometry(shown, ncols, nrows, kh, kw, 1)


def checked_order(order: object, channels: int) -> np.ndarray | None:
    """`order` as an int64 array, or None when it is None or the identity (today's drawing).

    Raises:
        ValueError: `order` is not a permutation of range(channels) (integers, each once).
    """
    if order is None:
        return None
    arr = np.asarray(order)
    if arr.dtype.kind not in "iu" or arr.shape != (channels,):
        raise ValueError(
            f"A display order must list each of the {channels} channels once (integers 0 to "
            f"{channels - 1}); got {arr.dtype} values of shape {arr.shape}."
        )
    arr = arr.astype(np.int64)
    if not np.array_equal(np.sort(arr), np.arange(channels)):
        raise ValueError(
            f"A display order must list each of the {channels} channels 0 to {channels - 1} "
            "exactly once; this one repeats or lacks some."
        )
    return None if np.array_equal(arr, np.arange(channels)) else arr


def order_meta(order: np.ndarray | None) -> dict:
    """{"order": [...]} to merge into a sorted figure's layout.meta; {} for the identity."""
    return {} if order is None else {"order": [int(ch) for ch in order]}


def position_of(order: np.ndarray | None, channel: int) -> int:
    """Position at which `channel` is drawn (a checked order; the channel itself for None)."""
    if order is None:
        return int(channel)
    return int(np.flatnonzero(order == int(channel))[0])


def feature_outline(
    geometry: FeatureGeometry, channel: int | None, *, order: np.ndarray | None = None
) -> list[dict]:
    """layout.shapes outlining channel `channel`'s tile (halo + core rect); [] when None or
    out of range. `order`: the grid's display order (see checked_order), None = identity."""
    if channel is None or not 0 <= channel < geometry.channels:
        return []
    position = position_of(checked_order(order, geometry.channels), channel)
    tr, tc = divmod(position, geometry.ncols)
    x0, y0 = tc * geometry.tile_w - 0.5, tr * geometry.tile_h - 0.5
    return outline_rects(x0, x0 + geometry.tile_w, y0, y0 + geometry.tile_h)
