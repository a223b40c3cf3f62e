"""conv_layers: names, labels, output shapes, hooks removed, clear errors (tiny models)."""

from __future__ import annotations

import logging

import pytest
import torch
from torch import nn

from dashboard.models import ConvLayer, ForwardError, conv_layers

torch.set_num_threads(2)


def _hooks_left(module: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in module.modules())


class Branchy(nn.Module):
    """Nested names, a non-square kernel, groups, stride, dilation and an unused conv."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.block = nn.ModuleDict(
            {
                "wide": nn.Conv2d(8, 8, (1, 7), padding=(0, 3)),
                "grouped": nn.Conv2d(8, 16, 3, padding=1, groups=4),
                "depthwise": nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=16),
            }
        )
        self.unused = nn.Conv2d(16, 16, 1)
        self.odd = nn.Conv2d(16, 4, 3, stride=(1, 2), padding="valid")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for name in ("wide", "grouped", "depthwise"):
            x = self.block[name](x)
        return self.odd(x)


def test_lay01_names_order_shapes_and_labels(caplog: pytest.LogCaptureFixture) -> None:
    model = Branchy().eval()
    with caplog.at_level(logging.INFO, logger="dashboard.models.layers"):
        layers = conv_layers(model, (3, 32, 32))
    assert [layer.name for layer in layers] == [
        "stem.0",
        "block.wide",
        "block.grouped",
        "block.depthwise",
        "odd",
    ]
    assert "unused" in caplog.text
    labels = {layer.name: layer.label for layer in layers}
    assert labels["stem.0"] == "stem.0 · Conv2d 3→8 3×3 · 8×16×16 · stride 2"
    assert labels["block.wide"] == "block.wide · Conv2d 8→8 1×7 · 8×16×16"
    assert labels["block.grouped"] == "block.grouped · Conv2d 8→16 3×3 · 16×16×16 · groups 4"
    assert labels["block.depthwise"] == (
        "block.depthwise · Conv2d 16→16 3×3 · 16×16×16 · depthwise · dilation 2"
    )
    assert labels["odd"] == "odd · Conv2d 16→4 3×3 · 4×14×7 · stride 1×2"
    odd = layers[-1]
    assert odd == ConvLayer(
        name="odd",
        in_channels=16,
        out_channels=4,
        groups=1,
        kernel_size=(3, 3),
        stride=(1, 2),
        padding="valid",
        dilation=(1, 1),
        output_shape=(4, 14, 7),
    )
    assert odd.label == labels["odd"]
    assert layers[0].padding == (1, 1)
    assert _hooks_left(model) == 0


def test_lay02_shapes_match_a_real_forward() -> None:
    model = Branchy().eval()
    seen: dict[str, tuple[int, ...]] = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(
                lambda _m, _i, out, name=name: seen.__setitem__(name, tuple(out.shape[1:]))
            )
    model(torch.rand(1, 3, 40, 24))
    for layer in conv_layers(model, (3, 40, 24)):
        assert layer.output_shape == seen[layer.name]


def test_lay03_hooks_removed_when_forward_raises() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 1)).eval()
    with pytest.raises(ForwardError, match=r"could not run on a 1×20×20 input") as info:
        conv_layers(model, (1, 20, 20), model_name="Tiny")
    assert isinstance(info.value, ValueError)
    assert "Tiny" in str(info.value)
    assert _hooks_left(model) == 0
    assert len(conv_layers(model, (1, 28, 28))) == 1
    assert _hooks_left(model) == 0


def test_lay04_no_conv2d_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"^The model Lin has no Conv2d layer to show\.$"):
        conv_layers(nn.Linear(3, 3), (3, 8, 8), model_name="Lin")
    with pytest.raises(ValueError, match="Sequential has no Conv2d"):
        conv_layers(nn.Sequential(nn.Conv1d(1, 2, 3)), (1, 8, 8))


def test_lay05_shared_conv_listed_once_with_first_shape() -> None:
    conv = nn.Conv2d(2, 2, 3, padding=1)

    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = conv
            self.pool = nn.MaxPool2d(2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(self.pool(self.conv(x)))

    layers = conv_layers(Twice().eval(), (2, 8, 8))
    assert [(layer.name, layer.output_shape) for layer in layers] == [("conv", (2, 8, 8))]


def test_lay06_runs_without_grad_and_leaves_mode() -> None:
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.BatchNorm2d(1)).eval()
    before = model[1].running_mean.clone()
    conv_layers(model, (1, 8, 8))
    assert torch.equal(model[1].running_mean, before)
    assert not model.training
