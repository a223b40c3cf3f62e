"""Tile separators and the cover for empty slots, drawn over a mosaic in two cheap traces.

The separators are ONE continuous polyline (no None breaks), so its coordinates stay numpy
float32 and plotly ships them as a compact typed array instead of validating thousands of
Python floats (a 512-row kernel page: ~4 ms instead of ~20 ms).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.style import BACKGROUND


def separator_path(
    nrows: int, ncols: int, tile_h: int, tile_w: int, last_row_tiles: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys) of one polyline tracing the frame of the tiles and every tile boundary.

    Moves from one separator to the next run along the frame or along a boundary that is
    drawn anyway, so the path draws nothing but the frame and the separators. Columns past
    the last tile of a short last row stop at the top of that row.
    """
    last = ncols if last_row_tiles is None else last_row_tiles
    top = left = -0.5
    bottom, right = nrows * tile_h - 0.5, ncols * tile_w - 0.5
    short = bottom - tile_h if last < ncols else bottom  # bottom edge past the last tile
    last_x = last * tile_w - 0.5
    points = [(left, top), (right, top), (right, short), (last_x, short)]
    points += [(last_x, bottom), (left, bottom), (left, top)]
    for k in range(1, ncols):  # vertical lines, alternately down and up
        x, end = k * tile_w - 0.5, bottom if k <= last else short
        if k % 2:
            points += [(x, top), (x, end)]
        else:  # ends only get shorter to the right, so this connector lies on a boundary
            points += [(points[-1][0], end), (x, end), (x, top)]
    points += [(points[-1][0], top), (left, top)]
    for k in range(1, nrows):  # horizontal lines, alternately rightwards and leftwards
        y = k * tile_h - 0.5
        start, stop = (left, right) if k % 2 else (right, left)
        points += [(start, y), (stop, y)]
    xs, ys = np.asarray(points, dtype=np.float32).T
    return np.ascontiguousarray(xs), np.ascontiguousarray(ys)


def band_separator_path(
    nrows: int, bands: int, band_cols: int, last_cols: int, tile_h: int, tile_w: int, gap: int
) -> tuple[np.ndarray, np.ndarray]:
    """separator_path of each band (nrows × band_cols tiles; the last has last_cols), joined.

    Band b sits b * (nrows * tile_h + gap) rows down. Between bands the pen runs along the
    frame to the band's bottom-left corner, then down the gap's left edge, which the
    cover (drawn over the separators) hides.
    """
    xs_all, ys_all = [], []
    for band in range(bands):
        xs, ys = separator_path(
            nrows, last_cols if band == bands - 1 else band_cols, tile_h, tile_w
        )
        ys = ys + np.float32(band * (nrows * tile_h + gap))
        if band < bands - 1:  # the path ends on the left or right frame edge
            bottom = band * (nrows * tile_h + gap) + nrows * tile_h - 0.5
            xs, ys = np.append(xs, [xs[-1], -0.5]), np.append(ys, [bottom, bottom])
        xs_all.append(xs)
        ys_all.append(ys)
    return np.concatenate(xs_all).astype(np.float32), np.concatenate(ys_all).astype(np.float32)


def block_separator_path(
    block_rows: int, blocks: int, last_rows: int, ncols: int, tile_h: int, tile_w: int, gap: int
) -> tuple[np.ndarray, np.ndarray]:
    """separator_path of each block (block_rows × ncols tiles; the last has last_rows), joined.

    Block q sits q * (ncols * tile_w + gap) columns right. Between blocks the pen runs up
    the frame to the block's top edge, then right along the top edge of the gap, which the
    cover (drawn over the separators) and the axis range hide.
    """
    xs_all, ys_all = [], []
    pitch = ncols * tile_w + gap
    for block in range(blocks):
        rows = last_rows if block == blocks - 1 else block_rows
        xs, ys = separator_path(rows, ncols, tile_h, tile_w)
        xs = xs + np.float32(block * pitch)
        if block < blocks - 1:  # the path ends on the left or right frame edge
            xs = np.append(xs, [xs[-1], (block + 1) * pitch - 0.5])
            ys = np.append(ys, [-0.5, -0.5])
        xs_all.append(xs)
        ys_all.append(ys)
    return np.concatenate(xs_all).astype(np.float32), np.concatenate(ys_all).astype(np.float32)


