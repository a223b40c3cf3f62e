"""Message figures: no data, one centred note for the user."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from dashboard.figures.style import MUTED, base_layout


def message_figure(text: str) -> go.Figure:
    """Blank axes with one centred note: "pick a layer", errors, loading."""
    safe = html.escape(str(text), quote=False).replace("\n", "<br>")
    layout = base_layout("", uirevision="message")
    layout.update(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": safe,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "font": {"size": 14, "color": MUTED},
            }
        ],
    )
    return go.Figure(layout=layout)
