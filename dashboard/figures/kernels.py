"""Conv kernels as a paged diverging mosaic: rows = input channels, columns = outputs."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.geometry import (
    MAX_KERNEL_CELLS,
    KernelPaging,
    kernel_outline,
    kernel_paging,
    page_range,
)
from dashboard.figures.mosaic import (
    centred_uint8,
    checked_array,
    clean_float32,
    grid_mosaic,
)
from dashboard.figures.overlay import grid_overlay
from dashboard.figures.style import (
    DIVERGING,
    KERNEL_SEPARATOR,
    base_layout,
    mosaic_axes,
)

KERNEL_HOVER = (
    "out %{customdata[2]} · in %{customdata[1]}<br>"
    "kernel row %{customdata[3]}, col %{customdata[4]}<br>"
    "weight %{customdata[0]:.4g}"
)
NAN_NOTE = "<br>(NaN/Inf in this layer shown as 0)"
NICE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000)
AXES = "out_channels, in_channels, kh, kw"


def _ticks(first: int, count: int, size: int, max_ticks: int) -> dict:
    """Tick values at tile centres, thinned to round channel numbers."""
    step = next((s for s in NICE_STEPS if count / s <= max_ticks), -(-count // max_ticks))
    labels = [ch for ch in range(first, first + count) if ch % step == 0 or count == 1]
    return {
        "tickmode": "array",
        "tickvals": [(ch - first) * size + (size - 1) / 2 for ch in labels],
        "ticktext": [str(ch) for ch in labels],
    }


def _kernel_title(layer: str | None, p: KernelPaging, page: int, groups: int, n_bad: int) -> str:
    start, stop = page_range(p, page)
    parts = [layer] if layer else []
    if p.pages > 1:
        parts.append(
            f"output channels {start}–{stop - 1} of {p.out_channels} (page {page + 1}/{p.pages})"
        )
    else:
        parts.append(f"{p.out_channels} output × {p.in_channels} input channels")
    parts.append(f"{p.kh}×{p.kw} kernels")
    if groups > 1:
        parts.append(f"groups {groups}")
    parts.append("red > 0 > blue, per tile")
    if n_bad:
        parts.append(f"{n_bad} NaN/Inf shown as 0")
    return " · ".join(parts)


def kernel_grid(
    weights: np.ndarray,
    *,
    page: int = 0,
    groups: int = 1,
    max_cells: int = MAX_KERNEL_CELLS,
    selected: int | None = None,
    layer: str | None = None,
) -> go.Figure:
    """One page of a conv layer's kernels: rows = input channels, columns = output channels.

    Args:
        weights: (out, in_per_group, kh, kw) raw weights (torch's conv.weight layout).
        page: 0-based page of output channels; clamped into range.
        groups: the conv's groups; out must be divisible by it.
        max_cells: cell budget that decides how many output channels fit on a page; pass
            the same value to kernel_paging/page_of.
        selected: output channel to outline (only when it is on this page).
        layer: optional layer name for the title.

    Returns:
        Figure with data[0] = heatmap (z uint8, 128 = 0 weight; customdata float32
        (rows, cols, 5) = [raw weight, absolute input channel, output channel, kernel
        row, kernel col]); layout.meta = {"grid": "kernel", **asdict(paging), "page"}.

    Raises:
        TypeError: weights are not real numbers.
        ValueError: weights are not 4-D or empty, or groups does not divide out.
    """
    arr = checked_array(weights, "weights", 4, AXES)
    out, inp, kh, kw = arr.shape
    if int(groups) < 1 or out % int(groups):
        raise ValueError(f"groups must divide the {out} output channels, got {groups}.")
    groups = int(groups)
    paging = kernel_paging(arr.shape, max_cells)
    page = min(max(int(page), 0), paging.pages - 1)
    start, stop = page_range(paging, page)
    raw, n_bad = clean_float32(arr[start:stop])
    tiles = raw.transpose(1, 0, 2, 3)  # (in, n, kh, kw): grid rows = inputs
    n = stop - start

    outs = np.arange(start, stop, dtype=np.float32)
    first_input = (np.arange(start, stop) // (out // groups)) * inp
    cells = np.empty((inp, n, kh, kw, 5), dtype=np.float32)
    cells[..., 0] = tiles
    cells[..., 1] = (first_input[None, :] + np.arange(inp)[:, None])[:, :, None, None]
    cells[..., 2] = outs[None, :, None, None]
    cells[..., 3] = np.arange(kh, dtype=np.float32)[:, None]
    cells[..., 4] = np.arange(kw, dtype=np.float32)
    z = grid_mosaic(centred_uint8(tiles, (2, 3), centre=127.5, half=127.5))

    heatmap = go.Heatmap(
        z=z,
        customdata=grid_mosaic(cells),
        zmin=0,
        zmax=255,
        colorscale=DIVERGING,
        showscale=False,
        hovertemplate=KERNEL_HOVER + (NAN_NOTE if n_bad else "") + "<extra></extra>",
        name="kernels",
    )
    overlay = grid_overlay(inp, n, kh, kw, colour=KERNEL_SEPARATOR)
    xaxis, yaxis = mosaic_axes(*z.shape)
    xaxis.update(_ticks(start, n, kw, 24), ticks="", showticklabels=True)
    yaxis.update(_ticks(0, inp, kh, 32), ticks="", showticklabels=True)
    xaxis["title"] = {"text": "output channel", "standoff": 4}
    within = " (within group)" if groups > 1 else ""
    yaxis["title"] = {"text": f"input channel{within}", "standoff": 4}
    layout = base_layout(
        _kernel_title(layer, paging, page, groups, n_bad),
        uirevision=f"kernel:{out}x{inp}x{kh}x{kw}:{groups}:{page}",
        margin={"l": 56, "r": 8, "t": 36, "b": 44},
    )
    layout.update(
        xaxis=xaxis,
        yaxis=yaxis,
        shapes=kernel_outline(paging, page, selected),
        meta={"grid": "kernel", **asdict(paging), "page": page},
    )
    return go.Figure(data=[heatmap, *overlay], layout=layout)
