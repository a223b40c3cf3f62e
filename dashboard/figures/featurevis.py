"""What a channel looks for: the image that excites it most, as the model's input."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.style import MUTED, RGB_HOVER, base_layout, image_axes
from dashboard.i18n import _


def feature_vis_figure(image: np.ndarray, *, layer: str, channel: int) -> go.Figure:
    """The (H, W, 3) uint8 image that gradient ascent made for ``channel`` of ``layer``."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8, got {img.shape} {img.dtype}.")
    h, w = img.shape[:2]
    small = {"tickfont": {"size": 10, "color": MUTED}, "ticks": ""}
    xaxis, yaxis = image_axes(h, w, **small)
    layout = base_layout(
        _("{layer} · channel {channel}: the input it responds to most").format(
            layer=layer, channel=channel
        ),
        uirevision=f"featurevis:{layer}",
        margin={"l": 30, "r": 10, "t": 36, "b": 24},
    )
    layout.update(xaxis=xaxis, yaxis=yaxis)
    trace = go.Image(
        z=img, colormodel="rgb", hovertemplate=_(RGB_HOVER), name="feature visualisation"
    )
    return go.Figure(data=[trace], layout=layout)
