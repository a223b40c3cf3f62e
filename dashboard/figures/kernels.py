"""Conv kernels as a paged diverging mosaic: rows = input channels, columns = outputs.

A page with few rows (a first layer: 3 inputs × 3×3) wraps its columns into bands stacked
vertically, one empty row apart; a page with many rows (512 inputs × 3×3, 12 outputs)
wraps its rows into blocks side by side, one empty column apart. Within every band and
block, rows are still input channels and columns output channels.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.kernel_axes import kernel_axes
from dashboard.figures.kernel_colour import kernel_colour
from dashboard.figures.mosaic import checked_array, clean_float32, wrap_mosaic
from dashboard.figures.overlay import band_overlay, block_overlay
from dashboard.figures.paging import (
    MAX_KERNEL_CELLS,
    KernelPaging,
    kernel_layout,
    kernel_outline,
    kernel_paging,
    page_channels,
    page_range,
)
from dashboard.figures.style import KERNEL_SEPARATOR, NAN_NOTE, base_layout, mosaic_axes, nan_shown
from dashboard.figures.tiles import checked_order, order_meta
from dashboard.figures.wrapping import BAND_GAP, BLOCK_GAP, KernelLayout
from dashboard.i18n import N_, _
from dashboard.modes import KernelScale, Look

KERNEL_HOVER = N_(
    "out %{customdata[2]} · in %{customdata[1]}<br>"
    "kernel row %{customdata[3]}, col %{customdata[4]}<br>"
    "weight %{customdata[0]:.4g}"
)
AXES = "out_channels, in_channels, kh, kw"
PADDING = (0.0, -1.0, -1.0, -1.0, -1.0)  # customdata of gap and tail cells: channel -1


def _kernel_title(
    layer: str | None,
    p: KernelPaging,
    page: int,
    groups: int,
    n_bad: int,
    colour: str,
    ranked: bool = False,
) -> str:
    start, stop = page_range(p, page)
    layout = kernel_layout(p, page)
    parts = [layer] if layer else []
    pages = {"page": page + 1, "pages": p.pages, "total": p.out_channels}
    if p.pages > 1 and ranked:
        parts.append(
            _(
                "output channels ranked {first}–{last} of {total} (sorted; page {page}/{pages})"
            ).format(first=start + 1, last=stop, **pages)
        )
    elif p.pages > 1:
        parts.append(
            _("output channels {first}–{last} of {total} (page {page}/{pages})").format(
                first=start, last=stop - 1, **pages
            )
        )
    elif ranked:
        parts.append(
            _("{outputs} output × {inputs} input channels (outputs sorted)").format(
                outputs=p.out_channels, inputs=p.in_channels
            )
        )
    else:
        parts.append(
            _("{outputs} output × {inputs} input channels").format(
                outputs=p.out_channels, inputs=p.in_channels
            )
        )
    parts.append(_("{kh}×{kw} kernels").format(kh=p.kh, kw=p.kw))
    if layout.bands > 1:
        parts.append(
            _("{bands} bands of {cols} outputs").format(bands=layout.bands, cols=layout.band_cols)
        )
    if groups > 1:
        parts.append(_("groups {groups}").format(groups=groups))
    parts.append(colour)
    if n_bad:
        parts.append(nan_shown(n_bad))
    return " · ".join(parts)


def _wrapped(grid: np.ndarray, layout: KernelLayout, fill: object) -> np.ndarray:
    """(in, n, kh, kw, ...) tiles placed as `layout` says."""
    return wrap_mosaic(
        grid,
        (layout.bands, layout.band_cols),
        (layout.blocks, layout.block_inputs),
        gaps=(BAND_GAP, BLOCK_GAP),
        fill=fill,
    )


def _overlay(layout: KernelLayout) -> list[go.Scatter]:
    """[separators] plus, when the page wraps, the cover over its gaps and tail."""
    common = {"tile_h": layout.kh, "tile_w": layout.kw, "colour": KERNEL_SEPARATOR}
    if layout.blocks > 1:
        last_rows = layout.block_size(layout.blocks - 1)
        return block_overlay(
            layout.block_inputs, layout.blocks, last_rows, layout.outputs, gap=BLOCK_GAP, **common
        )
    last_cols = layout.outputs - (layout.bands - 1) * layout.band_cols
    return band_overlay(
        layout.inputs, layout.bands, layout.band_cols, last_cols, gap=BAND_GAP, **common
    )


def kernel_grid(
    weights: np.ndarray,
    *,
    page: int = 0,
    groups: int = 1,
    max_cells: int = MAX_KERNEL_CELLS,
    selected: int | None = None,
    layer: str | None = None,
    scale: KernelScale | str = KernelScale.TILE,
    look: Look | str = Look.DIVERGING,
    order: np.ndarray | None = None,
) -> go.Figure:
    """One page of a conv layer's kernels: rows = input channels, columns = output channels.

    Args:
        weights: (out, in_per_group, kh, kw) raw weights (torch's conv.weight layout).
        page: 0-based page of output channels; clamped into range.
        groups: the conv's groups; out must be divisible by it.
        max_cells: cell budget that decides how many output channels fit on a page; pass
            the same value to kernel_paging/page_of.
        selected: output channel to outline (one outline, see kernel_outline; only when
            it is on this page).
        layer: optional layer name for the title.
        scale: which weights share a colour scale (KernelScale); 1×1 kernels always use
            the layer's. LAYER (and 1×1) and CHANNEL add a colour bar, TILE none.
        look: Look.DIVERGING (red > 0 > blue, 128 = 0) or Look.TUTORIAL (grey, black =
            min, white = max).
        order: display order of the output channels, a permutation of range(out): page p
            shows channels order[start:stop] (paging.page_channels), each column with its
            own group's inputs; labels, hover and `selected` use true channel numbers, bands
            are named by rank and the title says "ranked 65–128 of 512 (sorted; page 2/8)".
            None (or the identity): today's figure.

    Returns:
        Figure with data[0] = heatmap (z uint8 as kernel_colour.py says; customdata float32
        (rows, cols, 5) = [raw weight, absolute input channel, output channel, kernel
        row, kernel col]; gap and tail cells: channels -1), then the separators and, when
        the page wraps, a cover over gaps and tail. layout.meta = {"grid": "kernel",
        **asdict(paging), "page", "bands", "band_cols", "band_gap", "blocks",
        "block_inputs", "block_gap"}: band b starts at row b * (block_inputs * kh +
        band_gap) and holds positions start + b * band_cols + k; block q starts at column
        q * (band_cols * kw + block_gap) and holds input channels q * block_inputs + i.
        kernel_layout(KernelPaging from the meta's fields, page) gives the same numbers.
        Position p shows channel p, or order[p] when sorted (then the meta has "order").

    Raises:
        TypeError: weights are not real numbers.
        ValueError: weights are not 4-D or empty, groups does not divide out, or `order`
            is not a permutation of the output channels.
    """
    arr = checked_array(weights, "weights", 4, AXES)
    out, inp, kh, kw = arr.shape
    if int(groups) < 1 or out % int(groups):
        raise ValueError(f"groups must divide the {out} output channels, got {groups}.")
    groups = int(groups)
    order = checked_order(order, out)
    paging = kernel_paging(arr.shape, max_cells)
    page = min(max(int(page), 0), paging.pages - 1)
    start, stop = page_range(paging, page)
    channels = page_channels(paging, page, order=order)  # the true channel of each column
    finite, n_bad = clean_float32(arr)
    raw = finite[start:stop] if order is None else finite[channels]
    tiles = raw.transpose(1, 0, 2, 3)  # (in, n, kh, kw): grid rows = inputs
    n = stop - start

    outs = channels.astype(np.float32)
    first_input = (channels // (out // groups)) * inp
    cells = np.empty((inp, n, kh, kw, 5), dtype=np.float32)
    cells[..., 0] = tiles
    cells[..., 1] = (first_input[None, :] + np.arange(inp)[:, None])[:, :, None, None]
    cells[..., 2] = outs[None, :, None, None]
    cells[..., 3] = np.arange(kh, dtype=np.float32)[:, None]
    cells[..., 4] = np.arange(kw, dtype=np.float32)
    colour = kernel_colour(tiles, finite, scale, look)
    layout = kernel_layout(paging, page)
    z = _wrapped(colour.z, layout, fill=128)

    heatmap = go.Heatmap(
        z=z,
        customdata=_wrapped(cells, layout, fill=PADDING),
        zmin=0,
        zmax=255,
        colorscale=colour.colorscale,
        showscale=colour.colorbar is not None,
        colorbar=colour.colorbar,
        hovertemplate=_(KERNEL_HOVER) + (_(NAN_NOTE) if n_bad else "") + "<extra></extra>",
        name="kernels",
    )
    xaxis, yaxis = mosaic_axes(*z.shape)
    names = None if order is None else channels.tolist()
    x_ticks, y_ticks, annotations, margin = kernel_axes(layout, start, groups, names)
    xaxis.update(x_ticks)
    yaxis.update(y_ticks)
    figure_layout = base_layout(
        _kernel_title(layer, paging, page, groups, n_bad, colour.words, order is not None),
        uirevision=f"kernel:{out}x{inp}x{kh}x{kw}:{groups}:{page}",
        margin=margin,
    )
    figure_layout.update(
        xaxis=xaxis,
        yaxis=yaxis,
        shapes=kernel_outline(paging, page, selected, order=order),
        meta={
            "grid": "kernel",
            **asdict(paging),
            "page": page,
            "bands": layout.bands,
            "band_cols": layout.band_cols,
            "band_gap": BAND_GAP,
            "blocks": layout.blocks,
            "block_inputs": layout.block_inputs,
            "block_gap": BLOCK_GAP,
        }
        | order_meta(order),
    )
    if annotations:
        figure_layout["annotations"] = annotations
    return go.Figure(data=[heatmap, *_overlay(layout)], layout=figure_layout)
