"""TinyVGG: the small CNN that ConvScope trains itself and ships as its default model.

Two blocks of two 3x3 convolutions with ReLU and 2x2 max-pool, then a linear classifier,
as in CNN Explainer; 3-channel 64x64 input scaled to [0, 1] and normalised with MEAN/STD.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from dashboard.errors import UserError
from dashboard.i18n import N_

INPUT_SIZE = 64
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)
WEIGHTS_PATH = Path(__file__).with_name("weights") / "tinyvgg.safetensors"
# Class names of the procedural shapes data set, in label order (see dashboard.training.shapes).
CLASSES: tuple[str, ...] = (
    "stripes",
    "checkerboard",
    "circle",
    "ring",
    "triangle",
    "dots",
    "blob",
    "cross",
)


class TinyVGG(nn.Module):
    """conv1_1 -> conv1_2 -> pool -> conv2_1 -> conv2_2 -> pool -> classifier."""

    def __init__(
        self, num_classes: int = len(CLASSES), in_channels: int = 3, width: int = 16
    ) -> None:
        super().__init__()
        self.block1 = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.block2 = nn.Sequential(
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        side = INPUT_SIZE // 4
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(2 * width * side * side, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.block2(self.block1(x)))


class TrainedWeightsMissing(UserError, RuntimeError):
    """The shipped weights file is not there (a checkout that has not trained them)."""


def load_trained(path: Path = WEIGHTS_PATH) -> TinyVGG:
    """Build TinyVGG and load the shipped safetensors weights.

    Raises:
        RuntimeError: the weights file is missing (run ``python -m dashboard.training``).
    """
    from safetensors.torch import load_file

    if not path.is_file():
        raise TrainedWeightsMissing(
            N_(
                "The trained TinyVGG weights are missing ({file}); "
                "run `python -m dashboard.training` to make them."
            ),
            file=path.name,
        )
    state = load_file(str(path))
    # On the meta device: no random init. Module constructors draw from the global RNG,
    # and a draw here would interleave with a concurrent seeded build (the custom model,
    # random zoo models) in another request thread and change its weights.
    with torch.device("meta"):
        model = TinyVGG(
            num_classes=state["classifier.1.weight"].shape[0],
            width=state["block1.0.weight"].shape[0],
        )
    model.load_state_dict(state, assign=True)  # strict: a missing key still raises
    return model.eval()
