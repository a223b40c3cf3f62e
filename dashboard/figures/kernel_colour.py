"""Kernel weights -> colour index: which weights share a scale, its colour bar and its words.

DIVERGING: index = round(127.5 + 127.5 * w / peak), peak = the largest |w| sharing the scale
(a kernel, an output channel or the layer), so 0 is white and the sign reads at a glance.
TUTORIAL: index = round(255 * (w - lo) / (hi - lo)) on a black -> white scale, as the source
tutorial draws kernels. A one-value kernel (1×1) carries no contrast of its own, so 1×1
layers always use the layer's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.figures.mosaic import range_uint8, symmetric_uint8
from dashboard.figures.style import DIVERGING, GRAYS
from dashboard.i18n import _
from dashboard.modes import KernelScale, Look

RAW_TICKS = 5  # colour bar labels: -peak, -peak/2, 0, peak/2, peak (or lo .. hi)


@dataclass(frozen=True)
class KernelColour:
    """Colour indices of one page's tiles, and how to explain them."""

    z: np.ndarray  # uint8, the shape of the tiles
    colorscale: list
    words: str  # the title's part on colour, in the request's language
    colorbar: dict | None  # raw weight units; None for a scale per kernel


def kernel_scale(scale: KernelScale | str, tile_cells: int) -> KernelScale:
    """The scale actually used: a one-value kernel (1×1) is always on the layer's scale."""
    return KernelScale.LAYER if tile_cells == 1 else KernelScale(scale)


def _number(value: float) -> str:
    return f"{value:.3g}".replace("-", "−")


def _bar(tickvals: list[float], values: list[float], title: str) -> dict:
    return {
        "tickmode": "array",
        "tickvals": tickvals,
        "ticktext": [_number(v) for v in values],
        "title": {"text": title, "side": "right"},
        "thickness": 10,
        "len": 0.8,
        "outlinewidth": 0,
        "tickfont": {"size": 10},
    }


def _reduce(tiles: np.ndarray, scale: KernelScale, layer: np.ndarray, op: str) -> np.ndarray:
    """max|w| ("peak"), "min" or "max" over what shares a scale; tiles are (in, n, kh, kw)."""
    source, axes = (layer, None) if scale == KernelScale.LAYER else (tiles, (2, 3))
    if scale == KernelScale.CHANNEL:
        axes = (0, 2, 3)
    source = np.abs(source) if op == "peak" else source
    reduced = (
        source.max(axis=axes, keepdims=True)
        if op != "min"
        else source.min(axis=axes, keepdims=True)
    )
    return reduced.reshape(1, 1, 1, 1) if axes is None else reduced


def kernel_colour(
    tiles: np.ndarray, layer: np.ndarray, scale: KernelScale | str, look: Look | str
) -> KernelColour:
    """Colour of one page's (in, n, kh, kw) tiles; `layer` is every finite weight of the layer.

    The layer's scale comes from the whole layer, so a weight has the same colour on
    every page.
    """
    scale, look = kernel_scale(scale, tiles.shape[2] * tiles.shape[3]), Look(look)
    one = tiles.shape[2] * tiles.shape[3] == 1
    if scale == KernelScale.TILE:
        where = _("colour per kernel")
    elif scale == KernelScale.CHANNEL:
        where = _("one scale per output channel")
    elif one:
        where = _("1×1 kernels on the layer's scale")
    else:
        where = _("one scale for the layer")
    if look == Look.TUTORIAL:
        lo, hi = _reduce(tiles, scale, layer, "min"), _reduce(tiles, scale, layer, "max")
        z, bar = range_uint8(tiles, lo, hi), None
        if scale == KernelScale.LAYER:
            low, high = float(lo.flat[0]), float(hi.flat[0])
            values = np.linspace(low, high, RAW_TICKS).tolist()
            ticks = np.linspace(0.0, 255.0, RAW_TICKS).tolist() if high > low else [0.0]
            bar = _bar(ticks, values[: len(ticks)], _("weight"))
        words = _("grey: black = min, white = max, {where}").format(where=where)
        return KernelColour(z, GRAYS, words, bar)
    peak = _reduce(tiles, scale, layer, "peak")
    z, bar = symmetric_uint8(tiles, peak), None
    ticks = np.linspace(0.0, 255.0, RAW_TICKS).tolist()
    if scale == KernelScale.LAYER:
        top = float(peak.flat[0])
        bar = _bar(ticks, np.linspace(-top, top, RAW_TICKS).tolist(), _("weight"))
    elif scale == KernelScale.CHANNEL:  # no one raw mapping: in units of each channel's peak
        bar = _bar(ticks, [-1.0, -0.5, 0.0, 0.5, 1.0], _("÷ channel's max |w|"))
        low, high = float(peak.min()), float(peak.max())
        where = _("{where} (max |w| {low}–{high})").format(
            where=where, low=_number(low), high=_number(high)
        )
    return KernelColour(z, DIVERGING, _("red > 0 > blue, {where}").format(where=where), bar)
