"""Pure figure builders: numpy arrays in, plotly Figures out (no torch, no dash).

Every grid is data[0] = one heatmap (or image) mosaic, then at most two overlay traces: the
separators and a cover for empty slots (in either order). Arrays stay numpy (uint8 colour,
float32 customdata) so plotly serialises them as base64 typed arrays.
"""

from dashboard.figures.detail import feature_detail, message_figure
from dashboard.figures.features import feature_grid
from dashboard.figures.geometry import (
    MAX_KERNEL_CELLS,
    KernelPaging,
    kernel_at,
    kernel_bands,
    kernel_layout,
    kernel_outline,
    kernel_paging,
    kernel_paging_from_meta,
    page_of,
    page_range,
    point_customdata,
)
from dashboard.figures.kernels import kernel_grid
from dashboard.figures.rgb import kernel_rgb_grid
from dashboard.figures.tiles import (
    MAX_GRID_CELLS,
    MAX_RGB_CELLS,
    FeatureGeometry,
    channel_at,
    feature_geometry,
    feature_geometry_from_meta,
    feature_outline,
    kernel_rgb_geometry,
)
from dashboard.figures.wrapping import KernelLayout

__all__ = [
    "MAX_GRID_CELLS",
    "MAX_KERNEL_CELLS",
    "MAX_RGB_CELLS",
    "FeatureGeometry",
    "KernelLayout",
    "KernelPaging",
    "channel_at",
    "feature_detail",
    "feature_geometry",
    "feature_geometry_from_meta",
    "feature_grid",
    "feature_outline",
    "kernel_at",
    "kernel_bands",
    "kernel_grid",
    "kernel_layout",
    "kernel_outline",
    "kernel_paging",
    "kernel_paging_from_meta",
    "kernel_rgb_geometry",
    "kernel_rgb_grid",
    "message_figure",
    "page_of",
    "page_range",
    "point_customdata",
]
