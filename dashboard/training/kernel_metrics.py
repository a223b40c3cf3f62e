"""How spatially structured are a conv layer's kernels? Pure numpy, for any (O, I, kH, kW).

Trained first-layer kernels are smooth: colour detectors are nearly constant and edge
detectors are nearly linear ramps. Freshly initialised kernels are i.i.d. noise, whose
energy spreads evenly over all spatial frequencies. Both measures below separate the two.
"""

from __future__ import annotations

import numpy as np


def _check(weight: np.ndarray) -> np.ndarray:
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 4 or min(w.shape[2:]) < 2:
        raise ValueError(
            f"The kernel weight must be shaped (out, in, kH, kW) with kH, kW >= 2, got {w.shape}."
        )
    if not np.any(w):
        raise ValueError("The kernel weight is all zeros, so it has no spatial structure.")
    return w


def dct_matrix(k: int) -> np.ndarray:
    """Orthonormal DCT-II basis (k, k): row u is the u-th cosine, row 0 the constant."""
    n = np.arange(k)
    basis = np.cos(np.pi * (n[None, :] + 0.5) * n[:, None] / k) * np.sqrt(2.0 / k)
    basis[0] /= np.sqrt(2.0)
    return basis


def low_frequency_fraction(weight: np.ndarray, max_order: int = 1) -> float:
    """Share of the kernels' energy in the lowest spatial frequencies.

    Each (kH, kW) slice is projected on the orthonormal 2-D DCT-II basis; coefficients with
    ``u + v <= max_order`` count as low frequency. For 3x3 kernels and ``max_order=1`` those
    are the constant and the horizontal and vertical linear ramps, so the measure is the
    share of energy explained by the best-fitting plane. Energies are pooled over all
    slices, so near-dead kernels weigh little.

    Args:
        weight: conv weight (out_channels, in_channels, kH, kW).
        max_order: largest ``u + v`` counted as low frequency.

    Returns:
        A fraction in [0, 1]. Isotropic i.i.d. noise (any random init) scores the share of
        low-frequency coefficients, ``random_expectation(kH, kW)``: 3/9 for 3x3.

    Raises:
        ValueError: weight is not 4-D, a kernel side is below 2, or it is all zeros.
    """
    w = _check(weight)
    coefficients = np.einsum("ua,oiab,vb->oiuv", dct_matrix(w.shape[2]), w, dct_matrix(w.shape[3]))
    energy = (coefficients**2).sum(axis=(0, 1))
    return float(energy[_low_mask(*w.shape[2:], max_order)].sum() / energy.sum())


def _low_mask(kh: int, kw: int, max_order: int) -> np.ndarray:
    return np.add.outer(np.arange(kh), np.arange(kw)) <= max_order


def random_expectation(kh: int, kw: int, max_order: int = 1) -> float:
    """What ``low_frequency_fraction`` gives on average for i.i.d. random kernels."""
    return float(_low_mask(kh, kw, max_order).mean())


def neighbour_correlation(weight: np.ndarray) -> float:
    """Pearson correlation of horizontally and vertically adjacent weights.

    Each (kH, kW) slice is centred on its own mean first, then all adjacent pairs of all
    slices are pooled. Smooth kernels score clearly above 0 (a 3x3 linear ramp: 4/7);
    i.i.d. noise scores slightly below 0 (centring makes neighbours anti-correlated: -1/8
    for 3x3 in expectation).

    Raises:
        ValueError: weight is not 4-D, a kernel side is below 2, or it is all zeros.
    """
    w = _check(weight)
    w = w - w.mean(axis=(2, 3), keepdims=True)
    first = np.concatenate([w[..., :, :-1].ravel(), w[..., :-1, :].ravel()])
    second = np.concatenate([w[..., :, 1:].ravel(), w[..., 1:, :].ravel()])
    denom = np.sqrt((first**2).sum() * (second**2).sum())
    if denom == 0.0:
        return 0.0
    return float((first * second).sum() / denom)
