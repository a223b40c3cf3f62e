"""List a model's Conv2d layers with their output shapes, found by one hooked dry run."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from dashboard.errors import ModelError
from dashboard.i18n import _

logger = logging.getLogger(__name__)


class ForwardError(ModelError):
    """The model's forward pass failed at the given input size."""


@dataclass(frozen=True)
class ConvLayer:
    """One nn.Conv2d of a model, as the layer dropdown shows it (``label``, worded in the
    current request's language)."""

    name: str
    in_channels: int
    out_channels: int
    groups: int
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int] | str
    dilation: tuple[int, int]
    output_shape: tuple[int, int, int]

    @property
    def label(self) -> str:
        return conv_label(self)


def _pair(value: tuple[int, ...] | int) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    return (int(value[0]), int(value[1]))


def _side(pair: tuple[int, int]) -> str:
    """ "2" for (2, 2), "1×2" otherwise."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def conv_label(layer: ConvLayer) -> str:
    """E.g. "features.10 · Conv2d 128→256 3×3 · 256×56×56 · stride 2"."""
    kh, kw = layer.kernel_size
    shape = "×".join(str(s) for s in layer.output_shape)
    shown = layer.name or _("(model)")  # the model itself is a Conv2d
    parts = [f"{shown} · Conv2d {layer.in_channels}→{layer.out_channels} {kh}×{kw}", shape]
    if layer.groups > 1:
        if layer.groups == layer.in_channels:
            parts.append(_("depthwise"))
        else:
            parts.append(_("groups {groups}").format(groups=layer.groups))
    if layer.stride != (1, 1):
        parts.append(_("stride {stride}").format(stride=_side(layer.stride)))
    if layer.dilation != (1, 1):
        parts.append(_("dilation {dilation}").format(dilation=_side(layer.dilation)))
    return " · ".join(parts)


def _output_shapes(
    module: nn.Module, convs: dict[str, nn.Conv2d], x: torch.Tensor
) -> dict[str, tuple[int, int, int]]:
    """Run `module` once on `x`; return each conv's first (C, H, W) output shape."""
    shapes: dict[str, tuple[int, int, int]] = {}
    handles: list[RemovableHandle] = []

    def make_hook(name: str):
        def hook(_mod: nn.Module, _inputs: object, output: object) -> None:
            if isinstance(output, torch.Tensor) and output.dim() == 4 and name not in shapes:
                shapes[name] = (int(output.shape[1]), int(output.shape[2]), int(output.shape[3]))

        return hook

    try:
        for name, conv in convs.items():
            handles.append(conv.register_forward_hook(make_hook(name)))
        with torch.inference_mode():
            module(x)
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def _reason(exc: Exception, limit: int = 240) -> str:
    """The first line of the model's own error, cut to a sentence's length."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
    return text if len(text) <= limit else f"{text[:limit]}…"


def conv_layers(
    module: nn.Module,
    input_shape: tuple[int, int, int],
    *,
    model_name: str | None = None,
) -> list[ConvLayer]:
    """Every nn.Conv2d of `module` in named_modules() order, with its output shape.

    Output shapes come from one forward pass of a zero batch of shape (1, *input_shape)
    under inference_mode; the hooks are removed even when that pass raises. A conv that
    the forward pass never calls is left out (and logged): it has no feature map to show.

    Args:
        module: the model, in eval mode.
        input_shape: (C, H, W) of one input image.
        model_name: used in error messages; defaults to the module's class name.

    Raises:
        ModelError: the model has no Conv2d (or never calls one).
        ForwardError: (a ModelError) the forward pass failed at that size.
    """
    shown = model_name or type(module).__name__
    convs = {name: m for name, m in module.named_modules() if isinstance(m, nn.Conv2d)}
    if not convs:
        raise ModelError("The model {model} has no Conv2d layer to show.", model=shown)
    c, h, w = input_shape
    try:
        shapes = _output_shapes(module, convs, torch.zeros(1, c, h, w))
    except Exception as exc:
        raise ForwardError(
            "The model {model} could not run on a {shape} input ({reason}).",
            model=shown,
            shape="×".join(map(str, input_shape)),
            reason=_reason(exc),
        ) from exc
    layers: list[ConvLayer] = []
    for name, conv in convs.items():
        if name not in shapes:
            logger.info("%s: conv %s is never called in forward(); not listed", shown, name)
            continue
        padding = conv.padding if isinstance(conv.padding, str) else _pair(conv.padding)
        layers.append(
            ConvLayer(
                name=name,
                in_channels=conv.in_channels,
                out_channels=conv.out_channels,
                groups=conv.groups,
                kernel_size=_pair(conv.kernel_size),
                stride=_pair(conv.stride),
                padding=padding,
                dilation=_pair(conv.dilation),
                output_shape=shapes[name],
            )
        )
    if not layers:
        raise ModelError("The model {model} never calls any of its Conv2d layers.", model=shown)
    return layers
