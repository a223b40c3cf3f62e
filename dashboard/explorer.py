"""What a page view needs, computed from a view's inputs: model, activations, figures.

Callbacks stay thin: they validate the component values (``edge``), hand them to an
:class:`Explorer` and put its results into the page. Tests drive the same object directly.
The Explorer owns no globals: ``create_app`` builds its models, images and caches.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import asdict, fields, replace
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image

from dashboard import figures
from dashboard.analysis.stats import ChannelStats, sort_order
from dashboard.caching import ComputeOnceCache
from dashboard.capture import Activations, InferenceQueue, activation_cache, capture_activations
from dashboard.capture.predict import ClassScore, top_k
from dashboard.config import Config
from dashboard.errors import ModelError, PreparingError, SharedStoreError
from dashboard.i18n import _, current_language
from dashboard.layer_stats import LayerStatistics
from dashboard.models import ConvLayer, LoadedModel, ModelRegistry
from dashboard.modes import KernelMode, SortKey
from dashboard.results import SharedResults
from dashboard.samples import RANDOM_KEY, ImageStore, is_mirror, mirror_key, sample_label
from dashboard.shared import SharedStore

if TYPE_CHECKING:  # create_app hands it in; preparing.py needs the Explorer's type
    from dashboard.preparing import Preparer
from dashboard.views import (
    ANONYMOUS,
    DetailView,
    FeatureView,
    KernelView,
    PredictionView,
    Selection,
    View,
    describe,
    prediction_view,
)

log = logging.getLogger(__name__)
# A session's prediction passes queue in a lane of their own: beside its activation pass,
# not refused as "your previous image" by it.
PREDICTION_LANE = "/predictions"


class _NotShared(Exception):
    """The shared store does not hold a layer asked for (a miss, or Redis down)."""


def _figure_json(figure: go.Figure) -> dict:
    return figure.to_plotly_json()


class Explorer:
    """Shared, thread-safe service behind the callbacks of one app."""

    def __init__(
        self,
        config: Config,
        models: ModelRegistry | None = None,
        images: ImageStore | None = None,
        shared: SharedStore | None = None,
    ) -> None:
        self.config = config
        self.shared = shared  # Redis, where results computed elsewhere are read
        self.models = models or ModelRegistry(
            allow_download=config.allow_download,
            cache_size=config.model_cache,
            max_weights_bytes=config.max_weights_bytes,
        )
        self.images = images or ImageStore()
        # Every conv layer per (model key, image key) after a pass here; with REDIS_URL also
        # single layers per (model key, image key, layer) read from the shared store.
        self.activations = activation_cache(config.cache_bytes)
        budget = config.redis_results_mb * 2**20
        self.results = SharedResults(shared, budget) if shared is not None else None
        self.forward_passes = 0  # activation passes this process ran
        self.prediction_passes = 0  # prediction passes this process ran
        # One pass at a time on every torch thread, fair between sessions; a request stops
        # waiting after request_timeout_s while its pass finishes into the cache.
        self.queue = InferenceQueue(config.max_pending_passes, config.request_timeout_s)
        # Kernels and the displayed input never change for a (model key, layer/image): keep
        # the serialised kernel pages (<= ~1.8 MB each) and display arrays.
        self._kernel_pages: ComputeOnceCache[dict] = ComputeOnceCache(16)
        self._displays: ComputeOnceCache[np.ndarray] = ComputeOnceCache(32)
        # Top classes per (model key, image key): a few numbers each; () when not a classifier.
        self._predictions: ComputeOnceCache[tuple[ClassScore, ...]] = ComputeOnceCache(256)
        self.statistics = LayerStatistics(self.queue, self.input_tensor)
        # With workers (preparing.py): marks a big model's first pass on an image as a
        # worker's job (claim), and makes this process wait for it instead of running it.
        self.preparer: Preparer | None = None

    # --- models, layers and images ---------------------------------------------------

    def model(self, name: str, weights: dict | None = None) -> LoadedModel:
        """Model ``name``, with the session's uploaded weights when they are for it."""
        if weights and weights.get("model") == name:
            return self.models.uploaded(str(weights.get("key")))
        return self.models.get(name)

    def layer(self, model: LoadedModel, name: str | None) -> ConvLayer:
        if name is None:  # the layer list is empty: its model could not be shown
            raise ModelError("Choose a conv layer first.")
        for layer in model.conv_layers:
            if layer.name == name:
                return layer
        raise ModelError(
            "The model {model} has no conv layer named '{name}'.", model=model.label, name=name
        )

    def add_upload(self, image: Image.Image, session: str) -> str:
        """Keep an uploaded image for ``session``; its key for the page."""
        return self.images.add_upload(image, session)

    def sample_choices(self) -> list[tuple[str, str]]:
        """(key, label) of the images a visitor can pick, the seeded random input first."""
        return [(RANDOM_KEY, _("Seeded random input"))] + [
            (key, sample_label(key)) for key in self.images.sample_keys
        ]

    def first_view(self) -> tuple[str, str]:
        """(model, image key) a new page shows: the configured model, the cat photo."""
        model = self.models.default_name(self.config.default_model)
        samples = self.sample_choices()
        return model, next((k for k, _ in samples if "chelsea" in k), samples[0][0])

    def sample_options(self) -> list[dict]:
        return [{"label": label, "value": key} for key, label in self.sample_choices()]

    def upload_weights(self, model_name: str, data: bytes, filename: str) -> LoadedModel:
        return self.models.with_uploaded_weights(model_name, data, filename)

    def input_tensor(self, model: LoadedModel, image_key: str) -> torch.Tensor:
        """The model's input for ``image_key``; a mirror key gives its image's input flipped
        left-right (the random input too), so the mirror is exact for any preprocessing."""
        if is_mirror(image_key):
            return torch.flip(self.input_tensor(model, mirror_key(image_key)), dims=(-1,))
        image = self.images.get(image_key)
        return model.default_input() if image is None else model.preprocess(image)

    def layer_outputs(
        self, model: LoadedModel, image_key: str, session: str = ANONYMOUS
    ) -> Activations:
        """Every conv layer's output for this (model, image): one forward pass, then cached
        (and published to the shared store, for every other process)."""
        key = (model.key, image_key)
        cached = self.activations.peek(key)
        if cached is not None:
            return cached
        if self.preparer is not None:
            self.preparer.check(model, image_key)
        names = [c.name for c in model.conv_layers]

        def forward() -> Activations:
            self.forward_passes += 1  # only the inference thread runs passes
            outputs = capture_activations(model.module, self.input_tensor(model, image_key), names)
            if self.results is not None:
                self.results.publish(model.shared_key, image_key, outputs)
            return outputs

        return self.queue.run(
            session,
            key,
            lambda: self.activations.get_or_compute(key, forward),
            what=_("Running {model} on this image").format(model=model.label),
        )

    def layer_output(
        self, model: LoadedModel, image_key: str, layer: str, session: str = ANONYMOUS
    ) -> np.ndarray:
        """One conv layer's output: from this process, else the shared store (only that
        layer's bytes), else a forward pass (:meth:`layer_outputs`)."""
        key = (model.key, image_key)
        held = self.activations.peek(key)
        if held is not None:
            return held[layer]
        if self.results is not None:
            try:
                return self.activations.get_or_compute(
                    (*key, layer), lambda: self._read_shared(model.shared_key, image_key, layer)
                )[layer]
            except _NotShared:
                pass  # waiters retry the read, then join the one pass (queued, with its timeout)
        return self.layer_outputs(model, image_key, session)[layer]

    def _read_shared(self, model_key: str, image_key: str, layer: str) -> Activations:
        """``{layer: its output}`` read from the shared store; :class:`_NotShared` when it is
        not there (or Redis does not answer): the caller runs the pass."""
        array = self.results.layer(model_key, image_key, layer)
        if array is None:
            raise _NotShared
        return {layer: array}

    def outputs_ready(self, model_key: str, image_key: str) -> bool:
        """Whether this process or the shared store already holds every conv layer's output
        for (model, image), so that showing any layer needs no forward pass: no array is
        transferred (one EXISTS). False while this process has not built that model (its
        layers are not known here; showing its kernels builds it)."""
        model = next((m for m in self.models.cached() if m.key == model_key), None)
        if model is None:
            return False
        if self.activations.peek((model_key, image_key)) is not None:
            return True
        names = [c.name for c in model.conv_layers]
        if self.results is None:
            return False
        return self.results.ready(model.shared_key, image_key, names)

    def warm(self, model_name: str, image_key: str) -> None:
        """Build ``model`` and run it on ``image_key`` into the caches, so that the first
        visitor's page does not wait for it. Failures are logged: a visitor will see them."""
        try:
            model = self.model(model_name)
            self.display_image(model, image_key)
            self.predictions(View(model_name, None, image_key))  # after the grids' own pass
        except PreparingError:
            log.info("%s on %s is left to a worker (its first pass)", model_name, image_key)
        except Exception:
            log.exception("warming %s on %s failed", model_name, image_key)

    def predictions(self, view: View) -> PredictionView:
        """The model's top 5 classes for the view's image: one full forward pass per (model,
        image), never on a layer switch.

        The activation pass for the same image goes first (joined, or read from the cache):
        passes run one at a time, and the grids must not wait behind this one.
        """
        model = self.model(view.model, view.weights)
        key = (model.key, view.image)
        scores = self._predictions.peek(key)
        if scores is None and self.shared is not None:
            scores = self._shared_predictions(model, view.image)
        if scores is None:
            if not self.outputs_ready(model.key, view.image):
                if self.preparer is not None:  # fired with the page's choice, maybe first
                    self.preparer.claim(model, view.image)
                self.layer_outputs(model, view.image, view.session)

            def forward() -> tuple[ClassScore, ...]:
                self.prediction_passes += 1  # only the inference thread runs passes
                x = self.input_tensor(model, view.image)
                found = tuple(top_k(model.module, x) or ())
                if self.shared is not None:  # for the other processes, when Redis answers
                    with contextlib.suppress(SharedStoreError):
                        self.shared.put(
                            _predictions_key(model, view.image), json.dumps(found).encode()
                        )
                return found

            scores = self.queue.run(
                view.session + PREDICTION_LANE,
                ("predictions", *key),
                lambda: self._predictions.get_or_compute(key, forward),
                what=_("Predicting with {model}").format(model=model.label),
            )
        return prediction_view(model, scores)

    def _shared_predictions(
        self, model: LoadedModel, image_key: str
    ) -> tuple[ClassScore, ...] | None:
        """The top classes another process (a worker) computed, kept here too."""
        try:
            data = self.shared.get(_predictions_key(model, image_key))
        except SharedStoreError:  # logged by the store; computed here instead
            return None
        if data is None:
            return None
        scores = tuple(ClassScore(int(i), float(p), float(v)) for i, p, v in json.loads(data))
        return self._predictions.get_or_compute((model.key, image_key), lambda: scores)

    def kernel_weights(self, model: LoadedModel, layer: ConvLayer) -> np.ndarray:
        conv = model.module.get_submodule(layer.name)
        return conv.weight.detach().to("cpu", torch.float32).numpy()

    def display_image(self, model: LoadedModel, image_key: str) -> np.ndarray:
        """The preprocessed input as the model saw it, for showing beside the maps."""
        return self._displays.get_or_compute(
            (model.key, image_key),
            lambda: model.to_display(self.input_tensor(model, image_key)),
        )

    def resolve(self, view: View) -> tuple[LoadedModel, ConvLayer]:
        model = self.model(view.model, view.weights)
        return model, self.layer(model, view.layer)

    def maps(self, view: View) -> tuple[LoadedModel, ConvLayer, np.ndarray, View]:
        """Model, layer, its outputs, and the view with its channel clamped to the layer."""
        model, layer = self.resolve(view)
        maps = self.layer_output(model, view.image, layer.name, view.session)
        channel = view.channel if 0 <= view.channel < maps.shape[0] else 0
        return model, layer, maps, replace(view, channel=channel)

    def layer_stats(self, view: View) -> ChannelStats:
        """Per-channel statistics of the view's layer after its activation (where one
        follows the conv), on the view's image."""
        model, layer, maps, view = self.maps(view)
        return self.statistics.of(model, layer, maps, view.image, view.session)

    def channel_order(self, view: View) -> np.ndarray | None:
        """The grids' channel order for the view's sort (None: by channel number)."""
        if view.sort == SortKey.CHANNEL:
            return None
        return sort_order(self.layer_stats(view), view.sort)

    # --- panels ----------------------------------------------------------------------

    def kernel_mode(self, view: View, weights_shape: tuple, rgb: bool) -> KernelMode:
        """What the kernel panel draws: the view's choice where the layer allows it; with
        no choice (a new layer), the norm overview when every kernel would be unreadable."""
        small = not figures.needs_overview(weights_shape, *(view.kernel_px or (None, None)))
        mode = view.kernel_view
        if mode is None or (mode == KernelMode.RGB and not rgb):
            mode = KernelMode.GRID if small else KernelMode.NORMS
        return mode

    def kernel_view(self, view: View) -> KernelView:
        """The kernel panel for ``view``: the grid page holding the selected channel (or the
        page asked for), the norm overview, or the RGB view."""
        model, layer = self.resolve(view)
        weights = self.kernel_weights(model, layer)
        channel = view.channel if 0 <= view.channel < weights.shape[0] else 0
        paging = figures.kernel_paging(weights.shape)
        rgb = layer.in_channels == 3 and layer.groups == 1
        mode = self.kernel_mode(view, weights.shape, rgb)
        colour = {"scale": view.kernel_scale, "look": view.look}
        order = self.channel_order(view)
        sorted_by = _order_key(view, order)
        if mode == KernelMode.RGB:
            figure = figures.kernel_rgb_grid(
                weights, selected=channel, layer=layer.name, order=order, **colour
            )
            return KernelView(figure, channel, mode, rgb, paging.pages)
        if mode == KernelMode.NORMS:
            grid = self._kernel_pages.get_or_compute(
                (model.key, layer.name, mode, sorted_by, current_language()),
                lambda: _figure_json(
                    figures.kernel_norm_overview(
                        weights, groups=layer.groups, layer=layer.name, order=order
                    )
                ),
            )
            outline = figures.norm_outline(_norm_geometry(grid), channel, order=order)
            figure = {"data": grid["data"], "layout": {**grid["layout"], "shapes": outline}}
            return KernelView(figure, channel, mode, rgb, paging.pages)
        page = _shown_page(paging, view.page, channel, order)
        language = current_language()  # the figure holds words (titles, hover)
        grid = self._kernel_pages.get_or_compute(
            (model.key, layer.name, page, view.kernel_scale, view.look, sorted_by, language),
            lambda: _figure_json(
                figures.kernel_grid(
                    weights, page=page, groups=layer.groups, layer=layer.name, order=order, **colour
                )
            ),
        )
        outline = figures.kernel_outline(paging, page, channel, order=order)
        figure = {"data": grid["data"], "layout": {**grid["layout"], "shapes": outline}}
        return KernelView(figure, channel, mode, rgb, paging.pages, page)

    def norms_channel(self, view: View, x: float, y: float) -> int | None:
        """The output channel under a click at (x, y) of the norm overview."""
        model, layer = self.resolve(view)
        geometry = figures.norm_geometry(paging_shape(self._paging(model, layer)))
        return figures.overview_channel(asdict(geometry), x, y, order=self.channel_order(view))

    def channel_kernels(self, view: View) -> go.Figure:
        """The selected output channel's kernels, large, raw weights printed where they fit."""
        model, layer = self.resolve(view)
        weights = self.kernel_weights(model, layer)
        channel = view.channel if 0 <= view.channel < weights.shape[0] else 0
        return figures.channel_kernels(weights, channel, groups=layer.groups, layer=layer.name)

    def kernel_zoom(self, view: View, window: tuple | str) -> dict | None:
        """What replaces the norm overview's cells after a zoom: the real weights of the
        window when it holds few enough, else the overview's own trace."""
        model, layer = self.resolve(view)
        weights = self.kernel_weights(model, layer)
        if self.kernel_mode(view, weights.shape, False) != KernelMode.NORMS:
            return None
        if window != "reset":
            x_range, y_range = window
            shown = figures.kernel_norm_window(
                weights, x_range, y_range, groups=layer.groups, order=self.channel_order(view)
            )
            if shown is not None:
                return shown
        return self.kernel_view(view).figure["data"][0]

    def feature_view(self, view: View) -> FeatureView:
        """The feature-map grid, sized for the screen; a channel the layer lacks falls back
        to 0."""
        model, layer, maps, view = self.maps(view)
        cells = overview_cells(view)
        geometry = figures.feature_geometry(maps.shape, cells)
        figure = figures.feature_grid(
            maps,
            scale=view.scale,
            selected=view.channel,
            layer=layer.name,
            max_cells=cells,
            order=self.channel_order(view),
        )
        return FeatureView(figure, view.channel, describe(model, layer, geometry))

    def feature_zoom(self, view: View, window: tuple | str) -> dict | None:
        """What replaces the feature grid's mosaic after a zoom or pan to ``window``.

        The real pixels of the window when it holds few enough, else the overview (also
        for "reset"); None when the overview already is full resolution.
        """
        _, _, maps, view = self.maps(view)
        cells = overview_cells(view)
        geometry = figures.feature_geometry(maps.shape, cells)
        if geometry.factor == 1:
            return None
        order = self.channel_order(view)
        if window != "reset":
            x_range, y_range = window
            shown = figures.feature_window(
                maps, geometry, x_range, y_range, scale=view.scale, order=order
            )
            if shown is not None:
                return shown
        trace = figures.feature_grid(maps, scale=view.scale, max_cells=cells, order=order).data[0]
        return {key: trace[key] for key in ZOOMED_KEYS}

    def detail(self, view: View) -> DetailView:
        """The selected channel's map at full resolution, beside the input the model saw."""
        model, layer, maps, view = self.maps(view)
        figure = figures.feature_detail(
            maps[view.channel],
            channel=view.channel,
            layer=layer.name,
            image=self.display_image(model, view.image),
        )
        return DetailView(figure, f"{model.key}|{view.image}")

    def _paging(self, model: LoadedModel, layer: ConvLayer) -> figures.KernelPaging:
        conv = model.module.get_submodule(layer.name)
        return figures.kernel_paging(tuple(conv.weight.shape))

    def select(self, view: View, channel: int) -> Selection:
        """Move the selection from ``view.channel`` to ``channel`` (clamped to the layer).

        The kernel grid turns to the page holding the new channel when it is not shown.
        """
        model, layer, maps, view = self.maps(view)
        channel = min(max(channel, 0), maps.shape[0] - 1)
        geometry = figures.feature_geometry(maps.shape, overview_cells(view))
        order = self.channel_order(view)
        feature_shapes = figures.feature_outline(geometry, channel, order=order)
        paging = self._paging(model, layer)
        shown = _shown_page(paging, view.page, view.channel, order)
        new_page = figures.page_of(paging, channel, order=order)
        rgb = layer.in_channels == 3 and layer.groups == 1
        mode = self.kernel_mode(view, paging_shape(paging), rgb)
        if mode == KernelMode.NORMS:
            model_key = (model.key, layer.name, mode, _order_key(view, order), current_language())
            grid = self._kernel_pages.peek(model_key)
            if grid is not None:
                shapes = figures.norm_outline(_norm_geometry(grid), channel, order=order)
                return Selection(channel, None, shapes, feature_shapes, new_page)
        elif mode == KernelMode.GRID and shown == new_page:
            shapes = figures.kernel_outline(paging, new_page, channel, order=order)
            return Selection(channel, None, shapes, feature_shapes, new_page)
        kernel = self.kernel_view(replace(view, channel=channel, page=new_page)).figure
        return Selection(channel, kernel, [], feature_shapes, new_page)

    def turn_page(self, view: View, step: int) -> KernelView | None:
        """The kernel page ``step`` pages from the one shown; the selection stays as it is.

        None at either end.
        """
        model, layer = self.resolve(view)
        paging = self._paging(model, layer)
        page = _shown_page(paging, view.page, view.channel, self.channel_order(view)) + step
        if not 0 <= page < paging.pages:
            return None
        return self.kernel_view(replace(view, page=page))

    def download_message(self, model_name: str) -> str:
        """'Downloading … 45 of 528 MB' while the model's weights download, else ''."""
        status = self.models.download_status(model_name)
        if status is None:
            return ""
        done, total = status
        mb = 1024 * 1024
        if total:
            return _("Downloading pretrained weights for {model}: {done} of {total} MB…").format(
                model=model_name, done=f"{done / mb:.0f}", total=f"{total / mb:.0f}"
            )
        return _("Downloading pretrained weights for {model}: {done} MB…").format(
            model=model_name, done=f"{done / mb:.0f}"
        )

    def health(self) -> dict:
        """For the PaaS health check and the load test: alive, cache use, hooks left behind."""
        models = self.models.cached()
        return {
            "status": "ok",
            "activation_cache_bytes": self.activations.used,
            "activation_cache_budget": self.activations.budget,
            "forward_passes": self.forward_passes,
            "prediction_passes": self.prediction_passes,
            "passes_pending": self.queue.pending,
            "passes_refused": self.queue.refused,
            "models_cached": len(models),
            "forward_hooks": sum(
                len(m._forward_hooks) + len(m._forward_pre_hooks)
                for model in models
                for m in model.module.modules()
            ),
            **(
                {}
                if self.results is None
                else {"shared_" + k: n for k, n in self.results.counts().items()}
            ),
        }


