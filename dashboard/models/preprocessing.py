"""A model's input preprocessing: checked settings, and the same in words for the page.

The standard pipeline (loaded.standard_transform): convert to grayscale or RGB, resize
(and centre-crop), scale pixels to 0..1 or 0..255, then (x − mean) / std per channel with
mean and std in the units of that range. `describe_*` say this as one sentence, e.g.
"RGB, resized and centre-cropped to 112×96 (H×W), values 0–255, then (x − 127.5) / 128 per
channel".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dashboard.errors import ModelError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PIXEL_MAX = {"0-1": 1.0, "0-255": 255.0}  # --value-range -> what a white pixel is


def pixel_max_of(value_range: str) -> float:
    """1.0 for "0-1", 255.0 for "0-255".

    Raises:
        ModelError: any other value.
    """
    if value_range not in PIXEL_MAX:
        raise ModelError(f"--value-range must be 0-1 or 0-255, got {value_range!r}.")
    return PIXEL_MAX[value_range]


def channel_values(
    values: Sequence[float], option: str, channels: int, *, positive: bool = False
) -> tuple[float, ...]:
    """`values` (1 number, or one per channel) as one float per channel.

    Raises:
        ModelError: a sentence naming `option`, e.g. "--mean has 3 numbers but ...".
    """
    try:
        numbers = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ModelError(f"{option} must be numbers, got {values!r}.") from None
    if len(numbers) not in (1, channels):
        raise ModelError(
            f"{option} has {len(numbers)} numbers but the model takes {channels}-channel input: "
            f"give 1 number{' or 3' if channels == 3 else ''}."
        )
    if not all(math.isfinite(v) for v in numbers):
        raise ModelError(f"{option} must be finite numbers, got {values!r}.")
    if positive and not all(v > 0 for v in numbers):
        raise ModelError(f"{option} must be greater than zero (it divides), got {values!r}.")
    return numbers * channels if len(numbers) == 1 else numbers


def _numbers(values: Sequence[float]) -> str:
    """ "0.5" when every channel has it, else "0.485, 0.456, 0.406"."""
    if len(set(values)) == 1:
        return f"{values[0]:g}"
    return ", ".join(f"{v:g}" for v in values)


def describe_normalisation(
    mean: Sequence[float] | None,
    std: Sequence[float] | None,
    pixel_max: float,
    *,
    name_imagenet: bool = True,
) -> str:
    """E.g. "values 0–255, then (x − 127.5) / 128 per channel"."""
    values = f"values 0–{pixel_max:g}"
    if mean is None or std is None:
        return f"{values}, not normalised"
    imagenet = tuple(mean) == IMAGENET_MEAN and tuple(std) == IMAGENET_STD and pixel_max == 1.0
    named = " (ImageNet's)" if imagenet and name_imagenet else ""
    if len(set(mean)) == 1 and len(set(std)) == 1:
        return f"{values}, then (x − {mean[0]:g}) / {std[0]:g} per channel"
    return (
        f"{values}, then (x − mean) / std per channel with mean {_numbers(mean)} "
        f"and std {_numbers(std)}{named}"
    )


def describe_standard(
    channels: int,
    size: tuple[int, int],
    *,
    crop: bool,
    pixel_max: float = 1.0,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> str:
    """The standard pipeline in words (see the module docstring)."""
    colour = "grayscale" if channels == 1 else "RGB"
    height, width = size
    resized = "resized and centre-cropped to" if crop else "stretched to"
    return (
        f"{colour}, {resized} {height}×{width} (H×W), "
        f"{describe_normalisation(mean, std, pixel_max)}"
    )


def describe_torchvision(transforms: object, family: str = "ImageNet") -> str:
    """A torchvision weights' ImageClassification transform in words, e.g. "ImageNet: RGB,
    shorter side resized to 256 (bilinear), centre crop 224×224, values 0–1, then ..."."""
    resize = list(getattr(transforms, "resize_size", []) or [])
    crop = list(getattr(transforms, "crop_size", []) or [])
    interpolation = getattr(transforms, "interpolation", None)
    how = f" ({interpolation.value})" if hasattr(interpolation, "value") else ""
    parts = [f"{family}: RGB"]
    if len(resize) == 1:
        parts.append(f"shorter side resized to {resize[0]}{how}")
    elif len(resize) == 2:
        parts.append(f"resized to {resize[0]}×{resize[1]}{how}")
    if crop:
        parts.append(f"centre crop {crop[0]}×{crop[-1]}")
    mean, std = getattr(transforms, "mean", None), getattr(transforms, "std", None)
    parts.append(describe_normalisation(mean, std, 1.0, name_imagenet=False))
    return ", ".join(parts)


def describe_custom(transform: object, shape: tuple[int, int, int]) -> str:
    """A user's own transform, by name and output shape."""
    name = getattr(transform, "__qualname__", None) or type(transform).__name__
    return f"your own transform ({name}), giving {'×'.join(str(s) for s in shape)} tensors"
