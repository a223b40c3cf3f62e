"""One feature map laid over the input image, stretched to cover it exactly.

The map is never upsampled: the heatmap's x0/dx/y0/dy place map cell (i, j) over image
pixels [j*W/w - 0.5, (j+1)*W/w - 0.5) horizontally (likewise rows), image pixel centres
being integers. The cells stay sharp (no zsmooth): what a cell shows is the value its
hover reads, and its edges are where the stride puts them.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.detail import _factor, _image_trace, _stats
from dashboard.figures.mosaic import block_mean, checked_array, clean_float32
from dashboard.figures.style import MUTED, VIRIDIS, base_layout, image_axes
from dashboard.i18n import N_, _

# z (float32) and customdata (row, col as uint8/uint16) cost up to ~8 B of JSON per cell
MAX_OVERLAY_CELLS = 16_384
MAP_HOVER = N_(
    "map row %{customdata[0]}, col %{customdata[1]}<br>activation %{z:.4g}<extra></extra>"
)
BLOCK_HOVER = N_(
    "mean of {f}×{f} map cells from row %{{customdata[0]}}, col %{{customdata[1]}}"
    "<br>activation %{{z:.4g}}<extra></extra>"
)


def _positions(bh: int, bw: int, f: int, limit: int) -> np.ndarray:
    """(bh, bw, 2) map row and column of each shown cell (its block's first cell)."""
    dtype = np.uint8 if limit <= 256 else np.uint16 if limit <= 65_536 else np.uint32
    out = np.empty((bh, bw, 2), dtype=dtype)
    out[..., 0] = (np.arange(bh) * f)[:, None]
    out[..., 1] = (np.arange(bw) * f)[None, :]
    return out


def overlay_figure(
    fmap: np.ndarray,
    image: np.ndarray,
    *,
    channel: int,
    layer: str,
    opacity: float = 0.6,
    image_max_side: int = 256,
    max_cells: int = MAX_OVERLAY_CELLS,
) -> go.Figure:
    """The input image (data[0]) with one raw feature map (data[1]) over it.

    data[1].opacity is the page's handle: a Patch of it changes the blend without a new
    figure.

    Args:
        fmap: (h, w) raw feature map of `channel`.
        image: (H, W, 3) uint8 RGB or (H, W) float gray input, as the model saw it.
        channel, layer: for the title.
        opacity: of the map, in [0, 1].
        image_max_side: longer image sides are block-averaged down to at most this.
        max_cells: the map is block-averaged until it has at most this many cells.

    Raises:
        TypeError: non-numeric arrays.
        ValueError: wrong shapes, empty arrays, or an opacity outside [0, 1].
    """
    if not (isinstance(opacity, Real) and 0.0 <= float(opacity) <= 1.0):
        raise ValueError(f"opacity must be a number in [0, 1], got {opacity!r}.")
    arr = checked_array(fmap, "fmap", 2, "height, width")
    h, w = arr.shape
    picture, H, W, note = _image_trace(image, image_max_side)
    picture.update(xaxis="x", yaxis="y")

    raw, n_bad = clean_float32(arr)
    lo, hi, _mean = _stats(raw, arr, n_bad)
    f = _factor(h, w, max(h, w), max_cells)
    shown = block_mean(raw, f).astype(np.float32, copy=False)
    sx, sy = f * W / w, f * H / h  # image pixels per shown cell
    pad = max(1.0, abs(lo) * 1e-3) if hi == lo else 0.0  # a constant map still gets a bar
    heatmap = go.Heatmap(
        z=shown,
        customdata=_positions(*shown.shape, f, max(h, w)),
        x0=(sx - 1) / 2,
        dx=sx,
        y0=(sy - 1) / 2,
        dy=sy,
        zmin=min(lo - pad, float(shown.min())),
        zmax=max(hi + pad, float(shown.max())),
        zsmooth=False,
        colorscale=VIRIDIS,
        colorbar={"thickness": 12, "len": 0.8, "title": {"text": _("activation")}},
        opacity=float(opacity),
        hovertemplate=_(MAP_HOVER) if f == 1 else _(BLOCK_HOVER).format(f=f),
        name="feature map",
    )

    map_note = _("map {h}×{w}, a cell = {cell_h}×{cell_w} px").format(
        h=h, w=w, cell_h=_px(H / h), cell_w=_px(W / w)
    )
    if f > 1:
        map_note = _("{text}, shown as {f}×{f} block means").format(text=map_note, f=f)
    if n_bad:
        map_note = _("{text}, {n} NaN/Inf shown as 0").format(text=map_note, n=n_bad)
    xaxis, yaxis = image_axes(H, W, tickfont={"size": 10, "color": MUTED}, ticks="")
    xaxis.update(title={"text": f"{note} · {map_note}", "standoff": 4})
    layout = base_layout(
        _("{layer} · channel {channel} over the input (opacity adjustable)").format(
            layer=layer, channel=channel
        ),
        uirevision=f"overlay:{layer}:{H}x{W}",
        margin={"l": 36, "r": 8, "t": 36, "b": 40},
    )
    layout.update(xaxis=xaxis, yaxis=yaxis)
    return go.Figure(data=[picture, heatmap], layout=layout)


def _px(size: float) -> str:
    return str(int(size)) if math.isclose(size, round(size)) else f"{size:.3g}"
