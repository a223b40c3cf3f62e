"""The two ways ConvScope is compared against, re-created faithfully.

``matplotlib_grid`` is the original learner's script: one Axes per feature map from
``plt.subplots(nrows, ncols)``, ``imshow`` of the map normalised to 0..1, saved as PNG.
``subplots_grid`` is the naive plotly port: ``make_subplots`` with one ``go.Heatmap`` per
channel, serialised with ``fig.to_json()`` (what Dash would send).
"""

from __future__ import annotations

import io
import math

import numpy as np

INCHES_PER_TILE = 2.0  # the learner's figsize: 2 inches per map at matplotlib's 100 dpi


def grid_size(channels: int) -> tuple[int, int]:
    """(nrows, ncols), near square, as the source script chose them."""
    ncols = math.ceil(math.sqrt(channels))
    return math.ceil(channels / ncols), ncols


def normalised(fmap: np.ndarray) -> np.ndarray:
    """One map scaled to 0..1 by its own min and max (a constant map becomes 0)."""
    lo, hi = float(fmap.min()), float(fmap.max())
    if hi <= lo:
        return np.zeros_like(fmap, dtype=np.float32)
    return ((fmap - lo) / (hi - lo)).astype(np.float32)


def matplotlib_grid(maps: np.ndarray) -> bytes:
    """All maps of one layer as one PNG, the way the source script drew them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nrows, ncols = grid_size(maps.shape[0])
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(ncols * INCHES_PER_TILE, nrows * INCHES_PER_TILE),
        squeeze=False,
    )
    try:
        for index, ax in enumerate(axes.flat):
            ax.axis("off")
            if index < maps.shape[0]:
                ax.imshow(normalised(maps[index]), cmap="viridis")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def subplots_grid(maps: np.ndarray) -> str:
    """All maps of one layer as one subplot each, serialised like Dash would send it."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    nrows, ncols = grid_size(maps.shape[0])
    fig = make_subplots(rows=nrows, cols=ncols)
    for index in range(maps.shape[0]):
        fig.add_trace(
            go.Heatmap(z=normalised(maps[index]), colorscale="Viridis", showscale=False),
            row=index // ncols + 1,
            col=index % ncols + 1,
        )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    return fig.to_json()
