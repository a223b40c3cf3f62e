"""Feature-map overview: every channel of one layer as a tile of a single heatmap.

Colours are fixed by the FULL-RESOLUTION values: min-max per tile (or shared) over the raw
map, applied to the overview's block means too. A block mean lies between its pixels, so
the overview is a faithful blur of the full-resolution colours, and a zoom window
(figures.zoom.feature_window) drawn with the same limits does not change colour.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.cells import cell_spec
from dashboard.figures.mosaic import (
    block_mean,
    checked_array,
    clean_float32,
    tile_mosaic,
)
from dashboard.figures.overlay import grid_overlay
from dashboard.figures.style import (
    FEATURE_SEPARATOR,
    NAN_NOTE,
    VIRIDIS,
    base_layout,
    fmt,
    mosaic_axes,
    nan_shown,
)
from dashboard.figures.tiles import (
    MAX_GRID_CELLS,
    FeatureGeometry,
    checked_order,
    feature_geometry,
    feature_outline,
    order_meta,
)
from dashboard.i18n import _, ngettext
from dashboard.modes import ScaleMode

logger = logging.getLogger(__name__)


def colour_scale(shape: tuple[int, ...], scale: ScaleMode) -> ScaleMode:
    """The scale actually drawn: 1-pixel maps are one value each, so per tile they would all
    be one colour; they fall back to the layer's shared min-max."""
    return ScaleMode.SHARED if shape[-1] * shape[-2] == 1 else scale


def colour_limits(raw: np.ndarray, scale: ScaleMode) -> tuple[np.ndarray, np.ndarray]:
    """(lo, 255 / (hi - lo)) of shape (C, 1, 1), float64, over the full-resolution maps.

    Per tile, or one pair for all tiles when `scale` (after colour_scale) is SHARED; a
    constant tile (hi == lo) gets a factor of 0, so it maps to colour 0.
    """
    if colour_scale(raw.shape, scale) == ScaleMode.SHARED:
        lo = np.full((raw.shape[0], 1, 1), raw.min(), dtype=np.float64)
        hi = np.full_like(lo, raw.max())
    else:
        lo = raw.min(axis=(1, 2), keepdims=True).astype(np.float64)
        hi = raw.max(axis=(1, 2), keepdims=True).astype(np.float64)
    span = hi - lo
    return lo, np.divide(255.0, span, out=np.zeros_like(span), where=span > 0)


