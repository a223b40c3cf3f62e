"""The torch-side oracle: expected activations and weights, and the checks of the figures.

The small models are rebuilt here by this process's own ``ModelRegistry`` (the server's
builders), the same image goes through ``model.preprocess``, and a plain forward hook
records each conv layer's output; the figures the server sent (plotly typed arrays) are
decoded and compared value by value.
"""

from __future__ import annotations

import copy
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from bench.load.options import SAMPLES
from dashboard.models import ModelRegistry
from tests.wire import cell_data, decode_typed


@dataclass(frozen=True)
class ImageRef:
    """What a session's image key stands for, as this process can rebuild it."""

    key: str
    encoded: bytes | None = None  # the uploaded file's bytes


def load_image(image: ImageRef) -> Image.Image:
    """The PIL image behind a key: an upload's own bytes, or a shipped sample file."""
    if image.encoded is not None:
        with Image.open(io.BytesIO(image.encoded)) as img:
            return img.convert("RGB")
    with Image.open(SAMPLES / image.key.removeprefix("sample:")) as img:
        return img.convert("RGB")


def _store(found: dict[str, np.ndarray], name: str) -> Callable:
    def hook(_module: torch.nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        found[name] = output.detach()[0].to(torch.float32).numpy().copy()

    return hook


class Oracle:
    """Expected activations and weights of the small models, computed with plain torch."""

    def __init__(self, max_entries: int = 64) -> None:
        self._lock = threading.Lock()
        self.models = ModelRegistry(allow_download=False)
        self._maps: OrderedDict[tuple, dict[str, np.ndarray]] = OrderedDict()
        self._uploaded: dict[str, torch.nn.Module] = {}
        self.max_entries = max_entries

    def register_weights(self, key: str, model: str, state: dict[str, torch.Tensor]) -> None:
        with self._lock:  # the only place this process hooks its modules: no hook is copied
            clone = copy.deepcopy(self.models.get(model).module)
            clone.load_state_dict(state)
            self._uploaded[key] = clone.eval().requires_grad_(False)

    def has_weights(self, key: str | None) -> bool:
        with self._lock:
            return key is None or key in self._uploaded

    def module(self, model: str, weights_key: str | None) -> torch.nn.Module:
        if weights_key is not None:
            return self._uploaded[weights_key]
        return self.models.get(model).module

    def weight(self, model: str, weights_key: str | None, layer: str) -> np.ndarray:
        conv = self.module(model, weights_key).get_submodule(layer)
        return conv.weight.detach().to(torch.float32).numpy()

    def maps(self, model: str, weights_key: str | None, image: ImageRef) -> dict[str, np.ndarray]:
        """Every conv layer's output for (model, weights, image): a plain forward hook."""
        loaded = self.models.get(model)
        key = (loaded.key, weights_key, image.key)
        with self._lock:
            if key in self._maps:
                self._maps.move_to_end(key)
                return self._maps[key]
            module = self.module(model, weights_key)
            if image.key == "random":
                x = loaded.default_input()
            else:
                x = loaded.preprocess(load_image(image))
            found: dict[str, np.ndarray] = {}
            handles = [
                module.get_submodule(c.name).register_forward_hook(_store(found, c.name))
                for c in loaded.conv_layers
            ]
            try:
                with torch.inference_mode():
                    module(x)
            finally:
                for handle in handles:
                    handle.remove()
            self._maps[key] = found
            while len(self._maps) > self.max_entries:
                self._maps.popitem(last=False)
            return found


def block_means(maps: np.ndarray, factor: int) -> np.ndarray:
    """(C, H, W) -> (C, ceil(H/f), ceil(W/f)) means of the pixels each block holds."""
    if factor == 1:
        return maps.astype(np.float64)
    c, h, w = maps.shape
    bh, bw = -(-h // factor), -(-w // factor)
    padded = np.full((c, bh * factor, bw * factor), np.nan)
    padded[:, :h, :w] = maps
    return np.nanmean(padded.reshape(c, bh, factor, bw, factor), axis=(2, 4))


def feature_mismatch(figure: dict, expected: np.ndarray) -> str | None:
    """Why a feature grid's customdata is not [raw, channel, row, col] of ``expected``."""
    meta = figure["layout"]["meta"]
    nrows, ncols, f = int(meta["nrows"]), int(meta["ncols"]), int(meta["factor"])
    th, tw = int(meta["tile_h"]), int(meta["tile_w"])
    cd = cell_data(figure["data"][0])
    if cd.shape != (nrows * th, ncols * tw, 4) or int(meta["channels"]) != expected.shape[0]:
        return f"shape {cd.shape} / {meta} for maps {expected.shape}"
    tiles = cd.reshape(nrows, th, ncols, tw, 4).transpose(0, 2, 1, 3, 4).reshape(-1, th, tw, 4)
    want = block_means(expected, f)
    c = expected.shape[0]
    if want.shape[1:] != (th, tw):
        return f"tile {(th, tw)} for block means {want.shape[1:]}"
    if not np.allclose(tiles[:c, ..., 0], want, rtol=1e-4, atol=1e-5):
        err = float(np.max(np.abs(tiles[:c, ..., 0] - want)))
        return f"activations differ by up to {err:.3g}"
    channels = np.broadcast_to(np.arange(c)[:, None, None], (c, th, tw))
    rows = np.broadcast_to((np.arange(th) * f)[None, :, None], (c, th, tw))
    cols = np.broadcast_to((np.arange(tw) * f)[None, None, :], (c, th, tw))
    if not (
        np.array_equal(tiles[:c, ..., 1], channels)
        and np.array_equal(tiles[:c, ..., 2], rows)
        and np.array_equal(tiles[:c, ..., 3], cols)
        and np.all(tiles[c:, ..., 1] == -1)
    ):
        return "channel/row/col customdata do not match the tile positions"
    return None


def norms_mismatch(figure: dict, weight: np.ndarray) -> str | None:
    """Why a kernel-norm overview's cells are not the L2 norms of ``weight``'s kernels."""
    meta = figure["layout"]["meta"]
    out, inp = weight.shape[:2]
    norms = np.sqrt((weight.astype(np.float64).reshape(out, inp, -1) ** 2).sum(axis=2))
    z = decode_typed(figure["data"][0]["z"]).astype(np.float64)
    if meta["wrap_cols"]:
        shown, want = z.reshape(-1)[:out], norms[:, 0]
    else:
        f = meta["in_per_cell"]
        padded = np.zeros((meta["rows"] * f, out))
        padded[:inp] = norms.T
        shown, want = z, padded.reshape(meta["rows"], f, out).max(axis=1)
    if shown.shape != want.shape or not np.allclose(shown, want, rtol=1e-6, atol=1e-9):
        return "kernel norms differ"
    return None


def kernel_mismatch(figure: dict, weight: np.ndarray) -> str | None:
    """Why a kernel grid's customdata [w, in, out, r, c] (or a norm overview) is not
    ``weight`` exactly."""
    if figure["layout"].get("meta", {}).get("grid") == "kernel_norms":
        return norms_mismatch(figure, weight)
    cells = decode_typed(figure["data"][0]["customdata"]).reshape(-1, 5)
    cells = cells[cells[:, 2] >= 0]
    idx = cells[:, 1:].astype(np.int64)
    o, i, r, c = idx[:, 1], idx[:, 0], idx[:, 2], idx[:, 3]
    if o.max(initial=0) >= weight.shape[0] or i.max(initial=0) >= weight.shape[1]:
        return "kernel indices outside the layer"
    if not np.array_equal(cells[:, 0], weight[o, i, r, c]):
        return "kernel weights differ"
    return None
