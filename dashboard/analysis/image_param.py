"""The image a feature visualisation optimises, Lucid-style: a Fourier spectrum scaled by
1/frequency (so smooth images are cheap for the optimiser), with decorrelated colours for
RGB inputs, squashed by a sigmoid into [0, 1]; and the random shift and rescale each step
sees (transformation robustness), so the result does not hang on exact pixel positions.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

SCALES = (0.95, 1.05)  # random rescaling range per step
# Lucid's square root of the ImageNet colour correlation (columns normalised below).
_COLOUR_SQRT = torch.tensor(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=torch.float32
)
_COLOUR = _COLOUR_SQRT / _COLOUR_SQRT.norm(dim=0).max()
_SPECTRUM_SD = 0.01  # initial spectrum: an almost uniform grey image
_MAGIC = 4.0  # Lucid's scale of the spatial image before the sigmoid


class FourierImage:
    """A ``(1, C, H, W)`` image in [0, 1] from a 1/f-scaled, colour-decorrelated spectrum."""

    def __init__(self, shape: tuple[int, int, int], generator: torch.Generator) -> None:
        channels, self.height, self.width = shape
        fy = torch.fft.fftfreq(self.height)[:, None]
        fx = torch.fft.rfftfreq(self.width)[None, :]
        freqs = torch.sqrt(fx * fx + fy * fy)
        self.scale = 1.0 / torch.clamp(freqs, min=1.0 / max(self.height, self.width))
        size = (1, channels, *freqs.shape, 2)
        self.spectrum = (torch.randn(size, generator=generator) * _SPECTRUM_SD).requires_grad_()

    def __call__(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.spectrum) * self.scale
        image = torch.fft.irfft2(spectrum, s=(self.height, self.width), norm="ortho") / _MAGIC
        if image.shape[1] == 3:
            image = torch.einsum("ij,bjhw->bihw", _COLOUR, image)
        return torch.sigmoid(image)


def robust(image: torch.Tensor, generator: torch.Generator, jitter: int) -> torch.Tensor:
    """The image shifted by up to ``jitter`` pixels and rescaled within SCALES, same size,
    grey where the shift or shrink uncovers the border."""
    _, _, height, width = image.shape
    shift = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
    low, high = SCALES
    scale = low + (high - low) * float(torch.rand((), generator=generator))
    theta = torch.tensor(
        [[1 / scale, 0.0, 2 * shift[1] / width], [0.0, 1 / scale, 2 * shift[0] / height]]
    )
    grid = F.affine_grid(theta[None], list(image.shape), align_corners=False)
    return F.grid_sample(image - 0.5, grid, align_corners=False) + 0.5


def to_display(image: torch.Tensor) -> np.ndarray:
    """``(1, C, H, W)`` in [0, 1] -> ``(H, W, 3)`` uint8."""
    pixels = image.detach()[0]
    if pixels.shape[0] != 3:
        pixels = pixels.mean(dim=0, keepdim=True).expand(3, -1, -1)
    return (pixels.permute(1, 2, 0) * 255.0).round().to(torch.uint8).numpy()


def optimisation_shape(
    input_shape: tuple[int, int, int], max_side: int | None
) -> tuple[int, int, int]:
    """``input_shape`` scaled down (aspect kept) so that its longer side is ``max_side``."""
    channels, height, width = input_shape
    longer = max(height, width)
    if max_side is None or longer <= max_side:
        return input_shape
    scale = max_side / longer
    return channels, max(1, round(height * scale)), max(1, round(width * scale))
