"""What a conv layer receives, and whether the way there is a plain stack.

One traced forward pass, cut short at the layer: every leaf module that runs before it is
recorded with the tensor it read and the tensor it wrote. The way there is *plain* when
each of those modules read exactly what the previous one wrote (the same tensor, not
modified in place since), starting from the input: then the layer arithmetic of
``theoretical_field`` applies. A residual add, a concatenation or a functional op between
modules breaks that chain, and only the measured field is given.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from dashboard.analysis.receptive import Pair, _pair
from dashboard.errors import ModelError

# Modules that keep every pixel where it is: the receptive field passes through unchanged.
ELEMENTWISE = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.GELU,
    nn.SiLU,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Mish,
    nn.Sigmoid,
    nn.Tanh,
    nn.BatchNorm2d,
    nn.Dropout,
    nn.Dropout2d,
    nn.Identity,
)
Geometry = tuple[Pair, Pair, Pair, Pair]  # kernel, stride, padding, dilation


class _Reached(Exception):
    """Raised by the layer's pre-hook: nothing after it needs to run."""


@dataclass(frozen=True, eq=False)
class LayerInput:
    """The ``(1, C, H, W)`` tensor the layer received, and the plain way there (the
    ``(kernel, stride, padding, dilation)`` of each conv and pool, the layer itself
    last), or None when the way there is not a plain stack."""

    tensor: torch.Tensor
    path: tuple[Geometry, ...] | None


def _geometry(module: nn.Module) -> Geometry | None:
    """The layer arithmetic of a conv or pool; None for anything else."""
    if isinstance(module, nn.Conv2d):
        kernel, dilation = _pair(module.kernel_size), _pair(module.dilation)
        if isinstance(module.padding, str):  # 'valid', or 'same' (its leading side)
            same = module.padding == "same"
            padding = tuple(
                d * (k - 1) // 2 if same else 0 for k, d in zip(kernel, dilation, strict=True)
            )
        else:
            padding = _pair(module.padding)
        return kernel, _pair(module.stride), padding, dilation
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        stride = module.stride if module.stride is not None else module.kernel_size
        dilation = module.dilation if isinstance(module, nn.MaxPool2d) else 1
        return (
            _pair(module.kernel_size),
            _pair(stride),
            _pair(module.padding),
            _pair(dilation),
        )
    return None


def layer_input(module: nn.Module, layer_name: str, x: torch.Tensor) -> LayerInput:
    """Run ``module(x)`` up to the first call of ``layer_name``; what it received.

    No hook is left on any module, also on errors; grad mode is off for the pass.

    Raises:
        ModelError: unknown layer, or a forward pass that never runs it.
    """
    try:
        target = module.get_submodule(layer_name)
    except AttributeError:
        raise ModelError("The model has no layer named '{layer}'.", layer=layer_name) from None
    steps: list[tuple[nn.Module, object, int, object, int]] = []
    taken: list[torch.Tensor] = []

    reading: list[tuple[object, int]] = []  # what the running leaf read, before it ran

    def read(_mod: nn.Module, inputs: tuple) -> None:
        first = inputs[0] if inputs else None
        reading[:] = [(first, _version(first))]

    def record(mod: nn.Module, _inputs: tuple, output: object) -> None:
        first, version = reading.pop() if reading else (None, -1)
        steps.append((mod, first, version, output, _version(output)))

    def reach(_mod: nn.Module, inputs: tuple) -> None:
        taken.append(inputs[0].detach().clone())
        steps.append((target, inputs[0], _version(inputs[0]), None, 0))
        raise _Reached

    handles = [target.register_forward_pre_hook(reach)]
    for mod in module.modules():
        if mod is not target and not any(True for _ in mod.children()):
            handles.append(mod.register_forward_pre_hook(read))
            handles.append(mod.register_forward_hook(record))
    try:
        with torch.no_grad(), contextlib.suppress(_Reached):
            module(x)
    finally:
        for handle in handles:
            handle.remove()
    if not taken:
        raise ModelError("The forward pass never ran the layer '{layer}'.", layer=layer_name)
    return LayerInput(taken[0], _plain_path(steps, x))


def _version(value: object) -> int:
    return value._version if isinstance(value, torch.Tensor) else -1


def _plain_path(steps: list, x: torch.Tensor) -> tuple[Geometry, ...] | None:
    path: list[Geometry] = []
    previous, version = x, x._version
    for mod, read, read_version, wrote, wrote_version in steps:
        if read is not previous or read_version != version:
            return None
        geometry = _geometry(mod)
        if geometry is not None:
            path.append(geometry)
        elif not isinstance(mod, ELEMENTWISE):
            return None
        previous, version = wrote, wrote_version
    return tuple(path)
