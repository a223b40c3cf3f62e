"""Axes and labels of a kernel page: plain, wrapped into output bands or into input blocks."""

from __future__ import annotations

import math

from dashboard.figures.style import MUTED
from dashboard.figures.wrapping import BAND_ASPECT, KernelLayout

NICE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000)
MAX_BAND_LABELS = 20  # band or block labels; more are thinned
# Label thinning assumes the default kernel panel: ~330 px of plot height on a 1.5:1 panel.
PLOT_PX = 330
CHAR_PX = 7  # an 11 px tick label's character, with air between labels
OUT_LABEL_PX = 30  # room for one output number above a block
TOP_MARGIN = 36
BLOCK_TOP_MARGIN = 52  # room for the output numbers between the title and the blocks


def ticks(first: int, count: int, size: int, max_ticks: int, prefix: str = "") -> dict:
    """Tick values at tile centres, thinned to round channel numbers (at least the first)."""
    labels = _thinned(first, count, max_ticks)
    return {
        "tickmode": "array",
        "tickvals": [(ch - first) * size + (size - 1) / 2 for ch in labels],
        "ticktext": [f"{prefix}{ch}" for ch in labels],
    }


def _thinned(first: int, count: int, max_labels: int) -> list[int]:
    """Round numbers among first .. first+count-1, at most max_labels; else just the first."""
    step = next((s for s in NICE_STEPS if count / s <= max_labels), -(-count // max_labels))
    labels = [ch for ch in range(first, first + count) if ch % step == 0]
    return labels if labels and count > 1 else [first]


def _range_text(prefix: str, first: int, last: int) -> str:
    return f"{prefix} {first}–{last}" if last > first else f"{prefix} {first}"


def _shown(count: int) -> range:
    return range(0, count, -(-count // MAX_BAND_LABELS))


def band_ticks(layout: KernelLayout, start: int) -> dict:
    """y ticks naming each band's output channels ("out 16–31"), at most MAX_BAND_LABELS."""
    shown, rows, cols = _shown(layout.bands), layout.block_inputs * layout.kh, layout.band_cols
    return {
        "tickmode": "array",
        "tickvals": [band * layout.band_pitch + (rows - 1) / 2 for band in shown],
        "ticktext": [
            _range_text(
                "out", start + b * cols, min(start + layout.outputs, start + (b + 1) * cols) - 1
            )
            for b in shown
        ],
        "tickfont": {"size": 11},
    }


def _cell_px(layout: KernelLayout) -> float:
    """Rough on-screen size of one cell in the default kernel panel, to thin labels."""
    rows, cols = layout.shape
    return PLOT_PX / max(cols / BAND_ASPECT, rows)


def _block_texts(layout: KernelLayout) -> list[str]:
    """Each block's input channels: "in 0–63", "64–127", ..."""
    size = layout.block_inputs
    return [
        _range_text("in" if q == 0 else "", q * size, q * size + layout.block_size(q) - 1).strip()
        for q in range(layout.blocks)
    ]


def _labelled_blocks(layout: KernelLayout) -> range:
    """Blocks whose labels fit side by side (every one, or every 2nd, ...)."""
    pitch_px = layout.block_pitch * _cell_px(layout)
    widest = CHAR_PX * max(map(len, _block_texts(layout)))
    step = max(-(-layout.blocks // MAX_BAND_LABELS), math.ceil(widest / pitch_px))
    return range(0, layout.blocks, step)


def block_ticks(layout: KernelLayout) -> dict:
    """x ticks under the labelled blocks naming their input channels."""
    texts, wide = _block_texts(layout), layout.band_cols * layout.kw
    shown = _labelled_blocks(layout)
    return {
        "tickmode": "array",
        "tickvals": [q * layout.block_pitch + (wide - 1) / 2 for q in shown],
        "ticktext": [texts[q] for q in shown],
        "tickfont": {"size": 11},
    }


def block_out_labels(layout: KernelLayout, start: int) -> list[dict]:
    """Annotations numbering the output columns above each labelled block, thinned."""
    per_block = max(1, int(layout.band_cols * layout.kw * _cell_px(layout) // OUT_LABEL_PX))
    channels = _thinned(start, layout.outputs, per_block)
    label = {
        "xref": "x",
        "yref": "y domain",  # stays on top of the mosaic when zoomed
        "y": 1,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 10, "color": MUTED},
    }
    return [
        {
            **label,
            "x": q * layout.block_pitch + (ch - start) * layout.kw + (layout.kw - 1) / 2,
            "text": str(ch),
        }
        for q in _labelled_blocks(layout)
        for ch in channels
    ]


def kernel_axes(
    layout: KernelLayout, start: int, groups: int
) -> tuple[dict, dict, list[dict], dict]:
    """(xaxis ticks/title, yaxis ticks/title, annotations, margin) of a kernel page.

    Plain: outputs along x, inputs along y. Bands: x = offset within a band, y = each
    band's outputs. Blocks: x = each block's inputs, y = offset within a block, and the
    output numbers above each block.
    """
    x_title, y_title, left, top = "output channel", "input channel", 56, TOP_MARGIN
    annotations: list[dict] = []
    inp, kh, kw = layout.inputs, layout.kh, layout.kw
    if layout.bands > 1:
        xaxis = ticks(0, layout.band_cols, kw, 12, prefix="+")
        yaxis = band_ticks(layout, start)
        x_title = "output channel: the band's first + column"
        y_title = f"rows: input channel 0–{inp - 1}" if inp > 1 else y_title
        left = 24 + 7 * max(len(text) for text in yaxis["ticktext"])
    elif layout.blocks > 1:
        xaxis = block_ticks(layout)
        yaxis = ticks(0, layout.block_inputs, kh, 16, prefix="+")
        annotations = block_out_labels(layout, start)
        x_title = "blocks of input channels · columns: output channels (top)"
        y_title = "input channel: the block's first + row"
        top = BLOCK_TOP_MARGIN
    else:
        xaxis = ticks(start, layout.outputs, kw, 24)
        yaxis = ticks(0, inp, kh, 32)
    y_title += " (within group)" if groups > 1 else ""
    xaxis.update(ticks="", showticklabels=True, title={"text": x_title, "standoff": 4})
    yaxis.update(ticks="", showticklabels=True, title={"text": y_title, "standoff": 4})
    return xaxis, yaxis, annotations, {"l": left, "r": 8, "t": top, "b": 44}
