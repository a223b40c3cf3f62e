"""Figures in Chinese: no English words left in what the page shows (issue 13).

Every figure is built inside ``i18n.using("zh")``, as a request in Chinese builds it, and
every human-facing string of its JSON is checked: titles, axis and colour-bar titles,
annotations, tick labels, hovertemplates and hover texts. Plotly's ``%{...}`` placeholders,
HTML tags and the layer's name are taken out first; the words left may only be units and
names (NaN, Inf, RGB, px).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard import i18n
from dashboard.figures import (
    activation_histogram,
    channel_kernels,
    channel_stats_figure,
    explanation_figure,
    feature_detail,
    feature_grid,
    feature_vis_figure,
    kernel_grid,
    kernel_norm_overview,
    kernel_norm_window,
    kernel_rgb_grid,
    message_figure,
    overlay_figure,
)
from dashboard.figures.histogram import STAT_KEYS
from dashboard.modes import KernelScale, Look, ScaleMode

LAYER = "features.3"
ALLOWED = {"NaN", "Inf", "RGB", "px"}
SHOWN_KEYS = {"text", "hovertemplate", "hovertext", "ticktext"}
PLACEHOLDER = re.compile(r"%\{[^}]*\}")
TAG = re.compile(r"<[^>]*>")
WORD = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u4e00-\u9fff]")

rng = np.random.default_rng(13)


def _weights(*shape: int, bad: bool = False) -> np.ndarray:
    w = rng.standard_normal(shape).astype(np.float32)
    if bad:
        w.flat[0] = np.nan
    return w


def _maps(c: int, h: int, w: int, *, bad: bool = False) -> np.ndarray:
    return _weights(c, h, w, bad=bad)


def _explanation(n: int = 20) -> go.Figure:
    patch, kernel = rng.standard_normal((n, 3, 3)), rng.standard_normal((n, 3, 3))
    terms = (patch * kernel).sum(axis=(1, 2))
    return explanation_figure(
        value=float(terms.sum() + 0.5),
        bias=0.5,
        terms=terms,
        input_channels=np.arange(n),
        patch=patch,
        kernel=kernel,
        channel=4,
        row=2,
        col=7,
        layer=LAYER,
    )


def _stats(key: str) -> go.Figure:
    c = 12
    dead = np.zeros(c, dtype=bool)
    dead[3] = True
    values = [rng.random(c).astype(np.float32) for _ in range(4)]
    return channel_stats_figure(
        *values, dead, key=key, order=rng.permutation(c), layer=LAYER, source="after ReLU"
    )


def _histogram() -> go.Figure:
    edges = np.linspace(-2.0, 3.0, 21)
    return activation_histogram(edges, rng.integers(0, 500, 20), layer=LAYER, source="s")


RGB_IMAGE = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
GRAY_IMAGE = rng.random((600, 500))

FIGURES: dict[str, Callable[[], go.Figure | dict]] = {
    "kernel grid": lambda: kernel_grid(_weights(16, 8, 3, 3), layer=LAYER),
    "kernel grid, bands, sorted, NaN": lambda: kernel_grid(
        _weights(64, 3, 3, 3, bad=True), layer=LAYER, order=rng.permutation(64)
    ),
    "kernel grid, blocks, groups, tutorial": lambda: kernel_grid(
        _weights(12, 256, 3, 3), groups=2, layer=LAYER, look=Look.TUTORIAL
    ),
    "kernel grid, pages, channel scale": lambda: kernel_grid(
        _weights(512, 64, 3, 3), page=1, layer=LAYER, scale=KernelScale.CHANNEL
    ),
    "kernel grid, pages, sorted, layer scale": lambda: kernel_grid(
        _weights(512, 64, 3, 3), layer=LAYER, scale=KernelScale.LAYER, order=rng.permutation(512)
    ),
    "kernel grid, 1×1": lambda: kernel_grid(_weights(16, 8, 1, 1), layer=LAYER),
    "rgb kernels": lambda: kernel_rgb_grid(_weights(16, 3, 5, 5, bad=True), layer=LAYER),
    "rgb kernels, sorted, some": lambda: kernel_rgb_grid(
        _weights(96, 3, 11, 11),
        layer=LAYER,
        max_cells=2000,
        order=rng.permutation(96),
        look=Look.TUTORIAL,
        scale=KernelScale.LAYER,
    ),
    "norm overview, pooled, groups": lambda: kernel_norm_overview(
        _weights(256, 512, 3, 3, bad=True), groups=2, layer=LAYER, max_cells=20_000
    ),
    "norm overview, sorted": lambda: kernel_norm_overview(
        _weights(64, 64, 3, 3), layer=LAYER, order=rng.permutation(64)
    ),
    "norm overview, depthwise": lambda: kernel_norm_overview(
        _weights(32, 1, 3, 3), groups=32, layer=LAYER
    ),
    "norm overview, one input, dead, sorted": lambda: kernel_norm_overview(
        _weights(32, 1, 3, 3) * (np.arange(32) > 3)[:, None, None, None],
        layer=LAYER,
        order=rng.permutation(32),
    ),
    "norm window": lambda: kernel_norm_window(
        _weights(64, 64, 3, 3, bad=True), (-0.5, 3.5), (-0.5, 3.5)
    ),
    "channel kernels": lambda: channel_kernels(_weights(8, 200, 3, 3, bad=True), 3, layer=LAYER),
    "channel kernels, one input": lambda: channel_kernels(
        _weights(8, 1, 3, 3), 3, groups=8, layer=LAYER
    ),
    "feature grid": lambda: feature_grid(_maps(16, 14, 14), layer=LAYER, selected=2),
    "feature grid, shared, sorted, NaN": lambda: feature_grid(
        _maps(16, 14, 14, bad=True),
        scale=ScaleMode.SHARED,
        layer=LAYER,
        order=rng.permutation(16),
    ),
    "feature grid, block means": lambda: feature_grid(
        _maps(64, 55, 55), layer=LAYER, max_cells=20_000
    ),
    "feature grid, 1×1": lambda: feature_grid(_maps(1, 1, 1), layer=LAYER),
    "detail with image": lambda: feature_detail(
        _maps(8, 20, 20), channel=3, layer=LAYER, image=RGB_IMAGE
    ),
    "detail, block means, gray image, NaN": lambda: feature_detail(
        _maps(1, 700, 700, bad=True)[0], channel=0, layer=LAYER, image=GRAY_IMAGE
    ),
    "detail, no finite values": lambda: feature_detail(
        np.full((4, 4), np.nan), channel=0, layer=LAYER
    ),
    "detail, constant": lambda: feature_detail(np.zeros((6, 6)), channel=1, layer=LAYER),
    "explanation": _explanation,
    "explanation, one term": lambda: _explanation(1),
    "histogram": _histogram,
    **{f"channel statistics by {key}": (lambda key=key: _stats(key)) for key in STAT_KEYS},
    "overlay": lambda: overlay_figure(_maps(1, 10, 10)[0], RGB_IMAGE, channel=5, layer=LAYER),
    "overlay, block means": lambda: overlay_figure(
        _maps(1, 300, 300, bad=True)[0], RGB_IMAGE, channel=5, layer=LAYER
    ),
    "feature visualisation": lambda: feature_vis_figure(RGB_IMAGE, layer=LAYER, channel=9),
    "message": lambda: message_figure("正在加载卷积核…"),
}


def _shown(node: object) -> Iterator[str]:
    """Every string the page shows of a figure's JSON (see SHOWN_KEYS)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SHOWN_KEYS:
                values = value if isinstance(value, list) else [value]
                yield from (v for v in values if isinstance(v, str))
            if key == "y" and node.get("type") == "bar" and node.get("orientation") == "h":
                yield from (v for v in value if isinstance(v, str))  # bar labels
            yield from _shown(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                yield from _shown(item)


def _english(text: str) -> list[str]:
    bare = TAG.sub(" ", PLACEHOLDER.sub(" ", text.replace(LAYER, " ")))
    return [word for word in WORD.findall(bare) if word not in ALLOWED]


@pytest.mark.parametrize("name", list(FIGURES))
def test_fi01_a_chinese_figure_shows_no_english_words(name: str) -> None:
    with i18n.using("zh"):
        built = FIGURES[name]()
    shown = json.loads(built.to_json()) if isinstance(built, go.Figure) else built
    texts = list(_shown(shown))
    assert texts, f"{name}: nothing shown"
    left = {text: words for text in texts if (words := _english(text))}
    assert not left, f"{name}: English left in {left}"
    assert any(CJK.search(text) for text in texts), f"{name}: no Chinese at all"


def test_fi02_placeholders_and_extra_survive_the_translation() -> None:
    """The hovertemplates keep plotly's fields and the empty <extra></extra>."""
    for name in ("kernel grid", "feature grid", "detail with image", "histogram"):
        english = FIGURES[name]()
        with i18n.using("zh"):
            chinese = FIGURES[name]()
        for en, zh in zip(english.data, chinese.data, strict=True):
            if en.hovertemplate:
                assert PLACEHOLDER.findall(en.hovertemplate) == PLACEHOLDER.findall(
                    zh.hovertemplate
                ), name
                assert zh.hovertemplate.endswith("<extra></extra>") == (
                    en.hovertemplate.endswith("<extra></extra>")
                ), name


def test_fi03_english_stays_the_default() -> None:
    figure = feature_detail(_maps(4, 8, 8), channel=2, layer=LAYER)
    assert f"{LAYER} · channel 2 · min" in figure.layout.title.text
    assert not CJK.search(figure.to_json())
