"""A layer's activation statistics: the histogram of all its values, and one bar per channel.

Both figures stay light for 2048 channels: every per-channel array is a numpy typed array
(float32 values, uint8 dead flags coloured through a two-step colour scale).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.mosaic import checked_array
from dashboard.figures.style import MUTED, base_layout
from dashboard.i18n import N_, _

STAT_KEYS = ("channel", "mean", "maximum", "std", "zeros")  # "channel": bars show the mean
STAT_TITLES = {
    "channel": N_("mean activation"),
    "mean": N_("mean activation"),
    "maximum": N_("maximum activation"),
    "std": N_("std of the activation"),
    "zeros": N_("share of zeros"),
}
SORTED_BY = {  # the bar chart's title part
    "channel": N_("sorted by channel number"),
    "mean": N_("sorted by mean"),
    "maximum": N_("sorted by maximum"),
    "std": N_("sorted by std"),
    "zeros": N_("sorted by zeros"),
}
SORTED_AXIS = {  # and its x axis title
    "channel": N_("channels, sorted by channel number"),
    "mean": N_("channels, sorted by mean"),
    "maximum": N_("channels, sorted by maximum"),
    "std": N_("channels, sorted by std"),
    "zeros": N_("channels, sorted by zeros"),
}
STAT_COLUMN = {"channel": 0, "mean": 0, "maximum": 1, "std": 2, "zeros": 3}
BAR, DEAD = "#5b7fa6", "#e0483e"
MAX_TICK_LABELS = 64  # more channels: no tick labels, the axis title says the order
HISTOGRAM_HOVER = N_(
    "from %{customdata[0]:.4g} to %{customdata[1]:.4g}<br>%{y:,.0f} values<extra></extra>"
)
CHANNEL_HOVER = N_(
    "channel %{customdata[0]}<br>mean %{customdata[1]:.4g}<br>max %{customdata[2]:.4g}"
    "<br>std %{customdata[3]:.4g}<br>zeros %{customdata[4]:.0%}<extra></extra>"
)


def activation_histogram(
    edges: np.ndarray,
    total: np.ndarray,
    *,
    layer: str,
    source: str,
    selected: tuple[int, int] | None = None,
) -> go.Figure:
    """Counts per bin as bars on a log axis; dragging horizontally selects a value range.

    Bar i spans [edges[i], edges[i+1]] (the page maps selectedData's pointIndex back to
    bins). `selected` = (first_bin, last_bin), inclusive, keeps those bars strong and dims
    the rest. Empty bins are allowed: on the log axis they are simply not drawn.

    Raises:
        TypeError: non-numeric arrays.
        ValueError: edges not finite and strictly increasing, counts not B = len(edges) - 1
            non-negative numbers, or a selection outside the bins.
    """
    edges = checked_array(edges, "edges", 1, "bins + 1").astype(np.float64)
    counts = checked_array(total, "total", 1, "bins").astype(np.float64)
    bins = edges.size - 1
    if bins < 1 or not np.isfinite(edges).all() or (np.diff(edges) <= 0).any():
        raise ValueError("edges must be at least 2 finite, strictly increasing numbers.")
    if counts.size != bins or not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError(
            f"total must be {bins} non-negative counts (one per bin), got {counts.size} values."
        )
    chosen = None
    if selected is not None:
        first, last = (int(b) for b in selected)
        if not 0 <= first <= last < bins:
            raise ValueError(f"selected bins {selected} must satisfy 0 <= first <= last < {bins}.")
        chosen = list(range(first, last + 1))
    bars = go.Bar(
        x=(edges[:-1] + edges[1:]) / 2,
        y=counts,
        width=np.diff(edges),
        customdata=np.stack([edges[:-1], edges[1:]], axis=1),
        marker={"color": BAR, "line": {"width": 0}},
        selectedpoints=chosen,
        selected={"marker": {"opacity": 1.0}},
        unselected={"marker": {"opacity": 0.3}},
        hovertemplate=_(HISTOGRAM_HOVER),
        name="activations",
    )
    layout = base_layout(
        _("{layer}: all its activations · drag across values").format(layer=layer),
        uirevision=f"histogram:{layer}:{source}",
        margin={"l": 56, "r": 8, "t": 36, "b": 40},
    )
    layout.update(
        xaxis={"title": {"text": _("activation (raw)"), "standoff": 4}, "zeroline": False},
        yaxis={"title": {"text": _("values (log)")}, "type": "log", "gridcolor": "#eee"},
        dragmode="select",
        selectdirection="h",
        bargap=0,
    )
    return go.Figure(data=[bars], layout=layout)


def channel_stats_figure(
    mean: np.ndarray,
    maximum: np.ndarray,
    std: np.ndarray,
    zeros: np.ndarray,
    dead: np.ndarray,
    *,
    key: str,
    order: np.ndarray,
    layer: str,
    source: str,
) -> go.Figure:
    """One bar per channel in display `order`, height the statistic `key`, dead ones red.

    Args:
        mean, maximum, std: (C,) raw per-channel statistics.
        zeros: (C,) share of each channel's values that are exactly 0, in [0, 1].
        dead: (C,) bool, channels dead on this image (named in the title, drawn red).
        key: one of STAT_KEYS; "channel" (channel order) shows the mean.
        order: display order, a permutation of range(C).
        layer, source: for the title.

    Returns:
        A figure whose customdata column 0 is each bar's channel number (for clicks).

    Raises:
        TypeError: non-numeric arrays.
        ValueError: unknown key, arrays of different lengths, or order not a permutation.
    """
    if key not in STAT_KEYS:
        raise ValueError(f"key must be one of {', '.join(STAT_KEYS)}; got {key!r}.")
    stats = [
        checked_array(a, name, 1, "channels").astype(np.float32)
        for a, name in ((mean, "mean"), (maximum, "maximum"), (std, "std"), (zeros, "zeros"))
    ]
    flags = checked_array(dead, "dead", 1, "channels")
    c = stats[0].size
    if any(s.size != c for s in stats) or flags.size != c:
        raise ValueError("mean, maximum, std, zeros and dead must all have one value per channel.")
    perm = checked_array(order, "order", 1, "channels")
    if perm.dtype.kind not in "iu" or not np.array_equal(np.sort(perm), np.arange(c)):
        raise ValueError(f"order must be a permutation of range({c}).")
    perm = perm.astype(np.int64)

    columns = [perm.astype(np.float32)] + [s[perm] for s in stats]
    shown = stats[STAT_COLUMN[key]]
    bars = go.Bar(
        x=perm.astype(np.int16 if c <= 32_768 else np.int32),  # category labels
        y=np.ascontiguousarray(shown[perm]),
        customdata=np.ascontiguousarray(np.stack(columns, axis=1)),
        marker={
            "color": flags[perm].astype(bool).astype(np.uint8),
            "colorscale": [[0.0, BAR], [0.5, BAR], [0.5, DEAD], [1.0, DEAD]],
            "cmin": 0,
            "cmax": 1,
            "line": {"width": 0},
        },
        hovertemplate=_(CHANNEL_HOVER),
        name="channels",
    )
    dead = int(flags.astype(bool).sum())
    dead_text = _("{n} dead").format(n=dead) if dead else _("no dead")
    layout = base_layout(
        " · ".join([layer, _(SORTED_BY[key]), dead_text]),
        uirevision=f"channel-stats:{layer}:{source}",
        margin={"l": 56, "r": 8, "t": 36, "b": 40},
    )
    xaxis = {
        "type": "category",
        "title": {"text": _(SORTED_AXIS[key]), "standoff": 4},
        "tickfont": {"size": 9, "color": MUTED},
    }
    if c > MAX_TICK_LABELS:
        xaxis.update(showticklabels=False, ticks="")
    yaxis = {"title": {"text": _(STAT_TITLES[key])}, "gridcolor": "#eee", "zerolinecolor": "#999"}
    if key == "zeros":
        yaxis["tickformat"] = ".0%"
    layout.update(xaxis=xaxis, yaxis=yaxis, bargap=0.15 if c <= 256 else 0.0)
    return go.Figure(data=[bars], layout=layout)