def _predictions_key(model: LoadedModel, image_key: str) -> str:
    pair = f"{model.shared_key}\0{image_key}"
    return "predictions:" + hashlib.sha256(pair.encode()).hexdigest()


def _shown_page(
    paging: figures.KernelPaging, page: int | None, channel: int, order: np.ndarray | None
) -> int:
    """The page shown: ``page`` when it exists, else the one holding ``channel``."""
    if page is not None and 0 <= page < paging.pages:
        return page
    return figures.page_of(paging, min(max(channel, 0), paging.out_channels - 1), order=order)


def _order_key(view: View, order: np.ndarray | None) -> tuple | None:
    """What a cached kernel figure's order depends on: the sort and the image it ranks."""
    return None if order is None else (view.sort, view.image)


# The mosaic trace's keys a zoom replaces (feature_window returns the same ones).
ZOOMED_KEYS = ("z", "customdata", "meta", "x0", "dx", "y0", "dy", "zmin", "zmax", "hovertemplate")


def overview_cells(view: View) -> int:
    """The feature overview's cell budget: one cell per screen pixel, within the budget."""
    width, height = view.feature_px or (None, None)
    return figures.overview_cells(width, height)


def paging_shape(paging: figures.KernelPaging) -> tuple[int, int, int, int]:
    return (paging.out_channels, paging.in_channels, paging.kh, paging.kw)


def _norm_geometry(grid: dict) -> figures.NormGeometry:
    """The norm overview's layout, from its figure's meta."""
    meta = grid["layout"]["meta"]
    return figures.NormGeometry(**{f.name: meta[f.name] for f in fields(figures.NormGeometry)})
