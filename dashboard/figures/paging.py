"""Kernel pages: output channels split into pages, each wrapped into bands or blocks; outlines.

Mosaic coordinates are heatmap cell indices: cell (row r, col c) is centred on
(x=c, y=r) and spans ±0.5, which is exactly what plotly reports as clickData x/y.

Pages hold display positions: page p shows positions page_range(p), i.e. output channels
order[start:stop] under a display order (tiles.checked_order), start..stop-1 without one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.figures.mosaic import positive_shape
from dashboard.figures.style import outline_rects
from dashboard.figures.tiles import checked_order, position_of
from dashboard.figures.wrapping import KernelLayout, wrap_layout

# A kernel cell (uint8 + 5 float32) costs ~30 B of JSON: base64, and plotly's to_json
# escapes each "/" as "\u002f", which base64 of float32 data is rich in.
CORNERS = ("x0", "x1", "y0", "y1")  # a path shape has none
MAX_KERNEL_CELLS = 57_344  # one kernel page, gap rows and columns included, <= ~1.75 MB


@dataclass(frozen=True)
class KernelPaging:
    """How a (out, in, kh, kw) weight tensor is split into pages of output channels."""

    out_channels: int
    in_channels: int  # per group, i.e. weight.shape[1]
    kh: int
    kw: int
    per_page: int
    pages: int


def kernel_paging(
    weight_shape: tuple[int, int, int, int], max_cells: int = MAX_KERNEL_CELLS
) -> KernelPaging:
    """Pages of output channels: each page's mosaic (in*kh rows × n*kw cols) fits max_cells.

    Gap rows between bands and gap columns between blocks count too (pages that wrap hold
    a few channels fewer). A single column larger than max_cells (with its gaps, if it
    wraps into blocks) still gets a page of its own (per_page >= 1).
    """
    out, inp, kh, kw = positive_shape(weight_shape, "weight shape", 4)
    per_page = max(1, min(out, max_cells // (inp * kh * kw)))
    while per_page > 1:
        rows, cols = wrap_layout(per_page, inp, kh, kw).shape
        if rows * cols <= max_cells:
            break
        per_page = max(1, min(per_page - 1, per_page * max_cells // (rows * cols)))
    return KernelPaging(out, inp, kh, kw, per_page, -(-out // per_page))


def page_of(paging: KernelPaging, channel: int, *, order: np.ndarray | None = None) -> int:
    """Page (0-based) that shows output channel `channel` (drawn in display `order`)."""
    if not 0 <= channel < paging.out_channels:
        raise ValueError(
            f"Output channel {channel} does not exist; the layer has {paging.out_channels}."
        )
    position = position_of(checked_order(order, paging.out_channels), channel)
    return position // paging.per_page


def page_range(paging: KernelPaging, page: int) -> tuple[int, int]:
    """[start, stop) of the display positions on `page` (the output channels, unsorted)."""
    start = page * paging.per_page
    return start, min(paging.out_channels, start + paging.per_page)


def page_channels(
    paging: KernelPaging, page: int, *, order: np.ndarray | None = None
) -> np.ndarray:
    """The output channels `page` shows, left to right: order[start:stop] or start..stop-1."""
    start, stop = page_range(paging, page)
    order = checked_order(order, paging.out_channels)
    return np.arange(start, stop) if order is None else order[start:stop]


def kernel_layout(paging: KernelPaging, page: int) -> KernelLayout:
    """How `page` is laid out; kernel_grid, its axes and kernel_outline all follow it."""
    start, stop = page_range(paging, page)
    return wrap_layout(stop - start, paging.in_channels, paging.kh, paging.kw)


def kernel_outline(
    paging: KernelPaging, page: int, channel: int | None, *, order: np.ndarray | None = None
) -> list[dict]:
    """layout.shapes outlining output `channel` once, if it is on `page`: [halo, core].

    `order`: the grid's display order (see checked_order); None = identity.

    Plain and banded pages: one rectangle around the channel's column. A page wrapped into
    input blocks shows the channel as one column in every block; eight separate boxes read
    as eight selections, so the outline is one comb instead: a bar along the mosaic's top
    edge joining the tops of all those columns, each column boxed as a tooth. One path
    (one halo, one core) that a reader sees as one selected thing.
    """
    if channel is None or not 0 <= channel < paging.out_channels:
        return []
    position = position_of(checked_order(order, paging.out_channels), channel)
    if position // paging.per_page != page:
        return []
    layout = kernel_layout(paging, page)
    rects = layout.column_rects(position - page * paging.per_page)
    if len(rects) == 1:
        return outline_rects(*rects[0])
    path = comb_path(rects)
    return [
        {**{k: v for k, v in shape.items() if k not in CORNERS}, "type": "path", "path": path}
        for shape in outline_rects(0, 0, 0, 0)
    ]


def comb_path(rects: list[tuple[float, float, float, float]]) -> str:
    """SVG path: the outline of each (x0, x1, y0, y1) rect plus a bar joining their tops."""
    top = min(y0 for _, _, y0, _ in rects)
    left, right = rects[0][0], rects[-1][1]
    boxes = "".join(f"M{x0},{y0}H{x1}V{y1}H{x0}Z" for x0, x1, y0, y1 in rects)
    return f"M{left},{top}H{right}{boxes}"
