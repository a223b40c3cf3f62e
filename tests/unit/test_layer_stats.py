"""dashboard.layer_stats: statistics after each conv's own chain, traced once per model."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from dashboard.capture import InferenceQueue
from dashboard.layer_stats import LayerStatistics


def _model(net: nn.Module, key: str) -> SimpleNamespace:
    convs = [SimpleNamespace(name=n) for n, m in net.named_modules() if isinstance(m, nn.Conv2d)]
    return SimpleNamespace(key=key, module=net.eval(), conv_layers=convs, label=key)


def _maps(net: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return net[0](x)[0].numpy()


def _statistics() -> tuple[LayerStatistics, list]:
    traced: list = []

    def input_tensor(model, image):
        traced.append((model.key, image))
        return torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))

    return LayerStatistics(InferenceQueue(4, 30.0), input_tensor), traced


def test_a_constant_channel_before_batchnorm_alone_is_dead_though_not_zero() -> None:
    # channel 0 always 2.5 (zero weights, bias 2.5); a BatchNorm follows, no ReLU
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    with torch.no_grad():
        net[0].weight[0].zero_()
        net[0].bias[0] = 2.5
        net[1].running_mean.fill_(1.0)
    statistics, _ = _statistics()
    model = _model(net, "bn-only")
    x = torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    stats = statistics.of(model, SimpleNamespace(name="0"), _maps(net, x), "img", "s")
    assert "BatchNorm" in str(stats.source)  # worded when shown
    assert stats.dead.tolist() == [True, False]
    after = net(x)[0].detach().numpy()  # the statistics are those of the BatchNorm's output
    np.testing.assert_allclose(stats.mean, after.mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    assert stats.zeros[0] == 0.0  # constant, not zero: only a rectifier's zeros are dead


def test_after_a_relu_only_all_zero_channels_are_dead_and_the_chain_is_traced_once() -> None:
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU())
    with torch.no_grad():
        net[0].weight[:2].zero_()
        net[0].bias[0], net[0].bias[1] = -1.0, 2.0  # 0 after the ReLU; constant 2
    statistics, traced = _statistics()
    model = _model(net, "relu")
    x = torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert statistics.known_chain(model, "0") is None  # nothing traced yet
    stats = statistics.of(model, SimpleNamespace(name="0"), _maps(net, x), "img", "s")
    assert stats.dead.tolist() == [True, False, False]
    assert statistics.known_chain(model, "0") == ("1",)
    statistics.of(model, SimpleNamespace(name="0"), _maps(net, x), "other", "s")
    assert traced == [("relu", "img")]  # one tracing pass per model, whatever the image
