"""Cell positions the browser derives: a feature mosaic's customdata holds only raw values.

Every feature-grid cell needs [raw value, channel, row, col] for its hover and click. The
three indices follow from the cell's position, so they are not sent: the trace's
``meta.cells`` says how to derive them and ``assets/cells.js`` rebuilds the full customdata
before plotly draws. With the uint8 colour a cell costs 5 bytes instead of 17.

Cell (r, c) of the trace is mosaic cell (Y, X) = (origin_y + r, origin_x + c). Tiles are
``pitch`` cells apart: the cell lies in tile (Y div pitch_h, X div pitch_w), i.e. channel
tile_row * ncols + tile_col, at (y, x) = (Y mod pitch_h, X mod pitch_w) within it, which is
map position (row, col) = (y * step, x * step). A cell past the last channel, or whose
(y, x) lies outside the tile's first ``size`` cells, is padding: [value, -1, -1, -1].
A sorted grid adds ``order``: the tile at position p shows channel order[p], which is the
channel reported (the key is absent when every tile shows its own channel).
"""

from __future__ import annotations

import numpy as np


def cell_spec(
    *,
    origin: tuple[int, int],
    pitch: tuple[int, int],
    size: tuple[int, int],
    step: int,
    ncols: int,
    channels: int,
    order: np.ndarray | None = None,
) -> dict:
    """The ``meta.cells`` of a trace whose customdata is its cells' raw values (see above).

    `order`: a checked display order (tiles.checked_order), None for the identity.
    """
    spec = {
        "origin": [int(origin[0]), int(origin[1])],
        "pitch": [int(pitch[0]), int(pitch[1])],
        "size": [int(size[0]), int(size[1])],
        "step": int(step),
        "ncols": int(ncols),
        "channels": int(channels),
    }
    if order is not None:
        spec["order"] = [int(ch) for ch in order]
    return spec
