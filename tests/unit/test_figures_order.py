"""Sorted grids: a display order moves tiles and columns, never their channel numbers.

Every grid takes `order` (position p draws channel order[p]). The oracle is the same
figure unsorted: whatever it draws for channel c (values, colours, row/col, input channels)
the sorted one must draw at position inverse[c], naming c. Identity orders must give
today's figure byte for byte, and anything but a permutation is refused.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from plotly.utils import PlotlyJSONEncoder

from dashboard.figures import (
    feature_geometry,
    feature_grid,
    feature_outline,
    feature_window,
    kernel_grid,
    kernel_norm_overview,
    kernel_norm_window,
    kernel_outline,
    kernel_paging,
    kernel_rgb_grid,
    norm_geometry,
    norm_outline,
    overview_channel,
    page_of,
)
from dashboard.figures.paging import kernel_layout, page_channels, page_range
from dashboard.figures.tiles import checked_order, kernel_rgb_geometry
from tests.unit.figure_helpers import (
    decode,
    feature_geometry_from_meta,
    tile_at,
    trace_arrays,
    wire,
)
from tests.wire import cell_data

RNG = np.random.default_rng(20250101)
CELLS_JS = Path(__file__).resolve().parents[2] / "assets" / "cells.js"


def permutation(n: int) -> np.ndarray:
    """A random order that moves (almost) every channel."""
    order = RNG.permutation(n)
    while n > 1 and np.array_equal(order, np.arange(n)):
        order = RNG.permutation(n)
    return order


def inverse(order: np.ndarray) -> np.ndarray:
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    return inv


def feature_tiles(fig, g) -> tuple[np.ndarray, np.ndarray]:
    """(z, customdata) of a feature-like mosaic per tile position: (slots, th, tw[, k])."""
    _, z, cd = trace_arrays(fig)
    th, tw = g.tile_h, g.tile_w

    def split(a: np.ndarray) -> np.ndarray:
        tiles = a.reshape(g.nrows, th, g.ncols, tw, *a.shape[2:]).swapaxes(1, 2)
        return tiles.reshape(g.nrows * g.ncols, th, tw, *a.shape[2:])

    return split(z), split(cd)


def rect_centre(shapes) -> tuple[float, float]:
    core = shapes[-1]
    return (core["x0"] + core["x1"]) / 2, (core["y0"] + core["y1"]) / 2


def same_json(a, b) -> bool:
    return a.to_json() == b.to_json()


def window_json(window: dict) -> str:
    """A zoom window's properties as plotly would send them (arrays as exact numbers)."""
    return json.dumps(window, cls=PlotlyJSONEncoder, sort_keys=True)


# ---------------------------------------------------------------- the order itself


@pytest.mark.parametrize(
    ("order", "words"),
    [
        ([0, 1, 1, 3], "exactly once"),
        ([1, 2, 3, 4], "exactly once"),
        ([-1, 0, 1, 2], "exactly once"),
        ([0, 1, 2], "each of the 4"),
        ([0.0, 1.0, 2.0, 3.0], "integers"),
        ([True, False, True, True], "integers"),
        ([[0, 1], [2, 3]], "shape"),
        (["0", "1", "2", "3"], "integers"),
    ],
)
def test_ord01_checked_order_refuses_all_but_a_permutation(order, words) -> None:
    with pytest.raises(ValueError, match="display order") as info:
        checked_order(order, 4)
    assert words in str(info.value)


def test_ord02_identity_is_none_and_a_permutation_comes_back_as_int64() -> None:
    assert checked_order(None, 5) is None
    assert checked_order(np.arange(5), 5) is None
    assert checked_order([0, 1, 2, 3, 4], 5) is None
    got = checked_order(np.array([2, 0, 1], dtype=np.uint8), 3)
    assert got.dtype == np.int64 and got.tolist() == [2, 0, 1]


BAD = np.array([0, 0, 1, 2, 3, 4, 5, 6])  # 8 long, 7 missing


