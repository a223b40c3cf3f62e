"""What a page view needs, computed from a view's inputs: model, activations, figures.

Callbacks stay thin: they hand the component values to an :class:`Explorer` and put its
results into the page. Tests drive the same object directly.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from dashboard import figures
from dashboard.capture import ActivationCache, capture_activations
from dashboard.config import Config
from dashboard.models import ConvLayer, LoadedModel, get_model
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


@dataclass
class Selection:
    """What changes when the selected channel changes."""

    channel: int
    kernel_figure: go.Figure | None  # None: the kernel page stays, only kernel_shapes change
    kernel_shapes: list[dict]
    feature_shapes: list[dict]
    detail: go.Figure


@dataclass
class Rendered:
    kernel: go.Figure
    feature: go.Figure
    detail: go.Figure
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

    def model(self, name: str) -> LoadedModel:
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

    def display_image(self, model: LoadedModel, image_key: str) -> np.ndarray:
        return model.to_display(self.input_tensor(model, image_key))

    def kernel_figure(self, view: View, model: LoadedModel, layer: ConvLayer) -> go.Figure:
        weights = self.kernel_weights(model, layer)
        if view.kernel_view == "rgb" and weights.shape[1] == 3:
            return figures.kernel_rgb_grid(weights, selected=view.channel)
        paging = figures.kernel_paging(weights.shape)
        return figures.kernel_grid(
            weights,
            page=figures.page_of(paging, view.channel),
            groups=layer.groups,
            selected=view.channel,
        )

    def detail_figure(
        self, view: View, model: LoadedModel, layer: ConvLayer, maps: np.ndarray
    ) -> go.Figure:
        return figures.feature_detail(
            maps[view.channel],
            channel=view.channel,
            layer=layer.name,
            image=self.display_image(model, view.image),
        )

    def render(self, view: View) -> Rendered:
        """Every figure for ``view``; a channel the layer lacks falls back to 0."""
        model = self.model(view.model)
        layer = self.layer(model, view.layer)
        maps = self.layer_outputs(model, view.image)[layer.name]
        channel = view.channel if 0 <= view.channel < maps.shape[0] else 0
        view = View(**{**view.__dict__, "channel": channel})
        geometry = figures.feature_geometry(maps.shape)
        feature = figures.feature_grid(maps, scale=view.scale, selected=channel)
        return Rendered(
            kernel=self.kernel_figure(view, model, layer),
            feature=feature,
            detail=self.detail_figure(view, model, layer, maps),
            channel=channel,
            info=describe(model, layer, geometry),
        )

    def _weights_paging(self, model: LoadedModel, layer: ConvLayer) -> figures.KernelPaging:
        conv = model.module.get_submodule(layer.name)
        return figures.kernel_paging(tuple(conv.weight.shape))

    def select(self, view: View, channel: int) -> Selection:
        """Move the selection from ``view.channel`` to ``channel`` (clamped to the layer)."""
        model = self.model(view.model)
        layer = self.layer(model, view.layer)
        maps = self.layer_outputs(model, view.image)[layer.name]
        channel = min(max(channel, 0), maps.shape[0] - 1)
        new_view = View(**{**view.__dict__, "channel": channel})
        feature_shapes = figures.feature_outline(figures.feature_geometry(maps.shape), channel)
        detail = self.detail_figure(new_view, model, layer, maps)
        paging = self._weights_paging(model, layer)
        old_page = figures.page_of(paging, min(view.channel, maps.shape[0] - 1))
        new_page = figures.page_of(paging, channel)
        if view.kernel_view == "grid" and old_page == new_page:
            shapes = figures.kernel_outline(paging, new_page, channel)
            return Selection(channel, None, shapes, feature_shapes, detail)
        kernel = self.kernel_figure(new_view, model, layer)
        return Selection(channel, kernel, [], feature_shapes, detail)

    def page_step(self, view: View, step: int) -> int | None:
        """The first channel of the kernel page ``step`` pages away, or None at either end."""
        model = self.model(view.model)
        paging = self._weights_paging(model, self.layer(model, view.layer))
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
