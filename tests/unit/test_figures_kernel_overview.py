"""Kernel-norm overview, one channel enlarged, deep zoom: check the numbers the browser gets."""

from __future__ import annotations

import itertools

import numpy as np
import plotly.colors as pcolors
import pytest

from dashboard.figures.kernel_overview import (
    DEAD_COLOUR,
    DEAD_FRACTION,
    DEFAULT_WIDTH_PX,
    PLOT_MARGIN,
    channel_kernels,
    kernel_norm_overview,
    kernel_norm_window,
    needs_overview,
    norm_geometry,
    overview_channel,
)
from dashboard.figures.mosaic import grid_shape
from dashboard.figures.style import DIVERGING, VIRIDIS
from tests.unit.figure_helpers import decode, wire

RNG = np.random.default_rng(20240909)
MAX_JSON_BYTES = 1_800_000
PLOT_W = DEFAULT_WIDTH_PX - PLOT_MARGIN["l"] - PLOT_MARGIN["r"]


def exact_norm(kernel: np.ndarray) -> np.float32:
    """The oracle: numpy's L2 norm in float64, rounded once to float32."""
    return np.float32(np.linalg.norm(kernel.astype(np.float64)))


def heatmap(fig) -> tuple[dict, np.ndarray]:
    trace = wire(fig)["data"][0]
    return trace, decode(trace["z"])


def _rgb(colour: str) -> tuple[float, ...]:
    return pcolors.hex_to_rgb(colour) if colour.startswith("#") else pcolors.unlabel_rgb(colour)


def colour_of(trace: dict, value: float) -> tuple[int, ...]:
    """The RGB plotly gives `value` on the trace's colorscale and zmin..zmax."""
    frac = (value - trace["zmin"]) / (trace["zmax"] - trace["zmin"])
    scale = [(float(p), c) for p, c in trace["colorscale"]]
    for (p0, c0), (p1, c1) in itertools.pairwise(scale):
        if p0 <= frac <= p1 and p1 > p0:
            mixed = pcolors.find_intermediate_color(_rgb(c0), _rgb(c1), (frac - p0) / (p1 - p0))
            return tuple(round(v) for v in mixed)
    raise AssertionError(f"{value} is off the colour scale")


# ---------------------------------------------------------------- kernel_norm_overview


def test_ovr01_norms_are_exact_and_x_is_the_output_channel() -> None:
    weights = RNG.standard_normal((7, 5, 3, 2)).astype(np.float32)
    fig = kernel_norm_overview(weights, layer="conv")
    trace, z = heatmap(fig)
    assert z.dtype == np.float32 and z.shape == (5, 7)  # rows in, columns out
    for j in range(7):
        for i in range(5):
            assert z[i, j] == exact_norm(weights[j, i])
    # cell (row i, col j) is centred on (x=j, y=i): x is the output channel
    assert (trace["x0"], trace["dx"], trace["y0"], trace["dy"]) == (0, 1, 0, 1)
    assert trace["hovertemplate"].startswith("out %{x} · in %{y} · ‖kernel‖₂ = %{z:.4g} (3×2)")
    meta = fig.layout.meta
    assert meta["grid"] == "kernel_norms" and (meta["out_channels"], meta["in_channels"]) == (7, 5)
    assert meta["groups"] == 1 and meta["wrap_cols"] == 0 and meta["in_per_cell"] == 1
    assert [overview_channel(meta, x, 2.2) for x in (0, 3.4, 6, 6.6, -0.7, "x")] == [
        0,
        3,
        6,
        None,
        None,
        None,
    ]
    assert fig.layout.xaxis.title.text == "output channel"
    assert fig.layout.yaxis.title.text == "input channel"
    assert trace["zmin"] == 0 and trace["zmax"] == pytest.approx(float(z.max()))
    assert trace["colorbar"]["title"]["text"] == "‖kernel‖₂"


