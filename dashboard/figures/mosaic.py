"""Pure numpy building blocks: checked input, block means, tile mosaics, per-tile colour.

Nothing here knows about plotly; every function is vectorised (reshape/transpose), so a
64×224×224 activation tensor becomes an overview mosaic in a few milliseconds.
"""

from __future__ import annotations

import math

import numpy as np

F32_MAX = float(np.finfo(np.float32).max)


def checked_array(values: object, name: str, ndim: int, axes: str) -> np.ndarray:
    """Return `values` as an ndarray of real numbers with `ndim` dims, or raise.

    Raises:
        TypeError: the values are not real numbers (complex, strings, objects).
        ValueError: wrong number of dimensions, or no elements.
    """
    arr = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, but its dtype is {arr.dtype}.")
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array ({axes}), but its shape is {tuple(arr.shape)}."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {tuple(arr.shape)}).")
    return arr


def positive_shape(shape: tuple[int, ...], name: str, ndim: int) -> tuple[int, ...]:
    """`shape` as ints, or ValueError unless it has `ndim` positive sizes."""
    dims = tuple(int(d) for d in shape)
    if len(dims) != ndim or min(dims) < 1:
        raise ValueError(f"{name} must be {ndim} positive sizes, got {tuple(shape)}.")
    return dims


