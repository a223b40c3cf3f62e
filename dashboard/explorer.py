"""What a page view needs, computed from a view's inputs: model, activations, figures.

Callbacks stay thin: they hand the component values to an :class:`Explorer` and put its
results into the page. Tests drive the same object directly.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace

import numpy as np
import plotly.graph_objects as go
import torch
from cachetools import LRUCache

from dashboard import figures
from dashboard.capture import ActivationCache, capture_activations
from dashboard.config import Config
from dashboard.models import ConvLayer, LoadedModel, get_model, uploaded_model
from dashboard.samples import ImageStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    """One session's choices, as kept in the page."""

    model: str
    layer: str | None
    image: str
    channel: int = 0
    scale: str = "tile"
    kernel_view: str = "grid"
    weights: dict | None = None  # {"model": name, "key": cache key} after a weights upload


@dataclass
class Selection:
    """What changes when the selected channel changes."""

    channel: int
    kernel_figure: go.Figure | None  # None: the kernel page stays, only kernel_shapes change
    kernel_shapes: list[dict]
    feature_shapes: list[dict]


@dataclass
class FeatureView:
    figure: go.Figure
    channel: int
    info: str


class Explorer:
    """Shared, thread-safe service behind the callbacks of one app."""

    def __init__(self, config: Config, images: ImageStore | None = None) -> None:
        self.config = config
        self.images = images or ImageStore()
        self.activations = ActivationCache(config.cache_bytes)
        # One pass at a time, using every torch thread; a request stops waiting after
        # request_timeout_s while its pass finishes and lands in the cache for the next try.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="convscope-infer")
        # Kernels and the displayed input never change for a (model key, layer/image): keep
        # the serialised kernel pages (<= ~1.8 MB each) and display arrays instead of
        # rebuilding them on every layer switch and click.
        self._kernel_pages: LRUCache = LRUCache(maxsize=16)
        self._displays: LRUCache = LRUCache(maxsize=32)
        self._memo_lock = threading.Lock()

    def model(self, name: str, weights: dict | None = None) -> LoadedModel:
        """Model ``name``, with the session's uploaded weights when they are for it."""
        if weights and weights.get("model") == name:
            return uploaded_model(str(weights.get("key")))
        return get_model(name, allow_download=self.config.allow_download)

    def layer(self, model: LoadedModel, name: str | None) -> ConvLayer:
        for layer in model.conv_layers:
            if layer.name == name:
                return layer
        raise ValueError(f"The model {model.label} has no conv layer named '{name}'.")

    def input_tensor(self, model: LoadedModel, image_key: str) -> torch.Tensor:
        image = self.images.get(image_key)
        return model.default_input() if image is None else model.preprocess(image)

    def layer_outputs(self, model: LoadedModel, image_key: str) -> dict[str, np.ndarray]:
        """Every conv layer's output for this (model, image): one forward pass, then cached."""

        def compute() -> dict[str, np.ndarray]:
            x = self.input_tensor(model, image_key)
            return capture_activations(model.module, x, [c.name for c in model.conv_layers])

        key = (model.key, image_key)
        cached = self.activations.peek(key)
        if cached is not None:
            return cached
        future = self._pool.submit(self.activations.get_or_compute, key, compute)
        try:
            return future.result(timeout=self.config.request_timeout_s)
        except FutureTimeout:
            raise RuntimeError(
                f"Running {model.label} on this image took longer than "
                f"{self.config.request_timeout_s:g} s; try again in a moment."
            ) from None

    def kernel_weights(self, model: LoadedModel, layer: ConvLayer) -> np.ndarray:
        conv = model.module.get_submodule(layer.name)
        return conv.weight.detach().to("cpu", torch.float32).numpy()

    def _resolve(self, view: View) -> tuple[LoadedModel, ConvLayer]:
        model = self.model(view.model, view.weights)
        return model, self.layer(model, view.layer)

    def _maps(self, view: View) -> tuple[LoadedModel, ConvLayer, np.ndarray, View]:
        """Model, layer, its outputs, and the view with its channel clamped to the layer."""
        model, layer = self._resolve(view)
        maps = self.layer_outputs(model, view.image)[layer.name]
        channel = view.channel if 0 <= view.channel < maps.shape[0] else 0
        return model, layer, maps, replace(view, channel=channel)

    def kernel_figure(self, view: View) -> go.Figure | dict:
        """The kernel grid (the page holding the selected channel), or the RGB view."""
        model, layer = self._resolve(view)
        weights = self.kernel_weights(model, layer)
        channel = view.channel if 0 <= view.channel < weights.shape[0] else 0
        if view.kernel_view == "rgb" and weights.shape[1] == 3:
            return figures.kernel_rgb_grid(weights, selected=channel, layer=layer.name)
        paging = figures.kernel_paging(weights.shape)
        page = figures.page_of(paging, channel)
        key = (model.key, layer.name, page)
        with self._memo_lock:
            grid = self._kernel_pages.get(key)
        if grid is None:
            figure = figures.kernel_grid(weights, page=page, groups=layer.groups, layer=layer.name)
            grid = figure.to_plotly_json()
            with self._memo_lock:
                self._kernel_pages[key] = grid
        outline = figures.kernel_outline(paging, page, channel)
        return {"data": grid["data"], "layout": {**grid["layout"], "shapes": outline}}

    def display_image(self, model: LoadedModel, image_key: str) -> np.ndarray:
        """The preprocessed input as the model saw it, for showing beside the maps."""
        key = (model.key, image_key)
        with self._memo_lock:
            shown = self._displays.get(key)
        if shown is None:
            shown = model.to_display(self.input_tensor(model, image_key))
            with self._memo_lock:
                self._displays[key] = shown
        return shown

    def has_rgb_kernels(self, view: View) -> bool:
        """Whether the layer reads 3 channels, so its kernels can be drawn as RGB tiles."""
        _, layer = self._resolve(view)
        return layer.in_channels == 3 and layer.groups == 1

    def feature_view(self, view: View) -> FeatureView:
        """The feature-map grid; a channel the layer lacks falls back to 0."""
        model, layer, maps, view = self._maps(view)
        geometry = figures.feature_geometry(maps.shape)
        figure = figures.feature_grid(
            maps, scale=view.scale, selected=view.channel, layer=layer.name
        )
        return FeatureView(figure, view.channel, describe(model, layer, geometry))

    def detail(self, view: View) -> go.Figure:
        """The selected channel's map at full resolution, beside the input the model saw."""
        model, layer, maps, view = self._maps(view)
        return figures.feature_detail(
            maps[view.channel],
            channel=view.channel,
            layer=layer.name,
            image=self.display_image(model, view.image),
        )

    def _weights_paging(self, model: LoadedModel, layer: ConvLayer) -> figures.KernelPaging:
        conv = model.module.get_submodule(layer.name)
        return figures.kernel_paging(tuple(conv.weight.shape))

    def select(self, view: View, channel: int) -> Selection:
        """Move the selection from ``view.channel`` to ``channel`` (clamped to the layer)."""
        model, layer, maps, view = self._maps(view)
        channel = min(max(channel, 0), maps.shape[0] - 1)
        feature_shapes = figures.feature_outline(figures.feature_geometry(maps.shape), channel)
        paging = self._weights_paging(model, layer)
        old_page = figures.page_of(paging, view.channel)
        new_page = figures.page_of(paging, channel)
        if view.kernel_view == "grid" and old_page == new_page:
            shapes = figures.kernel_outline(paging, new_page, channel)
            return Selection(channel, None, shapes, feature_shapes)
        kernel = self.kernel_figure(replace(view, channel=channel))
        return Selection(channel, kernel, [], feature_shapes)

    def kernel_pages(self, view: View) -> int:
        """How many pages of output channels the layer's kernel grid has."""
        model, layer = self._resolve(view)
        return self._weights_paging(model, layer).pages

    def page_step(self, view: View, step: int) -> int | None:
        """The first channel of the kernel page ``step`` pages away, or None at either end."""
        model, layer = self._resolve(view)
        paging = self._weights_paging(model, layer)
        page = figures.page_of(paging, view.channel) + step
        if not 0 <= page < paging.pages:
            return None
        return page * paging.per_page


def describe(model: LoadedModel, layer: ConvLayer, geometry: figures.FeatureGeometry) -> str:
    """One line about what the grids show, including what is left out."""
    parts = [f"{model.label} ({model.weights}) · {layer.label}"]
    if geometry.factor > 1:
        f = geometry.factor
        parts.append(
            f"feature-map overview at 1/{f} resolution (each cell is the mean of {f}×{f}); "
            "click a map for it at full resolution"
        )
    paging = figures.kernel_paging(
        (layer.out_channels, layer.in_channels // layer.groups, *layer.kernel_size)
    )
    if paging.pages > 1:
        parts.append(
            f"{layer.out_channels} output channels' kernels shown {paging.per_page} at a time "
            "(the page holding the selected channel)"
        )
    return " — ".join(parts)
