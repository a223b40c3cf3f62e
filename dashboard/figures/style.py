"""Lean, explicit styling shared by every figure (no plotly template: saves ~8 KB each)."""

from __future__ import annotations

import plotly.colors as pcolors

from dashboard.i18n import N_, _

FONT = "Inter, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
TEXT = "#222"
MUTED = "#777"
BACKGROUND = "white"
HALO = "white"
HIGHLIGHT = "#111"
FEATURE_SEPARATOR = "white"
KERNEL_SEPARATOR = "rgba(70, 70, 70, 0.55)"
MODEBAR_PX = 32  # right margin of the detail figure, whose input image reaches its edge
# the last hover line of a layer with NaN/Inf (translate where used: _(NAN_NOTE))
NAN_NOTE = N_("<br>(NaN/Inf in this layer shown as 0)")
# hover of an RGB picture (the input image, a feature visualisation)
RGB_HOVER = N_("row %{y}, col %{x}<br>RGB %{z}<extra></extra>")


def _stops(colours: list[str]) -> list[list[object]]:
    last = len(colours) - 1
    return [[i / last, c] for i, c in enumerate(colours)]


VIRIDIS = _stops(pcolors.sequential.Viridis)
# Python's RdBu runs red -> blue; reversed so negative = blue, zero = white, positive = red.
DIVERGING = _stops(pcolors.diverging.RdBu[::-1])
GRAYS = [[0.0, "black"], [1.0, "white"]]


def fmt(value: float) -> str:
    """Raw number for titles, 4 significant digits (never 'nan'/'inf': inputs are finite)."""
    return f"{value:.4g}"


def nan_shown(n_bad: int) -> str:
    """Title part for a figure whose arrays held NaN/Inf, in the request's language."""
    return _("{n} NaN/Inf shown as 0").format(n=n_bad)


def base_layout(title: str, *, uirevision: str, margin: dict | None = None) -> dict:
    """Layout shared by all ConvScope figures: no template, small margins, click events."""
    return {
        "template": "none",
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 13}},
        "font": {"family": FONT, "size": 12, "color": TEXT},
        "paper_bgcolor": BACKGROUND,
        "plot_bgcolor": BACKGROUND,
        "margin": margin or {"l": 8, "r": 8, "t": 36, "b": 8},
        "hovermode": "closest",
        # near-black on white: 17:1 contrast (plotly's default grey text was ~2.8:1)
        "hoverlabel": {
            "bgcolor": "white",
            "bordercolor": "#333",
            "font": {"family": FONT, "color": "#111", "size": 13},
        },
        "clickmode": "event",
        "dragmode": "zoom",
        # the page's CSS lifts the modebar into a strip above the plot: it never covers data
        "modebar": {"orientation": "h"},
        "showlegend": False,
        "uirevision": uirevision,
    }


def image_axes(height: float, width: float, **extra: object) -> tuple[dict, dict]:
    """(xaxis, yaxis) for a picture: row 0 on top, square cells, no grid or zero line."""
    common = {"showgrid": False, "zeroline": False, "showline": False, "constrain": "domain"}
    xaxis = {**common, "range": [-0.5, width - 0.5]}
    yaxis = {**common, "range": [height - 0.5, -0.5], "scaleanchor": "x", "scaleratio": 1}
    for axis in (xaxis, yaxis):
        axis.update(extra)
    return xaxis, yaxis


def mosaic_axes(height: int, width: int) -> tuple[dict, dict]:
    """Axes for a mosaic heatmap: like image_axes, without ticks."""
    return image_axes(height, width, showticklabels=False, ticks="")


def outline_rects(x0: float, x1: float, y0: float, y1: float) -> list[dict]:
    """A selection outline readable on any colour: a wide light halo under a dark core."""
    rect = {"type": "rect", "xref": "x", "yref": "y", "layer": "above"}
    rect.update(x0=x0, x1=x1, y0=y0, y1=y1, fillcolor="rgba(0,0,0,0)")
    return [
        {**rect, "line": {"color": HALO, "width": 6}},
        {**rect, "line": {"color": HIGHLIGHT, "width": 2.5}},
    ]
