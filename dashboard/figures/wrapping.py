"""How one kernel page is wrapped: wide pages into output bands, tall ones into input blocks.

Pure arithmetic on sizes (no numpy, no plotly), so the figure, its axes and outlines share
one answer. Mosaic coordinates are heatmap cell indices, cell (r, c) centred on (x=c, y=r).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# Kernel pages with few rows (first layers: 3 inputs × 3) wrap their output columns into
# bands stacked vertically, BAND_GAP empty rows apart, laid out for a panel this much
# wider than tall (the kernel panel is ~620×420 px).
BAND_ASPECT = 1.5
BAND_GAP = 1
BAND_MIN_GAIN = 1.25  # wrap only for cells at least this much larger: 10 kernels stay a row
# Kernel pages with many rows (512 inputs × 3 for 12 outputs) wrap their input rows into
# blocks placed side by side, BLOCK_GAP empty columns apart, by the same rule.
BLOCK_GAP = 1


@dataclass(frozen=True)
class KernelLayout:
    """Where the tiles of one kernel page sit: wrapped into output bands OR input blocks.

    Tile (output k of the page, input i) sits in band k // band_cols (bands stacked
    vertically, BAND_GAP rows apart) and block i // block_inputs (blocks side by side,
    BLOCK_GAP columns apart), at tile row i % block_inputs and tile column k % band_cols.
    So rows are input channels and columns output channels in every band and block. At
    most one of bands and blocks exceeds 1; the last band/block may be short (its tail).
    """

    outputs: int  # output channels on the page
    inputs: int  # input channels per group
    kh: int
    kw: int
    bands: int
    band_cols: int
    blocks: int
    block_inputs: int

    @property
    def band_pitch(self) -> int:
        """Rows from the top of one band to the top of the next."""
        return self.block_inputs * self.kh + BAND_GAP

    @property
    def block_pitch(self) -> int:
        """Columns from the left of one block to the left of the next."""
        return self.band_cols * self.kw + BLOCK_GAP

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the mosaic, gaps and tails included."""
        return self.bands * self.band_pitch - BAND_GAP, self.blocks * self.block_pitch - BLOCK_GAP

    def block_size(self, block: int) -> int:
        """Input channels in `block` (the last one may hold fewer)."""
        return min(self.block_inputs, self.inputs - block * self.block_inputs)

    def column_rects(self, k: int) -> list[tuple[float, float, float, float]]:
        """(x0, x1, y0, y1) of output k's column in each block, cell edges at ±0.5."""
        band, col = divmod(k, self.band_cols)
        y0 = band * self.band_pitch - 0.5
        rects = []
        for block in range(self.blocks):
            x0 = block * self.block_pitch + col * self.kw - 0.5
            rects.append((x0, x0 + self.kw, y0, y0 + self.block_size(block) * self.kh))
        return rects


def _panel_size(width: int, height: int) -> float:
    """max(w / BAND_ASPECT, h): a BAND_ASPECT panel shows its cells at panel_height / this."""
    return max(width / BAND_ASPECT, height)


def _best_bands(count: int, tile_rows: int, tile_w: int) -> tuple[int, int, float]:
    """(bands, band_cols, panel size) with the smallest size; ties: fewer bands."""
    best = (1, count, _panel_size(count * tile_w, tile_rows))
    for bands in range(2, count + 1):
        height = bands * tile_rows + (bands - 1) * BAND_GAP
        if height >= best[2]:  # height only grows with the bands
            break
        cols = -(-count // bands)
        size = _panel_size(cols * tile_w, height)
        if -(-count // cols) == bands and size < best[2]:  # else a smaller count was tried
            best = (bands, cols, size)
    return best


def _best_blocks(inputs: int, tile_h: int, block_w: int) -> tuple[int, int, float]:
    """(blocks, block_inputs, panel size) with the smallest size; ties: fewer blocks."""
    best = (1, inputs, _panel_size(block_w, inputs * tile_h))
    for blocks in range(2, inputs + 1):
        width = blocks * block_w + (blocks - 1) * BLOCK_GAP
        if width / BAND_ASPECT >= best[2]:  # width only grows with the blocks
            break
        rows = -(-inputs // blocks)
        size = _panel_size(width, rows * tile_h)
        if -(-inputs // rows) == blocks and size < best[2]:
            best = (blocks, rows, size)
    return best


def wrap_layout(outputs: int, inputs: int, kh: int, kw: int) -> KernelLayout:
    """The layout of `outputs` columns × `inputs` rows of kh×kw tiles with the largest cells.

    A panel BAND_ASPECT times wider than tall shows a mosaic w cells wide and h tall at
    panel_height / max(w / BAND_ASPECT, h) px per cell, so the wrapping minimising that
    wins (ties: fewer bands or blocks). A wide page wraps its outputs into bands, a tall
    one its inputs into blocks, each only for cells BAND_MIN_GAIN times larger; whichever
    gives the larger cells wins, ties keep the plain mosaic. (Both can never pay off:
    bands help only a page wider than the panel, blocks only a taller one; one input row
    never wraps into blocks.)
    """
    plain = KernelLayout(outputs, inputs, kh, kw, 1, outputs, 1, inputs)
    one = _panel_size(outputs * kw, inputs * kh)
    bands, cols, band_size = _best_bands(outputs, inputs * kh, kw)
    blocks, rows, block_size = _best_blocks(inputs, kh, outputs * kw)
    if one < min(band_size, block_size) * BAND_MIN_GAIN or band_size == block_size:
        return plain
    if band_size < block_size:
        return replace(plain, bands=bands, band_cols=cols)
    return replace(plain, blocks=blocks, block_inputs=rows)
