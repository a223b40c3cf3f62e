"""When a model does not run at the asked input size, find the sizes it does run on.

The sizes a user would try, in order: what the model declares (a `min_size` or
`input_size` attribute, timm's `pretrained_cfg` / `default_cfg`, the crop size of its
`transforms()`), then common square sides from small to large. Each probe is one forward
pass of a zero image; probing stops after a few sizes work or a few seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import torch
from torch import nn

from dashboard.i18n import _

logger = logging.getLogger(__name__)

COMMON_SIDES = (12, 16, 24, 28, 32, 48, 56, 64, 96, 112, 128, 160, 192, 224, 227, 256, 299)
COMMON_SIDES += (320, 384, 448, 512)
BUDGET_S = 5.0
ENOUGH = 3  # working sizes worth naming
Size = tuple[int, int]


def _as_size(value: object) -> Size | None:
    """28, (28,), (28, 28), [3, 224, 224] or a torch.Size -> (H, W); anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value, value) if value > 0 else None
    if isinstance(value, list | tuple) and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        sides = tuple(value)[-2:]
        if len(sides) == 1:
            return (sides[0], sides[0])
        if len(sides) == 2:
            return (int(sides[0]), int(sides[1]))
    return None


def declared_sizes(module: nn.Module) -> list[Size]:
    """The input sizes `module` says it takes, most specific first."""
    found: list[object] = []
    for attr in ("input_size", "min_size"):
        found.append(getattr(module, attr, None))
    for attr in ("pretrained_cfg", "default_cfg"):  # timm
        cfg = getattr(module, attr, None)
        if isinstance(cfg, dict):
            found += [cfg.get("input_size"), cfg.get("test_input_size")]
    transforms = getattr(module, "transforms", None)
    if callable(transforms):
        try:  # the user's own code: any failure only means no hint from it
            found.append(getattr(transforms(), "crop_size", None))
        except Exception as exc:
            logger.info("%s.transforms() failed: %r", type(module).__name__, exc)
    sizes = [size for size in map(_as_size, found) if size is not None]
    return list(dict.fromkeys(sizes))


def candidate_sizes(module: nn.Module, tried: Iterable[Size] = ()) -> list[Size]:
    """Declared sizes, then the common squares, without repeats or `tried`."""
    skip = set(tried)
    sizes = [*declared_sizes(module), *((side, side) for side in COMMON_SIDES)]
    return [size for size in dict.fromkeys(sizes) if size not in skip]


def runs_on(module: nn.Module, channels: int, size: Size) -> bool:
    """True if one forward pass of a zero (1, channels, H, W) batch raises nothing."""
    try:
        with torch.inference_mode():
            module(torch.zeros(1, channels, *size))
    except Exception as exc:  # the user's forward: any failure means "not this size"
        logger.debug("%s does not run on %s: %r", type(module).__name__, size, exc)
        return False
    return True


def working_sizes(
    module: nn.Module,
    channels: int,
    candidates: Iterable[Size],
    *,
    budget_s: float = BUDGET_S,
    enough: int = ENOUGH,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[Size], list[Size]]:
    """(sizes that work, sizes tried), stopping after `enough` work or `budget_s` seconds."""
    start = clock()
    works: list[Size] = []
    tried: list[Size] = []
    for size in candidates:
        if len(works) >= enough or clock() - start > budget_s:
            break
        tried.append(size)
        if runs_on(module, channels, size):
            works.append(size)
    return works, tried


def _shown(size: Size) -> str:
    return f"{size[0]}×{size[1]}"


def _flag(size: Size) -> str:
    return str(size[0]) if size[0] == size[1] else f"{size[0]}x{size[1]}"


def size_hint(
    module: nn.Module,
    channels: int,
    failed: Size,
    *,
    budget_s: float = BUDGET_S,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """A sentence naming the input sizes `module` runs on, found by probing (in the current
    language).

    E.g. "It runs on 28×28: pass --input-size 28." or, when none of the sizes tried
    works, a sentence saying the input size is probably not the problem.
    """
    candidates = candidate_sizes(module, [failed])
    works, tried = working_sizes(module, channels, candidates, budget_s=budget_s, clock=clock)
    if works:
        shown = [_shown(size) for size in works]
        if len(shown) == 1:
            listed = shown[0]
        else:
            listed = _("{sizes} and {last}").format(sizes=", ".join(shown[:-1]), last=shown[-1])
        return _("It runs on {sizes}: pass --input-size {flag}.").format(
            sizes=listed, flag=_flag(works[0])
        )
    if not tried:
        return _("Try another input size with --input-size.")
    sides = sorted(tried)
    return _(
        "It did not run on any of the {n} sizes tried either ({smallest} to {largest}): if it "
        "was trained on another size, e.g. a non-square one, pass it with --input-size HxW "
        "(112x96 is 112 high, 96 wide); otherwise check the model's forward()."
    ).format(n=len(tried), smallest=_shown(sides[0]), largest=_shown(sides[-1]))
