"""Why a unit has its value: its per-input-channel terms, and where its field lies.

A conv unit's pre-activation value is ``terms.sum() + bias``, one term per input channel of
its group (``terms[i] == (kernel[i] * patch[i]).sum()``). The explanation figure draws the
terms as ranked bars (left) and, for the few largest, what the kernel saw, the kernel, and
their product (right). Every number on the wire is raw float64: the arrays are tiny.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.mosaic import checked_array
from dashboard.figures.style import DIVERGING, MUTED, VIRIDIS, base_layout, fmt, image_axes
from dashboard.i18n import N_, _, ngettext

# RdBu shades, as the diverging scale: positive = red, negative = blue; darker for the total
POSITIVE, NEGATIVE = "#d6604d", "#4393c3"
TOTAL_POSITIVE, TOTAL_NEGATIVE = "#b2182b", "#2166ac"
BAR_HOVER = "%{hovertext}<br>%{x:.6g}<extra></extra>"
# (title, what, colour axis, hover) of the three heatmap columns; hover takes {channel}
COLUMNS = (
    (
        N_("input patch"),
        "patch",
        "coloraxis",
        N_("row %{{y}}, col %{{x}}<br>patch %{{z:.4g}}<extra>in {channel}</extra>"),
    ),
    (
        N_("kernel"),
        "weight",
        "coloraxis2",
        N_("row %{{y}}, col %{{x}}<br>weight %{{z:.4g}}<extra>in {channel}</extra>"),
    ),
    (
        N_("patch × kernel"),
        "product",
        "coloraxis3",
        N_("row %{{y}}, col %{{x}}<br>product %{{z:.4g}}<extra>in {channel}</extra>"),
    ),
)
BARS_RIGHT, GRID_LEFT, GRID_TOP, GRID_BOTTOM = 0.48, 0.64, 0.9, 0.17
COLUMN_GAP, ROW_GAP = 0.025, 0.05


def _checked_inputs(terms, input_channels, patch, kernel) -> tuple[np.ndarray, ...]:
    terms = checked_array(terms, "terms", 1, "input channels").astype(np.float64)
    n = terms.size
    channels = checked_array(input_channels, "input_channels", 1, "input channels")
    if channels.dtype.kind not in "iu" or channels.shape != (n,):
        raise ValueError(
            f"input_channels must be {n} integers (one per term), "
            f"got dtype {channels.dtype} and shape {channels.shape}."
        )
    patch = checked_array(patch, "patch", 3, "input channels, kh, kw").astype(np.float64)
    kernel = checked_array(kernel, "kernel", 3, "input channels, kh, kw").astype(np.float64)
    if patch.shape != kernel.shape or patch.shape[0] != n:
        raise ValueError(
            f"patch {patch.shape} and kernel {kernel.shape} must both be (n, kh, kw) "
            f"with n = {n} terms."
        )
    return terms, channels, patch, kernel


def _bars(value: float, bias: float, terms, channels, order, max_bars: int) -> go.Bar:
    """Largest terms, the rest summed, the bias and the total, top to bottom."""
    shown = order[:max_bars]
    rest = order[max_bars:]
    xs = [*terms[shown].tolist()]
    labels = [_("in {channel}").format(channel=int(channels[i])) for i in shown]
    hovers = [_("input channel {channel}").format(channel=int(channels[i])) for i in shown]
    if rest.size:
        xs.append(float(terms[rest].sum()))
        others = ngettext("{n} other channel", "{n} other channels", int(rest.size))
        labels.append(others.format(n=rest.size))
        hovers.append(_("sum over {n} other input channels").format(n=rest.size))
    xs += [bias, value]
    labels += [_("bias"), _("total")]
    hovers += [_("bias"), _("total = the activation before the nonlinearity")]
    x = np.asarray(xs, dtype=np.float64)
    light = np.where(x >= 0, POSITIVE, NEGATIVE).tolist()
    light[-1] = TOTAL_POSITIVE if value >= 0 else TOTAL_NEGATIVE
    return go.Bar(
        x=x,
        y=labels,
        orientation="h",
        marker={"color": light},
        hovertext=hovers,
        hovertemplate=BAR_HOVER,
        name="terms",
    )


def _cell_axes(k: int, kh: int, kw: int, x_domain, y_domain) -> dict:
    frame = {"showline": True, "mirror": True, "linecolor": "#bbb", "linewidth": 1}
    xaxis, yaxis = image_axes(kh, kw, showticklabels=False, ticks="", **frame)
    xaxis.update(domain=x_domain, anchor=f"y{k}")
    yaxis.update(domain=y_domain, anchor=f"x{k}", scaleanchor=f"x{k}")
    return {f"xaxis{k}": xaxis, f"yaxis{k}": yaxis}


def _coloraxes(x_domains: list[list[float]]) -> dict:
    """One horizontal colour bar under each column; the kernel and product centred on 0."""
    axes = {}
    for (_title, what, name, _hover), domain, scale in zip(
        COLUMNS, x_domains, (VIRIDIS, DIVERGING, DIVERGING), strict=True
    ):
        bar = {
            "orientation": "h",
            "x": (domain[0] + domain[1]) / 2,
            "xanchor": "center",
            "y": GRID_BOTTOM - 0.05,
            "yanchor": "top",
            "len": domain[1] - domain[0],
            "thickness": 8,
            "tickfont": {"size": 9, "color": MUTED},
            "nticks": 4,
        }
        axes[name] = {"colorscale": scale, "colorbar": bar}
        if what != "patch":
            axes[name]["cmid"] = 0.0
    return axes


def top_rows(terms: np.ndarray, top: int) -> np.ndarray:
    """Indices of the ``top`` terms drawn in detail: largest |term| first, ties by channel."""
    return np.argsort(-np.abs(np.asarray(terms)), kind="stable")[: max(top, 0)]


def explanation_figure(
    *,
    value: float,
    bias: float,
    terms: np.ndarray,
    input_channels: np.ndarray,
    patch: np.ndarray,
    kernel: np.ndarray,
    channel: int,
    row: int,
    col: int,
    layer: str,
    top: int = 3,
    max_bars: int = 12,
) -> go.Figure:
    """One unit's value as ranked per-input-channel bars, and its top channels in detail.

    Args:
        value: the unit's pre-activation value, ``terms.sum() + bias``.
        bias: the output channel's bias (0 without one).
        terms: (n,) one term per input channel of the conv's group.
        input_channels: (n,) absolute input-channel number of each term.
        patch: (n, kh, kw) input under the kernel taps (0 where a tap hits the padding).
        kernel: (n, kh, kw) the output channel's weights.
        channel, row, col, layer: the unit, for the title and ``layout.meta``.
        top: channels shown as patch / kernel / product heatmaps (the largest |term|).
        max_bars: terms drawn as their own bar; the rest are summed into one bar.

    Raises:
        TypeError: non-numeric arrays.
        ValueError: inconsistent shapes, top or max_bars below 1, or a value that is not
            terms.sum() + bias to 1e-6 of sum(|terms|) + |bias| (e.g. a value after ReLU).
    """
    terms, channels, patch, kernel = _checked_inputs(terms, input_channels, patch, kernel)
    if top < 1 or max_bars < 1:
        raise ValueError(f"top and max_bars must be at least 1, got {top} and {max_bars}.")
    value, bias, total = float(value), float(bias), float(terms.sum())
    scale = float(np.abs(terms).sum()) + abs(bias)
    if not abs(total + bias - value) <= 1e-6 * scale + 1e-12:
        raise ValueError(
            f"value {value!r} is not terms.sum() + bias = {total + bias!r}: pass the "
            "pre-activation value of this unit."
        )
    n, kh, kw = patch.shape
    order = np.argsort(-np.abs(terms), kind="stable")  # ties: lower channel first
    rows = top_rows(terms, top)

    col_w = (1.0 - GRID_LEFT - 2 * COLUMN_GAP) / 3
    starts = [GRID_LEFT + j * (col_w + COLUMN_GAP) for j in range(3)]
    x_domains = [[x, x + col_w] for x in starts]
    row_h = (GRID_TOP - GRID_BOTTOM - (len(rows) - 1) * ROW_GAP) / len(rows)
    traces: list[go.BaseTraceType] = [_bars(value, bias, terms, channels, order, max_bars)]
    axes: dict = {}
    notes = [
        {"text": _(title), "x": (d[0] + d[1]) / 2, "y": GRID_TOP + 0.02, "yanchor": "bottom"}
        for (title, *_rest), d in zip(COLUMNS, x_domains, strict=True)
    ]
    for r, i in enumerate(rows):
        y_top = GRID_TOP - r * (row_h + ROW_GAP)
        y_domain = [y_top - row_h, y_top]
        ch = int(channels[i])
        label = _("in {channel}: {term}").format(channel=ch, term=f"{terms[i]:+.4g}")
        notes.append({"text": label, "x": GRID_LEFT - 0.01, "xanchor": "right"})
        notes[-1]["y"] = y_top - row_h / 2
        for j, z in enumerate((patch[i], kernel[i], patch[i] * kernel[i])):
            k = 2 + 3 * r + j
            _title, what, coloraxis, hover = COLUMNS[j]
            traces.append(
                go.Heatmap(
                    z=np.ascontiguousarray(z),
                    coloraxis=coloraxis,
                    hovertemplate=_(hover).format(channel=ch),
                    name=f"in {ch} {what}",
                    xaxis=f"x{k}",
                    yaxis=f"y{k}",
                )
            )
            axes.update(_cell_axes(k, kh, kw, x_domains[j], y_domain))

    title = ngettext(
        "{layer} · channel {channel} at row {row}, col {col}: "
        "{value} = Σ {n} input-channel term + bias",
        "{layer} · channel {channel} at row {row}, col {col}: "
        "{value} = Σ {n} input-channel terms + bias",
        n,
    ).format(layer=layer, channel=channel, row=row, col=col, value=fmt(value), n=n)
    layout = base_layout(
        title, uirevision=f"explain:{layer}", margin={"l": 8, "r": 8, "t": 36, "b": 44}
    )
    layout.update(axes, **_coloraxes(x_domains))
    layout["xaxis"] = {
        "domain": [0.0, BARS_RIGHT],
        "title": {"text": _("contribution to the activation"), "standoff": 4},
        "zeroline": True,
        "zerolinecolor": "#444",
        "gridcolor": "#eee",
        "automargin": True,
    }
    layout["yaxis"] = {"autorange": "reversed", "automargin": True, "ticks": ""}
    for note in notes:
        note.update(xref="paper", yref="paper", showarrow=False)
        note.setdefault("font", {"size": 11})
    layout["annotations"] = notes
    layout["bargap"] = 0.25
    layout["meta"] = {
        "explain": {
            "value": value,
            "bias": bias,
            "sum": total,
            "channel": int(channel),
            "row": int(row),
            "col": int(col),
            "rows": [int(channels[i]) for i in rows],
        }
    }
    return go.Figure(data=traces, layout=layout)
