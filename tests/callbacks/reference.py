"""What torch computes directly, for the callbacks' answers to be compared with."""

from __future__ import annotations

import numpy as np
import torch


def conv_output(module: torch.nn.Module, layer: str, x: torch.Tensor) -> np.ndarray:
    """``layer``'s float32 output when ``module(x)`` runs, caught by a forward hook."""
    seen = []
    handle = module.get_submodule(layer).register_forward_hook(
        lambda _m, _i, out: seen.append(out.detach()[0].to(torch.float32).numpy().copy())
    )
    try:
        with torch.no_grad():
            module(x)
    finally:
        handle.remove()
    return seen[0]
