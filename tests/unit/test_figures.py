"""Figure builders: decode what plotly would send to the browser and check the numbers."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest

from dashboard.figures import (
    feature_detail,
    feature_geometry,
    feature_grid,
    kernel_grid,
    kernel_paging,
    kernel_rgb_grid,
    message_figure,
)
from tests.unit.figure_helpers import (
    channel_at,
    decode,
    feature_geometry_from_meta,
    kernel_at,
    kernel_paging_from_meta,
    trace_arrays,
    wire,
)

RNG = np.random.default_rng(20240607)


# ---------------------------------------------------------------- feature_grid


def test_fig01_feature_full_res_customdata_is_raw_value_and_position() -> None:
    maps = RNG.standard_normal((5, 6, 7)).astype(np.float32)
    fig = feature_grid(maps)
    trace, z, cd = trace_arrays(fig)
    g = feature_geometry_from_meta(fig.layout.meta)
    assert g.factor == 1 and trace["type"] == "heatmap"
    assert z.dtype == np.uint8 and cd.dtype == np.float32
    assert z.shape == (g.nrows * 6, g.ncols * 7) and cd.shape == (*z.shape, 4)
    for c, r, col in [(0, 0, 0), (4, 5, 6), (2, 3, 1), (3, 0, 6), (1, 5, 0)]:
        mr, mc = (c // g.ncols) * 6 + r, (c % g.ncols) * 7 + col
        assert cd[mr, mc, 0] == maps[c, r, col]  # exact, float32
        assert cd[mr, mc, 1:].tolist() == [c, r, col]
        assert channel_at(g, mr, mc) == c
    assert "%{customdata[0]:.4g}" in trace["hovertemplate"]
    assert "channel %{customdata[1]}" in trace["hovertemplate"]


def test_fig02_feature_downsampled_cell_is_block_mean_with_original_coordinates() -> None:
    maps = RNG.standard_normal((4, 30, 23)).astype(np.float32)
    fig = feature_grid(maps, max_cells=400)
    g = feature_geometry(maps.shape, 400)
    assert fig.layout.meta == {"grid": "feature", **asdict(g)}
    f = g.factor
    assert f > 1 and (g.tile_h, g.tile_w) == (-(-30 // f), -(-23 // f))
    _, _, cd = trace_arrays(fig)
    for c, br, bc in [(0, 0, 0), (3, g.tile_h - 1, g.tile_w - 1), (2, 1, g.tile_w - 1)]:
        mr, mc = (c // g.ncols) * g.tile_h + br, (c % g.ncols) * g.tile_w + bc
        block = maps[c, br * f : br * f + f, bc * f : bc * f + f].astype(np.float64)
        assert cd[mr, mc, 0] == pytest.approx(block.mean(), rel=1e-6)
        assert cd[mr, mc, 1:].tolist() == [c, br * f, bc * f]
    trace = wire(fig)["data"][0]
    assert f"{f}×{f}" in trace["hovertemplate"] and "mean of" in trace["hovertemplate"]
    assert "block means" in fig.layout.title.text


def test_fig03_feature_colour_per_tile_spans_0_255_constant_tile_is_0() -> None:
    maps = RNG.standard_normal((6, 5, 4)).astype(np.float32) * 100
    maps[2] = 0.0
    maps[4] = -3.5
    fig = feature_grid(maps)
    _, z, _ = trace_arrays(fig)
    g = feature_geometry(maps.shape)
    for c in range(6):
        tr, tc = divmod(c, g.ncols)
        tile = z[tr * 5 : tr * 5 + 5, tc * 4 : tc * 4 + 4]
        if c in (2, 4):
            assert (tile == 0).all()
        else:
            assert tile.min() == 0 and tile.max() == 255
            assert tile.flat[np.argmax(maps[c])] == 255


def test_fig04_feature_shared_scale_makes_dead_filters_stand_out() -> None:
    maps = RNG.uniform(0, 10, (4, 3, 3)).astype(np.float32)
    maps[1] = 0.0  # dead ReLU filter
    maps[0, 0, 0], maps[3, 2, 2] = -5.0, 20.0
    fig = feature_grid(maps, scale="shared")
    trace, z, _ = trace_arrays(fig)
    assert z[0, 0] == 0 and z.max() == 255
    assert (z[0:3, 3:6] == round(5 / 25 * 255)).all()  # channel 1 = 0.0 on a -5..20 scale
    assert trace["showscale"] is True and trace["colorbar"]["ticktext"] == ["-5", "20"]
    with pytest.raises(ValueError, match="scale"):
        feature_grid(maps, scale="log")


def test_fig05_feature_layout_is_lean_reversed_square_and_clickable() -> None:
    fig = feature_grid(RNG.standard_normal((3, 4, 4)).astype(np.float32), selected=1)
    layout = wire(fig)["layout"]
    assert len(json.dumps(layout["template"])) < 100  # no default template (~8 KB)
    assert layout["yaxis"]["range"][0] > layout["yaxis"]["range"][1]  # row 0 on top
    assert layout["yaxis"]["scaleanchor"] == "x"
    assert layout["xaxis"]["showticklabels"] is False and layout["xaxis"]["showgrid"] is False
    assert layout["clickmode"] == "event" and layout["uirevision"]
    shapes = layout["shapes"]
    assert shapes and shapes[-1]["x0"] == 3.5 and shapes[-1]["y0"] == -0.5  # tile 1 of 2×2
    separators = wire(fig)["data"][1]  # 3 tiles in a 2×2 grid: [mosaic, cover, separators]
    assert [t["type"] for t in wire(fig)["data"]] == ["heatmap", "scatter", "scatter"]
    assert wire(fig)["data"][2]["hoverinfo"] == "skip"
    assert separators["name"] == "empty" and separators["hoverinfo"] == "none"


def test_fig06_feature_padding_slots_carry_no_channel_and_are_covered() -> None:
    fig = feature_grid(RNG.standard_normal((5, 2, 2)).astype(np.float32))
    _, _, cd = trace_arrays(fig)  # 5 tiles in a 2×3 grid: slot 5 is padding
    assert (cd[2:4, 4:6, 1] == -1).all()
    cover = wire(fig)["data"][1]
    assert cover["fill"] == "toself" and cover["hoveron"] == "fills"
    bounds = (min(cover["x"]), max(cover["x"]), min(cover["y"]), max(cover["y"]))
    assert bounds == (3.5, 5.5, 1.5, 3.5)  # exactly the empty slot
    full = wire(feature_grid(RNG.standard_normal((4, 2, 2)).astype(np.float32)))["data"]
    assert len(full) == 2 and full[1]["hoverinfo"] == "skip" and "fill" not in full[1]
    assert isinstance(full[1]["x"], dict)  # separators travel as a binary typed array


def test_fig07_feature_nonfinite_and_degenerate_inputs() -> None:
    maps = np.zeros((3, 4, 4), dtype=np.float64)
    maps[0, 1, 1], maps[1, 2, 2], maps[2, 0, 0] = np.nan, np.inf, -np.inf
    fig = feature_grid(maps)
    trace, _, cd = trace_arrays(fig)
    assert np.isfinite(cd).all() and "NaN/Inf" in trace["hovertemplate"]
    assert "3 NaN/Inf shown as 0" in fig.layout.title.text
    one = feature_grid(np.array([[[7]]], dtype=np.int8), selected=0)
    _, z1, cd1 = trace_arrays(one)
    assert z1.tolist() == [[0]] and cd1.tolist() == [[[7.0, 0.0, 0.0, 0.0]]]
    with pytest.raises(ValueError, match="maps must be a 3-D array"):
        feature_grid(np.zeros((4, 4)))
    with pytest.raises(TypeError, match="maps must hold real numbers"):
        feature_grid(np.zeros((1, 2, 2), dtype=complex))
    with pytest.raises(ValueError, match="empty"):
        feature_grid(np.zeros((0, 2, 2)))


# ---------------------------------------------------------------- kernel_grid


def test_fig08_kernel_customdata_is_the_raw_weight_at_in_out_row_col() -> None:
    weights = RNG.standard_normal((7, 5, 3, 2)).astype(np.float32)
    fig = kernel_grid(weights)
    trace, z, cd = trace_arrays(fig)
    assert z.shape == (5 * 3, 7 * 2) and cd.shape == (15, 14, 5) and cd.dtype == np.float32
    for _ in range(25):
        j, i, r, c = (int(RNG.integers(n)) for n in weights.shape)
        cell = cd[i * 3 + r, j * 2 + c]
        assert cell[0] == weights[j, i, r, c]  # exact float32
        assert cell[1:].tolist() == [i, j, r, c]
    assert trace["hovertemplate"].startswith("out %{customdata[2]} · in %{customdata[1]}")
    assert fig.layout.meta["grid"] == "kernel"
    assert kernel_paging_from_meta(fig.layout.meta) == (kernel_paging(weights.shape), 0)


def test_fig09_kernel_colour_is_diverging_and_centred_on_zero() -> None:
    weights = RNG.standard_normal((3, 2, 3, 3)).astype(np.float32)
    weights[1, 0] = 0.0
    _, z, cd = trace_arrays(kernel_grid(weights))
    raw = cd[..., 0]
    assert (z[raw > 0] >= 128).all() and (z[raw < 0] <= 127).all()
    assert (z[0:3, 3:6] == 128).all()  # all-zero tile: neutral, no division by zero
    for j in range(3):
        for i in range(2):
            if j == 1 and i == 0:
                continue
            tile = z[i * 3 : i * 3 + 3, j * 3 : j * 3 + 3]
            assert tile.max() == 255 or tile.min() == 0  # the tile's largest |w| saturates


def test_fig10_kernel_pages_cover_every_output_channel_exactly_once() -> None:
    weights = RNG.standard_normal((23, 4, 3, 3)).astype(np.float32)
    max_cells = 4 * 9 * 5  # 5 output channels per page
    paging = kernel_paging(weights.shape, max_cells)
    seen: list[int] = []
    for page in range(paging.pages):
        fig = kernel_grid(weights, page=page, max_cells=max_cells)
        _, _, cd = trace_arrays(fig)
        columns = cd[0, ::3, 2].astype(int).tolist()
        np.testing.assert_array_equal(cd[1 * 3 + 2, 1, 0], weights[columns[0], 1, 2, 1])
        assert fig.layout.meta["page"] == page and len(columns) <= paging.per_page
        seen += columns
    assert seen == list(range(23))
    last = kernel_grid(weights, page=99, max_cells=max_cells)
    assert last.layout.meta["page"] == paging.pages - 1  # clamped, not an error


def test_fig11_kernel_title_and_ticks_say_which_part_is_shown() -> None:
    weights = np.zeros((200, 64, 3, 3), dtype=np.float32)
    fig = kernel_grid(weights, page=2, max_cells=50 * 64 * 9)  # 50 per page: not wrapped
    assert "output channels 100–149 of 200 (page 3/4)" in fig.layout.title.text
    xaxis, yaxis = wire(fig)["layout"]["xaxis"], wire(fig)["layout"]["yaxis"]
    assert xaxis["ticktext"][0] == "100" and xaxis["tickvals"][0] == 1.0  # centre of tile 0
    assert len(yaxis["ticktext"]) <= 32 and yaxis["title"]["text"] == "input channel"
    assert xaxis["title"]["text"] == "output channel"


def test_fig12_grouped_and_depthwise_input_channels_are_absolute() -> None:
    weights = RNG.standard_normal((8, 2, 3, 3)).astype(np.float32)
    fig = kernel_grid(weights, groups=4)  # 2 outputs per group, 2 inputs each
    paging, page = kernel_paging_from_meta(fig.layout.meta)
    _, _, cd = trace_arrays(fig)
    found = 0
    for row, col in np.ndindex(cd.shape[:2]):
        at = kernel_at(paging, page, row, col)
        if at is not None:  # (output channel, input channel within its group)
            j, i = at
            assert cd[row, col, 1] == (j // 2) * 2 + i and cd[row, col, 2] == j
            found += 1
    assert found == weights.size
    assert "within group" in fig.layout.yaxis.title.text
    depthwise = kernel_grid(RNG.standard_normal((6, 1, 3, 3)).astype(np.float32), groups=6)
    _, z, cd = trace_arrays(depthwise)
    assert z.shape == (3 + 1 + 3, 9)  # 2 bands of 3 outputs, one gap row apart
    assert cd[0, ::3, 1].tolist() == [0, 1, 2] == cd[0, ::3, 2].tolist()
    assert cd[4, ::3, 1].tolist() == [3, 4, 5] == cd[4, ::3, 2].tolist()
    with pytest.raises(ValueError, match="groups"):
        kernel_grid(weights, groups=3)


def test_fig13_kernel_outline_lands_on_the_selected_column() -> None:
    weights = RNG.standard_normal((12, 2, 3, 3)).astype(np.float32)
    max_cells = 2 * 9 * 4  # 4 per page
    fig = kernel_grid(weights, page=1, max_cells=max_cells, selected=6)
    s = fig.layout.shapes[-1]
    _, _, cd = trace_arrays(fig)
    inside = cd[:, int(s.x0 + 0.5) : int(s.x1 + 0.5), 2]
    assert (inside == 6).all() and inside.shape == (6, 3)
    assert kernel_grid(weights, page=0, max_cells=max_cells, selected=6).layout.shapes == ()


# ---------------------------------------------------------------- kernel_rgb_grid


def test_fig14_rgb_tiles_hover_raw_weights_and_centre_gray() -> None:
    weights = RNG.standard_normal((5, 3, 4, 4)).astype(np.float32)
    weights[3] = 0.0
    fig = kernel_rgb_grid(weights, selected=4)
    trace = wire(fig)["data"][0]
    z, cd = decode(trace["z"]), decode(trace["customdata"])
    g = feature_geometry_from_meta(fig.layout.meta)
    assert trace["type"] == "image" and z.dtype == np.uint8 and z.shape == (8, 12, 3)
    for o, r, c in [(0, 0, 0), (4, 3, 2), (2, 1, 3)]:
        mr, mc = (o // g.ncols) * 4 + r, (o % g.ncols) * 4 + c
        np.testing.assert_array_equal(cd[mr, mc, :3], weights[o, :, r, c])
        assert cd[mr, mc, 3:].tolist() == [o, r, c] and channel_at(g, mr, mc) == o
        tile = z[mr - r : mr - r + 4, mc - c : mc - c + 4]
        if o != 3:
            assert tile.max() == 255 or tile.min() == 0  # 127.5 ± 127.5 * w / max|w|
    assert (z[4:8, 0:4] == 128).all()  # channel 3 (row 1, col 0) is all zero: neutral gray
    assert "R %{customdata[0]:.4g}" in trace["hovertemplate"]
    assert fig.layout.shapes[-1].x0 == 3.5 and fig.layout.shapes[-1].y0 == 3.5
    with pytest.raises(ValueError, match="3 input channels"):
        kernel_rgb_grid(np.zeros((4, 2, 3, 3)))


# ---------------------------------------------------------------- feature_detail


def test_fig15_detail_shows_raw_map_with_stats_next_to_the_image() -> None:
    fmap = RNG.standard_normal((12, 9)).astype(np.float32)
    image = RNG.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    fig = feature_detail(fmap, channel=12, layer="features.0", image=image)
    data = wire(fig)["data"]
    np.testing.assert_array_equal(decode(data[0]["z"]), fmap)
    hover = data[0]["hovertemplate"]
    assert "activation %{z:.4g}" in hover and "row %{y}, col %{x}" in hover
    assert data[1]["type"] == "image" and data[1]["xaxis"] == "x2"
    np.testing.assert_array_equal(decode(data[1]["z"]), image)
    title = fig.layout.title.text
    assert title.startswith("features.0 · channel 12 · min ")
    assert f"max {fmap.max():.4g}" in title and f"mean {fmap.mean(dtype=np.float64):.4g}" in title


def test_fig16_detail_constant_map_says_dead_filter_and_picks_channel() -> None:
    maps = RNG.standard_normal((4, 6, 6)).astype(np.float32)
    maps[2] = 0.0
    fig = feature_detail(maps, channel=2, layer="conv1", image=RNG.random((6, 6)))
    assert "constant map (dead filter?)" in fig.layout.title.text
    data = wire(fig)["data"]
    assert data[1]["type"] == "heatmap" and data[1]["colorscale"][0][1] == "black"
    with pytest.raises(ValueError, match="channel 4"):
        feature_detail(maps, channel=4, layer="conv1")


def test_fig17_detail_downsamples_large_maps_honestly() -> None:
    fmap = RNG.standard_normal((600, 300)).astype(np.float32)
    fig = feature_detail(fmap, channel=0, layer="big", max_side=512)
    trace = wire(fig)["data"][0]
    z = decode(trace["z"])
    assert z.shape == (300, 150) and (trace["dx"], trace["x0"]) == (2, 0.5)
    assert z[10, 20] == pytest.approx(fmap[20:22, 40:42].astype(np.float64).mean(), rel=1e-6)
    assert "600×300 shown as 2×2 block means" in fig.layout.title.text
    assert "mean of 2×2" in trace["hovertemplate"]


def test_fig18_message_figure_is_blank_with_escaped_text() -> None:
    fig = message_figure("Pick a layer <b>now</b>\nplease")
    assert len(fig.data) == 0 and fig.layout.xaxis.visible is False
    assert fig.layout.annotations[0].text == "Pick a layer &lt;b&gt;now&lt;/b&gt;<br>please"


def test_fig19_detail_image_variants_rgba_float_and_large() -> None:
    fmap = np.ones((4, 4), dtype=np.float32)
    rgba = RNG.integers(0, 256, (5, 6, 4), dtype=np.uint8)
    data = wire(feature_detail(fmap, channel=0, layer="l", image=rgba))["data"]
    np.testing.assert_array_equal(decode(data[1]["z"]), rgba[..., :3])
    unit = RNG.random((5, 6, 3))
    unit[0, 0, 0] = np.nan
    fig = feature_detail(fmap, channel=0, layer="l", image=unit)
    z = decode(wire(fig)["data"][1]["z"])
    np.testing.assert_array_equal(z[1:], np.rint(unit[1:] * 255).astype(np.uint8))
    assert z[0, 0, 0] == 0 and "1 NaN/Inf shown as 0" in fig.layout.xaxis2.title.text
    big = RNG.integers(0, 256, (600, 600, 3), dtype=np.uint8)
    image_trace = wire(feature_detail(fmap, channel=0, layer="l", image=big))["data"][1]
    assert decode(image_trace["z"]).shape == (200, 200, 3) and image_trace["dx"] == 3
    with pytest.raises(ValueError, match="image must be"):
        feature_detail(fmap, channel=0, layer="l", image=np.zeros((2, 2, 2)))
