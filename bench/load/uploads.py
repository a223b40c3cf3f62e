"""What sessions upload: generated photo-like images, custom weights and files to refuse."""

from __future__ import annotations

import pickle

import numpy as np
import torch
from PIL import Image

from tests.wire import data_url, encoded


def generated_image(rng: np.random.Generator) -> Image.Image:
    """A photo-like RGB image of random size: a smooth colour field, stripes and noise."""
    w, h = (int(v) for v in rng.integers(40, 320, size=2))
    coarse = Image.fromarray((rng.random((6, 6, 3)) * 255).astype(np.uint8))
    smooth = np.asarray(coarse.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float64)
    stripes = 40 * np.sin(np.arange(w)[None, :, None] / rng.uniform(2, 12))
    noise = rng.normal(0, 10, (h, w, 3))
    return Image.fromarray(np.clip(smooth + stripes + noise, 0, 255).astype(np.uint8))


def bad_images(rng: np.random.Generator) -> list[tuple[str, str]]:
    """(filename, contents) of uploads the server must refuse with a sentence."""
    png = encoded(generated_image(rng), "PNG")
    return [
        ("paper.pdf", data_url(b"%PDF-1.7\n1 0 obj << >> endobj\n", "application/pdf")),
        ("cut.png", data_url(png[: len(png) // 3], "image/png")),
        ("noise.jpg", data_url(b"\xff\xd8\xff\xe0" + rng.bytes(2000), "image/jpeg")),
        ("empty.png", "data:"),
        ("mangled.png", "data:image/png;base64,@@not base64@@"),
        ("notes.txt", data_url(b"just some text, not pixels", "text/plain")),
    ]


def bad_weights(rng: np.random.Generator) -> list[tuple[str, str]]:
    """(filename, contents) of weights files the server must refuse with a sentence."""
    mime = "application/octet-stream"
    return [
        ("weights.safetensors", data_url(rng.bytes(512), mime)),
        ("model.pt", data_url(pickle.dumps({"0.weight": [1.0, 2.0]}), mime)),
        ("empty.safetensors", "data:"),
    ]


def custom_weights(rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """A state dict for the custom model (Conv2d(1, 4, 3)), different per call."""
    weight = torch.from_numpy(rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32))
    bias = torch.from_numpy(rng.normal(0, 0.1, 4).astype(np.float32))
    return {"0.weight": weight, "0.bias": bias}
