"""The export row under the detail panel and the explanation's download. No callbacks here."""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import _


def _button(component_id: str, label: str, title: str, **extra) -> html.Button:
    return html.Button(label, id=component_id, n_clicks=0, title=title, **extra)


def export_row() -> html.Div:
    """Download the layer's activations and kernels, the selected map; the plots' format."""
    return html.Div(
        [
            html.Span(_("Download:"), className="muted"),
            _button(
                ids.EXPORT_ACTIVATIONS,
                _("activations (.npy)"),
                _("The layer's outputs for this image, channels × height × width, float32"),
            ),
            _button(
                ids.EXPORT_KERNELS,
                _("kernels (.npy)"),
                _("The layer's weights, out × in/groups × kh × kw, float32"),
            ),
            _button(
                ids.EXPORT_MAP,
                _("selected map (.csv)"),
                _("The selected channel's map, one line per row, full float32 precision"),
            ),
            html.Span(_("plots' camera button saves"), className="muted"),
            dcc.RadioItems(
                id=ids.IMAGE_FORMAT,
                options=[{"label": "PNG", "value": "png"}, {"label": "SVG", "value": "svg"}],
                value="png",
                inline=True,
            ),
            dcc.Download(id=ids.EXPORT_ACTIVATIONS_FILE),
            dcc.Download(id=ids.EXPORT_KERNELS_FILE),
            dcc.Download(id=ids.EXPORT_MAP_FILE),
            dcc.Store(id=ids.IMAGE_NAMES_SINK, data=None),
        ],
        className="job-row export-row",
    )


def explanation_export() -> html.Div:
    """The explanation's download: hidden until a pixel has been explained."""
    return html.Div(
        [
            _button(
                ids.EXPORT_EXPLANATION,
                _("Download this explanation (.npz)"),
                _("Terms per input channel, bias, total, unit, receptive field, drawn rows"),
            ),
            dcc.Download(id=ids.EXPORT_EXPLANATION_FILE),
        ],
        id=ids.EXPORT_EXPLANATION_ROW,
        className="job-row",
        hidden=True,
    )