def colour_index(values: np.ndarray, lo: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """uint8 colour of `values` given colour_limits (broadcast against them)."""
    scaled = (values.astype(np.float64, copy=False) - lo) * factor
    return np.rint(np.clip(scaled, 0.0, 255.0)).astype(np.uint8)


def cell_hovertemplate(factor: int, partial_edges: bool, n_bad: int) -> str:
    """The hover of a feature mosaic's cells (customdata as figures/cells.py derives it)."""
    if factor == 1:
        text = _(
            "channel %{customdata[1]}<br>row %{customdata[2]}, col %{customdata[3]}"
            "<br>activation %{customdata[0]:.4g}"
        )
    else:
        size = f"{'≤' if partial_edges else ''}{factor}×{factor}"
        text = _(
            "channel %{{customdata[1]}}<br>mean of {size} from row %{{customdata[2]}}, "
            "col %{{customdata[3]}}<br>activation %{{customdata[0]:.4g}}"
        ).format(size=size)
    note = _(NAN_NOTE) if n_bad else ""
    return f"{text}{note}<extra></extra>"


def _title(
    layer: str | None,
    shape: tuple[int, ...],
    g: FeatureGeometry,
    scale: ScaleMode,
    n_bad: int,
    sorted_: bool,
) -> str:
    c, h, w = shape
    parts = [layer] if layer else []
    if sorted_:
        maps = ngettext("{n} feature map {h}×{w} (sorted)", "{n} feature maps {h}×{w} (sorted)", c)
    else:
        maps = ngettext("{n} feature map {h}×{w}", "{n} feature maps {h}×{w}", c)
    parts.append(maps.format(n=c, h=h, w=w))
    if colour_scale(shape, scale) != scale:
        parts.append(_("1×1 maps: one colour scale for all tiles"))
    elif scale == ScaleMode.TILE:
        parts.append(_("colour min–max per tile"))
    else:
        parts.append(_("one colour scale for all tiles"))
    if g.factor > 1:
        parts.append(_("overview of {f}×{f} block means").format(f=g.factor))
    if n_bad:
        parts.append(nan_shown(n_bad))
    return " · ".join(parts)


def feature_grid(
    maps: np.ndarray,
    *,
    scale: ScaleMode | str = ScaleMode.TILE,
    max_cells: int = MAX_GRID_CELLS,
    selected: int | None = None,
    layer: str | None = None,
    order: np.ndarray | None = None,
) -> go.Figure:
    """All channels of one layer's activations as one heatmap mosaic.

    Args:
        maps: (C, H, W) raw activations, any real dtype; NaN/Inf are shown as 0.
        scale: a ScaleMode or its value: TILE (min-max per tile) or SHARED (one min-max
            for all tiles, so dead or saturated filters stand out; adds a colour bar in
            raw units). Min and max are those of the full-resolution maps, also when the
            overview shows block means. 1×1 maps always use SHARED (and the title says so).
        max_cells: cell budget of the mosaic (e.g. zoom.overview_cells of the graph's size);
            maps are block-averaged only when they do not fit it.
        selected: channel to outline, or None.
        layer: optional layer name for the title.
        order: display order, a permutation of range(C): tile i (row-major) shows channel
            order[i]; None (or the identity) draws channel i there. Hover, clicks and the
            outline name true channels; meta.cells and layout.meta then carry "order".

    Returns:
        Figure with data[0] = the mosaic heatmap (z uint8 colour, customdata float32
        (rows, cols) raw values (block means; 0 in empty slots) and meta.cells, from which
        the browser derives [raw value, channel, row, col] in original map coordinates
        (figures/cells.py; empty slots get channel -1); x0 = y0 = 0, dx = dy = 1 set
        explicitly, so this trace restores the overview after a zoom.feature_window
        replaced it), then a
        cover for the empty slots (only when the last row is short) and the separators;
        layout.meta = {"grid": "feature", **asdict(geometry)}, plus "order" (a list)
        when sorted.

    Raises:
        TypeError: maps are not real numbers.
        ValueError: maps are not 3-D or empty, `scale` is unknown, or `order` is not a
            permutation of the channels.
    """
    if scale not in tuple(ScaleMode):
        raise ValueError(f"scale must be one of {tuple(map(str, ScaleMode))}, got {scale!r}.")
    scale = ScaleMode(scale)
    arr = checked_array(maps, "maps", 3, "channels, height, width")
    order = checked_order(order, arr.shape[0])
    geometry = feature_geometry(arr.shape, max_cells)
    f = geometry.factor
    raw, n_bad = clean_float32(arr)
    blocks = block_mean(raw, f)
    lo, factor = colour_limits(raw, scale)
    if order is not None:  # tile i shows channel order[i], with that channel's colours
        blocks, lo, factor = blocks[order], lo[order], factor[order]
    colour = colour_index(blocks, lo, factor)

    c, th, tw = blocks.shape
    z = tile_mosaic(colour, geometry.nrows, geometry.ncols)
    values = tile_mosaic(blocks.astype(np.float32, copy=False), geometry.nrows, geometry.ncols)
    cells = cell_spec(
        origin=(0, 0),
        pitch=(th, tw),
        size=(th, tw),
        step=f,
        ncols=geometry.ncols,
        channels=c,
        order=order,
    )

    _channels, h, w = arr.shape
    heatmap = go.Heatmap(
        z=z,
        customdata=values,
        meta={"cells": cells},
        zmin=0,
        zmax=255,
        x0=0,
        dx=1,
        y0=0,
        dy=1,
        colorscale=VIRIDIS,
        showscale=colour_scale(arr.shape, scale) == ScaleMode.SHARED,
        hovertemplate=cell_hovertemplate(f, bool(h % f or w % f), n_bad),
        name="feature maps",
    )
    if heatmap.showscale:
        heatmap.colorbar = {
            "tickvals": [0, 255],
            "ticktext": [fmt(float(raw.min())), fmt(float(raw.max()))],
            "title": {"text": _("activation"), "side": "right"},
            "thickness": 12,
            "len": 0.6,
        }
    overlay = grid_overlay(
        geometry.nrows,
        geometry.ncols,
        th,
        tw,
        colour=FEATURE_SEPARATOR,
        last_row_tiles=c - (geometry.nrows - 1) * geometry.ncols,
    )
    xaxis, yaxis = mosaic_axes(*z.shape)
    layout = base_layout(
        _title(layer, arr.shape, geometry, scale, n_bad, order is not None),
        uirevision=f"feature:{c}x{h}x{w}:{f}",
    )
    layout.update(
        xaxis=xaxis,
        yaxis=yaxis,
        shapes=feature_outline(geometry, selected, order=order),
        meta={"grid": "feature", **asdict(geometry)} | order_meta(order),
    )
    if n_bad:
        logger.info("feature_grid: %d non-finite activations shown as 0", n_bad)
    return go.Figure(data=[heatmap, *overlay], layout=layout)
