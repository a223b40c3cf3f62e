"""One conv unit's pre-activation value, split exactly into one term per input channel.

For output channel c at (row, col), in float64:
``value = bias[c] + sum_i sum_(u, v) kernel[i, u, v] * patch[i, u, v]``, where ``i`` runs
over the input channels of c's group and ``patch`` is the input seen by the kernel taps
(zero where a tap falls in the zero padding). Each channel's inner sum is one term.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from dashboard.analysis.receptive import Box, Pair
from dashboard.errors import ModelError


class Term(NamedTuple):
    """One input channel's share of a unit's value."""

    input_channel: int
    value: float


@dataclass(frozen=True, eq=False)
class Contributions:
    """A unit's value as ``terms.sum() + bias``; arrays are float64 and read-only.

    ``terms[i] == (kernel[i] * patch[i]).sum()`` belongs to input channel
    ``input_channels[i]`` (absolute index). ``patch`` and ``kernel`` are ``(C_g, kh, kw)``.
    ``box`` is the input pixels the taps cover, clipped to the input (with dilation it
    includes the pixels between taps), or None if every tap falls in the padding.
    """

    channel: int
    row: int
    col: int
    value: float
    bias: float
    terms: np.ndarray
    input_channels: np.ndarray
    patch: np.ndarray
    kernel: np.ndarray
    box: Box | None


def _paddings(conv: nn.Conv2d) -> tuple[Pair, Pair]:
    """(top, left) and (bottom, right) zero padding, as torch applies it."""
    if conv.padding == "valid":
        return (0, 0), (0, 0)
    if conv.padding == "same":
        # torch puts the odd pixel of an even total on the bottom/right
        totals = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size, strict=True)]
        lead = (totals[0] // 2, totals[1] // 2)
        return lead, (totals[0] - lead[0], totals[1] - lead[1])
    lead = (int(conv.padding[0]), int(conv.padding[1]))
    return lead, lead


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def contributions(
    conv: nn.Conv2d, layer_input: torch.Tensor, channel: int, row: int, col: int
) -> Contributions:
    """Decompose ``conv(layer_input)[0, channel, row, col]`` by input channel.

    This is the conv's own output, before any BatchNorm or ReLU that follows it.

    Args:
        conv: the layer; zero padding only, any stride, dilation, groups or kernel shape.
        layer_input: the ``(1, C_in, H, W)`` tensor the conv received.
        channel, row, col: the unit in the conv's output.

    Raises:
        ModelError: (a ValueError) a padding mode other than zeros, an input of the wrong
            shape, or a unit outside the output.
    """
    if conv.padding_mode != "zeros":
        raise ModelError(
            "Only zero-padded convolutions can be decomposed; this one pads with '{mode}'.",
            mode=conv.padding_mode,
        )
    if layer_input.ndim != 4 or layer_input.shape[0] != 1:
        raise ModelError(
            "The layer input must be one image of shape (1, C, H, W), got {shape}.",
            shape=tuple(layer_input.shape),
        )
    if layer_input.shape[1] != conv.in_channels:
        raise ModelError(
            "The layer takes {channels} input channels, got {got}.",
            channels=conv.in_channels,
            got=int(layer_input.shape[1]),
        )
    (pad_top, pad_left), (pad_bottom, pad_right) = _paddings(conv)
    (kh, kw), (sh, sw), (dh, dw) = conv.kernel_size, conv.stride, conv.dilation
    height, width = int(layer_input.shape[2]), int(layer_input.shape[3])
    out_h = (height + pad_top + pad_bottom - dh * (kh - 1) - 1) // sh + 1
    out_w = (width + pad_left + pad_right - dw * (kw - 1) - 1) // sw + 1
    if not (0 <= channel < conv.out_channels and 0 <= row < out_h and 0 <= col < out_w):
        output = (conv.out_channels, max(out_h, 0), max(out_w, 0))
        raise ModelError(
            "The unit ({channel}, {row}, {col}) is outside the layer's output, which is {shape}.",
            channel=channel,
            row=row,
            col=col,
            shape="×".join(map(str, output)),
        )

    group_size = conv.in_channels // conv.groups
    first = channel // (conv.out_channels // conv.groups) * group_size
    ys = row * sh - pad_top + dh * np.arange(kh)
    xs = col * sw - pad_left + dw * np.arange(kw)
    in_y = (ys >= 0) & (ys < height)
    in_x = (xs >= 0) & (xs < width)

    patch = np.zeros((group_size, kh, kw), dtype=np.float64)
    if in_y.any() and in_x.any():
        seen = layer_input.detach()[0, first : first + group_size]
        seen = seen[:, torch.from_numpy(ys[in_y])][:, :, torch.from_numpy(xs[in_x])]
        patch[:, in_y.nonzero()[0][:, None], in_x.nonzero()[0]] = seen.to(
            "cpu", torch.float64
        ).numpy()
        box = Box(int(ys[in_y][0]), int(xs[in_x][0]), int(ys[in_y][-1]), int(xs[in_x][-1]))
    else:
        box = None
    kernel = conv.weight.detach()[channel].to("cpu", torch.float64).numpy().copy()
    bias = 0.0 if conv.bias is None else float(conv.bias.detach()[channel].double())
    terms = np.einsum("cij,cij->c", kernel, patch)
    return Contributions(
        channel=channel,
        row=row,
        col=col,
        value=float(terms.sum() + bias),
        bias=bias,
        terms=_read_only(terms),
        input_channels=_read_only(np.arange(first, first + group_size)),
        patch=_read_only(patch),
        kernel=_read_only(kernel),
        box=box,
    )


def ranked(c: Contributions, k: int) -> list[Term]:
    """The k terms largest in absolute value, largest first (ties: lower channel first)."""
    if k < 0:
        raise ValueError(f"k must be at least 0, got {k}.")
    order = np.argsort(-np.abs(c.terms), kind="stable")[:k]
    return [Term(int(c.input_channels[i]), float(c.terms[i])) for i in order]