def clean_float32(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Float32 copy (or the input itself) with NaN/±Inf set to 0 and magnitudes clipped.

    Values beyond the float32 range are clipped to it rather than turned into Inf.

    Returns:
        (finite float32 array, number of non-finite entries replaced by 0)
    """
    if values.dtype == np.bool_:
        values = values.view(np.uint8)
    bad = ~np.isfinite(values)
    n_bad = int(np.count_nonzero(bad))
    if values.dtype == np.float32 and not n_bad:
        return values, 0
    with np.errstate(all="ignore"):
        if values.dtype.kind == "f" and values.dtype.itemsize > 4:
            values = np.clip(values, -F32_MAX, F32_MAX)
        out = values.astype(np.float32)
    if n_bad:
        out[bad] = 0.0
    return out, n_bad


def grid_shape(count: int) -> tuple[int, int]:
    """Near-square (nrows, ncols) for `count` tiles: ncols = ceil(sqrt(count))."""
    ncols = math.isqrt(count - 1) + 1 if count > 1 else 1
    return -(-count // ncols), ncols


def block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """Mean over factor×factor blocks of the last two axes, accumulated in float64.

    Edge blocks that stick out of the map average only the pixels that exist (no
    zero padding leaks into the mean). factor 1 returns the input unchanged.
    """
    if factor == 1:
        return values
    *lead, h, w = values.shape
    bh, bw = -(-h // factor), -(-w // factor)
    pad_h, pad_w = bh * factor - h, bw * factor - w
    if pad_h or pad_w:
        values = np.pad(values, [(0, 0)] * len(lead) + [(0, pad_h), (0, pad_w)])
    # Adding strided slices is ~2x faster than .sum(axis=..., dtype=float64) here.
    rows = values.reshape(*lead, bh, factor, bw * factor)
    acc = rows[..., 0, :].astype(np.float64)
    for i in range(1, factor):
        acc += rows[..., i, :]
    cols = acc.reshape(*lead, bh, bw, factor)
    sums = cols[..., 0].copy()
    for j in range(1, factor):
        sums += cols[..., j]
    rows_n = np.full(bh, factor, dtype=np.float64)
    cols_n = np.full(bw, factor, dtype=np.float64)
    rows_n[-1] -= pad_h
    cols_n[-1] -= pad_w
    return sums / np.outer(rows_n, cols_n)


def grid_mosaic(grid: np.ndarray) -> np.ndarray:
    """(R, C, h, w, *extra) tiles -> one (R*h, C*w, *extra) image, no gaps."""
    r, c, h, w, *extra = grid.shape
    return grid.swapaxes(1, 2).reshape(r * h, c * w, *extra)


def wrap_mosaic(
    grid: np.ndarray,
    bands: tuple[int, int],
    blocks: tuple[int, int],
    *,
    gaps: tuple[int, int],
    fill: object = 0,
) -> np.ndarray:
    """(R, N, h, w, *extra) tiles -> columns wrapped into bands, rows into blocks.

    Args:
        grid: R rows × N columns of h×w tiles, with optional trailing per-cell values.
        bands: (bands, band_cols): band b holds columns b*band_cols ..., stacked vertically.
        blocks: (blocks, block_rows): block q holds rows q*block_rows ..., side by side.
        gaps: (rows between bands, columns between blocks), all `fill`.
        fill: a scalar or a value per `extra`; also pads the last band's and block's tail.

    Returns:
        (bands*(block_rows*h + gap_r) - gap_r, blocks*(band_cols*w + gap_c) - gap_c, *extra)
        array; one band and one block is exactly grid_mosaic(grid).
    """
    (n_bands, band_cols), (n_blocks, block_rows) = bands, blocks
    if n_bands == n_blocks == 1:
        return grid_mosaic(grid)
    r, n, h, w, *extra = grid.shape
    row_gap, col_gap = gaps
    padded = grid
    if (r, n) != (n_blocks * block_rows, n_bands * band_cols):
        padded = np.empty((n_blocks * block_rows, n_bands * band_cols, h, w, *extra), grid.dtype)
        padded[:r, :n] = grid
        padded[r:] = fill
        padded[:r, n:] = fill
    # (blocks, rows, bands, cols, h, w, ...) -> (bands, rows, h, blocks, cols, w, ...)
    tiles = padded.reshape(n_blocks, block_rows, n_bands, band_cols, h, w, *extra)
    tiles = tiles.transpose(2, 1, 4, 0, 3, 5, *range(6, 6 + len(extra)))
    tall, wide = block_rows * h, band_cols * w
    out = np.empty((n_bands, tall + row_gap, n_blocks, wide + col_gap, *extra), grid.dtype)
    out[:, :tall, :, :wide] = tiles.reshape(n_bands, tall, n_blocks, wide, *extra)
    out[:, tall:] = fill
    out[:, :, :, wide:] = fill
    out = out.reshape(n_bands * (tall + row_gap), n_blocks * (wide + col_gap), *extra)
    # no gap after the last band or block; contiguous, so plotly ships it as is
    return np.ascontiguousarray(out[: out.shape[0] - row_gap, : out.shape[1] - col_gap])


def tile_mosaic(tiles: np.ndarray, nrows: int, ncols: int, fill: object = 0) -> np.ndarray:
    """(N, h, w, *extra) tiles laid out row-major in an nrows×ncols grid.

    Slots after the last tile are filled with `fill` (a scalar or a value per `extra`).
    """
    n, *tile_shape = tiles.shape
    missing = nrows * ncols - n
    if missing > 0:
        padding = np.empty((missing, *tile_shape), dtype=tiles.dtype)
        padding[...] = fill
        tiles = np.concatenate([tiles, padding])
    return grid_mosaic(tiles.reshape(nrows, ncols, *tile_shape))


def _to_uint8(scaled: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(scaled, 0.0, 255.0)).astype(np.uint8)


def minmax_uint8(tiles: np.ndarray, *, shared: bool = False) -> np.ndarray:
    """Colour index 0..255: min-max per tile (axis 0 indexes tiles) or across all tiles.

    A constant tile (max == min) maps to 0 instead of dividing by zero.
    """
    tiles = tiles.astype(np.float64, copy=False)
    axes = None if shared else tuple(range(1, tiles.ndim))
    lo = tiles.min(axis=axes, keepdims=True)
    span = tiles.max(axis=axes, keepdims=True) - lo
    scale = np.divide(255.0, span, out=np.zeros_like(span), where=span > 0)
    return _to_uint8((tiles - lo) * scale)


def centred_uint8(
    tiles: np.ndarray, axes: tuple[int, ...], *, centre: float, half: float
) -> np.ndarray:
    """Diverging colour index: centre + half * value / max|value| over `axes` (per tile).

    Zero maps to `centre` exactly, so the sign of a weight reads at a glance; an all-zero
    tile maps to `centre` everywhere.
    """
    tiles = tiles.astype(np.float64, copy=False)
    peak = np.abs(tiles).max(axis=axes, keepdims=True)
    scale = np.divide(half, peak, out=np.zeros_like(peak), where=peak > 0)
    return _to_uint8(centre + tiles * scale)


def smallest_block_factor(h: int, w: int, cells_per_tile: float) -> int:
    """Smallest integer f with ceil(h/f) * ceil(w/f) <= cells_per_tile (at most max(h, w))."""
    # ceil(h/f)*ceil(w/f) >= h*w/f**2, so no f below sqrt(h*w/budget) can fit.
    factor = max(1, math.isqrt(int(h * w / max(cells_per_tile, 1e-9))))
    largest = max(h, w)
    while factor < largest and (-(-h // factor)) * (-(-w // factor)) > cells_per_tile:
        factor += 1
    return min(factor, largest)


def symmetric_uint8(values: np.ndarray, peak: np.ndarray | float) -> np.ndarray:
    """Diverging colour index round(127.5 + 127.5 * value / peak); peak 0 maps to 128.

    `peak` (a max |value|) broadcasts against `values`, so one function serves a scale per
    kernel, per output channel or for the whole layer.
    """
    peak = np.asarray(peak, dtype=np.float64)
    scale = np.divide(127.5, peak, out=np.zeros_like(peak), where=peak > 0)
    return _to_uint8(127.5 + values.astype(np.float64, copy=False) * scale)


def range_uint8(values: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
    """Colour index round(255 * (value - lo) / (hi - lo)); a constant range maps to 0."""
    lo = np.asarray(lo, dtype=np.float64)
    span = np.asarray(hi, dtype=np.float64) - lo
    scale = np.divide(255.0, span, out=np.zeros_like(span), where=span > 0)
    return _to_uint8((values.astype(np.float64, copy=False) - lo) * scale)
