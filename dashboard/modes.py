"""Every display mode the page can be in, once: option values, figure arguments, tests."""

from __future__ import annotations

from enum import StrEnum


class KernelMode(StrEnum):
    """How the kernel panel draws a layer's weights."""

    GRID = "grid"  # one tile per (input, output) channel pair
    NORMS = "norms"  # one cell per kernel: its L2 norm (big layers lead with this)
    RGB = "rgb"  # one colour tile per output channel (3-input layers)


class ScaleMode(StrEnum):
    """How feature-map values map to colour."""

    TILE = "tile"  # min-max per map
    SHARED = "shared"  # one min-max for the whole layer


class KernelScale(StrEnum):
    """Which weights share one colour scale in the kernel panel (1×1 kernels: always LAYER)."""

    TILE = "tile"  # each kernel on its own, centred on zero
    LAYER = "layer"  # one symmetric scale for the whole layer
    CHANNEL = "channel"  # one symmetric scale per output channel


class Look(StrEnum):
    """How kernel weights are coloured."""

    DIVERGING = "diverging"  # blue < 0 < red, white = 0
    TUTORIAL = "tutorial"  # the source tutorial's grey kernels: black = min, white = max


class SortKey(StrEnum):
    """The order of the feature-map grid (and the kernels with it): by channel number, or by
    a per-channel statistic, largest first."""

    CHANNEL = "channel"
    MEAN = "mean"
    MAXIMUM = "maximum"
    STD = "std"
    ZEROS = "zeros"


class Compare(StrEnum):
    """What the compare map shows besides a sample's key: nothing, or this image mirrored."""

    OFF = "off"
    MIRROR = "mirror"  # the current image (sample, upload or random input) flipped left-right
