"""Where each tile sits in a mosaic: layout, paging, click -> channel, outlines.

Mosaic coordinates are heatmap cell indices: cell (row r, col c) is centred on
(x=c, y=r) and spans ±0.5, which is exactly what plotly reports as clickData x/y.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from dashboard.figures.mosaic import grid_shape, smallest_block_factor
from dashboard.figures.style import outline_rects

MAX_GRID_CELLS = 65_536  # cells of one overview mosaic; keeps a grid response ~1.5 MB worst case
# Measured JSON per cell (base64, and plotly's to_json escapes each "/" as "\u002f", which
# base64 of float32 data is rich in): feature ~23 B (uint8 + 4 float32), kernel ~30 B
# (uint8 + 5 float32), RGB kernel ~41 B (3 uint8 + 6 float32).
MAX_KERNEL_CELLS = 57_344  # one kernel page <= ~1.75 MB
MAX_RGB_CELLS = 32_768  # <= ~1.3 MB


@dataclass(frozen=True)
class FeatureGeometry:
    """Where tile i sits in a row-major mosaic (feature maps, RGB kernels)."""

    channels: int
    ncols: int
    nrows: int
    tile_h: int
    tile_w: int
    factor: int  # block size of the overview downsampling (1 = full resolution)


@dataclass(frozen=True)
class KernelPaging:
    """How a (out, in, kh, kw) weight tensor is split into pages of output channels."""

    out_channels: int
    in_channels: int  # per group, i.e. weight.shape[1]
    kh: int
    kw: int
    per_page: int
    pages: int


def _positive_shape(shape: tuple[int, ...], name: str, ndim: int) -> tuple[int, ...]:
    dims = tuple(int(d) for d in shape)
    if len(dims) != ndim or min(dims) < 1:
        raise ValueError(f"{name} must be {ndim} positive sizes, got {tuple(shape)}.")
    return dims


def feature_geometry(
    shape: tuple[int, int, int], max_cells: int = MAX_GRID_CELLS
) -> FeatureGeometry:
    """Near-square layout of C tiles, block-downsampled by the smallest factor that fits.

    If even 1×1 tiles exceed `max_cells` (more channels than cells), the factor stops at
    max(H, W) and the mosaic has one cell per channel.
    """
    channels, h, w = _positive_shape(shape, "shape", 3)
    nrows, ncols = grid_shape(channels)
    factor = smallest_block_factor(h, w, max_cells / (nrows * ncols))
    return FeatureGeometry(channels, ncols, nrows, -(-h // factor), -(-w // factor), factor)


def kernel_rgb_geometry(
    shape: tuple[int, int, int, int], max_cells: int = MAX_RGB_CELLS
) -> FeatureGeometry:
    """Layout of RGB kernel tiles (one per output channel, full resolution).

    `channels` is how many output channels fit in `max_cells` (the first ones).
    """
    out, _, kh, kw = _positive_shape(shape, "weight shape", 4)
    shown = out
    nrows, ncols = grid_shape(shown)
    while shown > 1 and nrows * ncols * kh * kw > max_cells:
        shown = max(1, min(shown - 1, int(shown * max_cells / (nrows * ncols * kh * kw))))
        nrows, ncols = grid_shape(shown)
    return FeatureGeometry(shown, ncols, nrows, kh, kw, 1)


def _cell(value: object) -> int | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return math.floor(number + 0.5) if math.isfinite(number) else None


def channel_at(geometry: FeatureGeometry, row: float, col: float) -> int | None:
    """Channel of the tile under mosaic cell (row, col), e.g. clickData y/x; None off-tile."""
    r, c = _cell(row), _cell(col)
    g = geometry
    if r is None or c is None or not (0 <= r < g.nrows * g.tile_h and 0 <= c < g.ncols * g.tile_w):
        return None
    channel = (r // g.tile_h) * g.ncols + c // g.tile_w
    return channel if channel < g.channels else None


def feature_outline(geometry: FeatureGeometry, channel: int | None) -> list[dict]:
    """layout.shapes outlining tile `channel` (halo + core rect); [] when None/out of range."""
    if channel is None or not 0 <= channel < geometry.channels:
        return []
    tr, tc = divmod(int(channel), geometry.ncols)
    x0, y0 = tc * geometry.tile_w - 0.5, tr * geometry.tile_h - 0.5
    return outline_rects(x0, x0 + geometry.tile_w, y0, y0 + geometry.tile_h)


def kernel_paging(
    weight_shape: tuple[int, int, int, int], max_cells: int = MAX_KERNEL_CELLS
) -> KernelPaging:
    """Pages of output channels: each page's mosaic (in*kh rows × n*kw cols) fits max_cells.

    A single column larger than max_cells still gets a page of its own (per_page >= 1).
    """
    out, inp, kh, kw = _positive_shape(weight_shape, "weight shape", 4)
    per_page = max(1, min(out, max_cells // (inp * kh * kw)))
    return KernelPaging(out, inp, kh, kw, per_page, -(-out // per_page))


def page_of(paging: KernelPaging, channel: int) -> int:
    """Page (0-based) that shows output channel `channel`."""
    if not 0 <= channel < paging.out_channels:
        raise ValueError(
            f"Output channel {channel} does not exist; the layer has {paging.out_channels}."
        )
    return int(channel) // paging.per_page


def page_range(paging: KernelPaging, page: int) -> tuple[int, int]:
    """[start, stop) of the output channels on `page`."""
    start = page * paging.per_page
    return start, min(paging.out_channels, start + paging.per_page)


def kernel_at(paging: KernelPaging, page: int, row: float, col: float) -> tuple[int, int] | None:
    """(output channel, input channel within group) under mosaic cell (row, col) of `page`."""
    r, c = _cell(row), _cell(col)
    start, stop = page_range(paging, page)
    if r is None or c is None or r < 0 or c < 0 or r >= paging.in_channels * paging.kh:
        return None
    out = start + c // paging.kw
    return (out, r // paging.kh) if out < stop else None


def kernel_outline(paging: KernelPaging, page: int, channel: int | None) -> list[dict]:
    """layout.shapes outlining column `channel` when it is on `page`, else []."""
    if channel is None or not 0 <= channel < paging.out_channels:
        return []
    if page_of(paging, channel) != page:
        return []
    x0 = (channel - page * paging.per_page) * paging.kw - 0.5
    return outline_rects(x0, x0 + paging.kw, -0.5, paging.in_channels * paging.kh - 0.5)


def feature_geometry_from_meta(meta: dict) -> FeatureGeometry:
    """The FeatureGeometry stored in a feature or RGB-kernel figure's layout.meta."""
    return FeatureGeometry(**{f.name: int(meta[f.name]) for f in fields(FeatureGeometry)})


def kernel_paging_from_meta(meta: dict) -> tuple[KernelPaging, int]:
    """(paging, page) stored in a kernel figure's layout.meta."""
    paging = KernelPaging(**{f.name: int(meta[f.name]) for f in fields(KernelPaging)})
    return paging, int(meta["page"])


def point_customdata(point: dict) -> list[float] | None:
    """customdata of one clickData/hoverData point as a list.

    Dash serialises a heatmap point's customdata (a typed array in the browser) as a dict
    {"0": v0, "1": v1, ...}; this accepts that form and a plain list.
    """
    data = point.get("customdata") if isinstance(point, dict) else None
    try:
        if isinstance(data, dict):
            return [float(data[k]) for k in sorted(data, key=int)]
        if isinstance(data, list | tuple):
            return [float(v) for v in data]
    except (TypeError, ValueError):
        return None
    return None
