"""dashboard.analysis.maximise: the optimised images are structured, raise the channel they
target (checked with the model run directly), and the run leaves the model as it was."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dashboard.analysis.image_param import optimisation_shape
from dashboard.analysis.maximise import Cancelled, FeatureVis, feature_visualisation


@pytest.fixture(scope="module")
def tinyvgg(models):
    return models.get("tinyvgg")


def _run(loaded, layer: str, channel: int, **kwargs) -> FeatureVis:
    return feature_visualisation(
        loaded.module,
        layer,
        channel,
        input_shape=loaded.input_shape,
        mean=loaded.mean,
        std=loaded.std,
        **kwargs,
    )


def _roughness(image: np.ndarray) -> float:
    """Mean |difference| of neighbouring pixels over the image's std: about 1.15 for
    uniform noise whatever its size, near 0 for smooth images."""
    x = image.astype(np.float64)
    step = (np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean()) / 2
    return float(step / x.std())


def _low_frequency_share(image: np.ndarray) -> float:
    """Share of the (mean-removed) spectral energy at frequencies up to a quarter of the
    sampling rate on both axes: about 0.27 for white noise (that share of the bins)."""
    x = image.astype(np.float64)
    power = (np.abs(np.fft.fft2(x - x.mean(axis=(0, 1)), axes=(0, 1))) ** 2).sum(axis=-1)
    fy = np.abs(np.fft.fftfreq(x.shape[0]))[:, None]
    fx = np.abs(np.fft.fftfreq(x.shape[1]))[None, :]
    return float(power[np.maximum(fy, fx) <= 0.25].sum() / power.sum())


def _channel_after_relu(loaded, image: np.ndarray, conv: str, relu: str, channel: int) -> float:
    """The channel's mean after its ReLU for a display-space image, by a plain forward."""
    x = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255.0
    mean = torch.tensor(loaded.mean).reshape(1, -1, 1, 1)
    std = torch.tensor(loaded.std).reshape(1, -1, 1, 1)
    seen = []
    handle = loaded.module.get_submodule(relu).register_forward_hook(
        lambda _m, _i, out: seen.append(out[0, channel].mean().item())
    )
    try:
        with torch.no_grad():
            loaded.module((x - mean) / std)
    finally:
        handle.remove()
    return seen[0]


def _no_hooks(module: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in module.modules())


def test_mx01_first_layer_results_are_structured_and_fire_the_channel(tinyvgg) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    assert _roughness(noise) > 1.0 and _low_frequency_share(noise) < 0.4
    grey = np.full((64, 64, 3), 128, np.uint8)
    for channel in (0, 3, 6, 9):
        result = _run(tinyvgg, "block1.0", channel, steps=128)
        assert result.image.shape == (64, 64, 3) and result.image.dtype == np.uint8
        assert result.image.std() > 20  # not a flat grey
        assert _roughness(result.image) < 0.7, channel
        assert _low_frequency_share(result.image) > 0.6, channel
        # the objective is the channel's mean after block1.1 (its ReLU)
        assert result.objective.shape == (128,) and (result.objective >= 0).all()
        assert result.objective[-10:].mean() > result.objective[0] + 0.1
        fired = _channel_after_relu(tinyvgg, result.image, "block1.0", "block1.1", channel)
        at_grey = _channel_after_relu(tinyvgg, grey, "block1.0", "block1.1", channel)
        assert fired > at_grey + 0.1, channel


def test_mx02_deeper_layers_stop_there_and_leave_no_hooks(tinyvgg) -> None:
    module = tinyvgg.module
    calls: list[str] = []
    handles = [
        module.get_submodule(name).register_forward_hook(lambda *_, n=name: calls.append(n))
        for name in ("block2.2", "block2.4", "classifier")
    ]
    try:
        result = _run(tinyvgg, "block2.0", 1, steps=32)
    finally:
        for handle in handles:
            handle.remove()
    assert calls == []
    assert result.objective[-4:].mean() > result.objective[0] + 0.1
    assert result.layer == "block2.0" and result.channel == 1 and result.steps == 32
    assert result.seconds > 0 and _no_hooks(module)


