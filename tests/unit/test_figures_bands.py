"""Kernel pages wrapped into bands: every weight once, clicks, outlines, gaps, separators."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dashboard.figures import kernel_grid, kernel_outline, kernel_paging
from dashboard.figures.paging import page_range
from dashboard.figures.wrapping import BAND_ASPECT, BAND_GAP, BAND_MIN_GAIN
from tests.unit.figure_helpers import (
    band_layout,
    covered,
    decode,
    kernel_at,
    kernel_bands,
    kernel_paging_from_meta,
    loops,
    trace_arrays,
    walked_edges,
    wire,
)

RNG = np.random.default_rng(20240611)


def first_layer(out: int = 64) -> np.ndarray:
    return RNG.standard_normal((out, 3, 3, 3)).astype(np.float32)


# ---------------------------------------------------------------- the band rule


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((16, 3, 3, 3), (2, 8)),  # TinyVGG's first layer
        ((64, 3, 3, 3), (4, 16)),  # VGG16 / ResNet first layers
        ((96, 3, 11, 11), (5, 20)),  # AlexNet
        ((12, 3, 3, 3), (2, 6)),  # cells 24 / 19 = 1.26 times larger
        ((10, 3, 3, 3), (1, 10)),  # 2 bands of 5 would gain only 20 / 19
        ((8, 1, 3, 3), (2, 4)),  # depthwise
        ((64, 64, 3, 3), (1, 64)),  # already square: never wrap
        ((512, 512, 3, 3), (1, 12)),  # a tall page: one band (its inputs wrap into blocks)
    ],
)
def test_ban01_band_rule_on_real_layers(
    shape: tuple[int, int, int, int], expected: tuple[int, int]
) -> None:
    paging = kernel_paging(shape)
    assert kernel_bands(paging, 0) == expected
    if shape == (512, 512, 3, 3):
        assert paging.per_page == 12 and kernel_bands(paging, paging.pages - 1) == (1, 8)


def test_ban02_band_layout_gives_the_largest_cells_on_a_wide_panel() -> None:
    def size(bands: int, cols: int, rows: int, tile_w: int) -> float:
        return max(cols * tile_w / BAND_ASPECT, bands * rows + (bands - 1) * BAND_GAP)

    for count, rows, tile_w in itertools.product(range(1, 130), (1, 2, 3, 9, 40), (1, 3, 11)):
        bands, cols = band_layout(count, rows, tile_w)
        assert (bands - 1) * cols < count <= bands * cols  # no empty band
        # brute force over every column count
        best = min(size(-(-count // c), c, rows, tile_w) for c in range(1, count + 1))
        one_band = size(1, count, rows, tile_w)
        if one_band >= best * BAND_MIN_GAIN:
            assert size(bands, cols, rows, tile_w) == best and bands > 1
        else:  # wrapping would not pay off, e.g. a page already tall enough
            assert (bands, cols) == (1, count)


# ---------------------------------------------------------------- 64×3×3×3 in 4 bands


def test_ban03_every_weight_appears_exactly_once_with_its_raw_value() -> None:
    weights = first_layer()
    fig = kernel_grid(weights)
    meta = fig.layout.meta
    assert (meta["bands"], meta["band_cols"], meta["band_gap"]) == (4, 16, BAND_GAP)
    paging, page = kernel_paging_from_meta(meta)
    assert kernel_bands(paging, page) == (4, 16)
    _, z, cd = trace_arrays(fig)
    assert z.shape == (4 * 9 + 3, 16 * 3) and cd.shape == (*z.shape, 5)
    real = cd[..., 2] >= 0
    assert real.sum() == weights.size
    w, i, o, r, c = (cd[real][:, k] for k in range(5))
    index = o.astype(int), i.astype(int), r.astype(int), c.astype(int)
    np.testing.assert_array_equal(w, weights[index])  # exact float32
    flat = np.ravel_multi_index(index, weights.shape)
    assert np.array_equal(np.sort(flat), np.arange(weights.size))  # each exactly once
    assert (cd[~real] == [0, -1, -1, -1, -1]).all()


def test_ban04_rows_are_inputs_columns_are_outputs_band_by_band() -> None:
    _, _, cd = trace_arrays(kernel_grid(first_layer()))
    for band in range(4):
        top = band * (9 + BAND_GAP)
        block = cd[top : top + 9]
        assert (block[..., 1] == np.repeat(np.arange(3), 3)[:, None]).all()  # rows: in 0..2
        assert (block[..., 2] == band * 16 + np.repeat(np.arange(16), 3)[None, :]).all()
    assert (cd[9, :, 2] == -1).all() and (cd[19, :, 2] == -1).all()  # the gap rows


def test_ban05_kernel_at_inverts_every_cell_and_is_none_in_gaps() -> None:
    fig = kernel_grid(first_layer(61))  # 4 bands of 16: the last band has a 3-column tail
    paging, page = kernel_paging_from_meta(fig.layout.meta)
    _, _, cd = trace_arrays(fig)
    tail = 0
    for row, col in np.ndindex(cd.shape[:2]):
        _, inp, out, _, _ = cd[row, col]
        expected = (int(out), int(inp)) if out >= 0 else None
        tail += expected is None and row >= 30  # the last band starts at row 3 * 10
        for dy, dx in [(0, 0), (0.45, -0.45), (-0.45, 0.45)]:
            assert kernel_at(paging, page, row + dy, col + dx) == expected
    assert tail == 9 * 3 * 3  # 3 missing columns × 9 rows × 3 cells
    for row, col in [(-1, 0), (0, -1), (cd.shape[0], 0), (0, cd.shape[1]), (float("nan"), 1)]:
        assert kernel_at(paging, page, row, col) is None


def test_ban06_outline_holds_exactly_its_channels_cells() -> None:
    fig = kernel_grid(first_layer(61))
    paging, page = kernel_paging_from_meta(fig.layout.meta)
    _, _, cd = trace_arrays(fig)
    rows, cols = np.indices(cd.shape[:2])
    for channel in range(61):
        s = kernel_outline(paging, page, channel)[-1]
        inside = (s["x0"] < cols) & (cols < s["x1"]) & (s["y0"] < rows) & (rows < s["y1"])
        assert (cd[..., 2][inside] == channel).all()
        assert inside.sum() == (cd[..., 2] == channel).sum() == 27
        assert s["y1"] - s["y0"] == 9 and s["x1"] - s["x0"] == 3  # just its band's rows
    shown = kernel_grid(first_layer(61), selected=37).layout.shapes
    assert [sh.to_plotly_json() for sh in shown] == kernel_outline(paging, page, 37)


def test_ban07_gaps_and_tail_are_covered_and_never_hover() -> None:
    data = wire(kernel_grid(first_layer(61)))["data"]
    assert [t["type"] for t in data] == ["heatmap", "scatter", "scatter"]
    separators, cover = data[1], data[2]  # the cover is drawn over the separators
    assert separators["hoverinfo"] == "skip" and isinstance(separators["x"], dict)
    assert cover["fill"] == "toself" and cover["hoveron"] == "fills"
    assert cover["hoverinfo"] == "none" and cover["line"]["width"] == 0
    rects = loops(cover)
    assert rects[:3] == [(-0.5, 47.5, 8.5 + 10 * b, 9.5 + 10 * b) for b in range(3)]
    assert rects[3] == (38.5, 47.5, 29.5, 38.5)  # the tail: columns 13-15 of the last band
    cd = decode(data[0]["customdata"])
    for row, col in np.ndindex(cd.shape[:2]):
        assert covered(rects, row, col) == (cd[row, col, 2] < 0)


def test_ban08_separators_draw_the_band_tiles_and_cross_gaps_only_under_the_cover() -> None:
    fig = wire(kernel_grid(first_layer(61)))
    xs, ys = decode(fig["data"][1]["x"]), decode(fig["data"][1]["y"])
    assert xs.dtype == np.float32 and np.isfinite(xs).all() and np.isfinite(ys).all()
    pitch, expected = 9 + BAND_GAP, set()
    for band, ncols in enumerate([16, 16, 16, 13]):
        top = band * pitch
        for k in range(ncols + 1):  # vertical tile edges, as unit cell edges
            expected |= {((k * 3, top + y), (k * 3, top + y + 1)) for y in range(9)}
        for i in range(4):  # horizontal ones
            expected |= {((x, top + i * 3), (x + 1, top + i * 3)) for x in range(ncols * 3)}
    gaps = {
        ((0, b * pitch + 9 + y), (0, b * pitch + 9 + y + 1))
        for b in range(3)
        for y in range(BAND_GAP)
    }
    walked = walked_edges(xs, ys)
    assert walked == expected | gaps  # moves between bands run down the gaps' left edge
    rects = loops(fig["data"][2])
    assert all(covered(rects, (a[1] + b[1]) / 2 - 0.5, a[0] - 0.5) for a, b in gaps)


def test_ban09_band_labels_and_ticks() -> None:
    fig = kernel_grid(first_layer(16), layer="block1.0")  # TinyVGG's first layer
    layout = wire(fig)["layout"]
    assert layout["yaxis"]["ticktext"] == ["out 0–7", "out 8–15"]
    assert layout["yaxis"]["tickvals"] == [4.0, 14.0]  # band centres (9 rows + 1 gap apart)
    # real channel numbers: the bottom band's under the mosaic, the top band's above it
    assert layout["xaxis"]["ticktext"][:3] == ["8", "9", "10"]
    assert layout["xaxis"]["tickvals"][:2] == [1.0, 4.0]
    assert [a["text"] for a in layout["annotations"]] == [str(k) for k in range(8)]
    assert [a["x"] for a in layout["annotations"]][:2] == [1.0, 4.0]
    assert layout["yaxis"]["title"]["text"] == "input channel 0–2 in each band"
    assert layout["xaxis"]["title"]["text"].startswith("output channel")
    assert "+" not in "".join(layout["xaxis"]["ticktext"])
    assert "2 bands of 8 outputs" in layout["title"]["text"]
    assert layout["margin"]["l"] >= 7 * len("out 8–15")  # the labels fit
    assert layout["yaxis"]["range"] == [18.5, -0.5]


def test_ban10_grouped_banded_pages_keep_absolute_inputs_and_paging() -> None:
    weights = RNG.standard_normal((300, 1, 3, 3)).astype(np.float32)  # depthwise
    max_cells = 1000
    paging = kernel_paging(weights.shape, max_cells)
    seen = []
    for page in range(paging.pages):
        fig = kernel_grid(weights, groups=300, page=page, max_cells=max_cells)
        _, z, cd = trace_arrays(fig)
        bands, cols = kernel_bands(paging, page)
        assert (fig.layout.meta["bands"], fig.layout.meta["band_cols"]) == (bands, cols)
        assert bands > 1 and z.size <= max_cells
        assert fig.layout.yaxis.title.text == "input channel (within group)"  # one row a band
        real = cd[..., 2] >= 0
        assert (cd[real][:, 1] == cd[real][:, 2]).all()  # depthwise: input = output channel
        seen += sorted({int(o) for o in cd[real][:, 2]})
        assert seen[-1] == page_range(paging, page)[1] - 1
    assert seen == list(range(300))
