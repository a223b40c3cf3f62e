"""The user's own model ("Any model"): their factory, their weights, their preprocessing.

The model comes from "package.module:factory" (see user_spec). Standard preprocessing:
the image is converted to the first Conv2d's channel count (1 -> grayscale, 3 -> RGB),
scaled to cover the input size (H, W) and centre-cropped, its pixels scaled to 0..1, or
0..255 with value_range="0-255", then normalised as (x - mean) / std per channel, with
mean and std in the units of that range. Without mean and std: ImageNet's for 3-channel
input on 0..1 (normalize=True asks for them on 0..255 too, scaled by 255), none otherwise
(MNIST-style models usually expect plain 0..1). A `transform` replaces the whole pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from dashboard.errors import ModelError
from dashboard.i18n import _
from dashboard.models.checkpoints import LoadReport, load_matching
from dashboard.models.later import Later
from dashboard.models.layers import ConvLayer, ForwardError, conv_layers
from dashboard.models.loaded import ImageTransform, LoadedModel, standard_transform
from dashboard.models.preprocessing import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    channel_values,
    describe_custom,
    describe_standard,
    pixel_max_of,
)
from dashboard.models.seeding import freeze
from dashboard.models.size_hints import size_hint
from dashboard.models.state_dicts import read_weights_file
from dashboard.models.user_spec import DEFAULT_SIZE, build_from_spec, first_conv_channels

logger = logging.getLogger(__name__)
Stats = tuple[float, ...]
_PROBE_SIDE = 256  # a custom transform is shown an image this big to learn its output size


def _normalisation(
    channels: int,
    pixel_max: float,
    normalize: bool | None,
    mean: Sequence[float] | None,
    std: Sequence[float] | None,
) -> tuple[Stats | None, Stats | None]:
    """(mean, std) per channel in the units of `pixel_max`, or (None, None) for none."""
    if mean is None and std is None:
        if normalize is True or (normalize is None and channels == 3 and pixel_max == 1.0):
            if channels != 3:
                raise ModelError("normalize=True uses ImageNet's mean and std: RGB models only.")
            return (
                tuple(m * pixel_max for m in IMAGENET_MEAN),
                tuple(s * pixel_max for s in IMAGENET_STD),
            )
        return None, None
    if normalize is False:
        raise ModelError("normalize=False turns normalisation off: give no mean or std with it.")
    means = channel_values(mean if mean is not None else (0.0,), "--mean", channels)
    stds = channel_values(std if std is not None else (1.0,), "--std", channels, positive=True)
    if all(m == 0 for m in means) and all(s == 1 for s in stds):
        return None, None  # "--mean 0 --std 1": no normalisation
    return means, stds


def _requested_size(input_size: tuple[int, int] | int | None) -> tuple[int, int] | None:
    if input_size is None:
        return None
    size = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    if len(size) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) for s in size):
        raise ModelError(
            "The input size must be H or (H, W) in pixels, got {size}.", size=repr(input_size)
        )
    if min(size) < 1:
        raise ModelError(
            "The input size must be at least 1×1 pixels, got {size}.", size=repr(input_size)
        )
    return (int(size[0]), int(size[1]))


def _by(*sides: int) -> str:
    """ "112×96"."""
    return "×".join(str(side) for side in sides)


def _custom_output_size(
    transform: ImageTransform, channels: int, size: tuple[int, int] | None
) -> tuple[int, int]:
    """The (H, W) `transform` makes of a test image; checked against `channels` and `size`."""
    mode = "L" if channels == 1 else "RGB"
    try:
        x = transform(Image.new(mode, (_PROBE_SIDE, _PROBE_SIDE), 128))
    except Exception as exc:
        raise ModelError(
            "Your transform failed on a {size} {mode} test image: {kind}: {error}",
            size=_by(_PROBE_SIDE, _PROBE_SIDE),
            mode=mode,
            kind=type(exc).__name__,
            error=exc,
        ) from exc
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[0] != channels:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ModelError(
            "Your transform must turn a PIL image into a ({channels}, H, W) tensor "
            "for this {channels}-channel model, but it gave {got}.",
            channels=channels,
            got=got,
        )
    made = (int(x.shape[1]), int(x.shape[2]))
    if size is not None and made != size:
        raise ModelError(
            "Your transform makes {made} inputs but the input size asked "
            "is {size}: leave the input size out, or make them agree.",
            made=_by(*made),
            size=_by(*size),
        )
    return made


def _weights_into(model: nn.Module, weights: str, label: str) -> LoadReport:
    path = Path(weights)
    if not path.is_file():
        raise ModelError("The weights file {path} does not exist.", path=weights)
    report = load_matching(model, read_weights_file(path), path.name, label)
    if report.sentence():  # the page shows it too; someone starting the app reads the log
        logger.warning("%s: %s", label, report.sentence())
    return report


def _traced_layers(
    model: nn.Module, channels: int, size: tuple[int, int], label: str
) -> list[ConvLayer]:
    """The conv layers, or an error naming the sizes the model does run on."""
    try:
        return conv_layers(model, (channels, *size), model_name=label)
    except ForwardError as exc:
        raise ModelError(
            "{error} {hint}", error=Later(exc.translated), hint=size_hint(model, channels, size)
        ) from exc


def load_user_model(
    spec: str,
    weights: str | None = None,
    input_size: tuple[int, int] | int | None = None,
    input_channels: int | None = None,
    *,
    normalize: bool | None = None,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    value_range: str = "0-1",
    transform: ImageTransform | None = None,
) -> LoadedModel:
    """Build the user's model from `spec`, load `weights`, and list its conv layers.

    Args:
        spec: "package.module:factory" or "path/to/file.py:factory".
        weights: a .safetensors file or a state dict saved with torch.save (weights-only),
            possibly wrapped or prefixed; what fits is loaded, `notice` names the rest.
        input_size: (H, W) or one side; default 224 for 3-channel models, 28 for 1-channel
            (or what `transform` makes).
        input_channels: expected channel count; must match the first Conv2d if given.
        normalize: False for no normalisation; True for ImageNet's mean/std (RGB only).
            Default: ImageNet's for RGB on 0..1 unless `mean`/`std` are given.
        mean, std: 1 value or one per channel, in the units of `value_range` (a missing
            one is 0, resp. 1).
        value_range: "0-1" or "0-255", the pixel values before normalisation.
        transform: PIL image ("L" or "RGB") -> (C, H, W) tensor, replacing the standard
            pipeline; `mean`/`std`/`value_range` then only say how to show its output.

    Raises:
        ModelError: a sentence naming what is wrong (spec, preprocessing settings, no
            Conv2d, unsupported channels, or a forward pass failing at that size, with
            the sizes it does run on).
        WeightsError: a weights file that cannot be read or fits nothing of the model.
    """
    label = Later(lambda: _("Your model ({spec})").format(spec=spec))
    model = build_from_spec(spec)
    channels = first_conv_channels(model, label, input_channels)
    pixel_max = pixel_max_of(value_range)
    means, stds = _normalisation(channels, pixel_max, normalize, mean, std)
    size = _requested_size(input_size)
    if transform is not None:
        size = _custom_output_size(transform, channels, size)
    size = size or (DEFAULT_SIZE[channels], DEFAULT_SIZE[channels])
    report = _weights_into(model, weights, label) if weights is not None else None
    model = freeze(model)
    layers = _traced_layers(model, channels, size, label)
    if transform is None:
        transform = standard_transform(size, means, stds, crop=True, pixel_max=pixel_max)
        shown = size
        described = Later(
            lambda: describe_standard(
                channels, shown, crop=True, pixel_max=pixel_max, mean=means, std=stds
            )
        )
    else:
        custom = transform
        described = Later(lambda: describe_custom(custom, (channels, *size)))
    if report is None:
        weights_text = Later(lambda: _("as built by the factory (no weights file)"))
    elif report.complete:
        source = report.source
        weights_text = Later(lambda: _("from {source}").format(source=source))
    else:
        weights_text = Later(
            lambda: _("{counts} from {source}").format(counts=report.counts, source=report.source)
        )
    return LoadedModel(
        key=f"user:{spec}" + (f"+{Path(weights).name}" if weights else ""),
        name="user",
        label=label,
        module=model,
        conv_layers=layers,
        input_channels=channels,
        input_size=size,
        weights=weights_text,
        notice=Later(report.sentence) if report and report.sentence() else None,
        transform=transform,
        mean=means,
        std=stds,
        preprocessing=described,
        pixel_max=pixel_max,
        initial_tensors=report.kept if report else (),
    )
