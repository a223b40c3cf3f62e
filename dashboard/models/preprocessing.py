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
from dashboard.i18n import N_, _

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PIXEL_MAX = {"0-1": 1.0, "0-255": 255.0}  # --value-range -> what a white pixel is
# torchvision's InterpolationMode values, in words a translator can see
INTERPOLATIONS = {
    "nearest": N_("nearest"),
    "nearest-exact": N_("nearest-exact"),
    "bilinear": N_("bilinear"),
    "bicubic": N_("bicubic"),
    "box": N_("box"),
    "hamming": N_("hamming"),
    "lanczos": N_("lanczos"),
}


def pixel_max_of(value_range: str) -> float:
    """1.0 for "0-1", 255.0 for "0-255".

    Raises:
        ModelError: any other value.
    """
    if value_range not in PIXEL_MAX:
        raise ModelError(
            "--value-range must be 0-1 or 0-255, got {value}.", value=repr(value_range)
        )
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
        raise ModelError(
            "{option} must be numbers, got {values}.", option=option, values=repr(values)
        ) from None
    if len(numbers) not in (1, channels):
        counts = {"option": option, "n": len(numbers), "channels": channels}
        if channels == 3:
            raise ModelError(
                "{option} has {n} numbers but the model takes {channels}-channel input: "
                "give 1 number or 3.",
                **counts,
            )
        raise ModelError(
            "{option} has {n} numbers but the model takes {channels}-channel input: give 1 number.",
            **counts,
        )
    if not all(math.isfinite(v) for v in numbers):
        raise ModelError(
            "{option} must be finite numbers, got {values}.", option=option, values=repr(values)
        )
    if positive and not all(v > 0 for v in numbers):
        raise ModelError(
            "{option} must be greater than zero (it divides), got {values}.",
            option=option,
            values=repr(values),
        )
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
    """E.g. "values 0–255, then (x − 127.5) / 128 per channel" (current language)."""
    top = f"{pixel_max:g}"
    if mean is None or std is None:
        return _("values 0–{top}, not normalised").format(top=top)
    imagenet = tuple(mean) == IMAGENET_MEAN and tuple(std) == IMAGENET_STD and pixel_max == 1.0
    if len(set(mean)) == 1 and len(set(std)) == 1:
        return _("values 0–{top}, then (x − {mean}) / {std} per channel").format(
            top=top, mean=f"{mean[0]:g}", std=f"{std[0]:g}"
        )
    numbers = {"top": top, "mean": _numbers(mean), "std": _numbers(std)}
    if imagenet and name_imagenet:
        return _(
            "values 0–{top}, then (x − mean) / std per channel with mean {mean} and std {std} "
            "(ImageNet's)"
        ).format(**numbers)
    return _(
        "values 0–{top}, then (x − mean) / std per channel with mean {mean} and std {std}"
    ).format(**numbers)


def describe_standard(
    channels: int,
    size: tuple[int, int],
    *,
    crop: bool,
    pixel_max: float = 1.0,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> str:
    """The standard pipeline in words (see the module docstring), in the current language."""
    words = {
        "colour": _("grayscale") if channels == 1 else "RGB",
        "size": f"{size[0]}×{size[1]}",
        "values": describe_normalisation(mean, std, pixel_max),
    }
    if crop:
        return _("{colour}, resized and centre-cropped to {size} (H×W), {values}").format(**words)
    return _("{colour}, stretched to {size} (H×W), {values}").format(**words)


def describe_torchvision(transforms: object, family: str = "ImageNet") -> str:
    """A torchvision weights' ImageClassification transform in words, e.g. "ImageNet: RGB,
    shorter side resized to 256 (bilinear), centre crop 224×224, values 0–1, then ..."."""
    resize = list(getattr(transforms, "resize_size", []) or [])
    crop = list(getattr(transforms, "crop_size", []) or [])
    interpolation = getattr(transforms, "interpolation", None)
    how = getattr(interpolation, "value", None)
    if how in INTERPOLATIONS:
        how = _(INTERPOLATIONS[how])
    parts = []
    if len(resize) == 1:
        side = str(resize[0])
        if how:
            parts.append(_("shorter side resized to {side} ({how})").format(side=side, how=how))
        else:
            parts.append(_("shorter side resized to {side}").format(side=side))
    elif len(resize) == 2:
        shown = f"{resize[0]}×{resize[1]}"
        if how:
            parts.append(_("resized to {size} ({how})").format(size=shown, how=how))
        else:
            parts.append(_("resized to {size}").format(size=shown))
    if crop:
        parts.append(_("centre crop {size}").format(size=f"{crop[0]}×{crop[-1]}"))
    mean, std = getattr(transforms, "mean", None), getattr(transforms, "std", None)
    parts.append(describe_normalisation(mean, std, 1.0, name_imagenet=False))
    # TRANSLATORS: joins the steps of a preprocessing pipeline ("RGB, resized to …, …").
    separator = _(", ")
    return _("{family}: RGB").format(family=family) + "".join(separator + p for p in parts)


def describe_custom(transform: object, shape: tuple[int, int, int]) -> str:
    """A user's own transform, by name and output shape."""
    name = getattr(transform, "__qualname__", None) or type(transform).__name__
    return _("your own transform ({name}), giving {shape} tensors").format(
        name=name, shape="×".join(str(s) for s in shape)
    )