def band_overlay(
    nrows: int,
    bands: int,
    band_cols: int,
    last_cols: int,
    tile_h: int,
    tile_w: int,
    *,
    gap: int,
    colour: str,
) -> list[go.Scatter]:
    """[separators, cover of the gaps and the last band's tail] for a banded mosaic.

    The cover goes last, over the separators: it hides the pen's moves down the gaps and
    the half of each band's frame line that lies in a gap (the outer frame is clipped by
    the axis range the same way). Hovering it shows no label, so gaps never hover.
    """
    xs, ys = band_separator_path(nrows, bands, band_cols, last_cols, tile_h, tile_w, gap)
    separators = _separator_trace(xs, ys, colour, max(nrows * bands, band_cols))
    if bands == 1:
        return [separators]
    pitch, right = nrows * tile_h + gap, band_cols * tile_w - 0.5
    rects = [
        (-0.5, right, b * pitch + nrows * tile_h - 0.5, (b + 1) * pitch - 0.5)
        for b in range(bands - 1)
    ]
    if last_cols < band_cols:
        rects.append(
            (last_cols * tile_w - 0.5, right, (bands - 1) * pitch - 0.5, bands * pitch - gap - 0.5)
        )
    return [separators, _cover_rects(rects)]


def block_overlay(
    block_rows: int,
    blocks: int,
    last_rows: int,
    ncols: int,
    tile_h: int,
    tile_w: int,
    *,
    gap: int,
    colour: str,
) -> list[go.Scatter]:
    """[separators, cover of the gap columns and the last block's tail] for input blocks.

    The mirror image of band_overlay: blocks of block_rows × ncols tiles side by side.
    """
    xs, ys = block_separator_path(block_rows, blocks, last_rows, ncols, tile_h, tile_w, gap)
    separators = _separator_trace(xs, ys, colour, max(block_rows, ncols * blocks))
    if blocks == 1:
        return [separators]
    pitch, bottom = ncols * tile_w + gap, block_rows * tile_h - 0.5
    rects = [
        (q * pitch + ncols * tile_w - 0.5, (q + 1) * pitch - 0.5, -0.5, bottom)
        for q in range(blocks - 1)
    ]
    if last_rows < block_rows:
        left = (blocks - 1) * pitch - 0.5
        rects.append((left, left + ncols * tile_w, last_rows * tile_h - 0.5, bottom))
    return [separators, _cover_rects(rects)]


def _cover_rects(rects: list[tuple[float, float, float, float]]) -> go.Scatter:
    """One cover trace over (x0, x1, y0, y1) rectangles: a closed loop each, None between."""
    x: list[float | None] = []
    y: list[float | None] = []
    for x0, x1, y0, y1 in rects:
        x += [x0, x1, x1, x0, x0, None]
        y += [y0, y0, y1, y1, y0, None]
    return _cover_trace(x[:-1], y[:-1])


def _cover_trace(x: list[float | None], y: list[float | None]) -> go.Scatter:
    return go.Scatter(
        x=x,
        y=y,
        mode="lines",
        line={"width": 0},
        fill="toself",
        fillcolor=BACKGROUND,
        hoveron="fills",
        hoverinfo="none",
        showlegend=False,
        name="empty",
    )


def _separator_trace(xs: np.ndarray, ys: np.ndarray, colour: str, tiles: int) -> go.Scatter:
    return go.Scatter(
        x=xs,
        y=ys,
        mode="lines",
        line={"color": colour, "width": 1.0 if tiles <= 64 else 0.5},
        hoverinfo="skip",
        showlegend=False,
        name="separators",
    )


def grid_overlay(
    nrows: int,
    ncols: int,
    tile_h: int,
    tile_w: int,
    *,
    colour: str,
    last_row_tiles: int | None = None,
) -> list[go.Scatter]:
    """[cover of the empty slots (only if the last row is short), separators].

    The cover is filled with the background colour and hovering it shows no label, so the
    padding of the mosaic never shows a hover; the separators never take hover.
    """
    last = ncols if last_row_tiles is None else last_row_tiles
    xs, ys = separator_path(nrows, ncols, tile_h, tile_w, last)
    separators = _separator_trace(xs, ys, colour, max(nrows, ncols))
    if last == ncols:
        return [separators]
    x0, x1 = last * tile_w - 0.5, ncols * tile_w - 0.5
    y0, y1 = (nrows - 1) * tile_h - 0.5, nrows * tile_h - 0.5
    return [_cover_trace([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]), separators]
