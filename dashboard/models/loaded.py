"""LoadedModel: a ready-to-run model with its conv layers, preprocessing and display."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import nn

from dashboard.errors import ModelError
from dashboard.models.later import Later, Shown
from dashboard.models.layers import ConvLayer
from dashboard.models.preprocessing import describe_standard

DEFAULT_INPUT_SEED = 0

ImageTransform = Callable[[Image.Image], torch.Tensor]


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL "L" or "RGB" image -> (C, H, W) float32 in [0, 1]."""
    array = np.asarray(image, dtype=np.float32) / 255.0
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(array))


def standard_transform(
    size: tuple[int, int],
    mean: tuple[float, ...] | None,
    std: tuple[float, ...] | None,
    *,
    crop: bool,
    pixel_max: float = 1.0,
) -> ImageTransform:
    """Resize to `size` (H, W), to tensor in [0, pixel_max], then normalise if mean/std given.

    With `crop`, the image is scaled to cover `size` and centre-cropped (aspect kept);
    without, it is resized straight to `size`. `mean` and `std` are in the units of
    `pixel_max` (127.5 and 128 for a model trained on (x - 127.5) / 128 of 0..255 pixels).
    """
    height, width = size

    def transform(image: Image.Image) -> torch.Tensor:
        if crop:
            image = ImageOps.fit(image, (width, height), method=Image.Resampling.BILINEAR)
        else:
            image = image.resize((width, height), Image.Resampling.BILINEAR)
        x = image_to_tensor(image)
        if pixel_max != 1.0:
            x = x * pixel_max
        if mean is not None and std is not None:
            x = normalize(x, mean, std)
        return x

    return transform


def _stats(values: tuple[float, ...], channels: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).reshape(channels, 1, 1)


def normalize(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """(…, C, H, W) -> (x - mean) / std per channel."""
    c = x.shape[-3]
    return (x - _stats(mean, c)) / _stats(std, c)


FINGERPRINT_VALUES = 4096  # values sampled from each tensor for LoadedModel.shared_key


@dataclass
class LoadedModel:
    """A model ready to run: eval mode, no gradients, on the CPU.

    `transform` maps a PIL image already converted to "L" (1 channel) or "RGB"
    (3 channels) to a (C, H, W) float tensor: pixels scaled to [0, `pixel_max`] (1 or 255),
    then (x - mean) / std with `mean`/`std` in those units (None: not normalised); both
    are used to un-normalise for display. `preprocessing` says all that in words for the
    page, e.g. "RGB, resized and centre-cropped to 112×96 (H×W), values 0–255, then
    (x − 127.5) / 128 per channel".
    `initial_tensors` names the tensors a weights file did not set (they keep the model's
    initial values; `notice` says so too).
    `label`, `weights`, `notice` and `preprocessing` are given as str or as
    :class:`~dashboard.models.later.Later` (the model is kept for every visitor) and read
    as str in the current request's language.
    `upgradable(allow_download)` is set on models that fell back to random weights:
    it tells the model cache that a rebuild would now find the real weights.
    `classes` names the outputs of a classifier (None: unknown); `trained` is False when
    the weights are random, so that its predictions mean nothing.
    """

    key: str
    name: str
    label: str = Shown()  # type: ignore[assignment]
    module: nn.Module
    conv_layers: list[ConvLayer]
    input_channels: int
    input_size: tuple[int, int]
    weights: str = Shown()  # type: ignore[assignment]
    notice: str | None = Shown(None)  # type: ignore[assignment]
    transform: ImageTransform | None = field(default=None, repr=False)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    upgradable: Callable[[bool], bool] | None = field(default=None, repr=False, compare=False)
    classes: tuple[str, ...] | None = None
    trained: bool = True
    preprocessing: str = Shown("")  # type: ignore[assignment]
    pixel_max: float = 1.0
    initial_tensors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.transform is None:
            self.transform = standard_transform(
                self.input_size, self.mean, self.std, crop=True, pixel_max=self.pixel_max
            )
            if not self.preprocessing:
                channels, size = self.input_channels, self.input_size
                pixel_max, mean, std = self.pixel_max, self.mean, self.std
                self.preprocessing = Later(
                    lambda: describe_standard(
                        channels, size, crop=True, pixel_max=pixel_max, mean=mean, std=std
                    )
                )

    @functools.cached_property
    def shared_key(self) -> str:
        """``key`` with a fingerprint of what every result depends on: the weights (a strided
        sample of each tensor, with its name and shape) and the preprocessing.

        Results kept beyond this process (Redis, the jobs' disk cache) are stored under it,
        so a model retrained into a file of the same name, or run with another mean or input
        size, never reads a result computed by an earlier release.
        """
        digest = hashlib.blake2b(digest_size=12)
        transform = re.sub(r" at 0x[0-9a-f]+", "", repr(self.transform))
        shape = (self.key, self.input_shape, self.mean, self.std, self.pixel_max, transform)
        digest.update(repr(shape).encode())
        with torch.no_grad():
            for name, tensor in self.module.state_dict().items():
                flat = tensor.detach().reshape(-1)
                sample = flat[:: max(1, flat.numel() // FINGERPRINT_VALUES)]
                digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
                digest.update(sample.to(torch.float64).numpy().tobytes())
        return f"{self.key}#{digest.hexdigest()}"

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one input."""
        return (self.input_channels, *self.input_size)

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """PIL image (any mode) -> (1, C, H, W) float32 batch for this model."""
        image = image.convert("L" if self.input_channels == 1 else "RGB")
        assert self.transform is not None
        x = self.transform(image).to(torch.float32).unsqueeze(0)
        if tuple(x.shape[1:]) != self.input_shape:
            raise ModelError(
                "Preprocessing for {model} made a {shape} tensor, expected {expected}.",
                model=self.label,
                shape=tuple(x.shape[1:]),
                expected=self.input_shape,
            )
        return x

    def default_input(self) -> torch.Tensor:
        """Seeded uniform noise image (1, C, H, W), normalised like a real image."""
        generator = torch.Generator().manual_seed(DEFAULT_INPUT_SEED)
        x = torch.rand(1, *self.input_shape, generator=generator)
        if self.pixel_max != 1.0:
            x = x * self.pixel_max
        if self.mean is not None and self.std is not None:
            x = normalize(x, self.mean, self.std)
        return x

    def to_display(self, x: torch.Tensor) -> np.ndarray:
        """Preprocessed (1, C, H, W) or (C, H, W) input -> (H, W) float or (H, W, 3) uint8."""
        x = x.detach().to("cpu", torch.float32)
        if x.dim() == 4:
            x = x[0]
        if self.mean is not None and self.std is not None:
            c = x.shape[0]
            x = x * _stats(self.std, c) + _stats(self.mean, c)
        if self.pixel_max != 1.0:
            x = x / self.pixel_max
        x = x.clamp(0.0, 1.0)
        if x.shape[0] == 1:
            return x[0].numpy().astype(np.float32)
        return (x.permute(1, 2, 0) * 255.0).round().to(torch.uint8).numpy()
