"""Reproducible random initialisation that leaves the global RNG as it was."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import torch

from dashboard.i18n import _
from dashboard.models.later import Later

T = TypeVar("T")
RANDOM_SEED = 0
# Module constructors draw from the global RNG; two threads building at once would
# interleave their draws, so seeded builds take turns.
_RNG_LOCK = threading.Lock()


def random_weights() -> Later:
    """ "random (seed 0)", worded when shown: what a model with seeded random weights has."""
    return Later(lambda: _("random (seed {seed})").format(seed=RANDOM_SEED))


def seeded(build: Callable[[], T], seed: int = RANDOM_SEED) -> T:
    """Call `build()` with the global RNG seeded to `seed`, then restore the RNG state."""
    with _RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def freeze(module: torch.nn.Module) -> torch.nn.Module:
    """eval() mode, no gradients, on the CPU."""
    module = module.to("cpu").eval()
    module.requires_grad_(False)
    return module
