"""Channel statistics of a conv layer, taken after the layer's activation where it has one
(``chain.after_activation``).

``channel_stats`` summarises the values per channel, with one histogram over shared bins
that the page's selection (``channels_in_range``) works on; ``sort_order`` ranks channels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SORT_KEYS = ("channel", "mean", "maximum", "std", "zeros")


@dataclass(frozen=True, eq=False)
class ChannelStats:
    """Per-channel statistics of one layer's ``(C, H, W)`` values; arrays are read-only.

    ``mean``, ``maximum``, ``minimum``, ``std`` (population, ddof 0) and ``zeros`` (the
    fraction of values exactly 0) are float64 ``(C,)`` over the finite values only; a
    channel without any is NaN there. ``non_finite`` counts the NaN and ±Inf values left
    out. ``dead`` is True where the channel is dead on this image: all its values are 0
    (after a ReLU), or, for a layer without a rectifier, it is constant over at least two
    values. ``counts[c]`` is channel c's histogram over the shared ``edges`` (``bins + 1``
    values spanning the layer's finite min..max, bin i being ``[edges[i], edges[i + 1])``
    and the last bin closed, as ``np.histogram``); ``source`` says where the values were
    taken (``describe_chain``).
    """

    mean: np.ndarray
    maximum: np.ndarray
    minimum: np.ndarray
    std: np.ndarray
    zeros: np.ndarray
    dead: np.ndarray
    edges: np.ndarray
    counts: np.ndarray
    non_finite: int = 0
    source: object = ""  # a str, or text worded when shown (str() it)
    rectified: bool = True  # how ``dead`` was judged: all zero (True) or constant

    @property
    def channels(self) -> int:
        return int(self.mean.shape[0])

    @property
    def total(self) -> np.ndarray:
        """The layer's histogram: the channels' counts summed, ``(bins,)`` int64."""
        return self.counts.sum(axis=0)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def channel_stats(
    values: np.ndarray, *, bins: int = 64, source: object = "", rectified: bool = True
) -> ChannelStats:
    """Statistics of ``values`` ``(C, H, W)``, one row per channel (see ChannelStats).

    Args:
        values: the layer's maps, e.g. ``after_activation``'s result.
        bins: histogram bins shared by all channels.
        source: the caption phrase kept with the result.
        rectified: the values come out of a ReLU or ReLU6 (``is_rectified``): dead means
            all zero; otherwise dead means constant.

    Raises:
        ValueError: ``values`` is not 3-D, or ``bins`` is less than 1.
    """
    if values.ndim != 3:
        raise ValueError(f"Expected (C, H, W) values, got shape {values.shape}.")
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}.")
    channels = values.shape[0]
    flat = values.reshape(channels, -1).astype(np.float64)
    finite = np.isfinite(flat)
    clean = bool(finite.all())  # the usual case, without masked copies
    n = finite.sum(axis=1)
    has = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (flat if clean else np.where(finite, flat, 0.0)).sum(axis=1) / n
        deviation = flat - mean[:, None]
        if not clean:
            deviation[~finite] = 0.0
        std = np.sqrt((deviation**2).sum(axis=1) / n)
        zeros = (finite & (flat == 0)).sum(axis=1) / n
    high = (flat if clean else np.where(finite, flat, -np.inf)).max(axis=1, initial=-np.inf)
    low = (flat if clean else np.where(finite, flat, np.inf)).min(axis=1, initial=np.inf)
    maximum, minimum = np.where(has, high, np.nan), np.where(has, low, np.nan)
    dead = has & (zeros == 1.0) if rectified else (n > 1) & (maximum == minimum)

    lo, hi = (float(np.nanmin(minimum)), float(np.nanmax(maximum))) if has.any() else (0.0, 0.0)
    if lo == hi:  # one value: a unit-wide range around it still makes a histogram
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    # bin i holds [edges[i], edges[i + 1]); the clip puts the maximum in the last bin
    index = np.clip(np.searchsorted(edges, flat, side="right") - 1, 0, bins - 1)
    keys = index + bins * np.arange(channels)[:, None]
    counts = np.bincount(keys.ravel() if clean else keys[finite], minlength=channels * bins)
    return ChannelStats(
        mean=_read_only(mean),
        maximum=_read_only(maximum),
        minimum=_read_only(minimum),
        std=_read_only(std),
        zeros=_read_only(zeros),
        dead=_read_only(dead),
        edges=_read_only(edges),
        counts=_read_only(counts.reshape(channels, bins).astype(np.int64)),
        non_finite=int(finite.size - n.sum()),
        source=source,
        rectified=rectified,
    )


def channels_in_range(stats: ChannelStats, lo: float, hi: float) -> np.ndarray:
    """Sorted channel indices with a value in a histogram bin that overlaps ``[lo, hi]``.

    The page selects histogram bars, so whole bins are the unit: a channel is in if any
    of its values falls in a bin ``[edges[i], edges[i + 1])`` (the last one closed) that
    shares at least one point with ``[lo, hi]``, even if that value itself lies outside
    ``[lo, hi]``. ``lo`` and ``hi`` may come in either order.
    """
    lo, hi = min(lo, hi), max(lo, hi)
    left, right = stats.edges[:-1], stats.edges[1:]
    overlaps = (left <= hi) & (right > lo)
    overlaps[-1] = left[-1] <= hi and right[-1] >= lo
    return np.flatnonzero(stats.counts[:, overlaps].sum(axis=1) > 0)


def sort_order(stats: ChannelStats, key: str) -> np.ndarray:
    """A permutation of the channels: "channel" keeps their order, a statistic sorts it
    descending, ties (and NaN, last) by channel number.

    Raises:
        ValueError: ``key`` is not one of SORT_KEYS.
    """
    if key not in SORT_KEYS:
        raise ValueError(f"Cannot sort by '{key}'; choose one of {', '.join(SORT_KEYS)}.")
    if key == "channel":
        return np.arange(stats.channels)
    return np.argsort(-getattr(stats, key), kind="stable")
