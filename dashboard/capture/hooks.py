"""Capture conv-layer outputs with forward hooks, safely under concurrency.

One model object is shared by every thread of a worker, so a hook must not write into
shared state. Each call gets its own token and store through a ContextVar: a hook fires
in whichever thread runs the forward pass, reads that thread's context, and stores only
if the context belongs to the call that registered it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

_current: contextvars.ContextVar[tuple[object, dict[str, np.ndarray]] | None] = (
    contextvars.ContextVar("convscope_capture", default=None)
)


class _AllCaptured(Exception):
    """Raised by the last hook to skip the rest of the network (classifier heads)."""


def _make_hook(token: object, name: str, wanted: int):
    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        context = _current.get()
        if context is None or context[0] is not token or name in context[1]:
            return
        store = context[1]
        store[name] = output.detach()[0].to("cpu", torch.float32).numpy().copy()
        if len(store) == wanted:
            raise _AllCaptured

    return hook


def capture_activations(
    model: nn.Module, x: torch.Tensor, layers: Sequence[str]
) -> dict[str, np.ndarray]:
    """Run ``model(x)`` once and return the outputs of the named layers.

    The forward pass stops as soon as every requested layer has fired, so heads after the
    last conv layer cost nothing.

    Args:
        model: the network; its hooks are exactly as before when this returns or raises.
        x: a batch of one, ``(1, C, H, W)``.
        layers: qualified module names (``model.get_submodule`` resolves them).

    Returns:
        ``{name: (C, H, W) float32 array}`` for every requested layer.

    Raises:
        ValueError: an unknown layer name, or a layer that the forward pass never ran.
    """
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(
            f"The input must be one image of shape (1, C, H, W), got {tuple(x.shape)}."
        )
    names = list(dict.fromkeys(layers))
    modules = {}
    for name in names:
        try:
            modules[name] = model.get_submodule(name)
        except AttributeError:
            raise ValueError(f"The model has no layer named '{name}'.") from None
    token = object()
    store: dict[str, np.ndarray] = {}
    handles: list[RemovableHandle] = []
    reset = _current.set((token, store))
    try:
        for name, module in modules.items():
            handles.append(module.register_forward_hook(_make_hook(token, name, len(names))))
        with torch.inference_mode(), contextlib.suppress(_AllCaptured):
            model(x)
    finally:
        for handle in handles:
            handle.remove()
        _current.reset(reset)
    missing = [name for name in names if name not in store]
    if missing:
        raise ValueError(f"The forward pass never ran layer '{missing[0]}'.")
    return store
