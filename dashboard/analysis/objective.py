"""What a feature visualisation maximises: one channel's mean after the layer's activation
chain, by a forward pass that stops at the layer (deeper layers never run)."""

from __future__ import annotations

import contextvars

import torch
from torch import nn

from dashboard.analysis.chain import is_rectified
from dashboard.errors import ModelError

_current: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "convscope_maximise", default=None
)


class _Reached(Exception):
    """Raised by the hook once the target layer has run, so deeper layers never do."""


def target_layer(module: nn.Module, layer: str, channel: int) -> nn.Module:
    try:
        target = module.get_submodule(layer)
    except AttributeError:
        raise ModelError("The model has no layer named '{layer}'.", layer=layer) from None
    out_channels = getattr(target, "out_channels", None)
    if isinstance(out_channels, int) and not 0 <= channel < out_channels:
        raise ModelError(
            "The layer '{layer}' has {channels} channels, so there is no channel {channel}.",
            layer=layer,
            channels=out_channels,
            channel=channel,
        )
    return target


class Objective:
    """The channel's mean after the chain, for an input; the forward stops at the layer."""

    def __init__(self, module: nn.Module, layer: str, channel: int, chain: tuple[str, ...]):
        self.module, self.layer, self.channel = module, layer, channel
        self.links = [module.get_submodule(name) for name in chain]
        self.rectified = is_rectified(module, chain)
        self.token = object()
        self.reached: list[torch.Tensor] = []

    def hook(self, _module: nn.Module, _inputs: tuple, output: object) -> None:
        if _current.get() is not self.token:
            return  # another caller's forward on the shared module
        if not isinstance(output, torch.Tensor) or output.ndim != 4:
            raise ModelError("The layer '{layer}' does not output feature maps.", layer=self.layer)
        if not 0 <= self.channel < output.shape[1]:
            raise ModelError(
                "The layer '{layer}' has {channels} channels, so there is no channel {channel}.",
                layer=self.layer,
                channels=int(output.shape[1]),
                channel=self.channel,
            )
        self.reached.append(output)
        raise _Reached

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(the value, what to follow for the gradient)."""
        self.reached.clear()
        reset = _current.set(self.token)
        try:
            self.module(x)
        except _Reached:
            pass
        finally:
            _current.reset(reset)
        if not self.reached:
            raise ModelError("The forward pass never ran layer '{layer}'.", layer=self.layer)
        before = after = self.reached[0]
        for link in self.links:  # an in-place ReLU must not overwrite `before`
            before, after = after, link(after.clone() if getattr(link, "inplace", False) else after)
        value = after[0, self.channel].mean()
        if self.rectified and not (before[0, self.channel] > 0).any():
            return value, before[0, self.channel].mean()  # no unit fires: no ReLU gradient
        return value, value
