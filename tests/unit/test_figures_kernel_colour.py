"""Issue 9: every weight's colour means something, labels never collide, one selection."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dashboard.figures import kernel_grid, kernel_outline, kernel_paging
from dashboard.figures.kernel_axes import cell_px, text_px
from dashboard.figures.paging import kernel_layout
from dashboard.figures.style import GRAYS
from dashboard.modes import KernelScale, Look
from tests.unit.figure_helpers import trace_arrays, wire

RNG = np.random.default_rng(9)


def layer_colour(w: np.ndarray, peak: float) -> np.ndarray:
    return np.rint(127.5 + 127.5 * w / peak).astype(np.uint8)


def colours_of(fig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z, weight, output channel) of every real cell."""
    _, z, cd = trace_arrays(fig)
    real = cd[..., 2] >= 0
    return z[real], cd[..., 0][real], cd[..., 2][real]


def test_kc01_pointwise_kernels_show_their_size_not_only_their_sign() -> None:
    weights = (RNG.standard_normal((128, 64, 1, 1)) * 0.05).astype(np.float32)  # downsample
    weights[0, 0, 0, 0], weights[1, 0, 0, 0] = -0.109, -0.027
    for scale in KernelScale:  # whatever the choice: 1×1 is on the layer's scale
        fig = kernel_grid(weights, scale=scale)
        z, w, _ = colours_of(fig)
        assert len(np.unique(z)) > 2
        peak = float(np.abs(weights).max())
        np.testing.assert_array_equal(z, layer_colour(w, peak))
        assert z[w == np.float32(-0.109)][0] != z[w == np.float32(-0.027)][0]
        assert "1×1 kernels on the layer's scale" in fig.layout.title.text
        assert fig.data[0].showscale


def test_kc02_layer_scale_equal_weights_equal_colours_across_tiles_and_pages() -> None:
    weights = RNG.standard_normal((40, 16, 3, 3)).astype(np.float32)
    weights[3, 2, 1, 1] = weights[30, 9, 0, 2] = 0.5
    peak = float(np.abs(weights).max())
    paging = kernel_paging(weights.shape, max_cells=16 * 9 * 12)
    assert paging.pages > 1
    for page in range(paging.pages):
        fig = kernel_grid(weights, page=page, max_cells=16 * 9 * 12, scale=KernelScale.LAYER)
        z, w, _ = colours_of(fig)
        np.testing.assert_array_equal(z, layer_colour(w, peak))  # the whole layer's peak
        assert "one scale for the layer" in fig.layout.title.text
    tile = kernel_grid(weights)  # default: per kernel, no colour bar
    assert not tile.data[0].showscale and "colour per kernel" in tile.layout.title.text


def test_kc03_channel_scale_is_one_scale_per_output_channel() -> None:
    weights = RNG.standard_normal((6, 4, 3, 3)).astype(np.float32)
    weights[2] *= 10.0
    fig = kernel_grid(weights, scale="channel")
    z, w, out = colours_of(fig)
    for j in range(6):
        peak = float(np.abs(weights[j]).max())
        np.testing.assert_array_equal(z[out == j], layer_colour(w[out == j], peak))
    assert "one scale per output channel" in fig.layout.title.text
    assert list(fig.data[0].colorbar.ticktext) == ["−1", "−0.5", "0", "0.5", "1"]


def test_kc04_tutorial_look_is_grey_min_max_per_kernel() -> None:
    weights = RNG.standard_normal((5, 2, 3, 3)).astype(np.float32)
    fig = kernel_grid(weights, look=Look.TUTORIAL)
    trace = wire(fig)["data"][0]
    assert trace["colorscale"] == GRAYS and not trace.get("showscale")
    _, z, _ = trace_arrays(fig)
    for j in range(5):
        for i in range(2):
            tile, raw = z[i * 3 : i * 3 + 3, j * 3 : j * 3 + 3], weights[j, i]
            expected = np.rint(255 * (raw - raw.min()) / (raw.max() - raw.min()))
            np.testing.assert_array_equal(tile, expected.astype(np.uint8))
    assert "black = min, white = max" in fig.layout.title.text


def test_kc05_colour_bar_speaks_raw_weights_matching_the_mapping() -> None:
    weights = (RNG.standard_normal((8, 4, 3, 3)) * 0.03).astype(np.float32)
    weights[0, 0, 0, 0] = -0.11
    weights[weights > 0.11] = 0.1
    bar = wire(kernel_grid(weights, scale=KernelScale.LAYER))["data"][0]["colorbar"]
    values = [float(t.replace("−", "-")) for t in bar["ticktext"]]
    assert values == [-0.11, -0.055, 0.0, 0.055, 0.11]
    for value, position in zip(values, bar["tickvals"], strict=True):
        assert position == pytest.approx(127.5 + 127.5 * value / 0.11, abs=0.2)


LAYERS = [  # (name, shape, groups)
    ("VGG16 features.0", (64, 3, 3, 3), 1),
    ("VGG16 features.28", (512, 512, 3, 3), 1),
    ("ResNet-18 layer2.0.downsample.0", (128, 64, 1, 1), 1),
    ("depthwise 5×5", (576, 1, 5, 5), 576),
    ("TinyVGG block1.0", (16, 3, 3, 3), 1),
]


def _row_clear(xs_px: list[float], texts: list[str]) -> None:
    placed = sorted(zip(xs_px, texts, strict=True))
    for (a, s), (b, t) in itertools.pairwise(placed):
        assert b - a > (text_px(s) + text_px(t)) / 2, (s, t, b - a)
        assert b - a >= 30 - 1e-9, (s, t, b - a)


@pytest.mark.parametrize(("name", "shape", "groups"), LAYERS)
def test_kc06_output_labels_never_collide(name: str, shape: tuple, groups: int) -> None:
    paging = kernel_paging(shape)
    weights = np.zeros(shape, dtype=np.float32)
    for page in sorted({0, 1, paging.pages - 1} & set(range(paging.pages))):
        layout = wire(kernel_grid(weights, page=page, groups=groups))["layout"]
        px = cell_px(kernel_layout(paging, page))
        x = layout["xaxis"]
        if "+" in "".join(x["ticktext"]):
            pytest.fail(f"{name}: offsets instead of channel numbers")
        _row_clear([v * px for v in x["tickvals"]], x["ticktext"])
        above = layout.get("annotations", [])
        _row_clear([a["x"] * px for a in above], [a["text"] for a in above])
        assert not any(t.startswith("+") for t in layout["yaxis"]["ticktext"])


def test_kc07_one_selection_is_one_outline() -> None:
    paging = kernel_paging((512, 512, 3, 3))
    assert kernel_layout(paging, 0).blocks == 8
    shapes = kernel_outline(paging, 0, 5)
    assert len(shapes) == 2  # one halo, one core: a comb joining the 8 blocks' columns
    halo, core = shapes
    assert halo["line"]["width"] > core["line"]["width"] and core["type"] == "path"
    bar = core["path"].split("M")[1]  # first stroke: one bar across all the columns' tops
    assert bar.startswith("14.5,-0.5H") and core["path"].count("Z") == 8
    plain = kernel_outline(kernel_paging((64, 3, 3, 3)), 0, 5)
    assert len(plain) == 2 and plain[1]["type"] == "rect"
