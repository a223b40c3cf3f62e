"""One feature map large, beside the image the model saw."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.mosaic import (
    block_mean,
    checked_array,
    clean_float32,
    smallest_block_factor,
)
from dashboard.figures.style import (
    GRAYS,
    MODEBAR_PX,
    MUTED,
    RGB_HOVER,
    VIRIDIS,
    base_layout,
    fmt,
    image_axes,
    nan_shown,
)
from dashboard.i18n import N_, _

MAP_HOVER = N_("row %{y}, col %{x}<br>activation %{z:.4g}<extra></extra>")
BLOCK_HOVER = N_(
    "mean of {f}×{f} px centred at row %{{y}}, col %{{x}}<br>activation %{{z:.4g}}<extra></extra>"
)
GRAY_HOVER = N_("row %{y}, col %{x}<br>value %{z:.4g}<extra></extra>")
# A float32 map cell costs up to ~7 B of JSON (base64 plus plotly's "/" escapes).
MAX_DETAIL_CELLS = 131_072
TWO_PANELS = ([0.0, 0.43], 0.445, [0.57, 1.0])  # map domain, colour bar x, image domain
ONE_PANEL = ([0.0, 0.86], 0.875, None)


def _factor(h: int, w: int, max_side: int, max_cells: int) -> int:
    by_side = math.ceil(max(h, w) / max(int(max_side), 1))
    return max(1, by_side, smallest_block_factor(h, w, max_cells))


def _placement(f: int) -> dict:
    """Cells of a factor-f block sit over the original pixels they average."""
    return {"x0": (f - 1) / 2, "dx": f, "y0": (f - 1) / 2, "dy": f}


def _stats(values: np.ndarray, original: np.ndarray, n_bad: int) -> tuple[float, float, float]:
    """min, max, mean over the finite entries (0, 0, 0 when there are none)."""
    finite = values[np.isfinite(original)] if n_bad else values
    if finite.size == 0:
        return 0.0, 0.0, 0.0
    return float(finite.min()), float(finite.max()), float(finite.mean(dtype=np.float64))


def _image_trace(image: np.ndarray, max_side: int) -> tuple[go.Heatmap | go.Image, int, int, str]:
    """(trace on x2/y2, height, width, label) for an (H, W) gray or (H, W, 3|4) RGB image.

    label: the image's axis title, "input (H×W)" and how it is shown, translated.
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 3 and img.shape[2] in (3, 4):
        img = img[..., :3]
    elif img.ndim != 2:
        raise ValueError(f"image must be (H, W) gray or (H, W, 3) RGB, got shape {img.shape}.")
    img = checked_array(img, "image", img.ndim, "height, width[, 3]")
    h, w = img.shape[:2]
    f = _factor(h, w, max_side, max_side * max_side)
    values, n_bad = clean_float32(img)
    if f > 1:
        note = _("input ({h}×{w}, {f}×{f} block means)").format(h=h, w=w, f=f)
    else:
        note = _("input ({h}×{w})").format(h=h, w=w)
    if n_bad:
        note = _("{text}, {n} NaN/Inf shown as 0").format(text=note, n=n_bad)
    common = {"xaxis": "x2", "yaxis": "y2", "name": "input", **_placement(f)}
    if img.ndim == 2:
        gray = block_mean(values, f).astype(np.float32)
        trace = go.Heatmap(z=gray, colorscale=GRAYS, showscale=False, hovertemplate=_(GRAY_HOVER))
        return trace.update(common), h, w, note
    if img.dtype != np.uint8 or f > 1:
        rgb = values.astype(np.float64)
        if img.dtype.kind == "f" and rgb.max(initial=0.0) <= 1.0:
            rgb *= 255.0  # float images in [0, 1]
        rgb = block_mean(rgb.transpose(2, 0, 1), f).transpose(1, 2, 0)
        img = np.rint(np.clip(rgb, 0, 255)).astype(np.uint8)
    image = go.Image(z=img, colormodel="rgb", hovertemplate=_(RGB_HOVER), **common)
    return image, h, w, note


