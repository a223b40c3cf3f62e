"""dashboard.analysis.chain and .stats: activation chains found by a hooked pass, checked
against the models' own forward; statistics and histograms checked against numpy computed
directly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dashboard.analysis.chain import (
    activation_chain,
    after_activation,
    describe_chain,
    is_rectified,
)
from dashboard.analysis.stats import (
    SORT_KEYS,
    ChannelStats,
    channel_stats,
    channels_in_range,
    sort_order,
)
from dashboard.errors import ModelError


def _x(seed: int, shape: tuple[int, ...] = (1, 3, 64, 64)) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _convs(module: nn.Module) -> list[str]:
    return [name for name, m in module.named_modules() if isinstance(m, nn.Conv2d)]


def _no_hooks(module: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in module.modules())


def _first_outputs(module: nn.Module, names: list[str], x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each named module's first output in a plain forward (cloned: ReLUs may be in place)."""
    seen: dict[str, torch.Tensor] = {}
    handles = []
    for name in names:

        def hook(_m, _i, out, name=name):
            seen.setdefault(name, out.detach().clone())

        handles.append(module.get_submodule(name).register_forward_hook(hook))
    try:
        with torch.no_grad():
            module(x)
    finally:
        for handle in handles:
            handle.remove()
    return seen


class _FunctionalRelu(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        return self.head(F.relu(self.conv(x)))


class _Twice(nn.Module):
    """One conv called twice: ReLU after the first call, BatchNorm after the second."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.drop = nn.Dropout(0.5)
        self.keep = nn.Identity()
        self.act = nn.GELU()
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(self.conv(self.act(self.keep(self.drop(self.conv(x))))))


class _Raises(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3)
        self.relu = nn.ReLU()

    def forward(self, x):
        self.conv(x)  # the chain is still open when the pass fails
        raise RuntimeError("boom")


def test_st01_vgg16_every_conv_then_its_relu_and_nothing_after(models) -> None:
    vgg = models.get("vgg16").module
    convs = _convs(vgg)
    chains = activation_chain(vgg, convs, _x(1))
    assert len(convs) == 13
    assert chains == {name: (f"features.{int(name.split('.')[1]) + 1}",) for name in convs}
    assert all(is_rectified(vgg, chain) for chain in chains.values())
    assert _no_hooks(vgg)
    # the pass stops once the chains are complete: the next conv never runs
    calls: list[int] = []
    handle = vgg.features[2].register_forward_hook(lambda *_: calls.append(1))
    try:
        assert activation_chain(vgg, ["features.0"], _x(1)) == {"features.0": ("features.1",)}
    finally:
        handle.remove()
    assert calls == []


def test_st02_resnet18_residual_relu_is_not_conv2s(models) -> None:
    net = models.get("resnet18").module
    chains = activation_chain(net, _convs(net), _x(2))
    assert chains["conv1"] == ("bn1", "relu")
    assert chains["layer1.0.conv1"] == ("layer1.0.bn1", "layer1.0.relu")
    assert chains["layer1.0.conv2"] == ("layer1.0.bn2",)  # relu follows `out += identity`
    assert chains["layer2.0.downsample.0"] == ("layer2.0.downsample.1",)
    for name, chain in chains.items():
        if name.endswith("conv2"):
            assert chain == (name[: -len("conv2")] + "bn2",)
    assert _no_hooks(net)


def test_st03_resnet50_bottleneck(models) -> None:
    net = models.get("resnet50").module
    chains = activation_chain(net, _convs(net), _x(3))
    # Bottleneck reuses self.relu: after bn1, after bn2, and after the residual add
    assert chains["layer1.0.conv2"] == ("layer1.0.bn2", "layer1.0.relu")
    assert chains["layer1.0.conv3"] == ("layer1.0.bn3",)
    assert chains["layer4.2.conv3"] == ("layer4.2.bn3",)
    assert sum(len(c) == 2 for c in chains.values()) == 33
    assert sum(len(c) == 1 for c in chains.values()) == 20


def test_st04_mobilenet_v2_relu6_and_linear_bottleneck(models) -> None:
    net = models.get("mobilenet_v2").module
    chains = activation_chain(net, _convs(net), _x(4))
    assert chains["features.0.0"] == ("features.0.1", "features.0.2")
    assert isinstance(net.get_submodule("features.0.2"), nn.ReLU6)
    assert is_rectified(net, chains["features.0.0"])
    assert chains["features.1.conv.1"] == ("features.1.conv.2",)  # projection: no activation
    assert not is_rectified(net, chains["features.1.conv.1"])


def test_st05_functional_relu_norms_and_first_call_only() -> None:
    torch.manual_seed(5)
    plain = _FunctionalRelu()
    assert activation_chain(plain, ["conv", "head"], _x(5, (1, 3, 8, 8))) == {
        "conv": (),
        "head": (),
    }
    twice = _Twice().eval()
    assert activation_chain(twice, ["conv"], _x(5, (1, 3, 8, 8))) == {
        "conv": ("drop", "keep", "act")
    }
    twice.drop.train()  # dropout in training mode changes the values: the chain stops
    assert activation_chain(twice, ["conv"], _x(5, (1, 3, 8, 8))) == {"conv": ()}
    with pytest.raises(ModelError, match="no layer named 'nope'"):
        activation_chain(twice, ["nope"], _x(5, (1, 3, 8, 8)))


def test_st06_hooks_removed_when_the_forward_raises() -> None:
    net = _Raises()
    with pytest.raises(RuntimeError, match="boom"):
        activation_chain(net, ["conv"], _x(6, (1, 3, 6, 6)))
    assert _no_hooks(net)
    # a model that is itself one conv (named "")
    assert activation_chain(net.conv, [""], _x(6, (1, 3, 6, 6))) == {"": ()}
    assert _no_hooks(net)


@pytest.mark.parametrize(
    ("model", "conv"),
    [
        ("vgg16", "features.0"),  # in-place ReLU
        ("vgg16", "features.10"),
        ("resnet18", "conv1"),  # BatchNorm then ReLU
        ("resnet18", "layer1.0.conv2"),  # BatchNorm only
        ("mobilenet_v2", "features.2.conv.0.0"),  # ReLU6
    ],
)
def test_st07_after_activation_equals_the_real_forward(models, model: str, conv: str) -> None:
    net = models.get(model).module
    x = _x(7)
    chain = activation_chain(net, [conv], x)[conv]
    seen = _first_outputs(net, [conv, *chain], x)
    maps = seen[conv][0].numpy()
    before = maps.copy()
    out = after_activation(net, chain, maps)
    assert out.dtype == np.float32 and out.shape == maps.shape
    np.testing.assert_allclose(out, seen[chain[-1]][0].numpy(), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(maps, before)  # an in-place ReLU ran on a copy
    assert after_activation(net, (), maps) is maps


def test_st08_describe_chain(models) -> None:
    vgg, resnet = models.get("vgg16").module, models.get("resnet18").module
    assert describe_chain(vgg, ("features.1",)) == "after features.1 (ReLU)"
    assert (
        describe_chain(resnet, ("layer1.0.bn1", "layer1.0.relu"))
        == "after layer1.0.bn1 (BatchNorm2d) and layer1.0.relu (ReLU)"
    )
    assert describe_chain(resnet, ("bn1", "relu", "maxpool")) == (
        "after bn1 (BatchNorm2d), relu (ReLU) and maxpool (MaxPool2d)"
    )
    assert describe_chain(vgg, ()) == "the conv output (no activation module follows it)"


def _relu_values(seed: int = 8, shape: tuple[int, int, int] = (6, 9, 11)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.maximum(rng.normal(size=shape), 0).astype(np.float32)
    values[2] = 0.0  # a dead channel
    values[4] *= 3.0
    return values


def _check_against_numpy(stats: ChannelStats, values: np.ndarray) -> None:
    for c in range(values.shape[0]):
        finite = values[c][np.isfinite(values[c])].astype(np.float64)
        assert stats.mean[c] == pytest.approx(finite.mean(), rel=1e-12, abs=1e-15)
        assert stats.maximum[c] == finite.max() and stats.minimum[c] == finite.min()
        assert stats.std[c] == pytest.approx(finite.std(), rel=1e-10, abs=1e-15)
        assert stats.zeros[c] == np.count_nonzero(finite == 0) / finite.size
        counts, _ = np.histogram(finite, bins=stats.edges)
        np.testing.assert_array_equal(stats.counts[c], counts)


def test_st09_statistics_and_histograms_equal_numpy() -> None:
    values = _relu_values()
    stats = channel_stats(values, bins=16, source="after features.1 (ReLU)")
    _check_against_numpy(stats, values)
    for array in (stats.mean, stats.maximum, stats.minimum, stats.std, stats.zeros):
        assert array.dtype == np.float64 and array.shape == (6,)
    assert stats.counts.dtype == np.int64 and stats.counts.shape == (6, 16)
    assert stats.edges.shape == (17,)
    assert stats.edges[0] == values.min() and stats.edges[-1] == values.max()
    np.testing.assert_array_equal(stats.total, np.histogram(values, bins=stats.edges)[0])
    assert stats.total.sum() == values.size and stats.non_finite == 0
    assert stats.dead.tolist() == [False, False, True, False, False, False]
    assert stats.source == "after features.1 (ReLU)"
    assert not stats.counts.flags.writeable
    # without a rectifier, dead means constant
    shifted = values - 1.0
    shifted[5] = 0.25
    loose = channel_stats(shifted, rectified=False)
    assert loose.dead.tolist() == [False, False, True, False, False, True]
    _check_against_numpy(loose, shifted)


def test_st10_non_finite_values_are_left_out() -> None:
    values = _relu_values(10)
    values[0, 0, 0], values[1, 3, 4], values[3, 1, 1] = np.nan, np.inf, -np.inf
    values[5] = np.nan  # nothing finite at all
    stats = channel_stats(values, bins=8)
    assert stats.non_finite == 3 + values[5].size
    _check_against_numpy(stats, values[:5])
    finite = values[np.isfinite(values)]
    assert stats.edges[0] == finite.min() and stats.edges[-1] == finite.max()
    assert np.isnan(stats.mean[5]) and np.isnan(stats.maximum[5]) and not stats.dead[5]
    assert stats.counts[5].sum() == 0
    assert stats.total.sum() == values.size - stats.non_finite
    everything_nan = channel_stats(np.full((2, 3, 3), np.nan, np.float32), bins=4)
    assert everything_nan.edges.tolist() == [-0.5, -0.25, 0.0, 0.25, 0.5]
    assert everything_nan.counts.sum() == 0


def test_st11_constant_layers_and_one_pixel_maps() -> None:
    zeros = channel_stats(np.zeros((3, 4, 4), np.float32), bins=4)
    assert zeros.edges.tolist() == [-0.5, -0.25, 0.0, 0.25, 0.5]
    assert zeros.counts[:, 2].tolist() == [16, 16, 16] and zeros.total.sum() == 48
    assert zeros.dead.all() and zeros.std.tolist() == [0.0] * 3
    one = np.array([[[2.0]], [[0.0]], [[-1.0]]], np.float32)  # 1x1 maps are never "constant"
    assert channel_stats(one, rectified=False).dead.tolist() == [False] * 3
    assert channel_stats(one).dead.tolist() == [False, True, False]
    with pytest.raises(ValueError, match="C, H, W"):
        channel_stats(np.zeros((3, 4), np.float32))


def _brute_in_range(stats: ChannelStats, values: np.ndarray, lo: float, hi: float) -> list[int]:
    lo, hi = min(lo, hi), max(lo, hi)
    edges, bins = stats.edges.tolist(), len(stats.edges) - 1
    picked = []
    for c in range(values.shape[0]):
        for v in values[c].ravel().tolist():
            b = next(i for i in range(bins) if v < edges[i + 1] or i == bins - 1)
            last = b == bins - 1
            # the bin [e_b, e_b+1) (closed if last) shares a point with [lo, hi]
            if edges[b] <= hi and (lo < edges[b + 1] or (last and lo <= edges[b + 1])):
                picked.append(c)
                break
    return picked


def test_st12_channels_in_range_by_whole_bins() -> None:
    rng = np.random.default_rng(12)
    values = rng.normal(size=(8, 5, 5)).astype(np.float32) * rng.uniform(0.1, 2, (8, 1, 1))
    stats = channel_stats(values.astype(np.float32), bins=10)
    edges = stats.edges
    cases = [(edges[0], edges[-1]), (edges[3], edges[4]), (edges[-1], edges[-1]), (5.0, 9.0)]
    cases += [(edges[4], edges[2]), (-9.0, edges[0])]
    cases += [tuple(rng.uniform(edges[0] - 0.5, edges[-1] + 0.5, 2)) for _ in range(40)]
    for lo, hi in cases:
        got = channels_in_range(stats, float(lo), float(hi))
        assert got.tolist() == _brute_in_range(stats, values, float(lo), float(hi)), (lo, hi)
    assert channels_in_range(stats, edges[0], edges[-1]).tolist() == list(range(8))
    assert channels_in_range(stats, 50.0, 60.0).tolist() == []


def test_st13_sort_order() -> None:
    values = np.zeros((5, 2, 2), np.float32)
    values[1], values[3], values[4] = 2.0, 2.0, 5.0
    values[0, 0, 0] = 1.0
    stats = channel_stats(values)
    assert SORT_KEYS == ("channel", "mean", "maximum", "std", "zeros")
    assert sort_order(stats, "channel").tolist() == [0, 1, 2, 3, 4]
    assert sort_order(stats, "mean").tolist() == [4, 1, 3, 0, 2]  # ties by channel number
    assert sort_order(stats, "maximum").tolist() == [4, 1, 3, 0, 2]
    assert sort_order(stats, "zeros").tolist() == [2, 0, 1, 3, 4]
    assert sort_order(stats, "std").tolist()[0] == 0
    with_nan = values.copy()
    with_nan[1] = np.nan
    assert sort_order(channel_stats(with_nan), "mean").tolist() == [4, 3, 0, 2, 1]
    with pytest.raises(ValueError, match="Cannot sort by 'size'"):
        sort_order(stats, "size")
