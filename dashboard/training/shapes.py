"""Procedural "ConvScope shapes" data set: seeded, vectorised numpy, no files, no network.

Every class is drawn as a soft mask (1-pixel anti-aliased signed distances) that blends a
random foreground colour over a random background with a linear shading gradient, then
Gaussian pixel noise is added. Position, scale, rotation, period and colours are random,
so a fresh draw is its own augmentation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SIZE = 64
MaskRenderer = Callable[[np.random.Generator, int, int], np.ndarray]
Arrays = tuple[np.ndarray, ...]


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Open grids of pixel-centre coordinates: y (1, size, 1) and x (1, 1, size)."""
    centres = np.arange(size, dtype=np.float32) + 0.5
    return centres[None, :, None], centres[None, None, :]


def _col(values: np.ndarray) -> np.ndarray:
    """Per-image parameters (n,) -> (n, 1, 1) for broadcasting over the pixel grid."""
    return values.astype(np.float32)[:, None, None]


def _fill(sdf: np.ndarray) -> np.ndarray:
    """Signed distance in pixels (negative inside) -> coverage in [0, 1], 1 px anti-aliasing."""
    return np.clip(0.5 - sdf, 0.0, 1.0)


def _centres(rng: np.random.Generator, n: int, size: int, lo: float, hi: float) -> Arrays:
    cy = _col(rng.uniform(lo, hi, n) * size)
    cx = _col(rng.uniform(lo, hi, n) * size)
    return cy, cx


def _rotated(rng: np.random.Generator, n: int, size: int, period: tuple[float, float]) -> Arrays:
    """Rotated coordinates (u, v) in units of a random period, plus that period in pixels."""
    yy, xx = _grid(size)
    theta = _col(rng.uniform(0.0, np.pi, n))
    p = _col(rng.uniform(*period, n))
    u = (xx * np.cos(theta) + yy * np.sin(theta)) / p
    v = (-xx * np.sin(theta) + yy * np.cos(theta)) / p
    return u + _col(rng.random(n)), v + _col(rng.random(n)), p


