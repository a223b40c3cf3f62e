"""See every value: overview size from the screen, full-resolution zoom windows, 1×1 maps.

The oracle `pixel_at` inverts the documented window layout (tile pitch f*tile_h × f*tile_w,
row-major tiles, padding past each map's edge) independently of the code under test. Maps
hold distinct values, so a raw value also names its (channel, row, col): any off-by-one in
the window's start, tile pitch or placement changes the numbers asserted.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard.figures.detail import feature_detail
from dashboard.figures.features import feature_grid
from dashboard.figures.tiles import (
    MAX_GRID_CELLS,
    MAX_WINDOW_CELLS,
    FeatureGeometry,
    feature_geometry,
)
from dashboard.figures.zoom import MIN_OVERVIEW_CELLS, feature_window, overview_cells
from tests.unit.figure_helpers import feature_geometry_from_meta, trace_arrays
from tests.wire import cell_data

RNG = np.random.default_rng(20240909)
MAX_JSON_BYTES = 2_000_000


def distinct_maps(shape: tuple[int, int, int]) -> np.ndarray:
    """Distinct, shuffled float32 values (exact in float32), so a value names its pixel."""
    return RNG.permutation(np.arange(math.prod(shape), dtype=np.float32)).reshape(shape) - 7.0


def pixel_at(g: FeatureGeometry, shape: tuple[int, ...], y: int, x: int) -> tuple | None:
    """(channel, row, col) of full-resolution window cell (y, x); None for padding."""
    _, h, w = shape
    tile_row, row = divmod(y, g.factor * g.tile_h)
    tile_col, col = divmod(x, g.factor * g.tile_w)
    channel = tile_row * g.ncols + tile_col
    return (channel, row, col) if row < h and col < w and channel < g.channels else None


def windowed(fig: go.Figure, window: dict) -> tuple[dict, np.ndarray, np.ndarray]:
    """(trace, z, customdata) of data[0] updated with `window`, as the browser gets it."""
    fig = copy.deepcopy(fig)
    fig.data[0].update(window)
    return trace_arrays(fig)


def assert_window_matches_oracle(
    maps: np.ndarray, g: FeatureGeometry, cd: np.ndarray, y_start: int, x_start: int
) -> None:
    for i in range(cd.shape[0]):
        for j in range(cd.shape[1]):
            pixel = pixel_at(g, maps.shape, y_start + i, x_start + j)
            if pixel is None:
                assert cd[i, j, 1] == -1, (i, j)
            else:
                assert cd[i, j].tolist() == [maps[pixel], *pixel], (i, j)


# A 5-tile 2×3 grid of 10×7 maps at factor 3: tiles 4×3 overview cells (12×9 pixels, of
# which rows 10-11 and col 7-8 are padding); slot 5 is empty. Overview: 8×9 cells.
SMALL = (5, 10, 7)
SMALL_CELLS = 72


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, FeatureGeometry, go.Figure]:
    maps = distinct_maps(SMALL)
    fig = feature_grid(maps, max_cells=SMALL_CELLS)
    g = feature_geometry_from_meta(fig.layout.meta)
    assert (g.factor, g.tile_h, g.tile_w, g.nrows, g.ncols) == (3, 4, 3, 2, 3)
    return maps, g, fig


def test_zom01_overview_cells_one_per_pixel_clamped_to_floor_and_budget() -> None:
    assert overview_cells(None, 500) == overview_cells(800, None) == MAX_GRID_CELLS
    assert overview_cells(300, 200) == 60_000
    assert overview_cells(301, 200) == 60_200
    assert overview_cells(2000, 1000) == MAX_GRID_CELLS
    assert overview_cells(2000, 1000, budget=30_000) == 30_000
    assert overview_cells(10, 10) == overview_cells(0, 0) == MIN_OVERVIEW_CELLS == 4_096
    assert overview_cells(-5, 300) == MIN_OVERVIEW_CELLS
    assert overview_cells(10, 10, budget=1_000) == 1_000  # the budget wins over the floor


def test_zom02_feature_geometry_never_averages_a_map_that_fits() -> None:
    # 4 tiles of 8×8 in a 2×2 grid: 256 cells
    assert feature_geometry((4, 8, 8), 256).factor == 1
    assert feature_geometry((4, 8, 8), 255).factor == 2
    # 3 tiles in a 2×2 grid (one empty slot counts): 4 * 9 * 11 = 396 cells
    assert feature_geometry((3, 9, 11), 396) == FeatureGeometry(3, 2, 2, 9, 11, 1)
    assert feature_geometry((3, 9, 11), 395).factor == 2
    # VGG16 features.28 (512×14×14, 23×23 grid): 2×2 means at the response budget, 4×4 in
    # a 120×100 px graph (12_000 cells: 22.7 per tile, 4×4 cells fit, 5×5 do not)
    assert feature_geometry((512, 14, 14), overview_cells(None, None)).factor == 2
    assert feature_geometry((512, 14, 14), overview_cells(120, 100)).factor == 4
    assert feature_geometry((8, 224, 224), overview_cells(1200, 900, budget=10**6)).factor == 1


def test_zom03_whole_mosaic_window_every_cell_incl_padding_and_empty_slot(small) -> None:
    maps, g, fig = small
    window = feature_window(maps, g, (-0.5, 8.5), (7.5, -0.5))  # y reversed, as plotly
    assert window is not None
    trace, z, cd = windowed(fig, window)
    assert cd.shape == (24, 27, 4) and z.shape == (24, 27) and z.dtype == np.uint8
    assert cd.dtype == np.float32
    assert_window_matches_oracle(maps, g, cd, 0, 0)
    # the same, spelled out at corners, map edges and tile seams
    assert cd[0, 0].tolist() == [maps[0, 0, 0], 0, 0, 0]
    assert cd[9, 6].tolist() == [maps[0, 9, 6], 0, 9, 6]  # last real pixel of tile 0
    assert cd[10, 6, 1] == cd[9, 7, 1] == cd[11, 8, 1] == -1  # its padding
    assert cd[0, 9].tolist() == [maps[1, 0, 0], 1, 0, 0]  # next tile starts at the pitch
    assert cd[12, 0].tolist() == [maps[3, 0, 0], 3, 0, 0]
    assert cd[21, 15].tolist() == [maps[4, 9, 6], 4, 9, 6]
    assert cd[21, 16, 1] == -1 and cd[12, 18, 1] == cd[23, 26, 1] == -1  # empty slot 5
    assert (z[cd[..., 1] == -1] == 0).all()
    assert trace["x0"] == pytest.approx(0.5 / 3 - 0.5) and trace["dx"] == pytest.approx(1 / 3)
    assert trace["y0"] == pytest.approx(0.5 / 3 - 0.5) and trace["dy"] == pytest.approx(1 / 3)
    hover = trace["hovertemplate"]
    assert "mean of" not in hover and "%{customdata[0]:.4g}" in hover
    assert "channel %{customdata[1]}" in hover and "row %{customdata[2]}" in hover


def test_zom04_window_edges_include_exactly_the_pixels_that_overlap(small) -> None:
    maps, g, _ = small
    # pixel k spans [k/3 - 0.5, (k+1)/3 - 0.5]: x in [2.5, 4.5] is pixels 9..14 exactly
    # (8 and 15 only touch it); y in (1.9, 5.2) is pixels 7..17.
    window = feature_window(maps, g, (2.5, 4.5), (5.2, 1.9))
    cd = cell_data(window)
    assert cd.shape == (11, 6, 4)
    assert window["x0"] == pytest.approx(9.5 / 3 - 0.5)
    assert window["y0"] == pytest.approx(7.5 / 3 - 0.5)
    assert_window_matches_oracle(maps, g, cd, 7, 9)
    assert cd[0, 0].tolist() == [maps[1, 7, 0], 1, 7, 0]  # top-left corner
    assert cd[0, 5].tolist() == [maps[1, 7, 5], 1, 7, 5]  # top-right corner
    assert cd[2, 5].tolist() == [maps[1, 9, 5], 1, 9, 5]
    assert cd[3, 5, 1] == -1  # row 10 of tile 1: padding
    assert cd[10, 5].tolist() == [maps[4, 5, 5], 4, 5, 5]  # bottom-right corner
    assert cd[5, 0].tolist() == [maps[4, 0, 0], 4, 0, 0]  # first row of the tile below


def test_zom05_every_pixel_sits_inside_the_overview_cell_that_averaged_it(small) -> None:
    maps, g, fig = small
    _, _, overview = trace_arrays(fig)
    f = g.factor
    window = feature_window(maps, g, (-0.5, 8.5), (-0.5, 7.5))
    cd = cell_data(window)
    for i, j in np.ndindex(cd.shape[:2]):
        channel, row, col = (int(v) for v in cd[i, j, 1:])
        if channel < 0:
            continue
        x = window["x0"] + j * window["dx"]
        y = window["y0"] + i * window["dy"]
        tile_row, tile_col = divmod(channel, g.ncols)
        assert x == pytest.approx(tile_col * g.tile_w + (col + 0.5) / f - 0.5)
        assert y == pytest.approx(tile_row * g.tile_h + (row + 0.5) / f - 0.5)
        oy, ox = round(y), round(x)
        assert abs(x - ox) <= 0.5 - 0.5 / f + 1e-9 and abs(y - oy) <= 0.5 - 0.5 / f + 1e-9
        cell = overview[oy, ox]  # the overview cell under the pixel averaged it
        assert cell[1] == channel
        assert cell[2] <= row < cell[2] + f and cell[3] <= col < cell[3] + f
        block = maps[channel, int(cell[2]) : int(cell[2]) + f, int(cell[3]) : int(cell[3]) + f]
        assert maps[channel, row, col] in block


def test_zom06_non_square_maps_across_tiles_and_separators() -> None:
    shape = (64, 20, 33)  # at factor 7: 20 = 2*7 + 6 rows, 33 = 4*7 + 5 cols
    maps = distinct_maps(shape)
    g = feature_geometry(shape, 1000)
    assert (g.factor, g.tile_h, g.tile_w, g.nrows, g.ncols) == (7, 3, 5, 8, 8)
    # overview x 3.2..11.7 crosses tile columns 0|1|2, y 1.6..4.1 tile rows 0|1
    window = feature_window(maps, g, (3.2, 11.7), (4.1, 1.6))
    x_start, y_start = math.floor(7 * 3.7), math.floor(7 * 2.1)  # 25, 14
    cd = cell_data(window)
    assert cd.shape == (math.ceil(7 * 4.6) - y_start, math.ceil(7 * 12.2) - x_start, 4)
    assert_window_matches_oracle(maps, g, cd, y_start, x_start)
    # tile width 35 px: x 25..32 real cols of channel 0, 33/34 padding, 35 = channel 1 col 0
    assert cd[0, 0].tolist() == [maps[0, 14, 25], 0, 14, 25]
    assert cd[0, 7].tolist() == [maps[0, 14, 32], 0, 14, 32]
    assert cd[0, 8, 1] == cd[0, 9, 1] == -1
    assert cd[0, 10].tolist() == [maps[1, 14, 0], 1, 14, 0]
    # tile height 21 px: y 14..19 real rows, 20 padding, 21 = row 0 of channels 8, 9, 10
    assert cd[5, 10].tolist() == [maps[1, 19, 0], 1, 19, 0]
    assert cd[6, 10, 1] == -1
    assert cd[7, 10].tolist() == [maps[9, 0, 0], 9, 0, 0]
    # bottom-right corner: y 32 = row 11 of tile row 1, x 85 = col 15 of tile col 2
    assert cd[-1, -1].tolist() == [maps[10, 11, 15], 10, 11, 15]


def test_zom07_ranges_off_the_mosaic_are_clamped(small) -> None:
    maps, g, _ = small
    whole = feature_window(maps, g, (-0.5, 8.5), (-0.5, 7.5))
    clamped = feature_window(maps, g, (-100.0, 1e6), (1e6, -100.0))
    assert clamped["x0"] == whole["x0"] and clamped["y0"] == whole["y0"]
    np.testing.assert_array_equal(cell_data(clamped), cell_data(whole))
    np.testing.assert_array_equal(clamped["z"], whole["z"])
    right = feature_window(maps, g, (7.6, 20.0), (-3.0, 0.1))  # bottom-right clipped away
    assert cell_data(right).shape == (2, 3, 4)  # y pixels 0..1, x pixels 24..26
    assert cell_data(right)[0, 0].tolist() == [maps[2, 0, 6], 2, 0, 6]
    assert cell_data(right)[1, 1, 1] == -1
    assert feature_window(maps, g, (9.0, 20.0), (0.0, 3.0)) is None  # wholly off
    assert feature_window(maps, g, (0.0, 3.0), (-9.0, -0.6)) is None


def test_zom08_refusals_factor_one_budget_and_bad_input(small) -> None:
    maps, g, _ = small
    full = feature_geometry(SMALL)
    assert full.factor == 1
    assert feature_window(maps, full, (0.0, 3.0), (0.0, 3.0)) is None
    # x 0.0..2.0 -> pixels 1..7 (7 cols), y 0.0..1.0 -> pixels 1..4 (4 rows): 28 cells
    assert feature_window(maps, g, (0.0, 2.0), (0.0, 1.0), max_cells=28) is not None
    assert feature_window(maps, g, (0.0, 2.0), (0.0, 1.0), max_cells=27) is None
    with pytest.raises(ValueError, match="does not describe"):
        feature_window(maps[:4], g, (0.0, 2.0), (0.0, 1.0))
    with pytest.raises(ValueError, match="finite"):
        feature_window(maps, g, (0.0, math.nan), (0.0, 1.0))
    with pytest.raises(ValueError, match="two numbers"):
        feature_window(maps, g, ("a", 1.0), (0.0, 1.0))
    with pytest.raises(ValueError, match="scale"):
        feature_window(maps, g, (0.0, 2.0), (0.0, 1.0), scale="log")


@pytest.mark.parametrize("scale", ["tile", "shared"])
def test_zom09_window_colours_use_the_overviews_full_resolution_min_max(scale: str) -> None:
    maps = (RNG.standard_normal(SMALL) * 5).astype(np.float32)
    maps[1, 3:6, 3:6] = 2.5  # one constant overview block
    fig = feature_grid(maps, max_cells=SMALL_CELLS, scale=scale)
    g = feature_geometry_from_meta(fig.layout.meta)
    _, overview_z, overview_cd = trace_arrays(fig)
    window = feature_window(maps, g, (-0.5, 8.5), (-0.5, 7.5), scale=scale)
    z, cd = window["z"], cell_data(window)
    axes = (1, 2) if scale == "tile" else None
    lo = maps.astype(np.float64).min(axis=axes, keepdims=True)
    hi = maps.astype(np.float64).max(axis=axes, keepdims=True)
    lo, hi = np.broadcast_to(lo, (5, 1, 1)), np.broadcast_to(hi, (5, 1, 1))

    def expected(value: float, channel: int) -> float:
        span = hi[channel, 0, 0] - lo[channel, 0, 0]
        return (value - lo[channel, 0, 0]) * (255.0 / span)

    for i, j in np.ndindex(z.shape):  # every real pixel, to the exact rounding
        channel = int(cd[i, j, 1])
        if channel >= 0:
            assert z[i, j] == int(np.rint(expected(float(cd[i, j, 0]), channel)))
    for i, j in np.ndindex(overview_z.shape):  # block means on the same limits
        _, channel, row, col = overview_cd[i, j].tolist()
        if channel >= 0:
            block = maps[int(channel), int(row) : int(row) + 3, int(col) : int(col) + 3]
            mean = block.astype(np.float64).mean()
            assert abs(overview_z[i, j] - expected(mean, int(channel))) <= 0.5 + 1e-6
    # tile 1's constant block: its overview cell and its 9 pixels share one colour
    assert overview_z[1, 4] == round(expected(2.5, 1))
    assert (z[3:6, 12:15] == overview_z[1, 4]).all()
    for channel in range(5) if scale == "tile" else ():  # each tile's extremes: 0 and 255
        tr, tc = divmod(channel, 3)
        tile = z[tr * 12 : tr * 12 + 10, tc * 9 : tc * 9 + 7]
        assert tile.min() == 0 and tile.max() == 255
    assert z.max() == 255 and z[cd[..., 1] >= 0].min() == 0
    if scale == "shared":
        ticks = fig.data[0].colorbar.ticktext
        assert ticks == (f"{maps.min():.4g}", f"{maps.max():.4g}")


def test_zom10_one_pixel_maps_share_one_scale_and_are_not_called_dead() -> None:
    maps = np.array([3.0, -1.0, 7.0, 3.0, 5.0], dtype=np.float32).reshape(5, 1, 1)
    fig = feature_grid(maps)  # per-tile requested
    trace, z, _ = trace_arrays(fig)
    g = feature_geometry_from_meta(fig.layout.meta)
    assert g.factor == 1 and feature_window(maps, g, (0.0, 1.0), (0.0, 1.0)) is None
    colours = [int(z[c // g.ncols, c % g.ncols]) for c in range(5)]
    assert colours == [round(4 / 8 * 255), 0, 255, round(4 / 8 * 255), round(6 / 8 * 255)]
    assert "1×1 maps: one colour scale for all tiles" in fig.layout.title.text
    assert "min–max per tile" not in fig.layout.title.text
    assert trace["showscale"] is True and trace["colorbar"]["ticktext"] == ["-1", "7"]
    detail = feature_detail(maps, channel=2, layer="fc").layout.title.text
    assert "1×1 map" in detail and "dead filter" not in detail
    flat = feature_detail(np.zeros((2, 1), dtype=np.float32), channel=0, layer="l")
    assert "constant map (dead filter?)" in flat.layout.title.text  # two pixels, one value


def test_zom11_nonfinite_values_show_as_zero_with_the_layer_note(small) -> None:
    maps, g, _ = small
    bad = maps.astype(np.float64)
    bad[0, 0, 1], bad[4, 9, 6] = np.nan, np.inf
    window = feature_window(bad, g, (-0.5, 8.5), (-0.5, 7.5))
    cd = cell_data(window)
    assert np.isfinite(cd).all()
    assert cd[0, 1].tolist() == [0.0, 0, 0, 1] and cd[21, 15].tolist() == [0.0, 4, 9, 6]
    assert "NaN/Inf" in window["hovertemplate"]


def test_zom12_vgg16_features0_window_is_exact_and_under_2mb() -> None:
    maps = (RNG.standard_normal((64, 224, 224)) * 3).astype(np.float32)
    fig = feature_grid(maps)
    g = feature_geometry_from_meta(fig.layout.meta)
    assert (g.factor, g.tile_h, g.ncols) == (7, 32, 8)
    # 39×39 overview cells from (row 20, col 50): 273×273 = 74_529 px, near the budget
    x_range, y_range = (49.5, 88.5), (58.5, 19.5)
    window = feature_window(maps, g, x_range, y_range)
    assert window is not None and window["z"].size == 273 * 273 <= MAX_WINDOW_CELLS
    assert feature_window(maps, g, (49.5, 89.5), (58.5, 19.5)) is None  # 273×280 > budget
    cd = cell_data(window)
    y_start, x_start = 20 * 7, 50 * 7  # tile (0, 1) row 140, tile col 1 starts at x 224
    assert cd[0, 0].tolist() == [maps[1, 140, 126], 1, 140, 126]
    assert cd[0, -1].tolist() == [maps[2, 140, 174], 2, 140, 174]  # x 622 = 448 + 174
    assert cd[-1, 0].tolist() == [maps[9, 188, 126], 9, 188, 126]  # y 412 = 224 + 188
    assert cd[-1, -1].tolist() == [maps[10, 188, 174], 10, 188, 174]
    for i, j in [(0, 97), (0, 98), (83, 0), (84, 0), (136, 136)]:
        pixel = pixel_at(g, maps.shape, y_start + i, x_start + j)
        assert cd[i, j].tolist() == [maps[pixel], *pixel]
    fig.data[0].update(window)
    assert len(fig.to_json().encode()) <= MAX_JSON_BYTES
