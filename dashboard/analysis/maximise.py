"""Activation maximisation: an input image that drives one channel of a conv layer up.

The image is a 1/f-scaled Fourier spectrum seen through random shifts and rescales
(``image_param``), scaled and normalised as the model expects.

The objective is the channel's mean over space *after the layer's activation chain*
(``chain.activation_chain``: its BatchNorm and ReLU, say), where the statistics panel looks
too. Before the activation, a first layer's objective would be linear in the image, and its
maximum a flat colour whatever the kernel's pattern; after a ReLU the result is the pattern.
While no unit of the channel fires yet (a ReLU gives no gradient), the step follows the
value before the activation instead. The forward pass stops at the layer; the chain's few
modules are applied to its output here.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from dashboard.analysis.chain import activation_chain
from dashboard.analysis.image_param import (
    FourierImage,
    optimisation_shape,
    robust,
    to_display,
)
from dashboard.analysis.objective import Objective, target_layer
from dashboard.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_STEPS = 256
MAX_SIDE = 128  # longer side of the optimised image (Lucid's size)
LEARNING_RATE = 0.05


class Cancelled(Exception):
    """The caller's ``cancelled()`` said to stop."""


@dataclass(frozen=True, eq=False)
class FeatureVis:
    """The result: ``image`` is ``(H, W, 3)`` uint8 in display space (a 1-channel input
    repeated to grey; other channel counts than 1 and 3 shown as their mean), and
    ``objective[i]`` the channel's mean output on the (transformed) image of step i."""

    image: np.ndarray
    objective: np.ndarray
    steps: int
    channel: int
    layer: str
    seconds: float


def _stats(values: tuple[float, ...] | None, channels: int) -> torch.Tensor | None:
    if values is None:
        return None
    if len(values) not in (1, channels):
        raise ModelError(
            "Expected 1 or {channels} normalisation values, got {n}.",
            channels=channels,
            n=len(values),
        )
    return torch.tensor(values, dtype=torch.float32).reshape(-1, 1, 1)


def feature_visualisation(
    module: nn.Module,
    layer: str,
    channel: int,
    *,
    input_shape: tuple[int, int, int],
    mean: tuple[float, ...] | None,
    std: tuple[float, ...] | None,
    pixel_max: float = 1.0,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    chain: tuple[str, ...] | None = None,
    max_side: int | None = MAX_SIDE,
) -> FeatureVis:
    """Optimise an image so that ``channel`` of ``layer`` responds strongly on average.

    Adam (lr LEARNING_RATE) on the image's spectrum for ``steps`` steps, at the input size
    scaled down so that its longer side is at most ``max_side`` (Lucid's 128 px: the time
    grows with the pixels, and the pattern a channel looks for is no bigger); a model that
    does not run at that size is optimised at ``input_shape`` itself. Times per layer are
    in the README (bench/featurevis.py). The result depends only on the weights, the
    shapes and ``seed``. The module runs in eval mode and gets its
    own modes back; no parameter gets a ``.grad``; no hook is left on it, also on errors.
    Other threads may use the same module meanwhile (the hooks ignore their passes).

    Args:
        module: the network.
        layer: qualified name of the target layer (a conv, or any layer giving maps).
        channel: the output channel to maximise.
        input_shape: ``(C, H, W)`` of the model's input.
        mean, std: the model's normalisation, in units of ``pixel_max`` (None: none).
        pixel_max: the model's pixel range is [0, pixel_max].
        steps: optimisation steps.
        seed: seeds the initial image and the random shifts.
        progress: called as ``progress(done, steps)`` every ``max(1, steps // 50)`` steps
            and once at the end with ``(steps, steps)``.
        cancelled: polled at the same cadence (not after the last step); True stops it.
        chain: the layer's activation chain when the caller traced it already
            (``chain.activation_chain``); None traces it here, on a grey image.
        max_side: the optimised image's longer side at most (None: ``input_shape``).

    Raises:
        ModelError: (a ValueError) unknown layer, a layer that is not reached or gives no
            maps, a channel outside it, or a bad shape, step count or normalisation.
        Cancelled: ``cancelled()`` returned True.
        RuntimeError: the model failed at ``input_shape`` too.
    """
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise ModelError(
            "The input shape must be (C, H, W), got {shape}.", shape=tuple(input_shape)
        )
    shape = optimisation_shape(tuple(input_shape), max_side)
    run = functools.partial(
        _optimise,
        module,
        layer,
        channel,
        mean=mean,
        std=std,
        pixel_max=pixel_max,
        steps=steps,
        seed=seed,
        progress=progress,
        cancelled=cancelled,
        chain=chain,
    )
    try:
        return run(shape)
    except RuntimeError:
        if shape == tuple(input_shape):
            raise
        log.info("%s does not run at %s; optimising at %s", layer, shape, tuple(input_shape))
        return run(tuple(input_shape))


def _optimise(
    module: nn.Module,
    layer: str,
    channel: int,
    input_shape: tuple[int, int, int],
    *,
    mean: tuple[float, ...] | None,
    std: tuple[float, ...] | None,
    pixel_max: float,
    steps: int,
    seed: int,
    progress: Callable[[int, int], None] | None,
    cancelled: Callable[[], bool] | None,
    chain: tuple[str, ...] | None,
) -> FeatureVis:
    started = time.perf_counter()
    target = target_layer(module, layer, channel)
    if steps < 1:
        raise ModelError("steps must be at least 1, got {steps}.", steps=steps)
    shift, scale = _stats(mean, input_shape[0]), _stats(std, input_shape[0])

    def model_input(image: torch.Tensor) -> torch.Tensor:
        x = image * pixel_max
        return x if shift is None or scale is None else (x - shift) / scale

    generator = torch.Generator().manual_seed(seed)
    jitter = max(1, min(8, min(input_shape[1:]) // 16))
    every = max(1, steps // 50)
    values = np.empty(steps, dtype=np.float64)
    modes = {sub: sub.training for sub in module.modules()}
    handle = None
    try:
        for sub, training in modes.items():
            if training:  # per module (train() recurses); a shared eval model is not written
                sub.training = False
        if chain is None:
            grey = model_input(torch.full((1, *input_shape), 0.5))
            chain = activation_chain(module, [layer], grey)[layer]
        objective = Objective(module, layer, channel, chain)
        handle = target.register_forward_hook(objective.hook)
        with torch.inference_mode(False), torch.enable_grad():
            image = FourierImage(tuple(input_shape), generator)
            optimiser = torch.optim.Adam([image.spectrum], lr=LEARNING_RATE)
            for step in range(1, steps + 1):
                value, followed = objective(model_input(robust(image(), generator, jitter)))
                values[step - 1] = float(value.detach())
                # the gradient of the image alone: parameters never get a .grad
                (image.spectrum.grad,) = torch.autograd.grad(-followed, [image.spectrum])
                optimiser.step()
                if step % every == 0 and step < steps:
                    if cancelled is not None and cancelled():
                        raise Cancelled
                    if progress is not None:
                        progress(step, steps)
            result = to_display(image())
    finally:
        if handle is not None:
            handle.remove()
        for sub, training in modes.items():
            if training:
                sub.training = True
    if progress is not None:
        progress(steps, steps)
    seconds = time.perf_counter() - started
    log.debug("feature visualisation of %s:%d, %d steps: %.2f s", layer, channel, steps, seconds)
    return FeatureVis(
        image=result, objective=values, steps=steps, channel=channel, layer=layer, seconds=seconds
    )
