"""Tall kernel pages wrapped into input blocks: every weight once, clicks, outlines, gaps."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from dashboard.figures import kernel_grid, kernel_outline, kernel_paging
from dashboard.figures.kernel_axes import cell_px, labels_fit
from dashboard.figures.mosaic import wrap_mosaic
from dashboard.figures.paging import kernel_layout, page_range
from dashboard.figures.wrapping import (
    BAND_ASPECT,
    BAND_GAP,
    BAND_MIN_GAIN,
    BLOCK_GAP,
    wrap_layout,
)
from tests.unit.figure_helpers import (
    covered,
    decode,
    kernel_at,
    kernel_paging_from_meta,
    loops,
    trace_arrays,
    walked_edges,
    wire,
)

RNG = np.random.default_rng(20240612)
VGG_DEEP = (512, 512, 3, 3)


@pytest.fixture(scope="module")
def deep_weights() -> np.ndarray:
    return RNG.standard_normal(VGG_DEEP).astype(np.float32)


@pytest.fixture(scope="module")
def deep_pages(deep_weights: np.ndarray) -> dict[int, dict]:
    """Page 0 and the last page of a 512×512×3×3 layer, as the browser receives them."""
    last = kernel_paging(VGG_DEEP).pages - 1
    return {page: wire(kernel_grid(deep_weights, page=page)) for page in (0, last)}


def comb_rects(path: str) -> list[dict]:
    """The boxes ("Mx0,y0Hx1Vy1Hx0Z") of a comb outline path, as rect corners.

    Also checks the comb's one extra stroke: a bar along the top joining every box.
    """
    bar, *boxes = path.split("M")[1:]
    rects = []
    for box in boxes:
        x0, rest = box.split(",")
        y0, x1, y1, x0_again = re.split("[HVZ]", rest)[:4]
        assert x0 == x0_again
        rects.append({"x0": float(x0), "x1": float(x1), "y0": float(y0), "y1": float(y1)})
    left, top_right = bar.split(",")
    top, right = top_right.split("H")
    assert float(left) == rects[0]["x0"] and float(right) == rects[-1]["x1"]
    assert all(r["y0"] == float(top) for r in rects)
    return rects


def core_rects(shapes: list[dict]) -> list[dict]:
    """The boxed columns of a one-selection outline: [halo, core], one comb path each."""
    assert len(shapes) == 2 and shapes[0]["line"]["width"] > shapes[1]["line"]["width"]
    assert shapes[0]["path"] == shapes[1]["path"] and shapes[1]["type"] == "path"
    return comb_rects(shapes[1]["path"])


# ---------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("shape", "first", "last"),
    [
        (VGG_DEEP, (12, 8, 64), (8, 10, 52)),  # 12 per page, 43 pages; last page: 8 channels
        ((256, 256, 3, 3), (24, 4, 64), (16, 5, 52)),
        ((512, 256, 3, 3), (24, 4, 64), (8, 7, 37)),
        ((128, 128, 3, 3), (49, 2, 64), (30, 3, 43)),
        ((2048, 512, 1, 1), (111, 3, 171), (50, 4, 128)),  # 112 per page would not fit
        ((1024, 1024, 1, 1), (55, 5, 205), (34, 7, 147)),
        ((64, 64, 3, 3), (64, 1, 64), (64, 1, 64)),  # already square: never wrap
        ((128, 64, 3, 3), (99, 1, 64), (29, 2, 32)),  # the short last page is tall
        ((64, 3, 3, 3), (16, 1, 3), (16, 1, 3)),  # wide: 4 bands of 16, no blocks
    ],
)
def test_blk01_block_rule_on_real_layers(
    shape: tuple[int, int, int, int], first: tuple[int, int, int], last: tuple[int, int, int]
) -> None:
    paging = kernel_paging(shape)
    for page, expected in [(0, first), (paging.pages - 1, last)]:
        layout = kernel_layout(paging, page)
        assert (layout.band_cols, layout.blocks, layout.block_inputs) == expected
        assert layout.bands == 1 or layout.blocks == 1
        start, stop = page_range(paging, page)
        assert layout.outputs == stop - start


def _size(width: int, height: int) -> float:
    return max(width / BAND_ASPECT, height)


def test_blk02_wrap_layout_gives_the_largest_cells_bands_or_blocks() -> None:
    for outputs, inputs, kh, kw in itertools.product(
        range(1, 26), (1, 2, 3, 7, 16, 64, 200), (1, 3), (1, 3, 5)
    ):
        layout = wrap_layout(outputs, inputs, kh, kw)
        rows, cols = layout.shape
        one = _size(outputs * kw, inputs * kh)
        bands = [  # every column count, brute force
            _size(c * kw, -(-outputs // c) * (inputs * kh + BAND_GAP) - BAND_GAP)
            for c in range(1, outputs + 1)
        ]
        blocks = [  # every row count
            _size(-(-inputs // r) * (outputs * kw + BLOCK_GAP) - BLOCK_GAP, r * kh)
            for r in range(1, inputs + 1)
        ]
        best = min(min(bands), min(blocks))
        assert layout.bands == 1 or layout.blocks == 1
        assert (layout.bands - 1) * layout.band_cols < outputs <= layout.bands * layout.band_cols
        assert (layout.blocks - 1) * layout.block_inputs < inputs
        assert inputs <= layout.blocks * layout.block_inputs  # no empty band or block
        if one >= best * BAND_MIN_GAIN:
            assert _size(cols, rows) == best and (layout.bands > 1 or layout.blocks > 1)
        else:
            assert (layout.bands, layout.blocks) == (1, 1) and (rows, cols) == (
                inputs * kh,
                outputs * kw,
            )


# ---------------------------------------------------------------- 512×512×3×3 in 8 blocks


def test_blk03_every_weight_appears_exactly_once_with_its_raw_value(
    deep_weights: np.ndarray, deep_pages: dict[int, dict]
) -> None:
    paging = kernel_paging(VGG_DEEP)
    for page, fig in deep_pages.items():
        start, stop = page_range(paging, page)
        layout = kernel_layout(paging, page)
        meta = fig["layout"]["meta"]
        assert (meta["blocks"], meta["block_inputs"], meta["block_gap"]) == (
            layout.blocks,
            layout.block_inputs,
            BLOCK_GAP,
        )
        assert (meta["bands"], meta["band_cols"]) == (1, stop - start) and layout.blocks > 1
        z, cd = decode(fig["data"][0]["z"]), decode(fig["data"][0]["customdata"])
        assert z.shape == cd.shape[:2] == layout.shape and z.size <= 57_344
        real = cd[..., 2] >= 0
        assert real.sum() == deep_weights[start:stop].size
        w, i, o, r, c = (cd[real][:, k] for k in range(5))
        index = o.astype(int), i.astype(int), r.astype(int), c.astype(int)
        np.testing.assert_array_equal(w, deep_weights[index])  # exact float32
        flat = np.sort(np.ravel_multi_index(index, VGG_DEEP))
        first = np.ravel_multi_index((start, 0, 0, 0), VGG_DEEP)
        assert np.array_equal(flat, np.arange(first, first + real.sum()))  # each exactly once
        assert (cd[~real] == [0, -1, -1, -1, -1]).all() and (z[~real] == 128).all()


def test_blk04_rows_are_inputs_columns_are_outputs_block_by_block(
    deep_pages: dict[int, dict],
) -> None:
    paging = kernel_paging(VGG_DEEP)
    for page, fig in deep_pages.items():
        start, stop = page_range(paging, page)
        n, layout = stop - start, kernel_layout(paging, page)
        cd = decode(fig["data"][0]["customdata"])
        for block in range(layout.blocks):
            left = block * (n * 3 + BLOCK_GAP)
            inputs = range(block * layout.block_inputs, (block + 1) * layout.block_inputs)
            inputs = [i for i in inputs if i < 512]
            tile = cd[: len(inputs) * 3, left : left + n * 3]
            assert (tile[..., 1] == np.repeat(inputs, 3)[:, None]).all()  # rows: inputs
            assert (tile[..., 2] == start + np.repeat(np.arange(n), 3)[None, :]).all()
            assert (tile[..., 3] == np.tile(np.arange(3), len(inputs))[:, None]).all()
            assert (tile[..., 4] == np.tile(np.arange(3), n)[None, :]).all()
            if block < layout.blocks - 1:
                assert (cd[:, left + n * 3, 1:] == -1).all()  # the gap column after it
        tail = 3 * (layout.blocks * layout.block_inputs - 512)
        assert (cd[cd.shape[0] - tail :, -n * 3 :, 2] == -1).all()  # the last block's tail
        assert tail == (0 if page == 0 else 3 * (10 * 52 - 512))


def test_blk05_kernel_at_inverts_every_cell_and_is_none_in_gaps(
    deep_pages: dict[int, dict],
) -> None:
    for page, fig in deep_pages.items():
        paging, meta_page = kernel_paging_from_meta(fig["layout"]["meta"])
        assert meta_page == page and paging == kernel_paging(VGG_DEEP)
        cd = decode(fig["data"][0]["customdata"])
        empty = 0
        for row, col in np.ndindex(cd.shape[:2]):
            _, inp, out, _, _ = cd[row, col]
            expected = (int(out), int(inp)) if out >= 0 else None
            empty += expected is None
            for dy, dx in [(0, 0), (0.45, -0.45), (-0.45, 0.45)]:
                assert kernel_at(paging, page, row + dy, col + dx) == expected
        layout = kernel_layout(paging, page)
        n = layout.outputs
        gaps = (layout.blocks - 1) * layout.shape[0]
        assert empty == gaps + 3 * n * 3 * (layout.blocks * layout.block_inputs - 512)
        rows, cols = cd.shape[:2]
        for row, col in [(-1, 0), (0, -1), (rows, 0), (0, cols), (float("nan"), 1), (0, None)]:
            assert kernel_at(paging, page, row, col) is None


def test_blk06_outline_holds_every_block_of_its_channel_and_nothing_else(
    deep_weights: np.ndarray, deep_pages: dict[int, dict]
) -> None:
    for page, fig in deep_pages.items():
        paging, _ = kernel_paging_from_meta(fig["layout"]["meta"])
        start, stop = page_range(paging, page)
        blocks = fig["layout"]["meta"]["blocks"]
        cd = decode(fig["data"][0]["customdata"])
        rows, cols = np.indices(cd.shape[:2])
        for channel in range(start, stop):
            cores = core_rects(kernel_outline(paging, page, channel))
            assert len(cores) == blocks  # one tooth per input block, in one path
            inside = np.zeros(cd.shape[:2], dtype=int)
            for s in cores:
                assert s["x1"] - s["x0"] == 3
                inside += (s["x0"] < cols) & (cols < s["x1"]) & (s["y0"] < rows) & (rows < s["y1"])
            assert inside.max() == 1
            assert (cd[..., 2][inside == 1] == channel).all()  # none of another channel's cells
            assert inside.sum() == (cd[..., 2] == channel).sum() == 512 * 9  # all of its own
        selected = start + 5
        shown = kernel_grid(deep_weights, page=page, selected=selected).layout.shapes
        assert [s.to_plotly_json() for s in shown] == kernel_outline(paging, page, selected)
        assert kernel_outline(paging, page, stop % 512 if page == 0 else 0) == []  # other page


def test_blk07_gaps_and_tail_are_covered_and_never_hover(deep_pages: dict[int, dict]) -> None:
    for page, fig in deep_pages.items():
        data = fig["data"]
        assert [t["name"] for t in data] == ["kernels", "separators", "empty"]
        separators, cover = data[1], data[2]  # the cover is drawn over the separators
        assert separators["hoverinfo"] == "skip" and isinstance(separators["x"], dict)
        assert cover["fill"] == "toself" and cover["hoveron"] == "fills"
        assert cover["hoverinfo"] == "none" and cover["line"]["width"] == 0
        rects = loops(cover)
        n = fig["layout"]["meta"]["band_cols"]
        layout = kernel_layout(*kernel_paging_from_meta(fig["layout"]["meta"]))
        bottom = layout.shape[0] - 0.5
        pitch = n * 3 + BLOCK_GAP
        gaps = [(q * pitch + n * 3 - 0.5, (q + 1) * pitch - 0.5, -0.5, bottom) for q in range(7)]
        assert rects[:7] == gaps
        if page == 0:
            assert len(rects) == layout.blocks - 1 == 7  # 8 × 64 = 512: no tail
        else:  # 10 blocks of 52: the last holds 44 inputs, 8 empty rows of tiles
            left = 9 * pitch - 0.5
            assert rects[9:] == [(left, left + n * 3, 44 * 3 - 0.5, 52 * 3 - 0.5)]
        cd = decode(data[0]["customdata"])
        for row, col in np.ndindex(cd.shape[:2]):
            assert covered(rects, row, col) == (cd[row, col, 2] < 0)


def tile_edges(rows: int, cols: int, top: int, left: int, th: int, tw: int) -> set:
    """Unit cell edges of a block of rows × cols tiles at (top, left)."""
    edges = set()
    for k in range(cols + 1):
        edges |= {
            ((left + k * tw, top + y), (left + k * tw, top + y + 1)) for y in range(rows * th)
        }
    for i in range(rows + 1):
        edges |= {
            ((left + x, top + i * th), (left + x + 1, top + i * th)) for x in range(cols * tw)
        }
    return edges


def test_blk08_separators_draw_the_block_tiles_and_cross_gaps_only_under_the_cover() -> None:
    weights = RNG.standard_normal((5, 23, 3, 2)).astype(np.float32)
    fig = wire(kernel_grid(weights))
    meta = fig["layout"]["meta"]
    blocks, per_block = meta["blocks"], meta["block_inputs"]
    assert (blocks, per_block) == (3, 8)  # 8 + 8 + 7 inputs: a one-tile tail
    xs, ys = decode(fig["data"][1]["x"]), decode(fig["data"][1]["y"])
    assert xs.dtype == np.float32 and np.isfinite(xs).all() and np.isfinite(ys).all()
    pitch, expected = 5 * 2 + BLOCK_GAP, set()
    for block, n_rows in enumerate([8, 8, 7]):
        expected |= tile_edges(n_rows, 5, 0, block * pitch, 3, 2)
    gaps = {
        ((x, 0), (x + 1, 0))
        for b in range(blocks - 1)
        for x in range(b * pitch + 10, (b + 1) * pitch)
    }
    walked = walked_edges(xs, ys)
    assert walked == expected | gaps  # moves between blocks run along the gaps' top edge
    rects = loops(fig["data"][2])
    assert all(covered(rects, a[1] - 0.5, (a[0] + b[0]) / 2 - 0.5) for a, b in gaps)
    assert rects[-1] == (2 * pitch - 0.5, 2 * pitch + 9.5, 20.5, 23.5)  # the tail


def test_blk09_block_labels_ticks_and_title(deep_pages: dict[int, dict]) -> None:
    layout = deep_pages[0]["layout"]
    xaxis, yaxis = layout["xaxis"], layout["yaxis"]
    assert xaxis["ticktext"] == ["in 0–63"] + [f"{q * 64}–{q * 64 + 63}" for q in range(1, 8)]
    assert xaxis["tickvals"] == [q * 37 + 17.5 for q in range(8)]  # block centres
    assert yaxis["ticktext"][:2] == ["0", "5"] and yaxis["tickvals"][:2] == [1.0, 16.0]
    assert yaxis["title"]["text"] == "input channel (first block)"
    assert "output channel numbers above" in xaxis["title"]["text"]
    title = layout["title"]["text"]
    assert title == (
        "output channels 0–11 of 512 (page 1/43) · 3×3 kernels · red > 0 > blue, colour per kernel"
    )
    labels = layout["annotations"]  # output numbers above every block, thinned to fit
    # "0", "10" per block ran "10" into the next block's "0" ("100"): now only what fits
    assert [a["text"] for a in labels] == ["0"] * 8
    assert [a["x"] for a in labels[:2]] == [1.0, 37 + 1.0]  # tile centres
    assert all(a["yref"] == "y domain" and a["y"] == 1 and a["xref"] == "x" for a in labels)
    assert all(a["yanchor"] == "bottom" and not a["showarrow"] for a in labels)
    assert layout["margin"]["t"] > 36  # room for them under the title
    assert layout["xaxis"]["range"] == [-0.5, 294.5] and layout["yaxis"]["range"] == [191.5, -0.5]
    last = deep_pages[max(deep_pages)]["layout"]
    assert last["xaxis"]["ticktext"][0] == "in 0–51" and "–" in last["xaxis"]["ticktext"][-1]
    assert [a["text"] for a in last["annotations"]] == ["510"] * 10  # 504 is not round
    assert "output channels 504–511 of 512 (page 43/43)" in last["title"]["text"]


def test_blk10_many_narrow_blocks_thin_their_labels() -> None:
    weights = np.zeros((1, 2000, 1, 1), dtype=np.float32)  # one output, 2000 inputs, 1×1
    fig = wire(kernel_grid(weights))
    meta, layout = fig["layout"]["meta"], fig["layout"]
    assert meta["blocks"] > 20 and meta["band_cols"] == 1
    assert (meta["blocks"], meta["block_inputs"]) == (39, 52)  # 2 columns a block, gap included
    px = cell_px(kernel_layout(*kernel_paging_from_meta(meta)))
    ticks, where = layout["xaxis"]["ticktext"], layout["xaxis"]["tickvals"]
    # every 6th block: "1872–1923" (9 characters) needs about six 2-column blocks' width
    assert ticks == ["in 0–51"] + [f"{q * 52}–{q * 52 + 51}" for q in range(6, 39, 6)]
    assert where == [12.0 * k for k in range(7)]
    assert labels_fit([x * px for x in where], ticks, pitch=0)
    above = layout["annotations"]  # output 0 above every 3rd block: 30 px apart
    assert [a["x"] for a in above] == [6.0 * k for k in range(13)]
    assert {a["text"] for a in above} == {"0"}
    assert labels_fit([a["x"] * px for a in above], [a["text"] for a in above])


def test_blk11_grouped_blocks_keep_absolute_inputs() -> None:
    weights = RNG.standard_normal((8, 40, 3, 3)).astype(np.float32)
    fig = kernel_grid(weights, groups=2, page=1, max_cells=1500)  # 4 outputs per group
    paging, page = kernel_paging_from_meta(fig.layout.meta)
    assert fig.layout.meta["blocks"] > 1 and "within group" in fig.layout.yaxis.title.text
    _, _, cd = trace_arrays(fig)
    found = 0
    for row, col in np.ndindex(cd.shape[:2]):
        at = kernel_at(paging, page, row, col)
        if at is not None:  # (output channel, input channel within its group)
            j, i = at
            assert cd[row, col, 1] == (j // 4) * 40 + i and cd[row, col, 2] == j
            assert cd[row, col, 0] == weights[j, i, int(cd[row, col, 3]), int(cd[row, col, 4])]
            found += 1
        else:
            assert cd[row, col, 2] == -1
    start, stop = page_range(paging, page)
    assert (start, stop) == (3, 6) and found == weights[start:stop].size  # spans both groups


def test_blk12_wrap_mosaic_wraps_rows_into_blocks_with_gap_columns() -> None:
    grid = RNG.standard_normal((5, 2, 3, 2, 4))  # 5 rows × 2 columns of 3×2 tiles, 4 extras
    fill = (7, -1, -1, -1)
    mosaic = wrap_mosaic(grid, (1, 2), (3, 2), gaps=(1, 1), fill=fill)
    assert mosaic.shape == (2 * 3, 3 * 4 + 2, 4) and mosaic.flags.c_contiguous
    for row, col in np.ndindex(5, 2):
        block, i = divmod(row, 2)
        top, left = i * 3, block * 5 + col * 2
        np.testing.assert_array_equal(mosaic[top : top + 3, left : left + 2], grid[row, col])
    assert (mosaic[:, 4] == fill).all() and (mosaic[:, 9] == fill).all()  # the gap columns
    assert (mosaic[3:, 10:] == fill).all()  # the last block's empty row of tiles
    plain = wrap_mosaic(grid[..., 0], (1, 2), (1, 5), gaps=(1, 1))
    np.testing.assert_array_equal(plain, grid[..., 0].transpose(0, 2, 1, 3).reshape(15, 4))