def test_mx03_progress_cadence_and_final_call(tinyvgg) -> None:
    seen: list[tuple[int, int]] = []
    _run(tinyvgg, "block1.2", 2, steps=100, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(step, 100) for step in range(2, 100, 2)] + [(100, 100)]
    seen.clear()
    _run(tinyvgg, "block1.2", 2, steps=3, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_mx04_cancel_stops_early_and_restores_the_model(tinyvgg) -> None:
    polls: list[int] = []
    seen: list[int] = []

    def cancelled() -> bool:
        polls.append(1)
        return len(polls) == 3

    with pytest.raises(Cancelled):
        _run(
            tinyvgg,
            "block1.0",
            0,
            steps=500,
            cancelled=cancelled,
            progress=lambda d, _t: seen.append(d),
        )
    assert seen == [10, 20]  # polled every 10 steps; the third poll stopped it
    assert _no_hooks(tinyvgg.module) and not tinyvgg.module.training


def test_mx05_deterministic_for_a_seed(tinyvgg) -> None:
    first = _run(tinyvgg, "block1.2", 5, steps=24, seed=3)
    again = _run(tinyvgg, "block1.2", 5, steps=24, seed=3)
    other = _run(tinyvgg, "block1.2", 5, steps=24, seed=4)
    np.testing.assert_array_equal(first.image, again.image)
    np.testing.assert_array_equal(first.objective, again.objective)
    assert not np.array_equal(first.image, other.image)


class _GreyNet(nn.Module):
    """1-channel input, BatchNorm, a grouped and a depthwise conv, F.relu (no module)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.grouped = nn.Conv2d(4, 6, 3, groups=2)
        self.depthwise = nn.Conv2d(6, 6, 3, groups=6)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        x = F.relu(self.bn(self.conv1(x)))
        x = self.depthwise(F.relu(self.grouped(x)))
        return self.head(x.mean(dim=(2, 3)))


def test_mx06_grey_non_square_grouped_and_depthwise() -> None:
    torch.manual_seed(6)
    net = _GreyNet().train()  # train mode: the run uses eval and gives the modes back
    net.head.train(False)
    running = net.bn.running_mean.clone()
    for layer, channel in (("grouped", 5), ("depthwise", 4), ("conv1", 0)):
        result = feature_visualisation(
            net, layer, channel, input_shape=(1, 24, 40), mean=(0.5,), std=(0.5,), steps=48
        )
        assert result.image.shape == (24, 40, 3)
        assert (result.image[..., 0] == result.image[..., 2]).all()  # grey
        assert result.objective[-4:].mean() > result.objective[0], layer
    assert net.training and net.bn.training and not net.head.training
    assert torch.equal(net.bn.running_mean, running)  # BatchNorm ran in eval mode
    assert all(p.grad is None and p.requires_grad for p in net.parameters())
    assert _no_hooks(net)


def test_mx07_bad_requests_are_value_errors(tinyvgg) -> None:
    with pytest.raises(ValueError, match="has 16 channels, so there is no channel 16"):
        _run(tinyvgg, "block1.0", 16, steps=2)
    with pytest.raises(ValueError, match="no layer named 'block9'"):
        _run(tinyvgg, "block9", 0, steps=2)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        _run(tinyvgg, "block1.0", 0, steps=0)
    # a layer without out_channels: checked on its output
    with pytest.raises(ValueError, match="has 16 channels, so there is no channel 99"):
        _run(tinyvgg, "block1.1", 99, steps=2)
    assert _no_hooks(tinyvgg.module)


class _FixedSize(nn.Module):
    """Runs at 3×200×150 only: its first op is a weight shaped like the input."""

    def __init__(self) -> None:
        super().__init__()
        self.mask = nn.Parameter(torch.ones(1, 3, 200, 150))
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x * self.mask)


def test_mx08_big_inputs_are_optimised_at_128_px_unless_the_model_needs_its_size() -> None:
    assert optimisation_shape((3, 224, 224), 128) == (3, 128, 128)
    assert optimisation_shape((3, 200, 150), 128) == (3, 128, 96)  # aspect kept
    assert optimisation_shape((1, 28, 28), 128) == (1, 28, 28)  # small inputs as they are
    assert optimisation_shape((3, 224, 224), None) == (3, 224, 224)
    torch.manual_seed(8)
    free = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    result = feature_visualisation(
        free, "0", 1, input_shape=(3, 200, 150), mean=None, std=None, steps=4
    )
    assert result.image.shape == (128, 96, 3)
    fixed = _FixedSize()
    result = feature_visualisation(
        fixed, "conv", 1, input_shape=(3, 200, 150), mean=None, std=None, steps=4
    )
    assert result.image.shape == (200, 150, 3)  # 128×96 failed: its own size instead
    assert _no_hooks(fixed)
