"""dashboard.analysis.path: what a layer receives, and whether the way there is plain."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dashboard.analysis import theoretical_field
from dashboard.analysis.path import layer_input
from dashboard.errors import ModelError


def _hooks(module: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in module.modules())


class _Functional(nn.Module):
    """conv -> F.relu (no module) -> conv: the way to the second conv is not visible."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 2, 3)
        self.b = nn.Conv2d(2, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(F.relu(self.a(x)) * 2)


def test_pth01_vgg16_input_and_plain_path(models) -> None:
    vgg = models.get("vgg16").module
    x = torch.randn(1, 3, 64, 64)
    seen = layer_input(vgg, "features.28", x)
    want = vgg.features[:28](x)
    assert torch.equal(seen.tensor, want)
    assert theoretical_field(seen.path).size == (196, 196)
    first = layer_input(vgg, "features.0", x)
    assert torch.equal(first.tensor, x) and first.path == (((3, 3), (1, 1), (1, 1), (1, 1)),)
    assert _hooks(vgg) == 0


def test_pth02_residual_and_functional_ways_are_not_plain(models) -> None:
    resnet = models.get("resnet18").module
    x = torch.randn(1, 3, 64, 64)
    # conv1, (bn, relu in place), maxpool, layer1.0.conv1, (bn, relu), then the layer itself
    assert len(layer_input(resnet, "layer1.0.conv2", x).path) == 4
    assert layer_input(resnet, "layer1.1.conv1", x).path is None  # after a residual add
    assert layer_input(_Functional(), "b", torch.randn(1, 1, 9, 9)).path is None
    assert _hooks(resnet) == 0


def test_pth03_errors_leave_no_hooks() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3))
    with pytest.raises(ModelError, match="no layer named"):
        layer_input(net, "nope", torch.randn(1, 1, 8, 8))
    with pytest.raises(RuntimeError):
        layer_input(net, "2", torch.randn(1, 3, 8, 8))  # wrong channels: the forward raises
    assert _hooks(net) == 0
    same = nn.Sequential(nn.Conv2d(1, 2, 5, padding="same", dilation=2), nn.Conv2d(2, 2, 3))
    seen = layer_input(same, "1", torch.randn(1, 1, 8, 8))
    assert seen.path[0] == ((5, 5), (1, 1), (4, 4), (2, 2))