@pytest.mark.parametrize(
    "call",
    [
        lambda: feature_grid(np.zeros((8, 3, 3)), order=BAD),
        lambda: feature_window(
            np.zeros((8, 9, 9)),
            feature_geometry((8, 9, 9), 200),
            (0, 3),
            (0, 3),
            order=BAD,
        ),
        lambda: feature_outline(feature_geometry((8, 3, 3)), 2, order=BAD),
        lambda: kernel_grid(np.zeros((8, 2, 3, 3)), order=BAD),
        lambda: kernel_grid(np.zeros((8, 2, 3, 3)), order=np.arange(7)),
        lambda: kernel_outline(kernel_paging((8, 2, 3, 3)), 0, 1, order=BAD),
        lambda: page_of(kernel_paging((8, 2, 3, 3)), 1, order=BAD),
        lambda: kernel_norm_overview(np.zeros((8, 2, 3, 3)), order=BAD),
        lambda: kernel_norm_window(np.zeros((8, 2, 3, 3)), (0, 3), (0, 1), order=BAD),
        lambda: norm_outline(norm_geometry((8, 2, 3, 3)), 1, order=BAD),
        lambda: overview_channel(asdict(norm_geometry((8, 2, 3, 3))), 1, 0, order=BAD),
        lambda: kernel_rgb_grid(np.zeros((8, 3, 3, 3)), order=BAD),
    ],
)
def test_ord03_every_figure_refuses_an_order_that_is_not_a_permutation(call) -> None:
    with pytest.raises(ValueError, match="display order"):
        call()


# ---------------------------------------------------------------- identity = today


@pytest.mark.parametrize(
    "build",
    [
        lambda maps, **kw: feature_grid(maps, selected=3, **kw),
        lambda maps, **kw: feature_grid(maps, max_cells=300, scale="shared", selected=5, **kw),
    ],
)
def test_ord04_feature_identity_order_gives_todays_figure_byte_for_byte(build) -> None:
    maps = RNG.standard_normal((7, 9, 11)).astype(np.float32)
    today = build(maps)
    assert "order" not in today.layout.meta and "order" not in today.data[0].meta["cells"]
    for order in (None, np.arange(7), list(range(7))):
        assert same_json(build(maps, order=order), today)
    g = feature_geometry(maps.shape, 300)
    window = feature_window(maps, g, (-0.5, 20), (-0.5, 9))
    assert window is not None
    same = feature_window(maps, g, (-0.5, 20), (-0.5, 9), order=np.arange(7))
    assert window_json(same) == window_json(window)
    assert feature_outline(g, 4, order=np.arange(7)) == feature_outline(g, 4)


@pytest.mark.parametrize(
    "shape",
    [(64, 3, 3, 3), (12, 512, 3, 3), (40, 20, 3, 3), (8, 1, 3, 3), (512, 512, 3, 3)],
)
def test_ord05_kernel_identity_order_gives_todays_figures_byte_for_byte(shape) -> None:
    weights = RNG.standard_normal(shape).astype(np.float32)
    n = shape[0]
    ident = np.arange(n)
    paging = kernel_paging(shape)
    last = paging.pages - 1
    for page in {0, last}:
        today = kernel_grid(weights, page=page, selected=n - 1, groups=1)
        assert same_json(kernel_grid(weights, page=page, selected=n - 1, order=ident), today)
        assert kernel_outline(paging, page, n - 1, order=ident) == kernel_outline(
            paging, page, n - 1
        )
    assert page_of(paging, n - 1, order=ident) == page_of(paging, n - 1)
    today = kernel_norm_overview(weights, selected=1)
    assert same_json(kernel_norm_overview(weights, selected=1, order=ident), today)
    window = kernel_norm_window(weights, (-0.5, 3.5), (-0.5, 1.5))
    same = kernel_norm_window(weights, (-0.5, 3.5), (-0.5, 1.5), order=ident)
    assert window_json(same) == window_json(window)
    meta = dict(today.layout.meta)
    assert overview_channel(meta, 2, 0, order=ident) == overview_channel(meta, 2, 0)
    if shape[1] == 3:
        today = kernel_rgb_grid(weights, selected=2)
        assert same_json(kernel_rgb_grid(weights, selected=2, order=ident), today)


