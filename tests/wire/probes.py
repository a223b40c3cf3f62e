"""What tests and benchmarks feed the app and watch in it: images, forward passes, Explorer."""

from __future__ import annotations

import inspect
import io
from collections.abc import Iterator

import numpy as np
import torch
from dash import Dash
from PIL import Image

from dashboard.explorer import Explorer


def find_explorer(app: Dash) -> Explorer:
    """The app's Explorer: ``app.explorer``, else the one its callbacks close over."""
    explorer = getattr(app, "explorer", None)
    if isinstance(explorer, Explorer):
        return explorer
    for spec in app.callback_map.values():
        function = inspect.unwrap(spec["callback"])
        explorer = inspect.getclosurevars(function).nonlocals.get("explorer")
        if isinstance(explorer, Explorer):
            return explorer
    raise RuntimeError("no callback of this app closes over an Explorer")


def distinct_images(seed: int, size: int = 224) -> Iterator[Image.Image]:
    """An endless stream of different photo-like RGB images (smooth colour fields + noise)."""
    rng = np.random.default_rng(seed)
    while True:
        coarse = rng.random((7, 7, 3)) * 255
        smooth = Image.fromarray(coarse.astype(np.uint8)).resize(
            (size, size), Image.Resampling.BICUBIC
        )
        noise = rng.normal(0, 12, (size, size, 3))
        pixels = np.clip(np.asarray(smooth, dtype=np.float64) + noise, 0, 255)
        yield Image.fromarray(pixels.astype(np.uint8))


def encoded(image: Image.Image, fmt: str, quality: int = 90) -> bytes:
    """The bytes of ``image`` as a ``fmt`` file ("PNG", "JPEG"; quality for JPEG only)."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buffer.getvalue()


class ForwardCounter:
    """Counts calls of a module's forward (an independent check of the cache's own stats)."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.calls = 0
        self._handle = module.register_forward_pre_hook(self._count)

    def _count(self, *_args: object) -> None:
        self.calls += 1

    def remove(self) -> None:
        self._handle.remove()
