"""Thin glue: validate component values at the edge, ask the Explorer, fill the page.

Every callback runs inside ``guarded``: a UserError becomes its sentence in the page, any
other exception is logged with a reference id and the page says so (never a 500, never
Python's own words). Callbacks are registered on the app instance, never globally.
"""

from __future__ import annotations

from dash import Dash

from dashboard.callbacks.compare import register_compare
from dashboard.callbacks.explain import register_explain
from dashboard.callbacks.export import register_export
from dashboard.callbacks.featurevis import register_featurevis
from dashboard.callbacks.inputs import register_inputs
from dashboard.callbacks.language import register_language
from dashboard.callbacks.panels import register_panels
from dashboard.callbacks.predictions import register_predictions
from dashboard.callbacks.prepare import register_prepare
from dashboard.callbacks.selection import register_selection
from dashboard.callbacks.url import register_url
from dashboard.callbacks.zoom import register_zoom
from dashboard.explaining import Explainer
from dashboard.preparing import Preparer


def register_callbacks(app: Dash, explainer: Explainer, preparer: Preparer | None = None) -> None:
    """Register every callback on ``app`` (never on the global dash.callback list); the
    workers' first passes only with a ``preparer`` (with Redis)."""
    explorer = explainer.explorer
    for register in (
        register_inputs,
        register_panels,
        register_selection,
        register_zoom,
        register_predictions,
        register_compare,
        register_url,
    ):
        register(app, explorer)
    register_explain(app, explainer)
    register_featurevis(app, explainer)
    register_export(app, explainer)
    register_language(app)
    if preparer is not None:
        register_prepare(app, preparer)