# ---------------------------------------------------------------- feature grid


@pytest.mark.parametrize(
    ("shape", "max_cells", "scale"),
    [
        ((13, 6, 7), 65_536, "tile"),  # full resolution, short last row
        ((13, 6, 7), 65_536, "shared"),
        ((10, 30, 23), 400, "tile"),  # block means
        ((300, 1, 1), 65_536, "tile"),  # 1×1 maps
    ],
)
def test_ord06_feature_tile_at_each_position_is_the_true_channel(shape, max_cells, scale) -> None:
    maps = RNG.standard_normal(shape).astype(np.float32)
    c = shape[0]
    order = permutation(c)
    today = feature_grid(maps, max_cells=max_cells, scale=scale)
    fig = feature_grid(maps, max_cells=max_cells, scale=scale, order=order)
    g = feature_geometry_from_meta(fig.layout.meta)
    assert g == feature_geometry_from_meta(today.layout.meta)
    z0, cd0 = feature_tiles(today, g)
    z1, cd1 = feature_tiles(fig, g)
    for p in range(c):
        ch = order[p]
        np.testing.assert_array_equal(z1[p], z0[ch])  # same colours: the channel's own scale
        np.testing.assert_array_equal(cd1[p][..., [0, 2, 3]], cd0[ch][..., [0, 2, 3]])
        assert set(np.unique(cd1[p][..., 1])) == {ch}  # every cell names the true channel
    assert (cd1[c:, ..., 1] == -1).all()  # empty slots stay padding
    wired = wire(fig)
    assert wired["data"][0]["meta"]["cells"]["order"] == order.tolist()
    assert wired["layout"]["meta"]["order"] == order.tolist()
    assert "(sorted)" in wired["layout"]["title"]["text"]
    assert "channel %{customdata[1]}" in wired["data"][0]["hovertemplate"]


