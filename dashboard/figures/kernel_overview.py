"""Big conv layers: a kernel-norm overview that reads, one output channel enlarged, deep zoom.

A kernel page of VGG16's features.28 (512×512 kernels of 3×3) draws each weight in ~2 px:
noise. The overview draws one cell per kernel instead, coloured by its L2 norm:

* plain (in_per_group > 1): x = output channel, y = input channel within its group, so it
  reads like the kernel grid (rows in, columns out). Cell (x=j, y=i) is kernel
  weights[j, i]. When out × in exceeds the budget, `in_per_cell` = f consecutive inputs
  share one cell holding the MAX of their norms (a strong kernel never hides; a cell is
  dead only if all its kernels are): block b spans y in [b*f - 0.5, b*f + f - 0.5], so
  input i occupies [i - 0.5, i + 0.5] whatever f is: the axis labels, a zoom window's
  real weights and the blocks all agree.
* wrapped (one input per group: depthwise, or a 1-channel input): one row would be a
  barcode, so the output channels wrap into rows of `wrap_cols`: cell (x=c, y=r) is
  output channel r * wrap_cols + c, squares.

Sorted (a display order, tiles.checked_order): column (or wrapped cell) j shows output
channel order[j] instead of j, and hover, clicks and labels name order[j].

kernel_norm_window subdivides each visible norm cell into the kernel's kh×kw real weights.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.kernel_axes import (
    MIN_PITCH_PX,
    RANGE_TEXTS,
    ROW_PITCH_PX,
    channel_ticks,
    kernel_axes,
)
from dashboard.figures.mosaic import checked_array, clean_float32, grid_shape, positive_shape
from dashboard.figures.paging import kernel_layout, kernel_paging
from dashboard.figures.style import (
    DIVERGING,
    NAN_NOTE,
    VIRIDIS,
    base_layout,
    fmt,
    nan_shown,
    outline_rects,
)
from dashboard.figures.tiles import checked_order, order_meta, position_of
from dashboard.figures.wrapping import BAND_ASPECT
from dashboard.figures.zoom import finite_range
from dashboard.i18n import N_, _

AXES = "out_channels, in_channels, kh, kw"
DEFAULT_WIDTH_PX, DEFAULT_HEIGHT_PX = 620, 420  # the kernel panel
# One float32 z per cell, no customdata: 5.8-7.9 B of JSON a cell (base64 plus plotly's
# "\u002f" escapes; norms in [0.5, 2) are the worst), so <= ~520 KB, ~260 KB brotli: a
# layer switch stays under 600 KB on the wire. The kernel panel's plot is ~480×340 px at
# 1366×768, so a cell is still about one screen pixel wide; zooming in shows every weight.
# 512×512 kernels (VGG16 features.28) pool 4 inputs a cell, 2048×512 (ResNet-50
# layer4.2.conv3) 16.
MAX_NORM_CELLS = 65_536
# A zoom window cell is z + 5 float32 customdata: ~35 B, so <= ~1.7 MB.
MAX_NORM_WINDOW_CELLS = 49_152
# channel_kernels shows at most this many weights per page (64 inputs of 3×3, 576 of 1×1)
CHANNEL_CELLS = 576
TEXT_MIN_PX = 26  # a cell this large holds a printed weight ("-0.123" in 11 px)
DEAD_FRACTION = 0.001  # kernels with norm <= 0.1% of the layer's largest are drawn DEAD_COLOUR
DEAD_COLOUR = "#e7298a"  # magenta: in no part of viridis
PLOT_MARGIN = {"l": 56, "r": 84, "t": 36, "b": 44}  # room for the colour bar on the right
PAD = (0.0, -1.0, -1.0, -1.0, -1.0)  # customdata of padding cells: channels -1
# hover of a plain overview's cells by (inputs pooled, within a group); {kh}, {kw}, {f}, {half}
NORM_HOVERS = {
    (False, False): N_("out %{{x}} · in %{{y}} · ‖kernel‖₂ = %{{z:.4g}} ({kh}×{kw})"),
    (False, True): N_("out %{{x}} · in %{{y}} (within group) · ‖kernel‖₂ = %{{z:.4g}} ({kh}×{kw})"),
    (True, False): N_(
        "out %{{x}} · max of {f} inputs, in %{{y}} ± {half} · ‖kernel‖₂ = %{{z:.4g}} ({kh}×{kw})"
    ),
    (True, True): N_(
        "out %{{x}} · max of {f} inputs, in %{{y}} ± {half} (within group) · "
        "‖kernel‖₂ = %{{z:.4g}} ({kh}×{kw})"
    ),
}


@dataclass(frozen=True)
class NormGeometry:
    """Where kernel (out j, in i) sits in a kernel_norm_overview (see the module doc)."""

    out_channels: int
    in_channels: int  # per group, weight.shape[1]
    kh: int
    kw: int
    in_per_cell: int  # inputs per cell row (max of their norms); 1 = every kernel its cell
    wrap_cols: int  # 0 = plain; else output channel = row * wrap_cols + col
    rows: int
    cols: int


def norm_geometry(
    shape: tuple[int, int, int, int], max_cells: int = MAX_NORM_CELLS
) -> NormGeometry:
    """Layout of the norm overview of a (out, in, kh, kw) weight tensor within max_cells."""
    out, inp, kh, kw = positive_shape(shape, "weight shape", 4)
    if inp == 1:
        cols = min(out, math.ceil(math.sqrt(out * BAND_ASPECT)))
        return NormGeometry(out, inp, kh, kw, 1, cols, -(-out // cols), cols)
    f = 1
    while f < inp and -(-inp // f) * out > max_cells:
        f *= 2
    return NormGeometry(out, inp, kh, kw, f, 0, -(-inp // f), out)


def overview_channel(
    meta: dict, x: object, y: object, *, order: np.ndarray | None = None
) -> int | None:
    """Output channel under overview point (x, y) (clickData), from the figure's meta.

    A sorted overview draws order[j] at position j: `order`, else the meta's "order".
    """
    try:
        col, row = math.floor(float(x) + 0.5), float(y)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(row) and 0 <= col < int(meta["cols"])):
        return None
    wrap = int(meta["wrap_cols"])
    position = col if not wrap else math.floor(row + 0.5) * wrap + col
    out = int(meta["out_channels"])
    if not 0 <= position < out:
        return None
    order = checked_order(meta.get("order") if order is None else order, out)
    return position if order is None else int(order[position])


def needs_overview(
    weight_shape: tuple[int, int, int, int],
    width_px: int | None = None,
    height_px: int | None = None,
    min_px: float = 6.0,
) -> bool:
    """True when kernel_grid's first (fullest) page shows one weight in < min_px screen px.

    width_px, height_px: the graph's size (default the ~620×420 kernel panel); the kernel
    page's margins are taken off, and its cells are square (scaleanchor).
    """
    paging = kernel_paging(weight_shape)
    layout = kernel_layout(paging, 0)
    *_axes, margin = kernel_axes(layout, 0, 1)
    width = (width_px or DEFAULT_WIDTH_PX) - margin["l"] - margin["r"]
    height = (height_px or DEFAULT_HEIGHT_PX) - margin["t"] - margin["b"]
    rows, cols = layout.shape
    return min(width / cols, height / rows) < min_px


def _checked(weights: np.ndarray, groups: int) -> tuple[np.ndarray, int, int]:
    """(finite float32 weights, NaN/Inf count, groups) or ValueError/TypeError."""
    arr = checked_array(weights, "weights", 4, AXES)
    if int(groups) < 1 or arr.shape[0] % int(groups):
        raise ValueError(f"groups must divide the {arr.shape[0]} output channels, got {groups}.")
    raw, n_bad = clean_float32(arr)
    return raw, n_bad, int(groups)


def kernel_norms(weights: np.ndarray) -> np.ndarray:
    """(out, in) L2 norm of each kh×kw kernel, summed in float64, returned as float32."""
    squared = np.square(weights, dtype=np.float64)
    return np.sqrt(squared.sum(axis=(2, 3))).astype(np.float32)


def _norm_colours(top: float) -> list[list[object]]:
    """Viridis over (DEAD_FRACTION, 1] of [0, top]; dead and tiny kernels in DEAD_COLOUR."""
    t = DEAD_FRACTION
    return [[0.0, DEAD_COLOUR], [t, DEAD_COLOUR]] + [[t + (1 - t) * p, c] for p, c in VIRIDIS]


def _plot_px() -> tuple[float, float]:
    """(width, height) of the plot area of the default panel with PLOT_MARGIN."""
    return (
        DEFAULT_WIDTH_PX - PLOT_MARGIN["l"] - PLOT_MARGIN["r"],
        DEFAULT_HEIGHT_PX - PLOT_MARGIN["t"] - PLOT_MARGIN["b"],
    )


def _overview_axes(
    g: NormGeometry, groups: int, order: np.ndarray | None = None
) -> tuple[dict, dict]:
    """Plain: free aspect (fills the panel); wrapped: square cells, rows named by range.

    Sorted: plain columns are labelled with their true channels, wrapped rows by rank.
    """
    plot_w, plot_h = _plot_px()
    common = {"showgrid": False, "zeroline": False, "showline": False, "ticks": ""}
    xaxis = {**common, "range": [-0.5, g.cols - 0.5], "constrain": "domain"}
    if g.wrap_cols:
        px = min(plot_w / g.cols, plot_h / g.rows)
        xaxis.update(channel_ticks(0, g.cols, 1, px, MIN_PITCH_PX))
        yaxis = {**common, "range": [g.rows - 0.5, -0.5], "constrain": "domain"}
        yaxis.update(scaleanchor="x", scaleratio=1)
        y_ticks = channel_ticks(0, g.rows, 1, px, ROW_PITCH_PX)
        kind, base = ("out", 0) if order is None else ("rank", 1)
        label = _(RANGE_TEXTS[kind][0])
        y_ticks["ticktext"] = [
            label.format(
                first=base + int(r) * g.cols,
                last=base + min(g.out_channels, (int(r) + 1) * g.cols) - 1,
            )
            for r in y_ticks["tickvals"]
        ]
        yaxis.update(y_ticks)
        if order is None:
            x_title = _("output channel = the row's first + column")
        else:
            x_title = _("rank (sorted; hover names the channel) = the row's first + column")
        if groups > 1:
            y_title = _("rows of output channels, one input each (its group's)")
        else:
            y_title = _("rows of output channels, one input each")
        return {**xaxis, "title": {"text": x_title}}, {**yaxis, "title": {"text": y_title}}
    f = g.in_per_cell
    names = None if order is None else order.tolist()
    xaxis.update(channel_ticks(0, g.cols, 1, plot_w / g.cols, MIN_PITCH_PX, names))
    y_ticks = channel_ticks(0, g.rows, 1, plot_h / g.rows, ROW_PITCH_PX)
    y_ticks["tickvals"] = [v * f for v in y_ticks["tickvals"]]
    y_ticks["ticktext"] = [str(int(v)) for v in y_ticks["tickvals"]]
    yaxis = {**common, **y_ticks, "range": [g.rows * f - 0.5, -0.5]}
    y_title = _("input channel")
    if groups > 1:
        y_title = _("{title} (within group)").format(title=y_title)
    if f > 1:
        y_title = _("{title}, max over blocks of {f}").format(title=y_title, f=f)
    x_title = _("output channel (sorted)") if order is not None else _("output channel")
    return {**xaxis, "title": {"text": x_title}}, {**yaxis, "title": {"text": y_title}}


def _overview_title(
    layer: str | None, g: NormGeometry, groups: int, dead: int, n_bad: int, ranked: bool
) -> str:
    parts = [layer] if layer else []
    if ranked:
        norms = _("‖kernel‖₂ of {outputs} output × {inputs} input channels (outputs sorted)")
    else:
        norms = _("‖kernel‖₂ of {outputs} output × {inputs} input channels")
    parts.append(norms.format(outputs=g.out_channels, inputs=g.in_channels))
    parts.append(_("{kh}×{kw} kernels").format(kh=g.kh, kw=g.kw))
    if groups > 1 and groups == g.out_channels:
        parts.append(_("depthwise"))
    elif groups > 1:
        parts.append(_("groups {groups}").format(groups=groups))
    if g.in_per_cell > 1:
        parts.append(_("each cell: max of {n} inputs").format(n=g.in_per_cell))
    if dead and g.in_per_cell > 1:
        parts.append(
            _("{dead} dead kernels (‖k‖ ≤ {fraction} of max), magenta where all {n} are").format(
                dead=dead, fraction=f"{DEAD_FRACTION:.1%}", n=g.in_per_cell
            )
        )
    elif dead:
        parts.append(
            _("{dead} dead kernels (‖k‖ ≤ {fraction} of max) in magenta").format(
                dead=dead, fraction=f"{DEAD_FRACTION:.1%}"
            )
        )
    else:
        parts.append(_("none dead"))
    if n_bad:
        parts.append(nan_shown(n_bad))
    return " · ".join(parts)


def kernel_norm_overview(
    weights: np.ndarray,
    *,
    groups: int = 1,
    selected: int | None = None,
    layer: str | None = None,
    max_cells: int = MAX_NORM_CELLS,
    order: np.ndarray | None = None,
) -> go.Figure:
    """The L2 norm of every kernel of a conv layer: columns = outputs, rows = inputs.

    Args:
        weights: (out, in_per_group, kh, kw) raw weights (torch's conv.weight layout).
        groups: the conv's groups; out must be divisible by it.
        selected: output channel to outline (one rect pair around its column or cell).
        layer: optional layer name for the title.
        max_cells: cell budget; above it inputs are max-pooled in blocks (see module doc).
        order: display order of the output channels, a permutation of range(out): column
            (wrapped: cell) j shows channel order[j]; None (or the identity): today's.

    Returns:
        Figure with data[0] = heatmap, z float32 = the raw norms (max of a block when
        in_per_cell > 1), viridis on [0, largest norm], norms <= DEAD_FRACTION of it in
        DEAD_COLOUR. Plain: no customdata, x = output channel; sorted, x = position and
        customdata uint16 (int32 past 65,535 channels) (rows, cols) = the true output
        channel (~3 B a cell more). Wrapped: customdata float32 (rows, cols, 3) = [norm,
        absolute input channel, output channel] (tail: -1). layout.meta = {"grid":
        "kernel_norms", **asdict(NormGeometry), "groups", "dead"}, plus "order" when
        sorted; overview_channel(meta, x, y) maps a click to its output channel.

    Raises:
        TypeError: weights are not real numbers.
        ValueError: weights are not 4-D or empty, groups does not divide out, or `order`
            is not a permutation of the output channels.
    """
    raw, n_bad, groups = _checked(weights, groups)
    out, inp, kh, kw = raw.shape
    order = checked_order(order, out)
    g = norm_geometry(raw.shape, max_cells)
    norms = kernel_norms(raw)  # (out, in)
    top = float(norms.max()) or 1.0
    dead = int(np.count_nonzero(norms <= DEAD_FRACTION * top))
    channels = np.arange(out) if order is None else order  # the channel at each position
    norms = norms if order is None else norms[order]
    trace = {"zmin": 0.0, "zmax": top, "colorscale": _norm_colours(top), "hoverongaps": False}
    if g.wrap_cols:
        z = np.full(g.rows * g.cols, np.nan, dtype=np.float32)
        z[:out] = norms[:, 0]
        cells = np.full((g.rows * g.cols, 3), -1.0, dtype=np.float32)
        cells[:out, 0] = norms[:, 0]
        cells[:out, 1] = channels // (out // groups)
        cells[:out, 2] = channels
        trace.update(z=z.reshape(g.rows, g.cols), customdata=cells.reshape(g.rows, g.cols, 3))
        hover = _(
            "out %{{customdata[2]}} · in %{{customdata[1]}} · ‖kernel‖₂ = %{{z:.4g}} ({kh}×{kw})"
        ).format(kh=kh, kw=kw)
    else:
        f = g.in_per_cell
        z = norms.T  # (in, out)
        if f > 1:
            padded = np.zeros((g.rows * f, out), dtype=np.float32)
            padded[:inp] = z
            z = padded.reshape(g.rows, f, out).max(axis=1)
        trace.update(z=np.ascontiguousarray(z), x0=0, dx=1, y0=(f - 1) / 2, dy=f)
        hover = _(NORM_HOVERS[f > 1, groups > 1]).format(kh=kh, kw=kw, f=f, half=f"{(f - 1) / 2:g}")
        if order is not None:  # x is a position: the hover reads the true channel instead
            dtype = np.uint16 if out <= np.iinfo(np.uint16).max else np.int32
            column = np.ascontiguousarray(np.broadcast_to(order.astype(dtype), z.shape))
            trace.update(customdata=column)
            hover = hover.replace("%{x}", "%{customdata}")
    heatmap = go.Heatmap(
        **trace,
        colorbar={"title": {"text": _("‖kernel‖₂"), "side": "right"}, "thickness": 12, "xpad": 4},
        hovertemplate=hover + "<extra></extra>",
        name="kernel norms",
    )
    xaxis, yaxis = _overview_axes(g, groups, order)
    layout = base_layout(
        _overview_title(layer, g, groups, dead, n_bad, order is not None),
        uirevision=f"norms:{out}x{inp}x{kh}x{kw}:{groups}",
        margin=dict(PLOT_MARGIN),
    )
    layout.update(
        xaxis=xaxis,
        yaxis=yaxis,
        shapes=norm_outline(g, selected, order=order),
        meta={"grid": "kernel_norms", **asdict(g), "groups": groups, "dead": dead}
        | order_meta(order),
    )
    return go.Figure(data=[heatmap], layout=layout)


# ---------------------------------------------------------------- one output channel


def norm_outline(
    g: NormGeometry, selected: int | None, *, order: np.ndarray | None = None
) -> list[dict]:
    """layout.shapes outlining output channel ``selected`` (one rect pair), [] if none.

    `order`: the overview's display order (selected is a true channel); None = identity.
    """
    if selected is None or not 0 <= int(selected) < g.out_channels:
        return []
    j = position_of(checked_order(order, g.out_channels), int(selected))
    if g.wrap_cols:
        row, col = divmod(j, g.cols)
        return outline_rects(col - 0.5, col + 0.5, row - 0.5, row + 0.5)
    return outline_rects(j - 0.5, j + 0.5, -0.5, g.rows * g.in_per_cell - 0.5)


def _cell_hover(groups: int, kh: int, kw: int) -> str:
    if kh * kw > 1:
        return _(
            "out %{customdata[2]} · in %{customdata[1]} · row %{customdata[3]}, "
            "col %{customdata[4]} · weight %{customdata[0]:.4g}"
        )
    return _("out %{customdata[2]} · in %{customdata[1]} · weight %{customdata[0]:.4g}")


def channel_kernels(
    weights: np.ndarray,
    channel: int,
    *,
    groups: int = 1,
    layer: str | None = None,
    max_inputs: int | None = None,
    page: int = 0,
) -> go.Figure:
    """Output `channel`'s kernels enlarged: one kh×kw tile per input, one colour scale.

    Args:
        weights: (out, in_per_group, kh, kw) raw weights.
        channel: the output channel; clamped into range.
        groups: the conv's groups (hover names absolute input channels).
        layer: optional layer name for the title.
        max_inputs: tiles per page; None: CHANNEL_CELLS // (kh*kw) (64 of 3×3, 576 of 1×1).
        page: 0-based page of inputs; clamped into range.

    Returns:
        Figure with data[0] = heatmap of tiles in a near-square grid, one empty (NaN) cell
        between tiles (none for 1×1, which form one grid of cells). z float32 = the raw
        weights on DIVERGING from -peak to +peak (peak = the channel's largest |weight|),
        customdata float32 (rows, cols, 5) = [weight, absolute input channel, output
        channel, kernel row, kernel col] (gaps: -1); the weights printed (3 significant
        digits) when cells are large enough. layout.meta = {"grid": "channel_kernels",
        "channel", "page", "pages", "first_input", "inputs", "in_channels", "tile_rows",
        "tile_cols", "kh", "kw", "gap"}: input first_input + k sits in tile k (row-major).
    """
    raw, n_bad, groups = _checked(weights, groups)
    out, inp, kh, kw = raw.shape
    channel = min(max(int(channel), 0), out - 1)
    per_page = max(1, int(max_inputs) if max_inputs else CHANNEL_CELLS // (kh * kw))
    pages = -(-inp // per_page)
    page = min(max(int(page), 0), pages - 1)
    first = page * per_page
    tiles = raw[channel, first : first + per_page]  # (n, kh, kw)
    n = len(tiles)
    nrows, ncols = grid_shape(n)
    gap = 0 if kh * kw == 1 else 1
    th, tw = kh + gap, kw + gap
    z = np.full((nrows * ncols, th, tw), np.nan, dtype=np.float32)
    z[:n, :kh, :kw] = tiles
    cells = np.empty((nrows * ncols, th, tw, 5), dtype=np.float32)
    cells[...] = PAD
    cells[:n, :kh, :kw, 0] = tiles
    cells[:n, :kh, :kw, 1] = (
        (channel // (out // groups)) * inp + first + np.arange(n)[:, None, None]
    )
    cells[:n, :kh, :kw, 2] = channel
    cells[:n, :kh, :kw, 3] = np.arange(kh)[:, None]
    cells[:n, :kh, :kw, 4] = np.arange(kw)

    def mosaic(a: np.ndarray) -> np.ndarray:
        grid = a.reshape(nrows, ncols, th, tw, *a.shape[3:]).swapaxes(1, 2)
        full = grid.reshape(nrows * th, ncols * tw, *a.shape[3:])
        return np.ascontiguousarray(full[: full.shape[0] - gap, : full.shape[1] - gap])

    z_mosaic = mosaic(z)
    peak = float(np.abs(tiles).max()) or 1.0
    plot_w, plot_h = _plot_px()
    cell_px = min(plot_w / z_mosaic.shape[1], plot_h / z_mosaic.shape[0])
    text = {}
    if cell_px >= TEXT_MIN_PX:  # strings, so gap cells print nothing (not "NaN")
        printed = [["" if np.isnan(v) else f"{v:.3g}" for v in row] for row in z_mosaic.tolist()]
        text = {"text": printed, "texttemplate": "%{text}", "textfont": {"size": 11}}
    heatmap = go.Heatmap(
        z=z_mosaic,
        customdata=mosaic(cells),
        zmin=-peak,
        zmax=peak,
        colorscale=DIVERGING,
        colorbar={"title": {"text": _("weight"), "side": "right"}, "thickness": 12, "xpad": 4},
        hoverongaps=False,
        hovertemplate=_cell_hover(groups, kh, kw) + "<extra></extra>",
        name=f"out {channel}",
        **text,
    )
    parts = [layer] if layer else []
    if inp == 1:
        shown = _("out {channel}: its one input")
    elif n < inp:
        shown = _("out {channel}: inputs {first}–{last} of {total}")
    else:
        shown = _("out {channel}: all {total} inputs")
    shown = shown.format(channel=channel, first=first, last=first + n - 1, total=inp)
    if pages > 1:
        shown = _("{title} (page {page}/{pages})").format(title=shown, page=page + 1, pages=pages)
    parts.append(shown)
    if groups > 1:
        parts.append(_("{kh}×{kw} kernels within its group").format(kh=kh, kw=kw))
    else:
        parts.append(_("{kh}×{kw} kernels").format(kh=kh, kw=kw))
    parts.append(_("blue < 0 < red, one scale ±{peak}").format(peak=fmt(peak)))
    if n_bad:
        parts.append(_("{n} NaN/Inf in the layer shown as 0").format(n=n_bad))
    layout = base_layout(
        " · ".join(parts),
        uirevision=f"channel:{out}x{inp}x{kh}x{kw}:{channel}:{page}",
        margin=dict(PLOT_MARGIN),
    )
    height, width = z_mosaic.shape
    xaxis = {"showgrid": False, "zeroline": False, "showticklabels": False, "ticks": ""}
    yaxis = {**xaxis, "range": [height - 0.5, -0.5], "scaleanchor": "x", "scaleratio": 1}
    layout.update(
        xaxis={**xaxis, "range": [-0.5, width - 0.5], "constrain": "domain"},
        yaxis={**yaxis, "constrain": "domain"},
        meta={
            "grid": "channel_kernels",
            "channel": channel,
            "page": page,
            "pages": pages,
            "first_input": first,
            "inputs": n,
            "in_channels": inp,
            "tile_rows": nrows,
            "tile_cols": ncols,
            "kh": kh,
            "kw": kw,
            "gap": gap,
        },
    )
    return go.Figure(data=[heatmap], layout=layout)


# ---------------------------------------------------------------- deep zoom


def _span(lo: float, hi: float, offset: float, total: int) -> tuple[int, int]:
    """[start, stop) of unit cells [k + offset, k + offset + 1] overlapping [lo, hi]."""
    lo, hi = sorted((lo, hi))
    return max(0, math.floor(lo - offset)), min(total, math.ceil(hi - offset))


def kernel_norm_window(
    weights: np.ndarray,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    *,
    groups: int = 1,
    max_cells: int = MAX_NORM_WINDOW_CELLS,
    overview_cells: int = MAX_NORM_CELLS,
    order: np.ndarray | None = None,
) -> dict | None:
    """The real weights of the kernels visible in a zoomed norm overview, for data[0].

    Args:
        weights: the (out, in_per_group, kh, kw) weights the overview was drawn from.
        x_range, y_range: plotly axis ranges in overview coordinates, either order.
        groups: the conv's groups (customdata names absolute input channels).
        max_cells: the window is refused above this many weights.
        overview_cells: the overview's max_cells (decides its geometry).
        order: the overview's display order: position j shows channel order[j], whose
            weights and number the window then holds; None = identity.

    Returns:
        None when the window holds more than max_cells weights or lies off the overview.
        Else {z: float32 raw weights (NaN past the last channel), customdata float32
        (rows, cols, 5) = [weight, absolute input channel, output channel, row, col]
        (padding: -1), x0, dx = 1/kw, y0, dy = 1/kh, zmin, zmax (± the layer's largest
        |weight|), colorscale, colorbar, hovertemplate}: kernel (j, i)'s weights fill its
        norm cell. The overview's own data[0] restores it.

    Raises:
        ValueError: ranges that are not finite numbers, bad weights, groups or order.
    """
    (x_lo, x_hi), (y_lo, y_hi) = finite_range(x_range, "x_range"), finite_range(y_range, "y_range")
    arr = checked_array(weights, "weights", 4, AXES)
    out, inp, kh, kw = arr.shape
    if int(groups) < 1 or out % int(groups):
        raise ValueError(f"groups must divide the {out} output channels, got {groups}.")
    order = checked_order(order, out)
    g = norm_geometry(arr.shape, overview_cells)
    c0, c1 = _span(x_lo, x_hi, -0.5, g.cols)
    # wrapped: row r occupies [r - 0.5, r + 0.5]; plain: input i does, whatever in_per_cell
    r0, r1 = _span(y_lo, y_hi, -0.5, g.rows if g.wrap_cols else inp)
    y_offset = r0 - 0.5
    if r1 <= r0 or c1 <= c0 or (r1 - r0) * kh * (c1 - c0) * kw > max_cells:
        return None
    col = np.arange(c0, c1)
    row = np.arange(r0, r1)
    if g.wrap_cols:
        outs = row[:, None] * g.wrap_cols + col[None, :]
        ins = np.zeros_like(outs)
    else:
        outs, ins = np.broadcast_arrays(col[None, :], row[:, None])
    real = outs < out
    outs = np.where(real, outs, 0)
    if order is not None:  # positions -> the true channels drawn there
        outs = order[outs]
    raw, n_bad = clean_float32(arr[outs, ins])  # (R, C, kh, kw)
    cells = np.empty((*outs.shape, kh, kw, 5), dtype=np.float32)
    cells[...] = PAD
    absolute = (outs // (out // int(groups))) * inp + ins
    cells[..., 0] = raw
    cells[..., 1] = absolute[:, :, None, None]
    cells[..., 2] = outs[:, :, None, None]
    cells[..., 3] = np.arange(kh)[:, None]
    cells[..., 4] = np.arange(kw)
    cells[~real] = PAD
    z = np.where(real[:, :, None, None], raw, np.nan).astype(np.float32)
    shape = ((r1 - r0) * kh, (c1 - c0) * kw)
    peak = float(np.abs(clean_float32(arr)[0]).max()) or 1.0
    note = _(NAN_NOTE) if n_bad else ""
    return {
        "z": z.transpose(0, 2, 1, 3).reshape(shape),
        "customdata": cells.transpose(0, 2, 1, 3, 4).reshape(*shape, 5),
        "x0": c0 - 0.5 + 0.5 / kw,
        "dx": 1 / kw,
        "y0": y_offset + 0.5 / kh,
        "dy": 1 / kh,
        "zmin": -peak,
        "zmax": peak,
        "colorscale": DIVERGING,
        "colorbar": {"title": {"text": _("weight"), "side": "right"}, "thickness": 12, "xpad": 4},
        "hovertemplate": _cell_hover(groups, kh, kw) + note + "<extra></extra>",
    }
