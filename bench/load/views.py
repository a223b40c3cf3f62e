"""What the page redraws after a change (kernels, features, detail), checked against torch."""

from __future__ import annotations

import re

import numpy as np

from bench.load.oracle import ImageRef, feature_mismatch, kernel_mismatch
from bench.load.tab import LoadTab
from tests.wire import decode_typed

SMALL_MODELS = ("tinyvgg", "custom")  # checked value by value against torch here


def figure_title(figure: object) -> str:
    if not isinstance(figure, dict):
        return ""
    title = figure.get("layout", {}).get("title", "")
    return str(title.get("text", "") if isinstance(title, dict) else title)


class CheckedTab(LoadTab):
    """A tab that redraws its views like the renderer and checks them for the small models."""

    def views(self, changed: list[str]) -> None:
        """What fires after model/layer/image/weights change: kernels, features, detail."""
        kernels = self.call("on_kernels", changed)
        if kernels and isinstance(kernels.get("kernel-grid.figure"), dict):
            figure = kernels["kernel-grid.figure"]  # a message figure has no data to click
            trace = figure["data"][0] if figure.get("data") else {}
            self.kernel_cd = trace if "customdata" in trace else None
            if figure.get("data") and self.v("model-select.value") in SMALL_MODELS:
                self.check_kernels(figure)
        self.features(changed)
        self.detail(changed)

    def features(self, changed: list[str]) -> None:
        """on_features; remembers the grid for clicks and checks it for the small models."""
        out = self.call("on_features", changed)
        if out is None:
            self.feature_cd = None
            return
        figure = out.get("feature-grid.figure")
        if not isinstance(figure, dict):
            return  # no_update
        ok = bool(figure.get("data")) and not out.get("status.children")
        self.feature_cd = figure["data"][0] if ok else None
        if ok and self.v("model-select.value") in SMALL_MODELS:
            self.check_features(figure)

    def detail(self, changed: list[str]) -> None:
        out = self.call("on_detail", changed)
        if out and "feature-detail.figure" in out:
            self.check_detail_shown()

    def check_detail_shown(self) -> None:
        """The page's detail (after any Patch of its map) shows its channel, exactly."""
        figure = self.v("feature-detail.figure")
        if not isinstance(figure, dict) or not figure.get("data"):
            return
        if self.feature_cd is None:
            return  # the grid showed a sentence: the page's channel was never fitted to the layer
        channel = int(self.v("channel-store.data") or 0)
        title = figure_title(figure)
        shown = re.match(r"(.+?) · channel (\d+)\b", title)
        if shown is None or shown.groups() != (self.v("layer-select.value"), str(channel)):
            self.recorder.error("wrong_channel", "on_detail", f"channel {channel}: {title!r}")
        elif self.v("model-select.value") in SMALL_MODELS:
            self.check_detail(figure, channel)

    def _expected_map(self) -> np.ndarray | None:
        """The shown layer's output as torch computes it; None when it cannot be rebuilt."""
        image = str(self.v("image-store.data"))
        ref = self.images.get(image, ImageRef(image))
        if image.startswith("upload:") and ref.encoded is None:
            return None  # another session's key: this session never uses one
        weights_key = self.weights_key()
        if not self.oracle.has_weights(weights_key):
            return None
        model = str(self.v("model-select.value"))
        layer = str(self.v("layer-select.value"))
        return self.oracle.maps(model, weights_key, ref).get(layer)

    def check_features(self, figure: dict) -> None:
        expected = self._expected_map()
        if expected is None:
            return
        problem = feature_mismatch(figure, expected)
        self.recorder.note("checks", "feature_grids")
        if problem:
            self.recorder.error("wrong_activations", "on_features", f"{self.where()}: {problem}")

    def check_detail(self, figure: dict, channel: int) -> None:
        expected = self._expected_map()
        if expected is None:
            return
        z = decode_typed(figure["data"][0]["z"])
        self.recorder.note("checks", "details")
        want = expected[channel]
        if z.shape != want.shape or not np.allclose(z, want, rtol=1e-4, atol=1e-5):
            self.recorder.error("wrong_activations", "on_detail", f"{self.where()}: differs")

    def check_kernels(self, figure: dict) -> None:
        model, layer = str(self.v("model-select.value")), str(self.v("layer-select.value"))
        weights_key = self.weights_key()
        if not self.oracle.has_weights(weights_key):
            return
        problem = kernel_mismatch(figure, self.oracle.weight(model, weights_key, layer))
        self.recorder.note("checks", "kernel_grids")
        if problem:
            self.recorder.error("wrong_kernels", "on_kernels", f"{self.where()}: {problem}")