def stripes(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Straight stripes at any angle, period 6-18 px, random duty cycle."""
    u, _, p = _rotated(rng, n, size, (6.0, 18.0))
    wave = np.sin(2 * np.pi * u) - _col(rng.uniform(-0.4, 0.4, n))
    return _fill(-wave * p / (2 * np.pi))


def checkerboard(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Rotated checkerboard, 5-12 px squares."""
    u, v, p = _rotated(rng, n, size, (10.0, 24.0))
    product = np.sin(2 * np.pi * u) * np.sin(2 * np.pi * v)
    return _fill(-product * p / (2 * np.pi))


def circle(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """One filled disc, radius 12-30 % of the side."""
    yy, xx = _grid(size)
    cy, cx = _centres(rng, n, size, 0.3, 0.7)
    r = _col(rng.uniform(0.12, 0.3, n) * size)
    return _fill(np.hypot(yy - cy, xx - cx) - r)


def ring(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """One annulus, outer radius 18-38 % of the side, thickness 20-45 % of it."""
    yy, xx = _grid(size)
    cy, cx = _centres(rng, n, size, 0.35, 0.65)
    outer = rng.uniform(0.18, 0.38, n) * size
    width = outer * rng.uniform(0.2, 0.45, n)
    mid, half = _col(outer - width / 2), _col(np.maximum(width / 2, 1.5))
    return _fill(np.abs(np.hypot(yy - cy, xx - cx) - mid) - half)


def triangle(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """One filled triangle: three jittered vertices around a random centre and rotation."""
    yy, xx = _grid(size)
    cy, cx = _centres(rng, n, size, 0.38, 0.62)
    radius = _col(rng.uniform(0.2, 0.38, n) * size)
    base = rng.uniform(0.0, 2 * np.pi, n)[:, None]
    angles = base + np.array([0.0, 2.0, 4.0]) * np.pi / 3 + rng.uniform(-0.3, 0.3, (n, 3))
    angles = angles.astype(np.float32)
    vy = cy[:, None] + radius[:, None] * np.sin(angles)[:, :, None, None]  # (n, 3, 1, 1)
    vx = cx[:, None] + radius[:, None] * np.cos(angles)[:, :, None, None]
    sdf = np.full((n, size, size), -np.inf, dtype=np.float32)
    for i in range(3):  # convex polygon: the SDF is the max of the edges' signed distances
        ay, ax, by, bx = vy[:, i], vx[:, i], vy[:, (i + 1) % 3], vx[:, (i + 1) % 3]
        ey, ex = by - ay, bx - ax
        length = np.hypot(ey, ex)
        side = np.sign(ex * (cy - ay) - ey * (cx - ax))  # sign of the centre, which is inside
        ky, kx = -side * ex / length, side * ey / length
        sdf = np.maximum(sdf, ky * (yy - ay) + kx * (xx - ax))
    return _fill(sdf)


def dots(rng: np.random.Generator, n: int, size: int, most: int = 12) -> np.ndarray:
    """4-12 small discs (radius 2-4.5 px) scattered at random."""
    yy, xx = _grid(size)
    r = _col(rng.uniform(2.0, 4.5, n))
    centres = (rng.uniform(0.08, 0.92, (n, most, 2)) * size).astype(np.float32)
    count = rng.integers(4, most + 1, n)
    centres[np.arange(most)[None, :] >= count[:, None]] = -1e4  # unused dots: far off-canvas
    dy2 = (yy - centres[:, :, 0, None, None]) ** 2  # (n, most, size, 1)
    dx2 = (xx - centres[:, :, 1, None, None]) ** 2  # (n, most, 1, size)
    return _fill(np.sqrt((dy2 + dx2).min(axis=1)) - r)


def blob(rng: np.random.Generator, n: int, size: int, parts: int = 4) -> np.ndarray:
    """A soft-edged amorphous colour blob: a few overlapping Gaussians."""
    yy, xx = _grid(size)
    cy = rng.uniform(0.3, 0.7, (n, 1)) + rng.uniform(-0.12, 0.12, (n, parts))
    cx = rng.uniform(0.3, 0.7, (n, 1)) + rng.uniform(-0.12, 0.12, (n, parts))
    sigma = rng.uniform(0.06, 0.12, (n, parts)) * size
    scale = (-0.5 / sigma**2).astype(np.float32)[..., None, None]
    gy = np.exp(scale * (yy - (cy * size).astype(np.float32)[..., None, None]) ** 2)
    gx = np.exp(scale * (xx - (cx * size).astype(np.float32)[..., None, None]) ** 2)
    field = (gy * gx).sum(axis=1)  # a Gaussian is separable: exp(a + b) = exp(a) exp(b)
    return np.clip(1.6 * field - 0.3, 0.0, 1.0)


def cross(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """A plus sign at any rotation: two perpendicular bars."""
    yy, xx = _grid(size)
    cy, cx = _centres(rng, n, size, 0.38, 0.62)
    theta = _col(rng.uniform(0.0, np.pi / 2, n))
    arm = _col(rng.uniform(0.2, 0.36, n) * size)
    half = _col(rng.uniform(0.035, 0.07, n) * size)
    u = (xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta)
    v = -(xx - cx) * np.sin(theta) + (yy - cy) * np.cos(theta)
    bar_u = np.maximum(np.abs(u) - arm, np.abs(v) - half)
    bar_v = np.maximum(np.abs(v) - arm, np.abs(u) - half)
    return _fill(np.minimum(bar_u, bar_v))


# Label order is the order of this mapping; it must equal dashboard.models.tinyvgg.CLASSES.
RENDERERS: dict[str, MaskRenderer] = {
    "stripes": stripes,
    "checkerboard": checkerboard,
    "circle": circle,
    "ring": ring,
    "triangle": triangle,
    "dots": dots,
    "blob": blob,
    "cross": cross,
}
CLASSES: tuple[str, ...] = tuple(RENDERERS)


def _colours(rng: np.random.Generator, n: int, min_distance: float = 0.45) -> Arrays:
    """Background and foreground RGB colours (n, 3), at least min_distance apart."""
    bg, fg = rng.random((n, 3)), rng.random((n, 3))
    close = np.linalg.norm(fg - bg, axis=1) < min_distance
    while close.any():
        fg[close] = rng.random((int(close.sum()), 3))
        close = np.linalg.norm(fg - bg, axis=1) < min_distance
    return bg.astype(np.float32), fg.astype(np.float32)


def compose(rng: np.random.Generator, masks: np.ndarray) -> np.ndarray:
    """Blend masks (n, H, W) into RGB images (n, H, W, 3) float32 in [0, 1]."""
    n, size = masks.shape[0], masks.shape[1]
    yy, xx = _grid(size)
    bg, fg = _colours(rng, n)
    angle = _col(rng.uniform(0.0, 2 * np.pi, n))
    amount = _col(rng.uniform(0.0, 0.3, n))
    shade = amount * ((xx * np.cos(angle) + yy * np.sin(angle)) / size - 0.5)
    background = bg[:, None, None, :] + shade[..., None]
    images = fg[:, None, None, :] - background
    images *= masks[..., None]
    images += background
    noise = rng.standard_normal(images.shape, dtype=np.float32)
    noise *= _col(rng.uniform(0.0, 0.06, n))[..., None]
    images += noise
    return np.clip(images, 0.0, 1.0, out=images)


def generate(
    n: int, seed: int | np.random.SeedSequence, size: int = SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a balanced, shuffled batch of the shapes data set.

    Args:
        n: number of images.
        seed: anything ``np.random.default_rng`` accepts; the same seed gives the same batch.
        size: side of the square images in pixels.

    Returns:
        ``(images, labels)``: images (n, size, size, 3) float32 in [0, 1], labels (n,) int64
        indexing CLASSES.
    """
    if n < 0:
        raise ValueError(f"The number of images n must be non-negative, got {n}.")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASSES)).astype(np.int64)
    masks = np.zeros((n, size, size), dtype=np.float32)
    for label, render in enumerate(RENDERERS.values()):
        chosen = np.flatnonzero(labels == label)
        if chosen.size:
            masks[chosen] = render(rng, chosen.size, size)
    return compose(rng, masks), labels