def test_ord07_feature_outline_follows_the_channel_to_its_position() -> None:
    maps = RNG.standard_normal((13, 6, 7)).astype(np.float32)
    order = permutation(13)
    g = feature_geometry(maps.shape)
    for ch in (0, 5, 12):
        p = int(inverse(order)[ch])
        want = feature_outline(g, p)  # the unsorted outline of that position
        assert feature_outline(g, ch, order=order) == want
        drawn = feature_grid(maps, selected=ch, order=order).layout.shapes
        assert [s.to_plotly_json() for s in drawn] == want
        x, y = rect_centre(want)
        assert (int(y) // g.tile_h) * g.ncols + int(x) // g.tile_w == p
    assert feature_outline(g, 13, order=order) == [] and feature_outline(g, None, order=order) == []


def test_ord08_feature_window_shows_each_positions_true_pixels() -> None:
    maps = RNG.permutation(np.arange(11 * 20 * 17, dtype=np.float32)).reshape(11, 20, 17)
    order = permutation(11)
    g = feature_geometry(maps.shape, 600)
    assert g.factor > 1
    f = g.factor
    x_range = (-0.5, g.ncols * g.tile_w - 0.5)
    y_range = (g.nrows * g.tile_h - 0.5, -0.5)
    today = feature_window(maps, g, x_range, y_range, max_cells=10**7)
    window = feature_window(maps, g, x_range, y_range, max_cells=10**7, order=order)
    assert window["meta"]["cells"]["order"] == order.tolist()
    cd = cell_data(window)  # what cells.js derives from meta.cells (its Python mirror)
    ph, pw = f * g.tile_h, f * g.tile_w
    for p in range(11):
        ch = order[p]
        tr, tc = divmod(p, g.ncols)
        tile = cd[tr * ph : tr * ph + 20, tc * pw : tc * pw + 17]
        np.testing.assert_array_equal(tile[..., 0], maps[ch])
        assert (tile[..., 1] == ch).all()
        np.testing.assert_array_equal(
            tile[..., 2], np.broadcast_to(np.arange(20)[:, None], (20, 17))
        )
        np.testing.assert_array_equal(tile[..., 3], np.broadcast_to(np.arange(17), (20, 17)))
        # the channel's colours, as the unsorted window draws them at its own place
        sr, sc = divmod(int(ch), g.ncols)
        np.testing.assert_array_equal(
            window["z"][tr * ph : tr * ph + 20, tc * pw : tc * pw + 17],
            today["z"][sr * ph : sr * ph + 20, sc * pw : sc * pw + 17],
        )
        pad = cd[tr * ph : (tr + 1) * ph, tc * pw : (tc + 1) * pw]
        assert (pad[20:, :, 1] == -1).all() and (pad[:, 17:, 1] == -1).all()


def test_ord09_cells_js_reports_the_order_as_the_python_mirror_does() -> None:
    """Run assets/cells.js itself (node) on a sorted trace: the same customdata as cell_data."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    maps = RNG.standard_normal((7, 5, 4)).astype(np.float32)
    order = permutation(7)
    wired = {}
    for name, o in (("sorted", order), ("plain", None)):
        wired[name] = wire(feature_grid(maps, order=o))["data"][0]
    script = """
    const fs = require('fs');
    let got = null;
    globalThis.window = {Plotly: {newPlot(gd, data) { got = data; }, react() {}}};
    eval(fs.readFileSync(process.argv[1], 'utf8'));
    const traces = JSON.parse(fs.readFileSync(0, 'utf8'));
    const out = traces.map(t => {
      window.Plotly.newPlot(null, [t]);
      return got[0].customdata.map(row => row.map(cell => Array.from(cell)));
    });
    process.stdout.write(JSON.stringify(out));
    """
    result = subprocess.run(
        [node, "-e", script, str(CELLS_JS)],
        input=json.dumps([wired["sorted"], wired["plain"]]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    sorted_js, plain_js = (np.asarray(a, dtype=np.float32) for a in json.loads(result.stdout))
    np.testing.assert_array_equal(sorted_js, cell_data(wired["sorted"]))
    np.testing.assert_array_equal(plain_js, cell_data(wired["plain"]))
    assert set(np.unique(sorted_js[..., 1])) == {-1, *range(7)}
    assert not np.array_equal(sorted_js[..., 1], plain_js[..., 1])


# ---------------------------------------------------------------- kernel grid


def page_tiles(layout, channels, z: np.ndarray, cd: np.ndarray) -> dict:
    """(channel, input) -> (z tile, customdata tile) of one page, via its documented layout."""
    kh, kw = layout.kh, layout.kw
    tiles = {}
    for r in range(z.shape[0]):
        for c in range(z.shape[1]):
            tile = tile_at(layout, r, c)
            if tile is None or (r % layout.band_pitch) % kh or (c % layout.block_pitch) % kw:
                continue
            k, i = tile
            tiles[(int(channels[k]), i)] = (z[r : r + kh, c : c + kw], cd[r : r + kh, c : c + kw])
    return tiles


@pytest.mark.parametrize(
    ("shape", "groups", "max_cells", "kind"),
    [
        ((20, 6, 3, 3), 1, 600, "plain"),  # several plain pages
        ((64, 3, 3, 3), 1, 57_344, "bands"),
        ((61, 3, 3, 3), 1, 57_344, "bands"),  # a tail in the last band
        ((12, 512, 3, 3), 1, 57_344, "blocks"),
        ((16, 4, 3, 3), 2, 300, "plain"),  # groups=2 over several pages
        ((24, 1, 3, 3), 24, 57_344, "bands"),  # depthwise
        ((24, 1, 3, 3), 24, 40, "plain"),  # depthwise, paged
    ],
)
@pytest.mark.parametrize("scale", ["tile", "channel", "layer"])
def test_ord10_kernel_columns_show_the_true_channels_weights_and_numbers(
    shape, groups, max_cells, kind, scale
) -> None:
    weights = RNG.standard_normal(shape).astype(np.float32)
    out, inp = shape[:2]
    order = permutation(out)
    # the unsorted layer on one page: what each (channel, input) tile must look like
    _, z0, cd0 = trace_arrays(kernel_grid(weights, groups=groups, max_cells=10**9, scale=scale))
    oracle = page_tiles(kernel_layout(kernel_paging(shape, 10**9), 0), np.arange(out), z0, cd0)
    paging = kernel_paging(shape, max_cells)
    seen = []
    for page in range(paging.pages):
        fig = kernel_grid(
            weights, page=page, groups=groups, max_cells=max_cells, scale=scale, order=order
        )
        layout = kernel_layout(paging, page)
        assert {"plain": layout.bands == layout.blocks == 1}.get(kind, True)
        assert kind != "bands" or layout.bands > 1
        assert kind != "blocks" or layout.blocks > 1
        start, stop = page_range(paging, page)
        channels = order[start:stop]
        np.testing.assert_array_equal(page_channels(paging, page, order=order), channels)
        _, z, cd = trace_arrays(fig)
        tiles = page_tiles(layout, channels, z, cd)
        assert len(tiles) == len(channels) * inp
        for (ch, i), (zt, cdt) in tiles.items():
            group = ch // (out // groups)
            np.testing.assert_array_equal(cdt[..., 0], weights[ch, i])
            assert (cdt[..., 1] == group * inp + i).all()  # its own group's input channel
            assert (cdt[..., 2] == ch).all()
            np.testing.assert_array_equal(cdt, oracle[(ch, i)][1])
            np.testing.assert_array_equal(zt, oracle[(ch, i)][0])  # the channel's colours
        seen += channels.tolist()
        assert fig.layout.meta["order"] == order.tolist()
        check_kernel_labels(fig, layout, channels, start, paging.pages)
    assert sorted(seen) == list(range(out))


def check_kernel_labels(fig, layout, channels, start: int, pages: int) -> None:
    """Every output-channel label sits over a column showing that very channel."""
    wired = wire(fig)["layout"]
    texts = 0
    for note in wired.get("annotations", []):  # numbers above the top band / every block
        tile = tile_at(layout, 0, round(note["x"]))
        assert tile is not None and note["text"] == str(channels[tile[0]])
        texts += 1
    xaxis, yaxis = wired["xaxis"], wired["yaxis"]
    if layout.blocks == 1:  # x ticks name output channels (the bottom band's)
        row = (layout.bands - 1) * layout.band_pitch
        for value, text in zip(xaxis["tickvals"], xaxis["ticktext"], strict=True):
            tile = tile_at(layout, row, round(value))
            assert tile is not None and text == str(channels[tile[0]])
            texts += 1
        assert "sorted" in xaxis["title"]["text"]
    if layout.bands > 1:  # bands are named by rank, not by a channel range
        for value, text in zip(yaxis["tickvals"], yaxis["ticktext"], strict=True):
            band = round(value) // layout.band_pitch
            first = start + band * layout.band_cols + 1
            last = min(start + layout.outputs, start + (band + 1) * layout.band_cols)
            assert text == (f"rank {first}–{last}" if last > first else f"rank {first}")
    assert texts > 0
    title = wired["title"]["text"]
    if pages > 1:
        assert f"ranked {start + 1}–{start + layout.outputs} of" in title
    assert "sorted" in title


def test_ord11_page_of_and_kernel_outline_find_the_channels_position() -> None:
    shape = (61, 3, 3, 3)
    weights = RNG.standard_normal(shape).astype(np.float32)
    order = permutation(61)
    inv = inverse(order)
    paging = kernel_paging(shape, 400)
    assert paging.pages > 2
    for ch in range(61):
        page = page_of(paging, ch, order=order)
        assert page == inv[ch] // paging.per_page
        assert ch in page_channels(paging, page, order=order)
        shapes = kernel_outline(paging, page, ch, order=order)
        assert shapes == kernel_outline(paging, page, int(inv[ch]))  # that position's box
        layout = kernel_layout(paging, page)
        x, y = rect_centre(shapes)
        k, _ = tile_at(layout, int(y), int(x))
        assert page_channels(paging, page, order=order)[k] == ch
        other = (page + 1) % paging.pages
        assert kernel_outline(paging, other, ch, order=order) == []
        fig = kernel_grid(weights, page=page, max_cells=400, selected=ch, order=order)
        assert [s.to_plotly_json() for s in fig.layout.shapes] == shapes
    with pytest.raises(ValueError, match="does not exist"):
        page_of(paging, 61, order=order)


def test_ord12_blocks_comb_outline_marks_the_channels_column_in_every_block() -> None:
    shape = (12, 512, 3, 3)
    order = permutation(12)
    paging = kernel_paging(shape)
    layout = kernel_layout(paging, 0)
    assert layout.blocks > 1
    ch = int(order[5])
    path = kernel_outline(paging, 0, ch, order=order)[-1]["path"]
    assert path == kernel_outline(paging, 0, 5)[-1]["path"]


# ---------------------------------------------------------------- norm overview


@pytest.mark.parametrize(
    ("shape", "groups", "max_cells"),
    [
        ((40, 16, 3, 3), 1, 65_536),  # plain, every kernel a cell
        ((40, 16, 3, 3), 1, 200),  # plain, max over blocks of inputs
        ((40, 8, 3, 3), 2, 65_536),  # groups=2
        ((30, 1, 3, 3), 30, 65_536),  # depthwise: wrapped
    ],
)
def test_ord13_norm_overview_columns_show_the_true_channels(shape, groups, max_cells) -> None:
    weights = RNG.standard_normal(shape).astype(np.float32)
    out = shape[0]
    order = permutation(out)
    inv = inverse(order)
    today = kernel_norm_overview(weights, groups=groups, max_cells=max_cells)
    fig = kernel_norm_overview(weights, groups=groups, max_cells=max_cells, order=order)
    t0, t1 = wire(today)["data"][0], wire(fig)["data"][0]
    z0, z1 = decode(t0["z"]), decode(t1["z"])
    meta = dict(fig.layout.meta)
    g = norm_geometry(shape, max_cells)
    assert meta["order"] == order.tolist() and "sorted" in fig.layout.title.text
    norms = np.sqrt(np.square(weights.astype(np.float64)).sum(axis=(2, 3)))
    if g.wrap_cols:
        flat0, flat1 = z0.reshape(-1), z1.reshape(-1)
        cd = decode(t1["customdata"]).reshape(-1, 3)
        for p in range(out):
            ch = order[p]
            assert flat1[p] == flat0[ch] == np.float32(norms[ch, 0])
            assert cd[p].tolist() == [flat1[p], ch // (out // groups), ch]
        assert np.isnan(flat1[out:]).all() and (cd[out:, 1:] == -1).all()
        assert "%{customdata[2]}" in t1["hovertemplate"]
        assert all(text.startswith("rank ") for text in fig.layout.yaxis.ticktext)
        positions = [(p % g.wrap_cols, p // g.wrap_cols) for p in range(out)]
    else:
        np.testing.assert_array_equal(z1, z0[:, order])
        cd = decode(t1["customdata"])
        assert cd.shape == z1.shape and cd.dtype == np.uint16
        assert (cd == order[None, :]).all()
        assert "out %{customdata}" in t1["hovertemplate"] and "%{x}" not in t1["hovertemplate"]
        assert "customdata" not in t0
        for value, text in zip(fig.layout.xaxis.tickvals, fig.layout.xaxis.ticktext, strict=True):
            assert text == str(order[round(value)])
        assert "sorted" in fig.layout.xaxis.title.text
        positions = [(p, 0) for p in range(out)]
    for p, (x, y) in enumerate(positions):
        assert overview_channel(meta, x + 0.3, y - 0.2) == order[p]  # the figure's own meta
        assert overview_channel(asdict(g), x, y, order=order) == order[p]
        assert overview_channel(asdict(g), x, y) == p
    for ch in (0, out // 2, out - 1):
        assert norm_outline(g, ch, order=order) == norm_outline(g, int(inv[ch]))
        x, y = rect_centre(norm_outline(g, ch, order=order))
        assert overview_channel(meta, x, y if g.wrap_cols else 0) == ch
        sel = kernel_norm_overview(
            weights, groups=groups, max_cells=max_cells, order=order, selected=ch
        )
        assert [s.to_plotly_json() for s in sel.layout.shapes] == norm_outline(g, ch, order=order)


@pytest.mark.parametrize(
    ("shape", "groups"), [((24, 10, 3, 3), 1), ((24, 5, 2, 3), 2), ((30, 1, 3, 3), 30)]
)
def test_ord14_norm_window_holds_the_true_channels_weights(shape, groups) -> None:
    weights = RNG.standard_normal(shape).astype(np.float32)
    out, inp, kh, kw = shape
    order = permutation(out)
    g = norm_geometry(shape)
    x_range, y_range = (-0.5, g.cols - 0.5), (g.rows - 0.5 if g.wrap_cols else inp - 0.5, -0.5)
    window = kernel_norm_window(weights, x_range, y_range, groups=groups, order=order)
    today = kernel_norm_window(weights, x_range, y_range, groups=groups)
    cd, z = window["customdata"], window["z"]
    cd0, z0 = today["customdata"], today["z"]
    rows, cols = (g.rows, g.cols) if g.wrap_cols else (inp, out)
    for r in range(rows):
        for c in range(cols):
            p = r * g.wrap_cols + c if g.wrap_cols else c
            i = 0 if g.wrap_cols else r
            cell = cd[r * kh : (r + 1) * kh, c * kw : (c + 1) * kw]
            if p >= out:
                assert (cell[..., 1:] == -1).all() and np.isnan(z[r * kh, c * kw])
                continue
            ch = int(order[p])
            np.testing.assert_array_equal(cell[..., 0], weights[ch, i])
            np.testing.assert_array_equal(
                z[r * kh : (r + 1) * kh, c * kw : (c + 1) * kw], weights[ch, i]
            )
            assert (cell[..., 1] == (ch // (out // groups)) * inp + i).all()
            assert (cell[..., 2] == ch).all()
            np.testing.assert_array_equal(cell[..., 3:], cd0[:kh, :kw, 3:])
    for key in ("x0", "dx", "y0", "dy", "zmin", "zmax", "hovertemplate"):
        assert window[key] == today[key]
    assert z0.shape == z.shape


# ---------------------------------------------------------------- RGB kernels


@pytest.mark.parametrize("max_cells", [32_768, 200])
@pytest.mark.parametrize("scale", ["tile", "layer"])
def test_ord15_rgb_tiles_show_the_true_channels(max_cells, scale) -> None:
    weights = RNG.standard_normal((20, 3, 3, 3)).astype(np.float32)
    order = permutation(20)
    inv = inverse(order)
    today = kernel_rgb_grid(weights, max_cells=10**6, scale=scale)
    fig = kernel_rgb_grid(weights, max_cells=max_cells, scale=scale, order=order)
    g = feature_geometry_from_meta(fig.layout.meta)
    assert g == kernel_rgb_geometry(weights.shape, max_cells)
    g0 = feature_geometry_from_meta(today.layout.meta)
    z0, cd0 = feature_tiles(today, g0)
    z1, cd1 = feature_tiles(fig, g)
    shown = g.channels
    for p in range(shown):
        ch = order[p]
        np.testing.assert_array_equal(cd1[p][..., :3], weights[ch].transpose(1, 2, 0))
        assert (cd1[p][..., 3] == ch).all()
        np.testing.assert_array_equal(cd1[p], cd0[ch])
        np.testing.assert_array_equal(z1[p], z0[ch])  # its colours: a tile or the layer's
    assert (cd1[shown:, ..., 3] == -1).all()
    title = fig.layout.title.text
    assert "(sorted)" in title
    assert shown == 20 or f"top {shown} of 20" in title
    assert fig.layout.meta["order"] == order.tolist()
    for ch in range(20):
        shapes = [
            s.to_plotly_json()
            for s in kernel_rgb_grid(
                weights, max_cells=max_cells, order=order, selected=ch
            ).layout.shapes
        ]
        if inv[ch] >= shown:
            assert shapes == []
        else:
            assert shapes == feature_outline(g, int(inv[ch]))
