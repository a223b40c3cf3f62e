"""Size and speed budgets for VGG16's worst layers: JSON <= 2 MB, build + to_json fast.

Data is dense random normal float32: base64 of such floats contains the most "/"
characters, which plotly's to_json escapes to 6 bytes each, so it is the worst realistic
payload (post-ReLU maps with many zeros are smaller).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard.figures import (
    feature_detail,
    feature_grid,
    kernel_grid,
    kernel_paging,
    kernel_rgb_grid,
)

MAX_JSON_BYTES = 2_000_000
RNG = np.random.default_rng(7)


def json_size(build: Callable[[], go.Figure]) -> int:
    """Bytes of the figure's JSON (times are the benchmark's business, not the tests')."""
    return len(build().to_json().encode())


@pytest.mark.parametrize(
    "shape", [(64, 224, 224), (128, 112, 112), (256, 56, 56), (512, 28, 28), (512, 14, 14)]
)
@pytest.mark.parametrize("scale", ["tile", "shared"])
def test_bud01_feature_grid_json_and_time(shape: tuple[int, int, int], scale: str) -> None:
    maps = (RNG.standard_normal(shape) * 3).astype(np.float32)
    size = json_size(lambda: feature_grid(maps, scale=scale))
    assert size <= MAX_JSON_BYTES


@pytest.mark.parametrize(
    "shape",
    [
        (16, 3, 3, 3),
        (64, 3, 3, 3),
        (64, 64, 3, 3),
        (512, 512, 3, 3),  # 8 input blocks (the last page: 10), gap columns in the budget
        (256, 256, 3, 3),
        (512, 256, 3, 3),
        (2048, 512, 1, 1),
        (1024, 1024, 1, 1),
        (2048, 3, 3, 3),  # a full page wrapped into bands: gap rows count against the budget
        (8192, 1, 3, 3),  # depthwise: the most gap rows per weight
    ],
)
def test_bud02_kernel_grid_every_page_size(shape: tuple[int, int, int, int]) -> None:
    weights = RNG.standard_normal(shape).astype(np.float32)
    paging = kernel_paging(shape)
    # Pages differ only in width: all are full except maybe the last one.
    for page in sorted({0, paging.pages - 1}):
        size = json_size(lambda p=page: kernel_grid(weights, page=p))
        assert size <= MAX_JSON_BYTES


@pytest.mark.parametrize("shape", [(64, 3, 3, 3), (64, 3, 11, 11), (96, 3, 7, 7)])
def test_bud03_rgb_kernels(shape: tuple[int, int, int, int]) -> None:
    weights = RNG.standard_normal(shape).astype(np.float32)
    size = json_size(lambda: kernel_rgb_grid(weights))
    assert size <= MAX_JSON_BYTES


@pytest.mark.parametrize("side", [224, 512])
def test_bud04_feature_detail_with_image(side: int) -> None:
    fmap = RNG.standard_normal((side, side)).astype(np.float32)
    rgb = RNG.integers(0, 256, (side, side, 3), dtype=np.uint8)
    gray = RNG.random((side, side))
    for image in (rgb, gray):
        size = json_size(
            lambda im=image: feature_detail(fmap, channel=0, layer="features.0", image=im)
        )
        assert size <= MAX_JSON_BYTES


def test_bud05_grids_are_one_mosaic_plus_at_most_two_overlay_traces() -> None:
    maps = RNG.standard_normal((512, 14, 14)).astype(np.float32)
    weights = RNG.standard_normal((512, 512, 3, 3)).astype(np.float32)
    for fig in (feature_grid(maps), kernel_grid(weights), kernel_rgb_grid(weights[:, :3])):
        assert fig.data[0].type in ("heatmap", "image") and len(fig.data) <= 3
        assert all(t.type == "scatter" for t in fig.data[1:])
