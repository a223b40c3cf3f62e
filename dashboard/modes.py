"""Every display mode the page can be in, once: option values, figure arguments, tests."""

from __future__ import annotations

from enum import StrEnum


class KernelMode(StrEnum):
    """How the kernel panel draws a layer's weights."""

    GRID = "grid"  # one tile per (input, output) channel pair
    RGB = "rgb"  # one colour tile per output channel (3-input layers)


class ScaleMode(StrEnum):
    """How feature-map values map to colour."""

    TILE = "tile"  # min-max per map
    SHARED = "shared"  # one min-max for the whole layer
