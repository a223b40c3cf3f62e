"""What the figure tests share: a figure as the browser gets it, and its layout inverted.

The inverses (mosaic cell -> channel, layout.meta -> geometry) are test oracles that check
the figures against their documented layout. The app itself maps a click to a channel
through the point's customdata (figures.point_customdata), never through these.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import fields

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.mosaic import wrap_mosaic
from dashboard.figures.paging import KernelPaging, kernel_layout, page_range
from dashboard.figures.tiles import FeatureGeometry
from dashboard.figures.wrapping import KernelLayout, wrap_layout
from tests.wire import cell_data, decode_typed

decode = decode_typed

Rect = tuple[float, float, float, float]  # (x0, x1, y0, y1)

# ---------------------------------------------------------------- the wire


def wire(fig: go.Figure) -> dict:
    """The figure exactly as the browser receives it (plotly's JSON, parsed back)."""
    return json.loads(fig.to_json())


def trace_arrays(fig: go.Figure, index: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    """(trace, z, customdata) of trace `index` as the browser receives them."""
    trace = wire(fig)["data"][index]
    return trace, decode(trace["z"]), cell_data(trace)


def walked_edges(xs: np.ndarray, ys: np.ndarray) -> set[tuple]:
    """Unit cell edges a separator polyline (cell-centred coordinates) runs along."""
    walked = set()
    points = list(zip((xs + 0.5).tolist(), (ys + 0.5).tolist(), strict=True))
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        assert x0 == x1 or y0 == y1, "diagonal stroke"
        for s in range(int(abs(x1 - x0) + abs(y1 - y0))):
            step = (np.sign(x1 - x0), np.sign(y1 - y0))
            a = (int(x0 + step[0] * s), int(y0 + step[1] * s))
            b = (a[0] + int(step[0]), a[1] + int(step[1]))
            walked.add(tuple(sorted((a, b))))
    return walked


def loops(trace: dict) -> list[Rect]:
    """(x0, x1, y0, y1) of each closed rectangle of a cover trace (loops split by None)."""
    rects, xs, ys = [], [], []
    for x, y in zip([*trace["x"], None], [*trace["y"], None], strict=True):
        if x is None:
            rects.append((min(xs), max(xs), min(ys), max(ys)))
            xs, ys = [], []
        else:
            xs.append(x)
            ys.append(y)
    return rects


def covered(rects: list[Rect], row: float, col: float) -> bool:
    return any(x0 <= col <= x1 and y0 <= row <= y1 for x0, x1, y0, y1 in rects)


# ---------------------------------------------------------------- layouts inverted


def cell_index(value: object) -> int | None:
    """The mosaic row or column under a clickData coordinate; None if not a finite number."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return math.floor(number + 0.5) if math.isfinite(number) else None


def channel_at(geometry: FeatureGeometry, row: float, col: float) -> int | None:
    """Channel of the tile under mosaic cell (row, col), e.g. clickData y/x; None off-tile."""
    r, c = cell_index(row), cell_index(col)
    g = geometry
    if r is None or c is None or not (0 <= r < g.nrows * g.tile_h and 0 <= c < g.ncols * g.tile_w):
        return None
    channel = (r // g.tile_h) * g.ncols + c // g.tile_w
    return channel if channel < g.channels else None


def feature_geometry_from_meta(meta: dict) -> FeatureGeometry:
    """The FeatureGeometry stored in a feature or RGB-kernel figure's layout.meta."""
    return FeatureGeometry(**{f.name: int(meta[f.name]) for f in fields(FeatureGeometry)})


def tile_at(layout: KernelLayout, row: int, col: int) -> tuple[int, int] | None:
    """(output index within the page, input channel) of mosaic cell (row, col), or None."""
    if row < 0 or col < 0:
        return None
    band, y = divmod(row, layout.band_pitch)
    block, x = divmod(col, layout.block_pitch)
    if band >= layout.bands or block >= layout.blocks:
        return None
    if y >= layout.block_inputs * layout.kh or x >= layout.band_cols * layout.kw:
        return None  # a gap
    k = band * layout.band_cols + x // layout.kw
    i = block * layout.block_inputs + y // layout.kh
    return (k, i) if k < layout.outputs and i < layout.inputs else None  # else a tail


def kernel_at(paging: KernelPaging, page: int, row: float, col: float) -> tuple[int, int] | None:
    """(output channel, input channel within group) under mosaic cell (row, col) of `page`.

    None off the mosaic, in the gaps between bands or blocks and in the last one's tail.
    """
    r, c = cell_index(row), cell_index(col)
    tile = None if r is None or c is None else tile_at(kernel_layout(paging, page), r, c)
    return None if tile is None else (page_range(paging, page)[0] + tile[0], tile[1])


def kernel_paging_from_meta(meta: dict) -> tuple[KernelPaging, int]:
    """(paging, page) stored in a kernel figure's layout.meta; kernel_layout gives the rest."""
    paging = KernelPaging(**{f.name: int(meta[f.name]) for f in fields(KernelPaging)})
    return paging, int(meta["page"])


def kernel_bands(paging: KernelPaging, page: int) -> tuple[int, int]:
    """(bands, band_cols) of `page`: band b shows its channels start + b*band_cols + k."""
    layout = kernel_layout(paging, page)
    return layout.bands, layout.band_cols


def band_layout(count: int, tile_rows: int, tile_w: int) -> tuple[int, int]:
    """(bands, band_cols) the band rule alone picks for `count` columns of tile_rows×tile_w.

    wrap_layout with one input row (kh = tile_rows) never wraps into blocks, so it is
    exactly the band rule.
    """
    layout = wrap_layout(count, 1, tile_rows, tile_w)
    return layout.bands, layout.band_cols


def band_mosaic(
    grid: np.ndarray, bands: int, band_cols: int, *, gap: int, fill: object = 0
) -> np.ndarray:
    """(R, N, h, w, *extra) tiles -> their N columns wrapped into bands stacked vertically."""
    return wrap_mosaic(grid, (bands, band_cols), (1, grid.shape[0]), gaps=(gap, 0), fill=fill)
