"""The modules applied directly to a conv's output, found by one hooked forward pass.

``activation_chain`` finds the normalisations, then at most one activation, that a conv's
output goes through; ``after_activation`` applies them to captured maps, so statistics and
feature visualisations look where the network's next layer does.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from dashboard.errors import ModelError
from dashboard.i18n import _

_NORMS = (
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.Identity,
)
_ACTIVATIONS = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU,
    nn.GELU, nn.SiLU, nn.Mish, nn.Hardswish, nn.Hardtanh, nn.Softplus, nn.Sigmoid, nn.Tanh,
)  # fmt: skip
# Activations whose inactive side is exactly 0: a channel all zero there never fired.
_RECTIFIERS = (nn.ReLU, nn.ReLU6)

# (token, state) of the activation_chain call running in this context; hooks of other
# calls (other threads sharing the model) see another token and do nothing.
_current: contextvars.ContextVar[tuple[object, _Tracer] | None] = contextvars.ContextVar(
    "convscope_chain", default=None
)


def _qualifies(module: nn.Module) -> bool:
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return not module.training
    return isinstance(module, _NORMS + _ACTIVATIONS)


class _AllTraced(Exception):
    """Raised once every requested conv's chain is complete: the rest need not run."""


class _Tracer:
    """Follows each conv's output through the leaf modules called next, in call order."""

    def __init__(self, convs: set[str]) -> None:
        self.convs = convs
        self.chains: dict[str, list[str]] = {}
        self.open: dict[str, tuple[torch.Tensor, int]] = {}  # last link's output, _version
        self.joined: dict[int, list[str]] = {}  # id(module) -> chains its running call joins

    def before(self, name: str, module: nn.Module, inputs: tuple) -> None:
        taken = inputs[0] if inputs else None
        joined = []
        for conv, (last, version) in list(self.open.items()):
            # the very tensor, not modified in place since (a residual add)
            if taken is last and last._version == version and _qualifies(module):
                joined.append(conv)
                self.chains[conv].append(name)
            else:
                del self.open[conv]
        self.joined[id(module)] = joined
        self._stop_if_done()

    def after(self, name: str, module: nn.Module, output: object) -> None:
        for conv in self.joined.pop(id(module), []):
            if isinstance(output, torch.Tensor) and not isinstance(module, _ACTIVATIONS):
                self.open[conv] = (output, output._version)
            else:
                del self.open[conv]  # at most one activation
        if name in self.convs and name not in self.chains and isinstance(output, torch.Tensor):
            self.chains[name] = []  # only the conv's first call counts
            self.open[name] = (output, output._version)
        self._stop_if_done()

    def _stop_if_done(self) -> None:
        if not self.open and len(self.chains) == len(self.convs):
            raise _AllTraced


def _hooks(token: object, name: str) -> tuple:
    def pre(module: nn.Module, inputs: tuple) -> None:
        context = _current.get()
        if context is not None and context[0] is token:
            context[1].before(name, module, inputs)

    def post(module: nn.Module, _inputs: tuple, output: object) -> None:
        context = _current.get()
        if context is not None and context[0] is token:
            context[1].after(name, module, output)

    return pre, post


def activation_chain(
    module: nn.Module, conv_names: Sequence[str], x: torch.Tensor
) -> dict[str, tuple[str, ...]]:
    """For each conv, the leaf modules applied directly to its output, in order.

    One ``no_grad`` forward pass of ``module(x)`` with hooks on every leaf module; it
    stops as soon as every chain is complete (later layers do not run). A chain is the
    leaf modules called right after the conv, in call order, while each is a normalisation
    (BatchNorm, GroupNorm, LayerNorm, InstanceNorm, Identity, Dropout in eval mode) or,
    last, one activation (ReLU, ReLU6, GELU, SiLU, ...), and takes as input the very
    tensor the previous link produced, not modified in place since (ResNet's
    ``bn2 -> out += identity -> relu`` stops at ``bn2``). Only a conv's first call counts.
    Activations called as functions (``F.relu``) are not modules: such convs get ``()``,
    as do convs the pass never runs.

    Raises:
        ModelError: (a ValueError) an unknown layer name. Errors of the forward pass
            propagate; no hook is left on ``module`` either way.
    """
    convs: set[str] = set()
    for name in conv_names:
        try:
            module.get_submodule(name)
        except AttributeError:
            raise ModelError("The model has no layer named '{layer}'.", layer=name) from None
        convs.add(name)
    tracer, token = _Tracer(convs), object()
    handles: list[RemovableHandle] = []
    reset = _current.set((token, tracer))
    try:
        for name, sub in module.named_modules():
            if next(sub.children(), None) is None:
                pre, post = _hooks(token, name)
                handles.append(sub.register_forward_pre_hook(pre))
                handles.append(sub.register_forward_hook(post))
        # no_grad, not inference_mode: inference tensors have no version counter
        with torch.inference_mode(False), torch.no_grad(), contextlib.suppress(_AllTraced):
            module(x.clone())
    finally:
        for handle in handles:
            handle.remove()
        _current.reset(reset)
    return {name: tuple(tracer.chains.get(name, ())) for name in conv_names}


def after_activation(module: nn.Module, chain: tuple[str, ...], maps: np.ndarray) -> np.ndarray:
    """Conv output maps ``(C, H, W)`` float32 passed through ``chain``, as the forward does.

    The modules run in their current mode (eval for ConvScope's models). An empty chain
    returns ``maps`` itself; ``maps`` is never modified (in-place ReLUs act on a copy).
    """
    if not chain:
        return maps
    with torch.inference_mode(False), torch.no_grad():
        x = torch.tensor(maps, dtype=torch.float32)[None]
        for name in chain:
            x = module.get_submodule(name)(x)
    return x[0].numpy()


def describe_chain(module: nn.Module, chain: tuple[str, ...]) -> str:
    """A caption phrase: "after features.1 (ReLU)", "after a (BatchNorm2d) and b (ReLU)"
    (in the current language)."""
    if not chain:
        return _("the conv output (no activation module follows it)")
    parts = [f"{name} ({type(module.get_submodule(name)).__name__})" for name in chain]
    if len(parts) == 1:
        listed = parts[0]
    else:
        listed = _("{modules} and {last}").format(modules=", ".join(parts[:-1]), last=parts[-1])
    return _("after {modules}").format(modules=listed)


def is_rectified(module: nn.Module, chain: tuple[str, ...]) -> bool:
    """Whether the chain ends in ReLU or ReLU6, whose inactive output is exactly 0."""
    return bool(chain) and isinstance(module.get_submodule(chain[-1]), _RECTIFIERS)