def test_ovr02_depthwise_wraps_into_rows_and_grouped_says_within_group() -> None:
    weights = RNG.standard_normal((10, 1, 3, 3)).astype(np.float32)
    fig = kernel_norm_overview(weights, groups=10)
    trace, z = heatmap(fig)
    cd = decode(trace["customdata"])
    meta = fig.layout.meta
    wrap = meta["wrap_cols"]
    assert wrap > 1 and z.shape == (meta["rows"], wrap) and meta["rows"] > 1
    for out in range(10):
        r, c = divmod(out, wrap)
        assert z[r, c] == exact_norm(weights[out, 0])
        assert cd[r, c].tolist() == [z[r, c], out, out]  # [norm, input, output]
        assert overview_channel(meta, c, r) == out
    tail = np.arange(z.size) >= 10
    assert np.isnan(z.ravel()[tail]).all() and (cd.reshape(-1, 3)[tail] == -1).all()
    assert trace["hovertemplate"].startswith("out %{customdata[2]} · in %{customdata[1]}")
    assert "depthwise" in fig.layout.title.text

    grouped = RNG.standard_normal((8, 2, 3, 3)).astype(np.float32)
    fig = kernel_norm_overview(grouped, groups=4)
    trace, z = heatmap(fig)
    assert z.shape == (2, 8) and z[1, 5] == exact_norm(grouped[5, 1])
    assert "(within group)" in fig.layout.yaxis.title.text
    assert "(within group)" in trace["hovertemplate"] and "groups 4" in fig.layout.title.text
    with pytest.raises(ValueError, match="groups"):
        kernel_norm_overview(grouped, groups=3)


def _ticks_fit(fig, cols: int) -> None:
    """At most one output label per 30 px of the default plot width, none overlapping."""
    xaxis = wire(fig)["layout"]["xaxis"]
    px = PLOT_W / cols
    vals = xaxis["tickvals"]
    assert len(vals) >= 2 and vals[0] == 0
    gaps = np.diff(vals) * px
    widest = max(map(len, xaxis["ticktext"])) * 6.5
    assert gaps.min() >= max(30, widest + 6)
    assert xaxis["ticktext"] == [str(int(v)) for v in vals]  # real channel numbers


