"""What a classifier says about one image: a full forward pass, softmax over its class vector.

Separate from the hooked pass, which stops after the last conv layer: the scores need the
head too, and a layer switch needs neither.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from dashboard.errors import ModelError


class ClassScore(NamedTuple):
    """One class of a prediction: its output index, softmax probability and raw logit."""

    index: int
    probability: float
    logit: float


def class_vector(output: object) -> torch.Tensor | None:
    """The flat logits when ``output`` is one class vector, (1, N) or (1, N, 1, …), N ≥ 2.

    None for anything else: a detection model's list of dicts, a segmentation model's
    dict or per-pixel map, a single number.
    """
    if not isinstance(output, torch.Tensor) or output.ndim < 2 or output.shape[0] != 1:
        return None
    if output.shape[1] < 2 or any(size != 1 for size in output.shape[2:]):
        return None
    return output.detach().reshape(-1)


def top_k(module: nn.Module, x: torch.Tensor, k: int = 5) -> list[ClassScore] | None:
    """Run ``module(x)`` in full and rank its classes.

    Args:
        module: the network, in eval mode.
        x: a batch of one, ``(1, C, H, W)``.
        k: how many classes to return (fewer when the model has fewer).

    Returns:
        The ``k`` most probable classes, most probable first, softmax computed in float64
        over the whole output; None when the output is not a class vector.

    Raises:
        ModelError: the output holds NaN or infinite values.
    """
    with torch.inference_mode():
        logits = class_vector(module(x))
    if logits is None:
        return None
    logits = logits.to("cpu", torch.float64)
    if not bool(torch.isfinite(logits).all()):
        raise ModelError("The model's outputs for this image are not finite; no predictions.")
    probabilities = torch.softmax(logits, dim=0)
    top = torch.topk(probabilities, min(k, logits.numel()))
    return [
        ClassScore(int(i), float(p), float(logits[i]))
        for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
    ]
