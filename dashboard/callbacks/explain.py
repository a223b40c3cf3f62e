"""The explanation panel, the overlay and the layer statistics."""

from __future__ import annotations

from dash import Dash, Input, Output, Patch, State, html, no_update

from dashboard import edge, figures, ids
from dashboard.callbacks.common import VIEW_STATE, guarded, view_of
from dashboard.explaining import Explainer
from dashboard.i18n import N_, _, ngettext
from dashboard.views import dead_sentence

PROMPT = N_("Click a pixel of the feature map above to explain its value.")


def register_explain(app: Dash, explainer: Explainer) -> None:
    """Register the explanation of a clicked pixel, the overlay and the statistics."""
    explorer = explainer.explorer

    @app.callback(
        Output(ids.EXPLAIN_FIGURE, "figure", allow_duplicate=True),
        Output(ids.EXPLAIN_TEXT, "children", allow_duplicate=True),
        Output(ids.EXPLAIN_TOTAL, "data", allow_duplicate=True),
        Output(ids.FEATURE_DETAIL, "figure", allow_duplicate=True),
        Input(ids.FEATURE_DETAIL, "clickData"),
        *VIEW_STATE,
        prevent_initial_call=True,
    )
    @guarded(lambda text: (figures.message_figure(text), text, None, no_update))
    def on_explain(click, model, layer, image, channel, weights, session):
        """A click on the detail map: that unit's decomposition and receptive field."""
        pixel = edge.clicked_pixel(click)
        if pixel is None or layer is None:
            return (no_update,) * 4
        view = view_of(explorer, model, layer, image, channel, weights, session)
        shown = explainer.explain(view, *pixel)
        detail = Patch()
        detail["layout"]["shapes"] = shown.shapes
        text = [html.P(sentence) for sentence in shown.sentences]
        total = {"total": shown.total, "shown": shown.shown, "row": pixel[0], "col": pixel[1]}
        return shown.figure, text, total, detail

    # A new layer, image, model or channel: the explanation no longer belongs to the map.
    @app.callback(
        Output(ids.EXPLAIN_FIGURE, "figure"),
        Output(ids.EXPLAIN_TEXT, "children"),
        Output(ids.EXPLAIN_TOTAL, "data"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.WEIGHTS_STORE, "data"),
        Input(ids.CHANNEL_PICKED, "data"),
        prevent_initial_call=True,
    )
    def on_explain_reset(*_values):
        prompt = figures.message_figure(_("Click a pixel of the feature map above."))
        return prompt, _(PROMPT), None

    @app.callback(
        Output(ids.OVERLAY, "figure"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.WEIGHTS_STORE, "data"),
        Input(ids.CHANNEL_PICKED, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.OVERLAY_OPACITY, "value"),
        State(ids.SESSION_STORE, "data"),
    )
    @guarded(figures.message_figure)
    def on_overlay(model, layer, image, weights, _picked, channel, opacity, session):
        if layer is None:
            return no_update
        view = view_of(explorer, model, layer, image, channel, weights, session)
        return explainer.overlay(view, edge.opacity(opacity))

    # The slider restyles the drawn map in the browser: no round trip for an opacity.
    app.clientside_callback(
        """
        function(opacity) {
            const host = document.getElementById('"""
        + ids.OVERLAY
        + """');
            const gd = host && host.querySelector('.js-plotly-plot');
            if (gd && gd.data && gd.data.length > 1 && typeof opacity === 'number') {
                window.Plotly.restyle(gd, {opacity: opacity}, [1]);
            }
            return window.dash_clientside.no_update;
        }
        """,
        Output(ids.OVERLAY, "id"),
        Input(ids.OVERLAY_OPACITY, "value"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.STATS_BARS, "figure"),
        Output(ids.STATS_HISTOGRAM, "figure"),
        Output(ids.STATS_TEXT, "children"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.WEIGHTS_STORE, "data"),
        Input(ids.SORT_SELECT, "value"),
        State(ids.SESSION_STORE, "data"),
    )
    @guarded(lambda text: (figures.message_figure(text), figures.message_figure(text), text))
    def on_stats(model, layer, image, weights, sort, session):
        if layer is None:
            return (no_update,) * 3
        view = view_of(explorer, model, layer, image, 0, weights, session, sort=edge.sort_key(sort))
        shown = explainer.stats(view)
        text = _("Statistics of the activations {source}.").format(source=shown.source)
        text += " " + dead_sentence(shown.dead, shown.rectified)
        return shown.bars, shown.histogram, text

    @app.callback(
        Output(ids.FEATURE_GRID, "figure", allow_duplicate=True),
        Output(ids.STATS_TEXT, "children", allow_duplicate=True),
        Input(ids.STATS_HISTOGRAM, "selectedData"),
        *VIEW_STATE,
        State(ids.GRID_SIZE, "data"),
        State(ids.SORT_SELECT, "value"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: (no_update, text))
    def on_range(selected, model, layer, image, channel, weights, session, size, sort):
        """A range dragged on the histogram: outline the maps that have values in it."""
        span = edge.value_range(selected)
        if span is None or layer is None:
            return no_update, no_update
        view = view_of(
            explorer,
            model,
            layer,
            image,
            channel,
            weights,
            session,
            size,
            sort=edge.sort_key(sort),
        )
        shapes, channels = explainer.outline_range(view, *span)
        patch = Patch()
        patch["layout"]["shapes"] = shapes
        lo, hi = span
        n = len(channels)
        if n:
            text = ngettext(
                "{n} channel reaches values in [{lo}, {hi}]: outlined in orange in the "
                "feature maps.",
                "{n} channels reach values in [{lo}, {hi}]: outlined in orange in the "
                "feature maps.",
                n,
            )
        else:
            text = _("No channel reaches values in [{lo}, {hi}].")
        text = text.format(n=n, lo=f"{lo:.4g}", hi=f"{hi:.4g}")
        return patch, text
