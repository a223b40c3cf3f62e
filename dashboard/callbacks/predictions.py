"""The model's top classes for the current image, on the layer's line."""

from __future__ import annotations

from dash import Dash, Input, Output, State, html

from dashboard import ids
from dashboard.callbacks.common import guarded, view_of
from dashboard.explorer import Explorer
from dashboard.i18n import _
from dashboard.views import PredictionView, RankedClass


def share(probability: float) -> str:
    """A probability as the panel prints it: "97.3%", "<0.1%"."""
    return f"{probability:.1%}" if probability >= 0.0005 else "<0.1%"


def ranked_item(entry: RankedClass) -> html.Li:
    """One class: a bar as long as its probability, its name, the probability; raw values
    in the tooltip."""
    return html.Li(
        [entry.name, html.Span(share(entry.probability))],
        style={"--p": f"{entry.probability * 100:.1f}%"},  # the bar's length, drawn by CSS
        title=_("output {index} · probability {probability} · logit {logit}").format(
            index=entry.index,
            probability=f"{entry.probability:.4g}",
            logit=f"{entry.logit:.4g}",
        ),
    )


def prediction_panel(shown: PredictionView) -> list:
    """The panel's children: the ranked classes and the note beside them, or the note."""
    if not shown.classes:
        return [html.Span(shown.note, className="muted")]
    children = [
        html.Span(_("Top {n} classes:").format(n=len(shown.classes)), className="muted"),
        html.Ol(
            [ranked_item(entry) for entry in shown.classes], **{"aria-label": _("top classes")}
        ),
    ]
    if shown.note:
        children.append(html.Span(shown.note, className="note"))
    return children


def register_predictions(app: Dash, explorer: Explorer) -> None:
    """Register the predictions panel: it waits for no other callback, none waits for it."""

    @app.callback(
        Output(ids.PREDICTIONS, "children"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.WEIGHTS_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
    )
    @guarded(
        lambda text: html.Span(text, className="error"),
        waiting=lambda _text: html.Span(
            _("The top classes appear when the worker is done."), className="muted"
        ),
    )
    def on_predictions(model, image, weights, session):
        view = view_of(explorer, model, None, image, 0, weights, session)
        return prediction_panel(explorer.predictions(view))
