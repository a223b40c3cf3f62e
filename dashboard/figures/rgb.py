"""First-layer kernels as RGB tiles: the classic AlexNet conv1 picture."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.kernels import AXES
from dashboard.figures.mosaic import (
    checked_array,
    clean_float32,
    range_uint8,
    symmetric_uint8,
    tile_mosaic,
)
from dashboard.figures.overlay import grid_overlay
from dashboard.figures.style import FEATURE_SEPARATOR, NAN_NOTE, base_layout, mosaic_axes, nan_shown
from dashboard.figures.tiles import (
    MAX_RGB_CELLS,
    FeatureGeometry,
    checked_order,
    feature_outline,
    kernel_rgb_geometry,
    order_meta,
    position_of,
)
from dashboard.i18n import N_, _
from dashboard.modes import KernelScale, Look

RGB_HOVER = N_(
    "out %{customdata[3]}<br>kernel row %{customdata[4]}, col %{customdata[5]}<br>"
    "R %{customdata[0]:.4g} · G %{customdata[1]:.4g} · B %{customdata[2]:.4g}"
)


def _outline(
    geometry: FeatureGeometry, selected: int | None, order: np.ndarray | None
) -> list[dict]:
    """Outline of output channel `selected`'s tile; [] when it is not among those shown."""
    if order is None or selected is None or not 0 <= selected < len(order):
        return feature_outline(geometry, selected)
    return feature_outline(geometry, position_of(order, selected))


def kernel_rgb_grid(
    weights: np.ndarray,
    *,
    selected: int | None = None,
    max_cells: int = MAX_RGB_CELLS,
    layer: str | None = None,
    scale: KernelScale | str = KernelScale.TILE,
    look: Look | str = Look.DIVERGING,
    order: np.ndarray | None = None,
) -> go.Figure:
    """Each output channel's 3×kh×kw kernel as one RGB tile (the AlexNet first-layer view).

    DIVERGING: each channel 127.5 + 127.5 * w / peak (gray = 0), peak = max |w| of the
    tile (TILE, CHANNEL: a tile is one output channel) or of the layer (LAYER).
    TUTORIAL: 255 * (w - min) / (max - min) over the tile or the layer. Hover
    gives the raw R/G/B weights: customdata float32 (rows, cols, 6) = [R, G, B, output
    channel, kernel row, kernel col] (empty slots: channel -1). If the tiles exceed
    `max_cells`, only the first output channels are shown and the title says so.
    `order` (a permutation of range(out), None = identity) sorts the tiles: tile i shows
    output channel order[i] (so only the top-ranked fit when not all do); `selected` and
    the customdata are true channels, and the title says "sorted".
    layout.meta = {"grid": "kernel_rgb", **asdict(geometry), "out_channels": out}, plus
    "order" when sorted; a FeatureGeometry built from it places the tiles, as for
    feature_grid.

    Raises:
        TypeError: weights are not real numbers.
        ValueError: weights are not 4-D with 3 input channels, or empty, or `order` is
            not a permutation of the output channels.
    """
    arr = checked_array(weights, "weights", 4, AXES)
    out, inp, kh, kw = arr.shape
    if inp != 3:
        raise ValueError(f"An RGB kernel view needs 3 input channels; this layer has {inp}.")
    order = checked_order(order, out)
    geometry = kernel_rgb_geometry(arr.shape, max_cells)
    shown = geometry.channels
    channels = np.arange(shown) if order is None else order[:shown]  # the channel per tile
    finite, n_bad = clean_float32(arr)
    raw = finite[:shown] if order is None else finite[channels]
    layer_wide = KernelScale(scale) == KernelScale.LAYER
    source, axes = (finite, None) if layer_wide else (raw, (1, 2, 3))
    if Look(look) == Look.TUTORIAL:
        lo, hi = source.min(axis=axes, keepdims=True), source.max(axis=axes, keepdims=True)
        colour = range_uint8(raw, lo, hi)
        if layer_wide:
            words = _("black = min, white = max, one scale for the layer")
        else:
            words = _("black = min, white = max, colour per kernel")
    else:
        peak = np.abs(source).max(axis=axes, keepdims=True)
        colour = symmetric_uint8(raw, peak)
        if layer_wide:
            words = _("gray = 0, one scale for the layer")
        else:
            words = _("gray = 0, colour per kernel")
    rgb = colour.transpose(0, 2, 3, 1)

    cells = np.empty((shown, kh, kw, 6), dtype=np.float32)
    cells[..., :3] = raw.transpose(0, 2, 3, 1)
    cells[..., 3] = channels.astype(np.float32)[:, None, None]
    cells[..., 4] = np.arange(kh, dtype=np.float32)[:, None]
    cells[..., 5] = np.arange(kw, dtype=np.float32)
    nrows, ncols = geometry.nrows, geometry.ncols
    image = go.Image(
        z=tile_mosaic(rgb, nrows, ncols, fill=255),
        customdata=tile_mosaic(cells, nrows, ncols, fill=(0, 0, 0, -1, -1, -1)),
        colormodel="rgb",
        hovertemplate=_(RGB_HOVER) + (_(NAN_NOTE) if n_bad else "") + "<extra></extra>",
        name="RGB kernels",
    )
    overlay = grid_overlay(
        nrows, ncols, kh, kw, colour=FEATURE_SEPARATOR, last_row_tiles=shown - (nrows - 1) * ncols
    )
    parts = [layer] if layer else []
    if shown == out:
        if order is None:
            count = _("{n} RGB kernels {kh}×{kw}")
        else:
            count = _("{n} RGB kernels {kh}×{kw} (sorted)")
    elif order is None:
        count = _("first {n} of {total} RGB kernels {kh}×{kw}")
    else:
        count = _("top {n} of {total} RGB kernels {kh}×{kw} (sorted)")
    parts.append(count.format(n=shown, total=out, kh=kh, kw=kw))
    parts.append(words)
    if n_bad:
        parts.append(nan_shown(n_bad))
    layout = base_layout(" · ".join(parts), uirevision=f"rgb:{out}x{kh}x{kw}")
    xaxis, yaxis = mosaic_axes(nrows * kh, ncols * kw)
    layout.update(
        xaxis=xaxis,
        yaxis=yaxis,
        shapes=_outline(geometry, selected, order),
        meta={"grid": "kernel_rgb", **asdict(geometry), "out_channels": out} | order_meta(order),
    )
    return go.Figure(data=[image, *overlay], layout=layout)
