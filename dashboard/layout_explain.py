"""The panels that explain what the grids show: one activation, the overlay, the layer's
statistics and what a channel looks for. No callbacks here."""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids
from dashboard.figures import message_figure
from dashboard.graph_config import EXPLAIN_GRAPH_CONFIG, graph_config
from dashboard.i18n import N_, _
from dashboard.layout_export import explanation_export
from dashboard.modes import SortKey

SORT_LABELS = {
    SortKey.CHANNEL: N_("channel number"),
    SortKey.MEAN: N_("mean"),
    SortKey.MAXIMUM: N_("max"),
    SortKey.STD: N_("std"),
    SortKey.ZEROS: N_("fraction of zeros"),
}


def sort_options() -> list[dict]:
    """The "order" choices, in the request's language."""
    return [{"label": _(label), "value": key} for key, label in SORT_LABELS.items()]


# One or two sentences beside each panel on how to read it.
CAPTION_EXPLAIN = N_(
    "A conv unit's value is its bias plus one term per input channel: that channel's "
    "kernel slice times the input patch under it, summed. The bars rank those terms; the "
    "rows beside them show the largest as patch, kernel and their product (hover for raw "
    "numbers). The terms and the bias add up to the value the map shows."
)
CAPTION_OVERLAY = N_(
    "The selected feature map stretched over the image the model saw: bright where the "
    "channel responds strongly. The colour bar is in raw activation units."
)
CAPTION_STATS = N_(
    "Each bar is one channel's statistic over its whole map on this image, taken after the "
    "layer's activation; red channels are dead here (all zero after a ReLU, or one constant "
    "value). Click a bar to select its channel. In the histogram, drag across a range of "
    "values to outline the channels that reach it."
)
CAPTION_FEATUREVIS = N_(
    "An input made by gradient ascent so that the selected channel's mean activation is as "
    "large as possible (Fourier-parametrised image, random jitter). It shows the pattern "
    "the kernel stack looks for, not a real photo; random weights give noise-like patterns."
)


# These plots keep the modebar's box and lasso selection (the histogram's range drag).


def _graph(component_id: str, text: str, class_name: str, **extra) -> dcc.Loading:
    graph = dcc.Graph(
        id=component_id,
        figure=message_figure(_(text)),
        config=graph_config(EXPLAIN_GRAPH_CONFIG),
        className=class_name,
        **extra,
    )
    return dcc.Loading(graph, type="dot", delay_show=250)


def _caption(text: str) -> html.P:
    return html.P(_(text), className="muted caption")


def explain_sections() -> list[html.Section]:
    """The explanation panel, then overlay and feature visualisation side by side, then
    the layer statistics."""
    explain = html.Section(
        [
            html.H2(_("Explain one activation: where it looks and what made it")),
            _caption(CAPTION_EXPLAIN),
            html.Div(
                _("Click a pixel of the feature map above to explain its value."),
                id=ids.EXPLAIN_TEXT,
                className="explain-text",
                role="status",
            ),
            _graph(
                ids.EXPLAIN_FIGURE,
                N_("Click a pixel of the feature map above."),
                "explain",
            ),
            dcc.Store(id=ids.EXPLAIN_TOTAL, data=None),
            explanation_export(),
        ],
        id=ids.EXPLAIN_PANEL,
        className="panel wide",
    )
    overlay = html.Section(
        [
            html.H2(_("The map over the image")),
            _caption(CAPTION_OVERLAY),
            html.Div(
                [
                    html.Label(_("opacity"), className="control-label inline"),
                    dcc.Slider(
                        id=ids.OVERLAY_OPACITY,
                        min=0,
                        max=1,
                        step=0.05,
                        value=0.6,
                        marks={0: "0", 0.5: "0.5", 1: "1"},
                        tooltip={"placement": "bottom"},
                    ),
                ],
                className="slider-row",
            ),
            _graph(ids.OVERLAY, N_("Loading the overlay…"), "half"),
        ],
        className="panel",
    )
    featurevis = html.Section(
        [
            html.H2(_("What the channel looks for")),
            _caption(CAPTION_FEATUREVIS),
            html.Div(
                [
                    html.Button(_("Visualise this channel"), id=ids.FEATUREVIS_START, n_clicks=0),
                    html.Button(
                        _("Cancel"),
                        id=ids.FEATUREVIS_CANCEL,
                        n_clicks=0,
                        disabled=True,
                        **{"data-cancelled": _("Cancelled. Press the button to start again.")},
                    ),
                    html.Progress(id=ids.FEATUREVIS_PROGRESS, value="0", max="100", hidden=True),
                    html.Span(id=ids.FEATUREVIS_STATUS, className="muted", role="status"),
                ],
                className="job-row",
            ),
            _graph(ids.FEATUREVIS_FIGURE, N_("Press the button to compute it."), "half"),
        ],
        className="panel",
    )
    stats = html.Section(
        [
            html.H2(_("Channel statistics of this layer")),
            _caption(CAPTION_STATS),
            html.Div(id=ids.STATS_TEXT, className="info"),
            html.Div(
                [
                    _graph(ids.STATS_BARS, N_("Loading statistics…"), "half"),
                    _graph(ids.STATS_HISTOGRAM, N_("Loading the histogram…"), "half"),
                ],
                className="pair-row",
            ),
            dcc.Store(id=ids.RANGE_STORE, data=None),
        ],
        className="panel wide",
    )
    return [
        explain,
        html.Div([overlay, featurevis], className="pair-row wide"),
        stats,
    ]
