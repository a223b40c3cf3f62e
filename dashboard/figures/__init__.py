"""Pure figure builders: numpy arrays in, plotly Figures out (no torch, no dash).

Every grid is data[0] = one heatmap (or image) mosaic, then at most two overlay traces: the
separators and a cover for empty slots (in either order). Arrays stay numpy (uint8 colour,
float32 customdata) so plotly serialises them as base64 typed arrays.

The package exports what the app uses; budgets (MAX_*_CELLS), layouts and the pure numpy
helpers stay in their modules.
"""

from dashboard.figures.blend import overlay_figure
from dashboard.figures.detail import feature_detail
from dashboard.figures.explain import explanation_figure, top_rows
from dashboard.figures.features import feature_grid
from dashboard.figures.featurevis import feature_vis_figure
from dashboard.figures.highlight import field_shapes, pixel_marker
from dashboard.figures.histogram import activation_histogram, channel_stats_figure
from dashboard.figures.kernel_overview import (
    NormGeometry,
    channel_kernels,
    kernel_norm_overview,
    kernel_norm_window,
    needs_overview,
    norm_geometry,
    norm_outline,
    overview_channel,
)
from dashboard.figures.kernels import kernel_grid
from dashboard.figures.message import message_figure
from dashboard.figures.paging import KernelPaging, kernel_outline, kernel_paging, page_of
from dashboard.figures.rgb import kernel_rgb_grid
from dashboard.figures.tiles import FeatureGeometry, feature_geometry, feature_outline
from dashboard.figures.zoom import feature_window, overview_cells

__all__ = [
    "FeatureGeometry",
    "KernelPaging",
    "NormGeometry",
    "activation_histogram",
    "channel_kernels",
    "channel_stats_figure",
    "explanation_figure",
    "feature_detail",
    "feature_geometry",
    "feature_grid",
    "feature_outline",
    "feature_vis_figure",
    "feature_window",
    "field_shapes",
    "kernel_grid",
    "kernel_norm_overview",
    "kernel_norm_window",
    "kernel_outline",
    "kernel_paging",
    "kernel_rgb_grid",
    "message_figure",
    "needs_overview",
    "norm_geometry",
    "norm_outline",
    "overlay_figure",
    "overview_cells",
    "overview_channel",
    "page_of",
    "pixel_marker",
    "top_rows",
]