@pytest.mark.parametrize(
    ("shape", "scale"),
    [
        ((512, 512, 3, 3), 0.5),  # VGG16 features.28; norms ~1.5: the worst base64
        ((2048, 512, 1, 1), None),  # ResNet-50 layer4.2.conv3; |w| in [1, 2)
    ],
)
def test_ovr03_big_layers_fit_the_budget_with_readable_ticks(
    shape: tuple[int, int, int, int], scale: float | None
) -> None:
    if scale is None:
        weights = RNG.uniform(1, 2, shape).astype(np.float32)
        weights *= RNG.choice(np.float32([-1, 1]), shape)
    else:
        weights = (RNG.standard_normal(shape) * scale).astype(np.float32)
    fig = kernel_norm_overview(weights, selected=shape[0] - 1, layer="big")
    assert len(fig.to_json().encode()) <= MAX_JSON_BYTES
    meta = fig.layout.meta
    f = meta["in_per_cell"]
    assert f > 1 and f"max of {f} inputs" in fig.layout.title.text
    trace, z = heatmap(fig)
    assert z.shape == (-(-shape[1] // f), shape[0]) and trace["dy"] == f
    norms = np.sqrt(np.square(weights, dtype=np.float64).sum(axis=(2, 3))).astype(np.float32)
    for j, b in [(0, 0), (shape[0] - 1, z.shape[0] - 1), (shape[0] // 3, z.shape[0] // 2)]:
        assert z[b, j] == norms[j, b * f : b * f + f].max()  # honest max of the block
    # block b spans inputs b*f .. b*f + f - 1 and is centred on them: "in 41.5 ± 1.5"
    assert trace["y0"] == (f - 1) / 2
    assert f"max of {f} inputs, in %{{y}} ± {(f - 1) / 2:g}" in trace["hovertemplate"]
    assert "max over blocks" in fig.layout.yaxis.title.text
    _ticks_fit(fig, shape[0])


def test_ovr04_one_outline_around_the_selected_column() -> None:
    weights = RNG.standard_normal((12, 6, 3, 3)).astype(np.float32)
    shapes = kernel_norm_overview(weights, selected=5).layout.shapes
    assert len(shapes) == 2  # halo + core, once
    for s in shapes:
        assert (s.x0, s.x1, s.y0, s.y1) == (4.5, 5.5, -0.5, 5.5)
    assert kernel_norm_overview(weights).layout.shapes == ()
    assert kernel_norm_overview(weights, selected=12).layout.shapes == ()
    # pooled inputs: the rect spans the whole column
    pooled = kernel_norm_overview(weights, selected=0, max_cells=12 * 3)
    assert pooled.layout.meta["in_per_cell"] == 2
    assert {(s.y0, s.y1) for s in pooled.layout.shapes} == {(-0.5, 5.5)}
    depthwise = RNG.standard_normal((10, 1, 3, 3)).astype(np.float32)
    fig = kernel_norm_overview(depthwise, groups=10, selected=7)
    r, c = divmod(7, fig.layout.meta["wrap_cols"])
    assert {(s.x0, s.x1, s.y0, s.y1) for s in fig.layout.shapes} == {
        (c - 0.5, c + 0.5, r - 0.5, r + 0.5)
    }


def test_ovr05_dead_and_tiny_kernels_have_their_own_colour() -> None:
    weights = RNG.standard_normal((6, 4, 3, 3)).astype(np.float32)
    weights[2, 1] = 0.0
    weights[4, 3] = 1e-7
    fig = kernel_norm_overview(weights)
    trace, z = heatmap(fig)
    dead = colour_of(trace, float(z[1, 2]))
    assert dead == colour_of(trace, float(z[3, 4])) == pcolors.hex_to_rgb(DEAD_COLOUR)
    live = {colour_of(trace, float(v)) for v in z[z > DEAD_FRACTION * z.max()]}
    assert dead not in live and len(live) > 10
    assert DEAD_COLOUR not in [c for _, c in VIRIDIS]
    assert "2 dead kernels" in fig.layout.title.text and fig.layout.meta["dead"] == 2
    assert "none dead" in kernel_norm_overview(weights[:2]).layout.title.text


# ---------------------------------------------------------------- channel_kernels


def test_ovr06_small_channel_prints_its_exact_raw_weights() -> None:
    weights = RNG.standard_normal((5, 3, 3, 3)).astype(np.float32)
    fig = channel_kernels(weights, 4, layer="conv1")
    trace, z = heatmap(fig)
    cd = decode(trace["customdata"])
    assert grid_shape(3) == (2, 2) and z.shape == (2 * 4 - 1, 2 * 4 - 1)
    peak = float(np.abs(weights[4]).max())
    assert trace["zmin"] == -peak and trace["zmax"] == peak  # one scale, centred on 0
    assert trace["texttemplate"] == "%{text}"
    for i in range(3):
        for r in range(3):
            for c in range(3):
                y, x = (i // 2) * 4 + r, (i % 2) * 4 + c
                assert z[y, x] == weights[4, i, r, c]  # exact float32
                assert trace["text"][y][x] == f"{weights[4, i, r, c]:.3g}"
                assert cd[y, x].tolist() == [weights[4, i, r, c], i, 4, r, c]
    assert np.isnan(z[3]).all() and trace["text"][3] == [""] * 7  # gap row: nothing printed
    assert np.isnan(z[4:, 4:]).all()  # the empty 4th slot
    hover = trace["hovertemplate"]
    assert hover.startswith("out %{customdata[2]} · in %{customdata[1]} · row %{customdata[3]}")
    assert "weight %{customdata[0]:.4g}" in hover
    assert "out 4: all 3 inputs" in fig.layout.title.text
    # many tiles: hover only
    assert (
        "texttemplate"
        not in wire(channel_kernels(RNG.standard_normal((2, 64, 3, 3)), 0))["data"][0]
    )


def test_ovr07_one_by_one_slices_share_a_scale_with_distinct_colours() -> None:
    weights = RNG.standard_normal((4, 16, 1, 1)).astype(np.float32)
    trace, z = heatmap(channel_kernels(weights, 2))
    assert z.shape == (4, 4)  # a grid of cells, no gaps
    np.testing.assert_array_equal(z.ravel(), weights[2, :, 0, 0])
    assert trace["colorscale"] == [list(stop) for stop in DIVERGING]
    colours = {colour_of(trace, float(v)) for v in z.ravel()}
    assert len(colours) > 2 and len(colours) == len(set(z.ravel().tolist()))


def test_ovr08_many_inputs_are_paged_and_the_title_says_which() -> None:
    weights = RNG.standard_normal((4, 512, 3, 3)).astype(np.float32)
    first = channel_kernels(weights, 1)
    assert "out 1: inputs 0–63 of 512 (page 1/8)" in first.layout.title.text
    last = channel_kernels(weights, 1, page=99)
    assert "inputs 448–511 of 512 (page 8/8)" in last.layout.title.text
    trace, _z = heatmap(last)
    cd = decode(trace["customdata"])
    assert cd[0, 0].tolist() == [weights[1, 448, 0, 0], 448, 1, 0, 0]
    capped = channel_kernels(weights, 3, max_inputs=10, page=2)
    assert "inputs 20–29 of 512 (page 3/52)" in capped.layout.title.text
    grouped = channel_kernels(weights[:, :2], 3, groups=2)  # out 3 is in group 1: inputs 2, 3
    assert decode(wire(grouped)["data"][0]["customdata"])[0, 0, 1] == 2


# ---------------------------------------------------------------- kernel_norm_window


def _window_check(win: dict, weights: np.ndarray, rows: list[int], outs: list[list[int]]) -> None:
    kh, kw = weights.shape[2:]
    z, cd = win["z"], win["customdata"]
    assert z.shape == (len(rows) * kh, len(outs[0]) * kw) and cd.shape == (*z.shape, 5)
    for ry, i in enumerate(rows):
        for cx, j in enumerate(outs[ry]):
            for r, c in [(0, 0), (kh - 1, kw - 1), (kh - 1, 0)]:
                y, x = ry * kh + r, cx * kw + c
                if j < 0:
                    assert np.isnan(z[y, x]) and (cd[y, x, 1:] == -1).all()
                    continue
                assert z[y, x] == weights[j, i, r, c]
                assert cd[y, x, 0] == weights[j, i, r, c] and cd[y, x, 2:].tolist() == [j, r, c]


def test_ovr09_window_shows_the_real_weights_inside_their_norm_cells() -> None:
    weights = RNG.standard_normal((12, 6, 3, 2)).astype(np.float32)
    win = kernel_norm_window(weights, (2.6, 5.2), (4.4, 1.3))  # y reversed, as plotly sends
    assert win is not None
    _window_check(win, weights, [1, 2, 3, 4], [[3, 4, 5]] * 4)
    assert (win["dx"], win["dy"]) == (1 / 2, 1 / 3)
    # cell (Y, X) is centred inside kernel (out j, in i)'s norm cell [j ± 0.5] × [i ± 0.5]
    assert win["x0"] == 3 - 0.5 + 0.25 and win["y0"] == 1 - 0.5 + 1 / 6
    last_x = win["x0"] + (win["z"].shape[1] - 1) * win["dx"]
    assert 5 - 0.5 < last_x < 5 + 0.5
    peak = float(np.abs(weights).max())
    assert (win["zmin"], win["zmax"]) == (-peak, peak)  # the layer's scale
    assert kernel_norm_window(weights, (2.6, 5.2), (4.4, 1.3), max_cells=20) is None
    assert kernel_norm_window(weights, (20, 30), (0, 3)) is None  # off the overview
    with pytest.raises(ValueError, match="x_range"):
        kernel_norm_window(weights, (0, float("nan")), (0, 1))


def test_ovr10_window_on_pooled_and_wrapped_overviews() -> None:
    weights = RNG.standard_normal((4, 8, 3, 3)).astype(np.float32)
    g = norm_geometry(weights.shape, 16)
    assert g.in_per_cell == 2  # input i occupies [i - 0.5, i + 0.5], as when unpooled
    win = kernel_norm_window(weights, (0.6, 1.6), (2.2, 3.8), overview_cells=16)
    assert win is not None
    _window_check(win, weights, [2, 3, 4], [[1, 2]] * 3)
    assert win["y0"] == 2 - 0.5 + 1 / 6
    depthwise = RNG.standard_normal((10, 1, 3, 3)).astype(np.float32)
    wrap = norm_geometry(depthwise.shape).wrap_cols
    win = kernel_norm_window(depthwise, (-0.5, wrap - 0.5), (0.6, 2.4), groups=10)
    assert win is not None
    outs = [[r * wrap + c if r * wrap + c < 10 else -1 for c in range(wrap)] for r in (1, 2)]
    _window_check(win, depthwise, [0, 0], outs)
    assert win["customdata"][0, 0, 1] == outs[0][0]  # depthwise: input = output channel


# ---------------------------------------------------------------- needs_overview


def test_ovr11_needs_overview_on_big_layers_not_on_tinyvgg() -> None:
    assert needs_overview((512, 512, 3, 3))  # VGG16 features.28
    assert needs_overview((2048, 512, 1, 1))  # ResNet-50 layer4.2.conv3
    assert needs_overview((960, 1, 5, 5))  # MobileNetV3 depthwise
    assert not needs_overview((16, 3, 3, 3))  # TinyVGG
    assert not needs_overview((512, 512, 3, 3), 4000, 2600)  # a wall-sized graph reads
    assert needs_overview((16, 3, 3, 3), 150, 100)
    assert needs_overview((16, 3, 3, 3), min_px=40)
