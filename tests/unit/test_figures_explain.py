"""Explanation, overlay and layer-statistics figures: the numbers the browser receives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard.figures import (
    activation_histogram,
    channel_stats_figure,
    explanation_figure,
    field_shapes,
    overlay_figure,
    pixel_marker,
)
from dashboard.figures.explain import NEGATIVE, POSITIVE, TOTAL_NEGATIVE, TOTAL_POSITIVE
from dashboard.figures.histogram import BAR, DEAD
from dashboard.views import dead_sentence
from tests.unit.figure_helpers import decode, wire

RNG = np.random.default_rng(20240612)


def unit(n: int, kh: int = 3, kw: int = 3, *, bias: float = 0.25, first: int = 0) -> dict:
    """Keyword arguments of explanation_figure for a random unit, value = Σ terms + bias."""
    patch = RNG.standard_normal((n, kh, kw))
    kernel = RNG.standard_normal((n, kh, kw))
    terms = np.einsum("cij,cij->c", kernel, patch)
    return {
        "value": float(terms.sum() + bias),
        "bias": bias,
        "terms": terms,
        "input_channels": np.arange(first, first + n),
        "patch": patch,
        "kernel": kernel,
        "channel": 7,
        "row": 3,
        "col": 5,
        "layer": "features.28",
    }


def heatmaps(fig_json: dict) -> list[dict]:
    return [t for t in fig_json["data"] if t["type"] == "heatmap"]


# ---------------------------------------------------------------- explanation_figure


def test_ex01_bars_sum_to_the_value_largest_terms_first() -> None:
    args = unit(512, first=512)
    fig = wire(explanation_figure(**args))
    bars = fig["data"][0]
    x = decode(bars["x"])
    order = np.argsort(-np.abs(args["terms"]), kind="stable")
    assert bars["y"] == [
        *(f"in {512 + i}" for i in order[:12]),
        "500 other channels",
        "bias",
        "total",
    ]
    np.testing.assert_array_equal(x[:12], args["terms"][order[:12]])
    assert x[12] == pytest.approx(args["terms"][order[12:]].sum(), rel=1e-12)
    assert x[13] == args["bias"]
    assert x[14] == args["value"]
    assert math.isclose(x[:14].sum(), args["value"], rel_tol=1e-9)
    assert bars["orientation"] == "h"
    assert "%{x:.6g}" in bars["hovertemplate"]
    assert bars["hovertext"][0] == f"input channel {512 + order[0]}"
    assert fig["layout"]["xaxis"]["title"]["text"] == "contribution to the activation"


def test_ex02_bar_colours_follow_the_sign_total_darker() -> None:
    args = unit(5, bias=-100.0)  # a negative total
    fig = wire(explanation_figure(**args))
    x = decode(fig["data"][0]["x"])
    colours = fig["data"][0]["marker"]["color"]
    assert colours[:-1] == [POSITIVE if v >= 0 else NEGATIVE for v in x[:-1]]
    assert colours[-1] == TOTAL_NEGATIVE
    assert len({POSITIVE, NEGATIVE, TOTAL_POSITIVE, TOTAL_NEGATIVE}) == 4


def test_ex03_rows_are_the_top_terms_with_patch_kernel_and_product() -> None:
    args = unit(40, 3, 5, first=100)
    fig = wire(explanation_figure(**args, top=3))
    order = np.argsort(-np.abs(args["terms"]))[:3]
    assert fig["layout"]["meta"]["explain"]["rows"] == [100 + int(i) for i in order]
    maps = heatmaps(fig)
    assert len(maps) == 9
    for r, i in enumerate(order):
        patch, kernel, product = (decode(t["z"]) for t in maps[3 * r : 3 * r + 3])
        np.testing.assert_array_equal(patch, args["patch"][i])
        np.testing.assert_array_equal(kernel, args["kernel"][i])
        np.testing.assert_array_equal(product, args["patch"][i] * args["kernel"][i])
        assert product.sum() == pytest.approx(args["terms"][i], rel=1e-12)
    labels = [a["text"] for a in fig["layout"]["annotations"]]
    assert labels[:3] == ["input patch", "kernel", "patch × kernel"]
    assert labels[3:] == [f"in {100 + i}: {args['terms'][i]:+.4g}" for i in order]


def test_ex04_heatmap_hover_is_raw_and_kernel_scales_centre_on_zero() -> None:
    fig = wire(explanation_figure(**unit(4), top=1))
    patch, kernel, product = heatmaps(fig)
    assert "row %{y}, col %{x}<br>patch %{z:.4g}" in patch["hovertemplate"]
    assert "<br>weight %{z:.4g}" in kernel["hovertemplate"]
    assert "<br>product %{z:.4g}" in product["hovertemplate"]
    layout = fig["layout"]
    assert [t["coloraxis"] for t in (patch, kernel, product)] == [
        "coloraxis",
        "coloraxis2",
        "coloraxis3",
    ]
    assert "cmid" not in layout["coloraxis"]
    assert layout["coloraxis2"]["cmid"] == layout["coloraxis3"]["cmid"] == 0


@pytest.mark.parametrize(("n", "kh", "kw"), [(1, 3, 3), (64, 1, 1), (3, 7, 7), (2, 11, 11)])
def test_ex05_any_group_and_kernel_size_draws_square_cells(n: int, kh: int, kw: int) -> None:
    fig = wire(explanation_figure(**unit(n, kh, kw)))
    maps = heatmaps(fig)
    assert len(maps) == 3 * min(3, n)
    for t in maps:
        k = t["xaxis"][1:]
        assert decode(t["z"]).shape == (kh, kw)
        xaxis, yaxis = fig["layout"][f"xaxis{k}"], fig["layout"][f"yaxis{k}"]
        assert xaxis["range"] == [-0.5, kw - 0.5]
        assert yaxis["range"] == [kh - 0.5, -0.5]
        assert yaxis["scaleanchor"] == f"x{k}"
    word = "term" if n == 1 else "terms"
    assert fig["layout"]["title"]["text"].endswith(f"= Σ {n} input-channel {word} + bias")


def test_ex06_non_square_kernel_and_title_and_meta() -> None:
    args = unit(6, 1, 7)
    fig = explanation_figure(**args)
    assert fig.layout.title.text == (
        f"features.28 · channel 7 at row 3, col 5: {args['value']:.4g}"
        " = Σ 6 input-channel terms + bias"
    )
    meta = fig.layout.meta["explain"]
    assert meta["value"] == args["value"]
    assert meta["bias"] == args["bias"]
    assert meta["sum"] == float(args["terms"].sum())
    assert (meta["channel"], meta["row"], meta["col"]) == (7, 3, 5)
    assert decode(wire(fig)["data"][1]["z"]).shape == (1, 7)


def test_ex07_all_zero_terms_show_only_the_bias() -> None:
    n = 20
    zeros = np.zeros((n, 3, 3))
    fig = wire(
        explanation_figure(
            value=0.5,
            bias=0.5,
            terms=np.zeros(n),
            input_channels=np.arange(n),
            patch=zeros,
            kernel=zeros,
            channel=0,
            row=0,
            col=0,
            layer="conv",
            max_bars=4,
        )
    )
    x = decode(fig["data"][0]["x"])
    assert fig["data"][0]["y"][:4] == ["in 0", "in 1", "in 2", "in 3"]  # ties: lower first
    np.testing.assert_array_equal(x, [0, 0, 0, 0, 0, 0.5, 0.5])
    assert fig["layout"]["meta"]["explain"]["sum"] == 0.0


def test_ex08_bad_input_raises_a_clear_value_error() -> None:
    args = unit(4)
    with pytest.raises(ValueError, match=r"patch .* and kernel .* must both be"):
        explanation_figure(**{**args, "kernel": args["kernel"][:, :2]})
    with pytest.raises(ValueError, match="input_channels must be 4 integers"):
        explanation_figure(**{**args, "input_channels": np.arange(3)})
    with pytest.raises(ValueError, match="input_channels must be 4 integers"):
        explanation_figure(**{**args, "input_channels": np.arange(4.0)})
    with pytest.raises(ValueError, match="terms must be a 1-D array"):
        explanation_figure(**{**args, "terms": args["terms"][None]})
    with pytest.raises(ValueError, match="pre-activation value"):
        explanation_figure(**{**args, "value": max(args["value"], 0.0) + 1.0})
    with pytest.raises(ValueError, match="top and max_bars must be at least 1"):
        explanation_figure(**args, top=0)


# ---------------------------------------------------------------- shapes


def test_sh01_field_shapes_cover_pixel_edges() -> None:
    shapes = field_shapes((10, 20, 40, 60), (-3, -5, 50, 70), xref="x3", yref="y3")
    theoretical, measured = shapes[1], shapes[3]  # each over a dark halo
    assert (measured["x0"], measured["x1"], measured["y0"], measured["y1"]) == (
        19.5,
        60.5,
        9.5,
        40.5,
    )
    assert (theoretical["x0"], theoretical["y0"]) == (-5.5, -3.5)  # drawn as given
    assert (theoretical["x1"], theoretical["y1"]) == (70.5, 50.5)
    assert measured["line"]["dash"] == "solid"
    assert theoretical["line"]["dash"] == "dash"
    assert measured["line"]["color"] != theoretical["line"]["color"]
    assert {(s["xref"], s["yref"]) for s in shapes} == {("x3", "y3")}
    assert shapes[0]["line"]["width"] > shapes[1]["line"]["width"]  # halo under the line


def test_sh02_either_field_may_be_missing_and_boxes_may_be_objects() -> None:
    class Box:
        top, left, bottom, right = 0, 0, 0, 0

    assert field_shapes(None, None) == []
    (_, only) = field_shapes(Box(), None)
    assert (only["x0"], only["x1"], only["y0"], only["y1"], only["xref"]) == (
        -0.5,
        0.5,
        -0.5,
        0.5,
        "x2",
    )
    assert len(field_shapes(None, (0, 0, 3, 3))) == 2
    with pytest.raises(ValueError, match="negative size"):
        field_shapes((5, 5, 4, 6), None)


def test_sh03_pixel_marker_outlines_one_pixel() -> None:
    marker = pixel_marker(3, 9)
    assert (marker["x0"], marker["x1"], marker["y0"], marker["y1"]) == (8.5, 9.5, 2.5, 3.5)
    assert (marker["xref"], marker["yref"], marker["type"]) == ("x", "y", "rect")


# ---------------------------------------------------------------- overlay_figure


def cell_edges(trace: dict, n: int, axis: str) -> np.ndarray:
    """Left/top edges of the n cells, then the far edge of the last one."""
    start, step = trace[f"{axis}0"], trace[f"d{axis}"]
    return start - step / 2 + step * np.arange(n + 1)


def test_ov01_map_covers_the_rgb_image_exactly() -> None:
    fmap = RNG.standard_normal((7, 7)).astype(np.float32)
    image = RNG.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    fig = wire(overlay_figure(fmap, image, channel=12, layer="layer4", opacity=0.4))
    picture, heat = fig["data"]
    assert picture["type"] == "image"
    assert (heat["x0"], heat["dx"], heat["y0"], heat["dy"]) == (15.5, 32.0, 15.5, 32.0)
    np.testing.assert_allclose(cell_edges(heat, 7, "x"), np.arange(8) * 32 - 0.5)
    assert heat["opacity"] == 0.4
    assert heat.get("zsmooth") in (None, False)
    np.testing.assert_array_equal(decode(heat["z"]), fmap)
    assert heat["colorbar"]["title"]["text"] == "activation"
    assert fig["layout"]["title"]["text"] == (
        "layer4 · channel 12 over the input (opacity adjustable)"
    )
    assert fig["layout"]["xaxis"]["range"] == [-0.5, 223.5]
    assert fig["layout"]["yaxis"]["range"] == [223.5, -0.5]  # row 0 on top


@pytest.mark.parametrize(("h", "w", "H", "W"), [(13, 10, 100, 150), (5, 3, 17, 224)])
def test_ov02_non_divisible_sizes_still_cover_the_image(h: int, w: int, H: int, W: int) -> None:
    image = RNG.random((H, W))  # gray
    fig = wire(overlay_figure(RNG.standard_normal((h, w)), image, channel=0, layer="c"))
    picture, heat = fig["data"]
    assert picture["type"] == "heatmap" and picture["showscale"] is False
    np.testing.assert_allclose(cell_edges(heat, w, "x"), np.arange(w + 1) * W / w - 0.5)
    np.testing.assert_allclose(cell_edges(heat, h, "y"), np.arange(h + 1) * H / h - 0.5)
    assert heat["opacity"] == 0.6


def test_ov03_hover_shows_map_row_col_and_the_raw_value() -> None:
    fmap = RNG.standard_normal((6, 9)) * 1e-3
    fig = wire(overlay_figure(fmap, RNG.random((60, 90)), channel=1, layer="c"))
    heat = fig["data"][1]
    assert "map row %{customdata[0]}, col %{customdata[1]}" in heat["hovertemplate"]
    assert "activation %{z:.4g}" in heat["hovertemplate"]
    cd = decode(heat["customdata"])
    assert cd.shape == (6, 9, 2)
    np.testing.assert_array_equal(cd[..., 0], np.repeat(np.arange(6)[:, None], 9, axis=1))
    np.testing.assert_array_equal(cd[..., 1], np.repeat(np.arange(9)[None, :], 6, axis=0))
    np.testing.assert_array_equal(decode(heat["z"]), fmap.astype(np.float32))
    assert heat["zmin"] == pytest.approx(fmap.min(), rel=1e-6)
    assert heat["zmax"] == pytest.approx(fmap.max(), rel=1e-6)


def test_ov04_large_map_and_image_are_block_averaged_in_place() -> None:
    fmap = RNG.standard_normal((224, 224)).astype(np.float32)
    image = RNG.integers(0, 256, (600, 600, 3), dtype=np.uint8)
    figure = overlay_figure(fmap, image, channel=0, layer="conv1")
    assert len(figure.to_json()) < 1_000_000
    fig = wire(figure)
    picture, heat = fig["data"]
    z = decode(heat["z"])
    assert z.shape == (112, 112)
    assert z[0, 0] == pytest.approx(fmap[:2, :2].mean(dtype=np.float64), rel=1e-5)
    np.testing.assert_allclose(cell_edges(heat, 112, "x"), np.arange(113) * 600 / 112 - 0.5)
    assert decode(heat["customdata"])[1, 1].tolist() == [2, 2]  # first cell of the block
    assert "mean of 2×2 map cells" in heat["hovertemplate"]
    assert picture["dx"] == 3 and fig["layout"]["xaxis"]["range"] == [-0.5, 599.5]


def test_ov05_bad_input_raises_a_clear_value_error() -> None:
    image = np.zeros((8, 8, 3), np.uint8)
    for bad in (-0.1, 1.5, float("nan"), "0.5"):
        with pytest.raises(ValueError, match=r"opacity must be a number in \[0, 1\]"):
            overlay_figure(np.ones((2, 2)), image, channel=0, layer="c", opacity=bad)
    with pytest.raises(ValueError, match="fmap must be a 2-D array"):
        overlay_figure(np.ones((1, 2, 2)), image, channel=0, layer="c")
    with pytest.raises(ValueError, match="image must be"):
        overlay_figure(np.ones((2, 2)), np.zeros((8, 8, 2)), channel=0, layer="c")


# ---------------------------------------------------------------- activation_histogram


def test_hi01_bars_are_the_bins_on_a_log_axis() -> None:
    edges = np.linspace(-2.0, 6.0, 33)
    counts = RNG.integers(0, 10**7, 32)
    counts[[0, 5]] = 0  # empty bins are fine
    fig = wire(activation_histogram(edges, counts, layer="layer2", source="after ReLU"))
    bar = fig["data"][0]
    np.testing.assert_allclose(decode(bar["x"]), (edges[:-1] + edges[1:]) / 2)
    np.testing.assert_allclose(decode(bar["width"]), np.diff(edges))
    np.testing.assert_array_equal(decode(bar["y"]), counts)
    np.testing.assert_array_equal(decode(bar["customdata"]), np.stack([edges[:-1], edges[1:]], 1))
    assert "from %{customdata[0]:.4g} to %{customdata[1]:.4g}" in bar["hovertemplate"]
    assert "values" in bar["hovertemplate"]
    assert "selectedpoints" not in bar
    layout = fig["layout"]
    assert layout["yaxis"]["type"] == "log"
    assert layout["yaxis"]["title"]["text"] == "values (log)"
    assert layout["xaxis"]["title"]["text"] == "activation (raw)"
    assert (layout["dragmode"], layout["selectdirection"]) == ("select", "h")
    # where the values were taken is in the sentence above (a chain's names run long)
    assert layout["title"]["text"] == "layer2: all its activations · drag across values"


def test_hi02_selected_bins_are_shaded() -> None:
    edges, counts = np.arange(11.0), np.ones(10)
    fig = wire(activation_histogram(edges, counts, layer="l", source="s", selected=(3, 6)))
    bar = fig["data"][0]
    assert bar["selectedpoints"] == [3, 4, 5, 6]
    assert bar["unselected"]["marker"]["opacity"] < bar["selected"]["marker"]["opacity"]


def test_hi03_bad_input_raises_a_clear_value_error() -> None:
    edges, counts = np.arange(5.0), np.ones(4)
    with pytest.raises(ValueError, match="strictly increasing"):
        activation_histogram(edges[::-1], counts, layer="l", source="s")
    with pytest.raises(ValueError, match="total must be 4 non-negative counts"):
        activation_histogram(edges, counts[:3], layer="l", source="s")
    with pytest.raises(ValueError, match="total must be 4 non-negative counts"):
        activation_histogram(edges, -counts, layer="l", source="s")
    with pytest.raises(ValueError, match="selected bins"):
        activation_histogram(edges, counts, layer="l", source="s", selected=(2, 4))


# ---------------------------------------------------------------- channel_stats_figure


def stats(c: int, dead: list[int]) -> dict:
    mean = RNG.random(c)
    flags = np.zeros(c, bool)
    flags[dead] = True
    return {
        "mean": mean,
        "maximum": mean + RNG.random(c),
        "std": RNG.random(c),
        "zeros": RNG.random(c),
        "dead": flags,
    }


@pytest.mark.parametrize("key", ["channel", "mean", "maximum", "std", "zeros"])
def test_cs01_bars_follow_the_order_with_all_stats_in_customdata(key: str) -> None:
    s = stats(20, [4, 17])
    order = RNG.permutation(20)
    fig = wire(channel_stats_figure(**s, key=key, order=order, layer="l", source="after ReLU"))
    bar = fig["data"][0]
    shown = s["mean"] if key == "channel" else s[key]
    np.testing.assert_array_equal(decode(bar["x"]), order)
    np.testing.assert_array_equal(decode(bar["y"]), shown[order].astype(np.float32))
    cd = decode(bar["customdata"])
    np.testing.assert_array_equal(cd[:, 0], order)
    for j, name in enumerate(["mean", "maximum", "std", "zeros"], start=1):
        np.testing.assert_array_equal(cd[:, j], s[name][order].astype(np.float32))
    assert bar["hovertemplate"].startswith("channel %{customdata[0]}<br>mean %{customdata[1]")
    assert "zeros %{customdata[4]:.0%}" in bar["hovertemplate"]
    assert fig["layout"]["xaxis"]["type"] == "category"
    assert fig["layout"]["xaxis"].get("showticklabels", True)  # 20 channels: labelled


def test_cs02_dead_channels_are_red_and_named_in_the_title() -> None:
    s = stats(100, [80, 4, 17])
    order = np.arange(100)[::-1].copy()
    fig = wire(channel_stats_figure(**s, key="mean", order=order, layer="l4", source="s"))
    marker = fig["data"][0]["marker"]
    np.testing.assert_array_equal(decode(marker["color"]), s["dead"][order])
    scale = dict((stop, colour) for stop, colour in marker["colorscale"])
    assert (scale[0.0], scale[1.0], marker["cmin"], marker["cmax"]) == (BAR, DEAD, 0, 1)
    assert fig["layout"]["title"]["text"] == "l4 · sorted by mean · 3 dead"


def test_cs03_long_dead_list_is_capped_and_many_channels_lose_tick_labels() -> None:
    s = stats(300, list(range(0, 300, 10)))
    order = np.arange(300)
    fig = wire(channel_stats_figure(**s, key="channel", order=order, layer="l", source="s"))
    assert fig["layout"]["title"]["text"] == "l · sorted by channel number · 30 dead"
    assert dead_sentence([int(c) for c in np.flatnonzero(s["dead"])], True) == (
        "30 channels are dead on this image (zero everywhere): "
        "0, 10, 20, 30, 40, 50, 60, 70, 80, 90 … and 20 more."
    )
    assert dead_sentence([7], False) == (
        "1 channel is dead on this image (one constant value everywhere): 7."
    )
    assert dead_sentence([], True) == "No channel is dead on this image."
    assert fig["layout"]["xaxis"]["showticklabels"] is False
    assert fig["layout"]["xaxis"]["title"]["text"] == "channels, sorted by channel number"


def test_cs04_2048_channels_stay_under_100_kb() -> None:
    c = 2048
    s = stats(c, list(range(0, c, 3)))
    order = np.argsort(-s["std"], kind="stable")
    fig = channel_stats_figure(**s, key="std", order=order, layer="layer4", source="s")
    assert len(fig.to_json()) < 100_000
    np.testing.assert_array_equal(decode(wire(fig)["data"][0]["customdata"])[:, 0], order)


def test_cs05_bad_input_raises_a_clear_value_error() -> None:
    s, names = stats(5, []), {"layer": "l", "source": "s"}
    with pytest.raises(ValueError, match="key must be one of"):
        channel_stats_figure(**s, key="median", order=np.arange(5), **names)
    with pytest.raises(ValueError, match=r"order must be a permutation of range\(5\)"):
        channel_stats_figure(**s, key="mean", order=np.array([0, 1, 2, 3, 3]), **names)
    with pytest.raises(ValueError, match="one value per channel"):
        channel_stats_figure(**{**s, "std": np.ones(4)}, key="mean", order=np.arange(5), **names)
