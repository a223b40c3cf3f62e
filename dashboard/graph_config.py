"""The config of the page's graphs (dcc.Graph), in the request's language."""

from __future__ import annotations

from dashboard.i18n import current_language

# The wheel scrolls the page (zoom with the modebar or by dragging a box); no lasso/select.
GRAPH_CONFIG = {
    "displaylogo": False,
    "scrollZoom": False,
    "toImageButtonOptions": {"scale": 2},
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
}
# the explanation panels' graphs: no zoom tools to remove
EXPLAIN_GRAPH_CONFIG = {
    "displaylogo": False,
    "scrollZoom": False,
    "toImageButtonOptions": {"scale": 2},
}
PLOTLY_LOCALES = {"zh": "zh-CN"}  # plotly.js's name of the locale dashboard/static ships


def graph_config(base: dict | None = None) -> dict:
    """A graph's config in the request's language (plotly.js's modebar words included)."""
    config = dict(GRAPH_CONFIG if base is None else base)
    if locale := PLOTLY_LOCALES.get(current_language()):
        config["locale"] = locale
    return config
