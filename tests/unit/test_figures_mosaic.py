"""Pure numpy mosaic helpers and mosaic geometry (no plotly objects involved)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from dashboard.figures import (
    feature_geometry,
    feature_outline,
    kernel_outline,
    kernel_paging,
    page_of,
)
from dashboard.figures.mosaic import (
    block_mean,
    centred_uint8,
    clean_float32,
    grid_shape,
    minmax_uint8,
    tile_mosaic,
)
from dashboard.figures.overlay import band_separator_path, separator_path
from dashboard.figures.paging import kernel_layout, page_range
from dashboard.figures.tiles import MAX_GRID_CELLS
from dashboard.figures.wrapping import BAND_GAP, BLOCK_GAP
from tests.unit.figure_helpers import band_mosaic, channel_at, kernel_at, kernel_bands

RNG = np.random.default_rng(1234)


@pytest.mark.parametrize(
    ("count", "expected"), [(1, (1, 1)), (2, (1, 2)), (5, (2, 3)), (64, (8, 8))]
)
def test_mos01_grid_shape_is_near_square(count: int, expected: tuple[int, int]) -> None:
    assert grid_shape(count) == expected
    nrows, ncols = grid_shape(count)
    assert ncols == math.ceil(math.sqrt(count)) and nrows * ncols >= count


def test_mos02_block_mean_matches_numpy_incl_partial_edge_blocks() -> None:
    values = RNG.standard_normal((3, 10, 7)).astype(np.float32)
    means = block_mean(values, 3)
    assert means.shape == (3, 4, 3)
    for c, br, bc in [(0, 0, 0), (1, 3, 2), (2, 3, 0), (0, 1, 2), (2, 2, 1)]:
        block = values[c, br * 3 : br * 3 + 3, bc * 3 : bc * 3 + 3].astype(np.float64)
        assert means[c, br, bc] == pytest.approx(block.mean(), rel=1e-12)
    assert block_mean(values, 1) is values


def test_mos03_tile_mosaic_places_tiles_row_major_and_pads() -> None:
    tiles = np.arange(5 * 2 * 3).reshape(5, 2, 3)
    mosaic = tile_mosaic(tiles, 2, 3, fill=-7)
    assert mosaic.shape == (4, 9)
    for t in range(5):
        r, c = divmod(t, 3)
        np.testing.assert_array_equal(mosaic[r * 2 : r * 2 + 2, c * 3 : c * 3 + 3], tiles[t])
    assert (mosaic[2:, 6:] == -7).all()


def test_mos04_minmax_per_tile_spans_0_255_and_constant_tile_is_0() -> None:
    tiles = RNG.standard_normal((4, 5, 5))
    tiles[2] = 3.25
    colour = minmax_uint8(tiles)
    assert colour.dtype == np.uint8
    for t in (0, 1, 3):
        assert colour[t].min() == 0 and colour[t].max() == 255
        assert colour[t].flat[np.argmax(tiles[t])] == 255
    assert (colour[2] == 0).all()


def test_mos05_minmax_shared_uses_one_range() -> None:
    tiles = np.stack([np.full((2, 2), 0.0), np.full((2, 2), 10.0), np.full((2, 2), 5.0)])
    colour = minmax_uint8(tiles, shared=True)
    assert colour[0].max() == 0 and colour[1].min() == 255 and (colour[2] == 128).all()


def test_mos06_centred_keeps_zero_at_centre_and_sign() -> None:
    tiles = np.array([[[-2.0, 0.0, 1.0]], [[0.0, 0.0, 0.0]]])
    colour = centred_uint8(tiles, (1, 2), centre=127.5, half=127.5)
    np.testing.assert_array_equal(colour[0, 0], [0, 128, 191])
    assert (colour[1] == 128).all()


def test_mos07_clean_float32_replaces_nonfinite_and_clips() -> None:
    values = np.array([1.5, np.nan, np.inf, -np.inf, 1e300, -1e300])
    clean, n_bad = clean_float32(values)
    assert n_bad == 3 and clean.dtype == np.float32
    assert np.isfinite(clean).all()
    np.testing.assert_array_equal(clean[:4], [1.5, 0, 0, 0])
    assert clean[4] == np.finfo(np.float32).max and clean[5] == -np.finfo(np.float32).max
    ints, n = clean_float32(np.array([[True, False]]))
    assert n == 0 and ints.tolist() == [[1.0, 0.0]]


@pytest.mark.parametrize(
    ("shape", "factor", "tile"),
    [
        ((64, 224, 224), 7, 32),
        ((128, 112, 112), 6, 19),
        ((256, 56, 56), 4, 14),
        ((512, 28, 28), 3, 10),
        ((512, 14, 14), 2, 7),
        ((8, 5, 5), 1, 5),
    ],
)
def test_mos08_feature_geometry_uses_smallest_fitting_factor(
    shape: tuple[int, int, int], factor: int, tile: int
) -> None:
    g = feature_geometry(shape)
    assert (g.factor, g.tile_h, g.tile_w) == (factor, tile, tile)
    assert g.nrows * g.tile_h * g.ncols * g.tile_w <= MAX_GRID_CELLS
    if factor > 1:  # one step finer would not fit
        finer = math.ceil(shape[1] / (factor - 1)) * math.ceil(shape[2] / (factor - 1))
        assert g.nrows * g.ncols * finer > MAX_GRID_CELLS


def test_mos09_feature_geometry_huge_channel_count_stops_at_one_cell_per_channel() -> None:
    g = feature_geometry((100_000, 3, 2))
    assert (g.tile_h, g.tile_w, g.factor) == (1, 1, 3)


def test_mos10_channel_at_inverts_the_layout() -> None:
    g = feature_geometry((10, 4, 3))
    for channel in range(10):
        tr, tc = divmod(channel, g.ncols)
        for r in range(g.tile_h):
            for c in range(g.tile_w):
                row, col = tr * g.tile_h + r, tc * g.tile_w + c
                assert channel_at(g, row, col) == channel
                assert channel_at(g, row + 0.4, col - 0.4) == channel
    last_row = (g.nrows - 1) * g.tile_h
    assert channel_at(g, last_row, (g.ncols - 1) * g.tile_w) is None  # padding slot
    for row, col in [(-1, 0), (0, -1), (g.nrows * g.tile_h, 0), (0, g.ncols * g.tile_w)]:
        assert channel_at(g, row, col) is None
    assert channel_at(g, float("nan"), 0) is None and channel_at(g, None, 0) is None  # type: ignore[arg-type]


def test_mos11_feature_outline_surrounds_exactly_one_tile() -> None:
    g = feature_geometry((10, 4, 3))
    for channel in (0, 5, 9):
        shapes = feature_outline(g, channel)
        assert shapes and all(s["type"] == "rect" for s in shapes)
        s = shapes[-1]
        assert s["x1"] - s["x0"] == g.tile_w and s["y1"] - s["y0"] == g.tile_h
        assert channel_at(g, (s["y0"] + s["y1"]) / 2, (s["x0"] + s["x1"]) / 2) == channel
        assert channel_at(g, s["y0"] + 0.5, s["x0"] + 0.5) == channel
        assert channel_at(g, s["y1"] - 0.5, s["x1"] - 0.5) == channel
    assert feature_outline(g, None) == [] and feature_outline(g, 10) == []
    assert feature_outline(g, -1) == []


@pytest.mark.parametrize("max_cells", [1, 100, 4608, 57_344, 65_536, 10**7])
@pytest.mark.parametrize(
    "shape",
    [(512, 512, 3, 3), (64, 3, 3, 3), (7, 5, 2, 3), (1, 1, 1, 1), (8192, 1, 3, 3), (3000, 3, 1, 1)],
)
def test_mos12_kernel_paging_covers_every_channel_once(
    shape: tuple[int, int, int, int], max_cells: int
) -> None:
    p = kernel_paging(shape, max_cells)
    seen = [ch for page in range(p.pages) for ch in range(*page_range(p, page))]
    assert seen == list(range(shape[0]))
    assert all(page_of(p, ch) == ch // p.per_page for ch in (0, shape[0] - 1))
    if p.per_page > 1:  # every page fits, gap rows between bands and columns between blocks
        for page in {0, 1, p.pages - 1} & set(range(p.pages)):
            layout = kernel_layout(p, page)
            bands, cols = kernel_bands(p, page)
            assert (layout.bands, layout.band_cols) == (bands, cols)
            assert bands == 1 or layout.blocks == 1  # never both
            assert layout.blocks * layout.block_inputs >= shape[1]
            rows = bands * layout.block_inputs * shape[2] + (bands - 1) * BAND_GAP
            width = layout.blocks * cols * shape[3] + (layout.blocks - 1) * BLOCK_GAP
            assert layout.shape == (rows, width) and rows * width <= max_cells


def test_mos13_kernel_paging_matches_the_issue_example() -> None:
    # The issue's 14 per page (37 pages) predates input blocks: 14 columns in 7 blocks
    # need 222 × 300 cells with their gap columns, over the 65,536 budget; 13 fit in 8.
    p = kernel_paging((512, 512, 3, 3), MAX_GRID_CELLS)
    assert (p.per_page, p.pages) == (13, 40)
    assert page_range(p, 2) == (26, 39)
    with pytest.raises(ValueError, match="512"):
        page_of(p, 512)


def test_mos14_kernel_at_and_outline_agree() -> None:
    p = kernel_paging((10, 2, 3, 2), 2 * 3 * 2 * 3)  # 3 output channels per page, no wrap
    assert p.per_page == 3 and p.pages == 4
    assert kernel_at(p, 1, row=4, col=3) == (4, 1)
    assert kernel_at(p, 3, row=0, col=2) is None  # page 3 has only channel 9
    shapes = kernel_outline(p, 1, 5)
    s = shapes[-1]
    assert len(shapes) == 2 and (s["x0"], s["x1"], s["y0"], s["y1"]) == (3.5, 5.5, -0.5, 5.5)
    assert kernel_at(p, 1, row=0, col=(s["x0"] + s["x1"]) / 2)[0] == 5
    assert kernel_outline(p, 0, 5) == [] and kernel_outline(p, 1, None) == []


def tile_edges(nrows: int, ncols: int, count: int) -> set[tuple[tuple[int, int], ...]]:
    """Unit edges (in tile units) of every existing tile."""
    edges = set()
    for t in range(count):
        r, c = divmod(t, ncols)
        edges |= {((c, r), (c + 1, r)), ((c, r + 1), (c + 1, r + 1))}
        edges |= {((c, r), (c, r + 1)), ((c + 1, r), (c + 1, r + 1))}
    return edges


@pytest.mark.parametrize(
    ("count", "tile_h", "tile_w"),
    [(1, 3, 3), (2, 1, 5), (5, 2, 3), (10, 4, 4), (11, 3, 2), (529, 1, 1)],
)
def test_mos16_separator_path_draws_exactly_the_tile_edges(
    count: int, tile_h: int, tile_w: int
) -> None:
    nrows, ncols = grid_shape(count)
    last = count - (nrows - 1) * ncols
    xs, ys = separator_path(nrows, ncols, tile_h, tile_w, last)
    assert xs.dtype == np.float32 and np.isfinite(xs).all() and np.isfinite(ys).all()
    cols, rows = (xs + 0.5) / tile_w, (ys + 0.5) / tile_h
    assert (cols == np.round(cols)).all() and (rows == np.round(rows)).all()
    walked = set()
    points = list(zip(cols.tolist(), rows.tolist(), strict=True))
    for (c0, r0), (c1, r1) in itertools.pairwise(points):
        assert c0 == c1 or r0 == r1, "diagonal stroke"
        steps = int(abs(c1 - c0) + abs(r1 - r0))
        for s in range(steps):
            a = (int(c0 + (c1 - c0) * s / steps), int(r0 + (r1 - r0) * s / steps))
            b = (int(c0 + (c1 - c0) * (s + 1) / steps), int(r0 + (r1 - r0) * (s + 1) / steps))
            walked.add(tuple(sorted((a, b))))
    assert walked == tile_edges(nrows, ncols, count)


def test_mos17_band_mosaic_wraps_columns_into_bands_with_gap_rows() -> None:
    grid = RNG.standard_normal((2, 5, 3, 2, 4))  # 2 rows × 5 columns of 3×2 tiles, 4 extras
    mosaic = band_mosaic(grid, 2, 3, gap=1, fill=(7, -1, -1, -1))
    assert mosaic.shape == (2 * 6 + 1, 3 * 2, 4)
    for row, col in np.ndindex(2, 5):
        band, k = divmod(col, 3)
        top, left = band * 7 + row * 3, k * 2
        np.testing.assert_array_equal(mosaic[top : top + 3, left : left + 2], grid[row, col])
    assert (mosaic[6] == [7, -1, -1, -1]).all()  # the gap row
    assert (mosaic[7:, 4:] == [7, -1, -1, -1]).all()  # the last band's empty column
    one = band_mosaic(grid[..., 0], 1, 5, gap=1)
    np.testing.assert_array_equal(one, grid[..., 0].transpose(0, 2, 1, 3).reshape(6, 10))


def test_mos18_one_band_separators_equal_the_plain_grid() -> None:
    xs, ys = band_separator_path(4, 1, 6, 6, 3, 2, BAND_GAP)
    plain = separator_path(4, 6, 3, 2)
    np.testing.assert_array_equal(xs, plain[0])
    np.testing.assert_array_equal(ys, plain[1])
    assert xs.dtype == ys.dtype == np.float32
