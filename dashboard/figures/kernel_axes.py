"""Axes and labels of a kernel page: plain, wrapped into output bands or into input blocks.

Every label is a real channel number (no "+5" offsets). Labels along a row are thinned to
round numbers until no two neighbours are closer than MIN_PITCH_PX or than half their
widths plus AIR_PX, on the default panel (PLOT_PX of plot height on a 1.5:1 panel).
A sorted page (its output channels in a display order, not start..stop-1) labels every
n-th column from its first with that column's true channel, and names bands by rank.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable, Sequence

from dashboard.figures.style import MUTED
from dashboard.figures.wrapping import BAND_ASPECT, KernelLayout
from dashboard.i18n import N_, _

NICE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000)
MAX_BAND_LABELS = 20  # band labels down the y axis; more are thinned
PLOT_PX = 330  # plot height of the default kernel panel (~620×420 px)
DIGIT_PX = 6.5  # width of one character of an 11 px label (10 px labels are narrower)
AIR_PX = 6.0  # clear space between two neighbouring labels
MIN_PITCH_PX = 30.0  # at most one label per this many px along x
ROW_PITCH_PX = 16.0  # and along y (a label is ~13 px tall)
TOP_MARGIN = 36
LABELS_TOP_MARGIN = 52  # room for the output numbers between the title and the mosaic
# a range of channels and a single one, per kind of label ("out 16–31", "out 16")
RANGE_TEXTS = {
    "out": (N_("out {first}–{last}"), N_("out {first}")),
    "rank": (N_("rank {first}–{last}"), N_("rank {first}")),
    "in": (N_("in {first}–{last}"), N_("in {first}")),
}


def cell_px(layout: KernelLayout) -> float:
    """On-screen size of one cell in the default kernel panel."""
    rows, cols = layout.shape
    return PLOT_PX / max(cols / BAND_ASPECT, rows)


def text_width(text: str) -> int:
    """Width of a label in digits: a CJK character is about two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_px(text: str) -> float:
    return DIGIT_PX * text_width(text)


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


def round_positions(
    offset: int,
    count: int,
    text: Callable[[int], str],
    centres: Callable[[int], list[float]],
    pitch: float = MIN_PITCH_PX,
) -> list[int]:
    """The densest positions k in 0..count-1 with offset + k round whose labels fit.

    text(k) is position k's label, centres(k) the px centres of its labels (one per block).
    offset = the first channel makes round channel numbers; offset 0 (a sorted page)
    labels every n-th position from the first. Falls back to the first position alone.
    """
    for step in NICE_STEPS:
        chosen = [k for k in range(count) if (offset + k) % step == 0] or [0]
        where = [(x, text(k)) for k in chosen for x in centres(k)]
        if labels_fit(
            [x for x, _text in where], [t for _x, t in where], pitch, side=pitch != ROW_PITCH_PX
        ):
            return chosen
    return [0]


def _namer(first: int, names: Sequence[int] | None) -> tuple[int, Callable[[int], str]]:
    """(offset, text) for round_positions: channel first + k, or names[k] on a sorted page."""
    if names is None:
        return first, lambda k: str(first + k)
    return 0, lambda k: str(int(names[k]))


def _array_ticks(values: list[float], texts: list[str], size: int = 11) -> dict:
    return {"tickmode": "array", "tickvals": values, "ticktext": texts, "tickfont": {"size": size}}


def channel_ticks(
    first: int, count: int, size: int, px: float, pitch: float, names: Sequence[int] | None = None
) -> dict:
    """Ticks at tile centres naming real channels, thinned to round numbers that fit.

    names: the true channel of each of the `count` tiles when they are not first, first+1,
    ... (a sorted page); then every n-th tile from the first is labelled.
    """
    offset, text = _namer(first, names)
    chosen = round_positions(offset, count, text, lambda k: [k * size * px], pitch)
    return _array_ticks([k * size + (size - 1) / 2 for k in chosen], [text(k) for k in chosen])


def _range_text(kind: str, first: int, last: int) -> str:
    """A label of channels first..last: kind "out", "rank" or "in" (RANGE_TEXTS), or ""
    for the bare numbers ("64–127")."""
    if not kind:
        return f"{first}–{last}" if last > first else str(first)
    many, one = RANGE_TEXTS[kind]
    return _(many if last > first else one).format(first=first, last=last)


