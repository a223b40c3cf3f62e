"""Axes and labels of a kernel page: plain, wrapped into output bands or into input blocks.

Every label is a real channel number (no "+5" offsets). Labels along a row are thinned to
round numbers until no two neighbours are closer than MIN_PITCH_PX or than half their
widths plus AIR_PX, on the default panel (PLOT_PX of plot height on a 1.5:1 panel).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from dashboard.figures.style import MUTED
from dashboard.figures.wrapping import BAND_ASPECT, KernelLayout

NICE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000)
MAX_BAND_LABELS = 20  # band labels down the y axis; more are thinned
PLOT_PX = 330  # plot height of the default kernel panel (~620×420 px)
DIGIT_PX = 6.5  # width of one character of an 11 px label (10 px labels are narrower)
AIR_PX = 6.0  # clear space between two neighbouring labels
MIN_PITCH_PX = 30.0  # at most one label per this many px along x
ROW_PITCH_PX = 16.0  # and along y (a label is ~13 px tall)
TOP_MARGIN = 36
LABELS_TOP_MARGIN = 52  # room for the output numbers between the title and the mosaic


def cell_px(layout: KernelLayout) -> float:
    """On-screen size of one cell in the default kernel panel."""
    rows, cols = layout.shape
    return PLOT_PX / max(cols / BAND_ASPECT, rows)


def text_px(text: str) -> float:
    return DIGIT_PX * len(text)


def labels_fit(
    centres_px: list[float], texts: list[str], pitch: float = MIN_PITCH_PX, *, side: bool = True
) -> bool:
    """No two neighbouring labels (centred at centres_px) touch or are closer than pitch.

    side: the labels stand side by side (x), so their widths count too; down the y axis
    only the pitch does.
    """
    placed = sorted(zip(centres_px, texts, strict=True))
    return all(
        b - a >= max(pitch, side * ((text_px(s) + text_px(t)) / 2 + AIR_PX))
        for (a, s), (b, t) in itertools.pairwise(placed)
    )


def round_channels(
    first: int, count: int, centres: Callable[[int], list[float]], pitch: float = MIN_PITCH_PX
) -> list[int]:
    """The densest round channel numbers in first .. first+count-1 whose labels fit.

    centres(channel) gives the px centres of that channel's labels (one per block).
    Falls back to the first channel alone.
    """
    for step in NICE_STEPS:
        chosen = [ch for ch in range(first, first + count) if ch % step == 0] or [first]
        where = [(x, str(ch)) for ch in chosen for x in centres(ch)]
        if labels_fit(
            [x for x, _ in where], [t for _, t in where], pitch, side=pitch != ROW_PITCH_PX
        ):
            return chosen
    return [first]


def _array_ticks(values: list[float], texts: list[str], size: int = 11) -> dict:
    return {"tickmode": "array", "tickvals": values, "ticktext": texts, "tickfont": {"size": size}}


def channel_ticks(first: int, count: int, size: int, px: float, pitch: float) -> dict:
    """Ticks at tile centres naming real channels, thinned to round numbers that fit."""
    chosen = round_channels(first, count, lambda ch: [(ch - first) * size * px], pitch)
    return _array_ticks(
        [(ch - first) * size + (size - 1) / 2 for ch in chosen], list(map(str, chosen))
    )


def _range_text(prefix: str, first: int, last: int) -> str:
    return f"{prefix} {first}–{last}" if last > first else f"{prefix} {first}"


def band_ticks(layout: KernelLayout, start: int) -> dict:
    """y ticks naming each band's output channels ("out 16–31"), at most MAX_BAND_LABELS."""
    rows, cols = layout.block_inputs * layout.kh, layout.band_cols
    shown = range(0, layout.bands, -(-layout.bands // MAX_BAND_LABELS))
    shown = range(0, layout.bands, max(shown.step, _band_step(layout)))
    return _array_ticks(
        [band * layout.band_pitch + (rows - 1) / 2 for band in shown],
        [
            _range_text(
                "out", start + b * cols, min(start + layout.outputs, start + (b + 1) * cols) - 1
            )
            for b in shown
        ],
    )


def _band_step(layout: KernelLayout) -> int:
    """Label every n-th band so that the labels are ROW_PITCH_PX apart."""
    return max(1, -(-int(ROW_PITCH_PX) // max(1, int(layout.band_pitch * cell_px(layout)))))


def _block_texts(layout: KernelLayout) -> list[str]:
    """Each block's input channels: "in 0–63", "64–127", ..."""
    size = layout.block_inputs
    return [
        _range_text("in" if q == 0 else "", q * size, q * size + layout.block_size(q) - 1).strip()
        for q in range(layout.blocks)
    ]


def labelled_blocks(layout: KernelLayout) -> range:
    """Blocks whose input-range labels fit side by side (every one, or every 2nd, ...)."""
    texts, px = _block_texts(layout), cell_px(layout)
    for step in range(1, layout.blocks + 1):
        shown = range(0, layout.blocks, step)
        centres = [q * layout.block_pitch * px for q in shown]
        if labels_fit(centres, [texts[q] for q in shown], pitch=0):
            return shown
    return range(1)


def block_ticks(layout: KernelLayout) -> dict:
    """x ticks under the labelled blocks naming their input channels."""
    texts, wide = _block_texts(layout), layout.band_cols * layout.kw
    shown = labelled_blocks(layout)
    return _array_ticks(
        [q * layout.block_pitch + (wide - 1) / 2 for q in shown], [texts[q] for q in shown]
    )


def out_labels(layout: KernelLayout, start: int, blocks: range) -> list[dict]:
    """Annotations with the real output channel numbers above the columns of `blocks`.

    Thinned across all blocks at once, so the last label of one block never runs into the
    first of the next.
    """
    px, kw = cell_px(layout), layout.kw

    def centres(ch: int) -> list[float]:
        return [(q * layout.block_pitch + (ch - start) * kw) * px for q in blocks]

    channels = round_channels(start, layout.band_cols, centres)
    label = {
        "xref": "x",
        "yref": "y domain",  # stays on top of the mosaic when zoomed
        "y": 1,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 10, "color": MUTED},
    }
    return [
        {**label, "x": q * layout.block_pitch + (ch - start) * kw + (kw - 1) / 2, "text": str(ch)}
        for q in blocks
        for ch in channels
    ]


def _fitting_blocks(layout: KernelLayout, start: int) -> range:
    """Every block whose output numbers still fit next to the others' (at least the first)."""
    for step in range(1, layout.blocks + 1):
        shown = range(0, layout.blocks, step)
        px = cell_px(layout)
        firsts = [q * layout.block_pitch * px for q in shown]
        if labels_fit(firsts, [str(start)] * len(firsts)):
            return shown
    return range(1)


def kernel_axes(
    layout: KernelLayout, start: int, groups: int
) -> tuple[dict, dict, list[dict], dict]:
    """(xaxis ticks/title, yaxis ticks/title, annotations, margin) of a kernel page.

    Plain: output channels along x, input channels along y. Bands: the top band's output
    numbers above the mosaic, the bottom band's below it, each band's range on the left,
    rows input channels. Blocks: the output numbers above every (fitting) block, each
    block's input range below it, the first block's input numbers on the left.
    """
    x_title, y_title, left, top = "output channel", "input channel", 56, TOP_MARGIN
    annotations: list[dict] = []
    px, inp, kh, kw = cell_px(layout), layout.inputs, layout.kh, layout.kw
    if layout.bands > 1:
        last = start + (layout.bands - 1) * layout.band_cols
        xaxis = channel_ticks(last, start + layout.outputs - last, kw, px, MIN_PITCH_PX)
        annotations = out_labels(layout, start, range(1))
        yaxis = band_ticks(layout, start)
        x_title = "output channel (top band: numbers above; bottom band: below)"
        y_title = f"input channel 0–{inp - 1} in each band" if inp > 1 else y_title
        left, top = 24 + 7 * max(len(text) for text in yaxis["ticktext"]), LABELS_TOP_MARGIN
    elif layout.blocks > 1:
        xaxis = block_ticks(layout)
        yaxis = channel_ticks(0, layout.block_inputs, kh, px, ROW_PITCH_PX)
        annotations = out_labels(layout, start, _fitting_blocks(layout, start))
        x_title = "input channels of each block · output channel numbers above"
        y_title = "input channel (first block)"
        top = LABELS_TOP_MARGIN
    else:
        xaxis = channel_ticks(start, layout.outputs, kw, px, MIN_PITCH_PX)
        yaxis = channel_ticks(0, inp, kh, px, ROW_PITCH_PX)
    y_title += " (within group)" if groups > 1 else ""
    xaxis.update(ticks="", showticklabels=True, title={"text": x_title, "standoff": 4})
    yaxis.update(ticks="", showticklabels=True, title={"text": y_title, "standoff": 4})
    return xaxis, yaxis, annotations, {"l": left, "r": 8, "t": top, "b": 44}