def feature_detail(
    fmap: np.ndarray,
    *,
    channel: int,
    layer: str,
    image: np.ndarray | None = None,
    max_side: int = 512,
    image_max_side: int = 256,
    max_cells: int = MAX_DETAIL_CELLS,
    heading: str | None = None,
) -> go.Figure:
    """The selected feature map large, in raw units, next to the model's input image.

    Args:
        fmap: (H, W) map of `channel`, or the whole (C, H, W) layer (then fmap[channel]).
        channel: channel number, for the title (and selection when fmap is 3-D).
        layer: layer name for the title.
        image: (H, W) float gray or (H, W, 3) uint8 RGB input as the model saw it.
        max_side: longer map sides are block-averaged down to at most this (and said so).
        max_cells: the map is also block-averaged until it has at most this many cells.
        image_max_side: the same for the image (keeps the JSON under ~2 MB).
        heading: words put first in the title (e.g. which image this is), translated.

    Raises:
        TypeError: non-numeric arrays.
        ValueError: wrong shapes, empty arrays or a channel out of range.
    """
    arr = np.asarray(fmap)
    if arr.ndim == 3:
        if not 0 <= channel < arr.shape[0]:
            raise ValueError(f"channel {channel} is out of range for {arr.shape[0]} channels.")
        arr = arr[channel]
    arr = checked_array(arr, "fmap", 2, "height, width")
    h, w = arr.shape
    raw, n_bad = clean_float32(arr)
    lo, hi, mean = _stats(raw, arr, n_bad)
    f = _factor(h, w, max_side, max_cells)
    shown = block_mean(raw, f).astype(np.float32, copy=False)

    parts = [
        layer,
        _("channel {channel}").format(channel=channel),
        _("min {min} max {max} mean {mean}").format(min=fmt(lo), max=fmt(hi), mean=fmt(mean)),
    ]
    if heading:
        parts.insert(0, heading)
    if n_bad == arr.size:
        parts.append(_("no finite values"))
    elif h * w == 1:
        parts.append(_("1×1 map"))  # one value: constant by nature, says nothing of the filter
    elif hi == lo:
        parts.append(_("constant map (dead filter?)"))
    if f > 1:
        parts.append(_("{h}×{w} shown as {f}×{f} block means").format(h=h, w=w, f=f))
    if n_bad:
        parts.append(nan_shown(n_bad))
    map_domain, bar_x, image_domain = ONE_PANEL if image is None else TWO_PANELS
    pad = max(1.0, abs(lo) * 1e-3) if hi == lo else 0.0  # a constant map still gets a bar
    zlo, zhi = lo - pad, hi + pad
    heatmap = go.Heatmap(
        z=shown,
        # Python floats: near the float32 limit, hi + pad would overflow as a float32
        zmin=min(zlo, float(shown.min())),
        zmax=max(zhi, float(shown.max())),
        colorscale=VIRIDIS,
        colorbar={
            "x": bar_x,
            "xanchor": "left",
            "thickness": 12,
            "len": 0.8,
            "title": {"text": _("activation")},
        },
        hovertemplate=_(MAP_HOVER) if f == 1 else _(BLOCK_HOVER).format(f=f),
        name="feature map",
        **_placement(f),
    )
    traces: list[go.Heatmap | go.Image] = [heatmap]
    small = {"tickfont": {"size": 10, "color": MUTED}, "ticks": ""}
    xaxis, yaxis = image_axes(h, w, **small)
    map_title = _("feature map ({h}×{w})").format(h=h, w=w)
    xaxis.update(domain=map_domain, title={"text": map_title, "standoff": 4})
    layout = base_layout(
        " · ".join(parts),
        uirevision=f"detail:{layer}:{h}x{w}",
        margin={"l": 36, "r": MODEBAR_PX, "t": 36, "b": 40},  # the image reaches the right edge
    )
    layout.update(xaxis=xaxis, yaxis=yaxis)
    if image is not None:
        trace, ih, iw, note = _image_trace(image, image_max_side)
        traces.append(trace)
        xaxis2, yaxis2 = image_axes(ih, iw, **small)
        xaxis2.update(domain=image_domain, anchor="y2", title={"text": note})
        yaxis2.update(anchor="x2", scaleanchor="x2")
        layout.update(xaxis2=xaxis2, yaxis2=yaxis2)
    return go.Figure(data=traces, layout=layout)
