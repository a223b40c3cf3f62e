"""Receptive fields: measured from one unit's input gradient, and by the layer arithmetic.

The measured field is the bounding box of the input pixels where the unit's gradient is
nonzero. Inside a network with ReLUs (or max-pools) that gradient can be exactly zero at
pixels that do lie in the true field (a dead ReLU on the path, a max that picked another
pixel), so the measured box is the *effective* field for this input and can be smaller than
the theoretical one; it is never larger.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from dashboard.errors import ModelError

Pair = tuple[int, int]


@dataclass(frozen=True)
class Box:
    """A box of input pixels, all four edges inclusive."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top + 1

    @property
    def width(self) -> int:
        return self.right - self.left + 1

    @property
    def area(self) -> int:
        """Its size in pixels."""
        return self.height * self.width


class Field(NamedTuple):
    """Theoretical receptive field of a plain stack, per axis as (rows, cols).

    Output unit (r, c) sees input rows ``start[0] + r * jump[0]`` to that plus
    ``size[0] - 1`` (and likewise for columns); ``start`` is the top-left of unit (0, 0)'s
    field, negative when padding reaches outside the image. Its centre is
    ``start + (size - 1) / 2`` if you want the centre convention.
    """

    size: Pair
    jump: Pair
    start: Pair


class _Captured(Exception):
    """Raised by the hook to skip the rest of the network once the unit is taken."""


def _pair(value: int | Sequence[int]) -> Pair:
    if isinstance(value, int):
        return (value, value)
    first, second = value
    return (int(first), int(second))


def receptive_field(
    module: nn.Module, layer_name: str, x: torch.Tensor, channel: int, row: int, col: int
) -> Box | None:
    """The input box that unit ``[0, channel, row, col]`` of ``layer_name`` depends on.

    Measured as the bounding box of the nonzero support of ``|d unit / d x|`` summed over
    input channels (see the module docstring for why this can be smaller than the
    theoretical field). Only the first call of the layer counts, and the forward pass
    stops right after it. ``x`` is not modified; parameters' ``.grad`` are not touched; the
    caller's grad mode is unchanged and no hook is left on ``module``, also on errors.

    Args:
        module: the network, in eval mode (train-mode BatchNorm would update its stats).
        layer_name: qualified name of the layer whose output holds the unit.
        x: the input batch of one, ``(1, C, H, W)``.
        channel, row, col: the unit in that layer's output.

    Returns:
        The box, or None when the gradient is zero everywhere (e.g. a dead ReLU unit).

    Raises:
        ModelError: (a ValueError) unknown layer, a layer never run or not giving a
            feature map, a unit outside it, or an input that is not one image.
    """
    if x.ndim != 4 or x.shape[0] != 1:
        raise ModelError(
            "The input must be one image of shape (1, C, H, W), got {shape}.",
            shape=tuple(x.shape),
        )
    try:
        layer = module.get_submodule(layer_name)
    except AttributeError:
        raise ModelError("The model has no layer named '{layer}'.", layer=layer_name) from None
    taken: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: tuple, output: object) -> None:
        if not isinstance(output, torch.Tensor) or output.ndim != 4:
            raise ModelError("The layer '{layer}' does not output a feature map.", layer=layer_name)
        _, channels, height, width = output.shape
        if not (0 <= channel < channels and 0 <= row < height and 0 <= col < width):
            raise ModelError(
                "The unit ({channel}, {row}, {col}) is outside the layer '{layer}', "
                "whose output is {shape}.",
                channel=channel,
                row=row,
                col=col,
                layer=layer_name,
                shape="×".join(map(str, (channels, height, width))),
            )
        # clone: an in-place ReLU after this layer must not rewrite the unit's history
        taken.append(output[0, channel, row, col].clone())
        raise _Captured

    handle = layer.register_forward_hook(hook)
    try:
        with torch.inference_mode(False), torch.enable_grad():
            leaf = x.detach().clone().requires_grad_(True)
            with contextlib.suppress(_Captured):
                module(leaf)
            if not taken:
                raise ModelError(
                    "The forward pass never ran the layer '{layer}'.", layer=layer_name
                )
            if not taken[0].requires_grad:
                return None
            (grad,) = torch.autograd.grad(taken[0], leaf)
    finally:
        handle.remove()
    support = grad[0].abs().sum(dim=0) > 0
    rows = torch.nonzero(support.any(dim=1)).flatten()
    cols = torch.nonzero(support.any(dim=0)).flatten()
    if rows.numel() == 0:
        return None
    return Box(int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1]))


def theoretical_field(
    layers: Sequence[tuple[int | Pair, int | Pair, int | Pair, int | Pair]],
) -> Field:
    """The receptive field of a plain stack of convs and pools, by the usual arithmetic.

    For each layer (kernel k, stride s, padding p, dilation d), per axis:
    ``size += (k - 1) * d * jump``, ``start -= p * jump``, then ``jump *= s``.

    Args:
        layers: ``(kernel, stride, padding, dilation)`` of each layer along one path, the
            input's side first; each an int or a (rows, cols) pair. Pools count the same
            (dilation 1); elementwise layers (ReLU, BatchNorm) are left out.

    Raises:
        ValueError: a kernel, stride or dilation below 1, or a negative padding.
    """
    size, jump, start = [1, 1], [1, 1], [0, 0]
    for index, (kernel, stride, padding, dilation) in enumerate(layers):
        k, s, p, d = _pair(kernel), _pair(stride), _pair(padding), _pair(dilation)
        if min(*k, *s, *d) < 1 or min(p) < 0:
            raise ValueError(
                f"Layer {index} has kernel {k}, stride {s}, padding {p}, dilation {d}; "
                "kernel, stride and dilation must be at least 1 and padding at least 0."
            )
        for axis in range(2):
            size[axis] += (k[axis] - 1) * d[axis] * jump[axis]
            start[axis] -= p[axis] * jump[axis]
            jump[axis] *= s[axis]
    return Field(size=(size[0], size[1]), jump=(jump[0], jump[1]), start=(start[0], start[1]))


def theoretical_box(field: Field, row: int, col: int, input_size: Pair) -> Box | None:
    """The theoretical field of output unit (row, col), clipped to an input of (H, W).

    Only clipped at the image edges: pixels that a strided layer drops at the bottom or
    right edge, or that dilated taps skip, still count, so this can exceed the measured box
    there. None if the field lies wholly outside the input.
    """
    height, width = input_size
    top = field.start[0] + row * field.jump[0]
    left = field.start[1] + col * field.jump[1]
    bottom = min(top + field.size[0] - 1, height - 1)
    right = min(left + field.size[1] - 1, width - 1)
    top, left = max(top, 0), max(left, 0)
    if top > bottom or left > right:
        return None
    return Box(top, left, bottom, right)