def band_ticks(layout: KernelLayout, start: int, ranked: bool = False) -> dict:
    """y ticks naming each band's output channels ("out 16–31"), at most MAX_BAND_LABELS.

    ranked: the page is sorted, so a band holds no range of channels; it is named by the
    1-based ranks of its columns instead ("rank 17–32").
    """
    rows, cols = layout.block_inputs * layout.kh, layout.band_cols
    shown = range(0, layout.bands, -(-layout.bands // MAX_BAND_LABELS))
    shown = range(0, layout.bands, max(shown.step, _band_step(layout)))
    prefix, base = ("rank", start + 1) if ranked else ("out", start)
    return _array_ticks(
        [band * layout.band_pitch + (rows - 1) / 2 for band in shown],
        [
            _range_text(
                prefix, base + b * cols, min(base + layout.outputs, base + (b + 1) * cols) - 1
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
        _range_text("in" if q == 0 else "", q * size, q * size + layout.block_size(q) - 1)
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


def out_labels(
    layout: KernelLayout, start: int, blocks: range, names: Sequence[int] | None = None
) -> list[dict]:
    """Annotations with the real output channel numbers above the columns of `blocks`.

    Thinned across all blocks at once, so the last label of one block never runs into the
    first of the next. names: the true channels of a sorted page's columns.
    """
    px, kw = cell_px(layout), layout.kw

    def centres(k: int) -> list[float]:
        return [(q * layout.block_pitch + k * kw) * px for q in blocks]

    offset, text = _namer(start, names)
    columns = round_positions(offset, layout.band_cols, text, centres)
    label = {
        "xref": "x",
        "yref": "y domain",  # stays on top of the mosaic when zoomed
        "y": 1,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 10, "color": MUTED},
    }
    return [
        {**label, "x": q * layout.block_pitch + k * kw + (kw - 1) / 2, "text": text(k)}
        for q in blocks
        for k in columns
    ]


def _fitting_blocks(layout: KernelLayout, first: str) -> range:
    """Every block whose output numbers (the first: `first`) still fit next to the others'."""
    for step in range(1, layout.blocks + 1):
        shown = range(0, layout.blocks, step)
        px = cell_px(layout)
        firsts = [q * layout.block_pitch * px for q in shown]
        if labels_fit(firsts, [first] * len(firsts)):
            return shown
    return range(1)


def kernel_axes(
    layout: KernelLayout, start: int, groups: int, names: Sequence[int] | None = None
) -> tuple[dict, dict, list[dict], dict]:
    """(xaxis ticks/title, yaxis ticks/title, annotations, margin) of a kernel page.

    Plain: output channels along x, input channels along y. Bands: the top band's output
    numbers above the mosaic, the bottom band's below it, each band's range on the left,
    rows input channels. Blocks: the output numbers above every (fitting) block, each
    block's input range below it, the first block's input numbers on the left.
    `start` is the page's first position; names: the true output channel of each column
    of a sorted page (None: columns show channels start, start+1, ...).
    """
    x_title, y_title, left, top = _("output channel"), _("input channel"), 56, TOP_MARGIN
    annotations: list[dict] = []
    px, inp, kh, kw = cell_px(layout), layout.inputs, layout.kh, layout.kw
    ranked = names is not None
    if layout.bands > 1:
        last = (layout.bands - 1) * layout.band_cols
        tail = names[last:] if ranked else None
        xaxis = channel_ticks(start + last, layout.outputs - last, kw, px, MIN_PITCH_PX, tail)
        annotations = out_labels(layout, start, range(1), names)
        yaxis = band_ticks(layout, start, ranked)
        if ranked:
            x_title = _("output channel (sorted) (top band: numbers above; bottom band: below)")
        else:
            x_title = _("output channel (top band: numbers above; bottom band: below)")
        if inp > 1:
            y_title = _("input channel 0–{last} in each band").format(last=inp - 1)
        left = 24 + 7 * max(text_width(text) for text in yaxis["ticktext"])
        top = LABELS_TOP_MARGIN
    elif layout.blocks > 1:
        xaxis = block_ticks(layout)
        yaxis = channel_ticks(0, layout.block_inputs, kh, px, ROW_PITCH_PX)
        first = str(int(names[0])) if ranked else str(start)
        annotations = out_labels(layout, start, _fitting_blocks(layout, first), names)
        if ranked:
            x_title = _("input channels of each block · output channel (sorted) numbers above")
        else:
            x_title = _("input channels of each block · output channel numbers above")
        y_title = _("input channel (first block)")
        top = LABELS_TOP_MARGIN
    else:
        xaxis = channel_ticks(start, layout.outputs, kw, px, MIN_PITCH_PX, names)
        yaxis = channel_ticks(0, inp, kh, px, ROW_PITCH_PX)
        x_title = _("output channel (sorted)") if ranked else x_title
    if groups > 1:
        y_title = _("{title} (within group)").format(title=y_title)
    xaxis.update(ticks="", showticklabels=True, title={"text": x_title, "standoff": 4})
    yaxis.update(ticks="", showticklabels=True, title={"text": y_title, "standoff": 4})
    return xaxis, yaxis, annotations, {"l": left, "r": 8, "t": top, "b": 44}
