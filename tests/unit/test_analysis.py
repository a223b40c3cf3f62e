"""dashboard.analysis: the exact per-channel decomposition and the receptive fields.

Every decomposition is checked against F.conv2d on the layer's own input; every measured
field against the layer arithmetic or a hand count.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from dashboard.analysis import (
    Box,
    Contributions,
    Term,
    contributions,
    ranked,
    receptive_field,
    theoretical_box,
    theoretical_field,
)
from dashboard.errors import ModelError


class _Stop(Exception):
    pass


def _layer_input(module: nn.Module, name: str, x: torch.Tensor) -> torch.Tensor:
    """What `name` receives when `module(x)` runs (first call)."""
    seen: list[torch.Tensor] = []

    def hook(_m: nn.Module, inputs: tuple) -> None:
        seen.append(inputs[0].detach().clone())
        raise _Stop

    handle = module.get_submodule(name).register_forward_pre_hook(hook)
    try:
        with torch.no_grad(), pytest.raises(_Stop):
            module(x)
    finally:
        handle.remove()
    return seen[0]


def _image(size: int = 64, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))


def _corners_and_middle(conv: nn.Conv2d, x: torch.Tensor) -> list[tuple[int, int, int]]:
    """Units at every corner, on every edge and inside, over first/middle/last channels."""
    with torch.no_grad():
        _, channels, height, width = conv(x).shape
    rows, cols = (0, height // 2, height - 1), (0, width // 2, width - 1)
    picks = (0, channels // 2, channels - 1)
    return [(c, r, q) for c in picks for r in rows for q in cols]


def _check_identity(conv: nn.Conv2d, x: torch.Tensor) -> None:
    with torch.no_grad():
        w = conv.weight.detach()
        b = None if conv.bias is None else conv.bias.detach()
        args = (conv.stride, conv.padding, conv.dilation, conv.groups)
        out32 = F.conv2d(x, w, b, *args)[0]
        out64 = F.conv2d(x.double(), w.double(), None if b is None else b.double(), *args)[0]
    for channel, row, col in _corners_and_middle(conv, x):
        c = contributions(conv, x, channel, row, col)
        ref = float(out32[channel, row, col])
        # the float32 reference carries rounding of about eps32 times the sum of |products|
        scale = max(abs(ref), 1e-2 * float(np.abs(c.kernel * c.patch).sum()))
        assert abs(c.value - ref) <= 1e-5 * scale, (channel, row, col, c.value, ref)
        assert c.value == pytest.approx(float(out64[channel, row, col]), rel=1e-9, abs=1e-12)
        assert c.value == pytest.approx(float(c.terms.sum()) + c.bias, rel=1e-12, abs=1e-12)
        group_size = conv.in_channels // conv.groups
        assert c.terms.shape == (group_size,) and c.terms.dtype == np.float64
        assert c.input_channels[0] % group_size == 0
        assert np.array_equal(
            c.input_channels, np.arange(c.input_channels[0], c.input_channels[0] + group_size)
        )
        assert np.array_equal(c.kernel, w[channel].double().numpy())
        np.testing.assert_allclose(c.terms, (c.kernel * c.patch).sum(axis=(1, 2)))
        # one term alone is that channel's conv with the one kernel slice
        i = int(np.argmax(np.abs(c.terms)))
        alone = F.conv2d(
            x[:, c.input_channels[i] : c.input_channels[i] + 1].double(),
            w[channel : channel + 1, i : i + 1].double(),
            None,
            *args[:3],
        )[0, 0, row, col]
        assert c.terms[i] == pytest.approx(float(alone), rel=1e-9, abs=1e-12)


def test_an01_tinyvgg_first_layer(models) -> None:
    loaded = models.get("tinyvgg")
    x = loaded.preprocess(_image(seed=1))
    conv = loaded.module.get_submodule("block1.0")
    _check_identity(conv, _layer_input(loaded.module, "block1.0", x))


def test_an02_vgg16_first_and_deep_layer(models) -> None:
    vgg = models.get("vgg16").module
    x = models.get("vgg16").preprocess(_image(seed=2)).clone()
    x = F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False)
    _check_identity(vgg.features[0], x)
    deep = _layer_input(vgg, "features.28", x)
    assert deep.shape == (1, 512, 4, 4)
    _check_identity(vgg.features[28], deep)


def test_an03_resnet18_strided_conv_before_batchnorm(models) -> None:
    net = models.get("resnet18").module
    conv = net.get_submodule("layer2.0.conv1")
    assert conv.stride == (2, 2)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    _check_identity(conv, _layer_input(net, "layer2.0.conv1", x))


def test_an04_mobilenet_v2_depthwise_conv(models) -> None:
    net = models.get("mobilenet_v2").module
    name, conv = next(
        (n, m)
        for n, m in net.named_modules()
        if isinstance(m, nn.Conv2d) and m.groups == m.in_channels > 1 and m.stride == (2, 2)
    )
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    inp = _layer_input(net, name, x)
    _check_identity(conv, inp)
    c = contributions(conv, inp, 5, 1, 1)
    assert c.input_channels.tolist() == [5] and c.terms.shape == (1,)


@pytest.mark.parametrize(
    "conv",
    [
        nn.Conv2d(4, 6, (3, 5), stride=2, padding=(2, 1), dilation=(2, 1), groups=2),
        nn.Conv2d(4, 6, (3, 5), stride=(1, 3), padding=(0, 4), dilation=(1, 2), bias=False),
        nn.Conv2d(2, 3, (4, 3), padding="same", dilation=(1, 2)),
        nn.Conv2d(2, 3, (2, 2), padding="valid"),
    ],
    ids=["dilated-grouped", "no-bias", "same-even", "valid"],
)
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_an05_fixture_convs(conv: nn.Conv2d) -> None:
    torch.manual_seed(5)
    nn.init.normal_(conv.weight)
    if conv.bias is not None:
        nn.init.normal_(conv.bias)
    x = torch.randn(1, conv.in_channels, 11, 13, generator=torch.Generator().manual_seed(6))
    _check_identity(conv, x)


def test_an06_patch_zero_padding_and_box() -> None:
    conv = nn.Conv2d(4, 6, (3, 5), stride=2, padding=(2, 1), dilation=(2, 1), groups=2)
    x = torch.randn(1, 4, 11, 13, generator=torch.Generator().manual_seed(7))
    c = contributions(conv, x, 4, 0, 0)  # group 1: input channels 2, 3
    assert c.input_channels.tolist() == [2, 3]
    # rows -2, 0, 2 and cols -1..3: the first row and column of taps fall in the padding
    assert not c.patch[:, 0, :].any() and not c.patch[:, :, 0].any()
    np.testing.assert_array_equal(c.patch[:, 1:, 1:], x[0, 2:4][:, [0, 2]][:, :, 0:4].double())
    assert c.box == Box(0, 0, 2, 3)
    last = contributions(conv, x, 0, 5, 5)  # rows 8, 10, 12 and cols 9..13 of an 11×13 input
    assert last.box == Box(8, 9, 10, 12) and last.box.area == 12
    assert not last.patch[:, 2, :].any() and not last.patch[:, :, 4].any()
    assert last.patch[:, :2, :4].all()
    assert not c.terms.flags.writeable and not c.patch.flags.writeable
    with pytest.raises(AttributeError):
        c.value = 0.0  # type: ignore[misc]


def test_an07_ranked_terms() -> None:
    conv = nn.Conv2d(8, 2, 3, padding=1)
    x = torch.randn(1, 8, 6, 6, generator=torch.Generator().manual_seed(8))
    c = contributions(conv, x, 1, 2, 3)
    top = ranked(c, 3)
    assert len(top) == 3 and all(isinstance(t, Term) for t in top)
    magnitudes = [abs(t.value) for t in top]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert magnitudes[0] == np.abs(c.terms).max()
    everything = ranked(c, 100)
    assert sorted(t.input_channel for t in everything) == list(range(8))
    assert sum(t.value for t in everything) + c.bias == pytest.approx(c.value)
    assert ranked(c, 0) == []
    with pytest.raises(ValueError, match="at least 0"):
        ranked(c, -1)


def test_an08_bad_requests_are_sentences() -> None:
    x = torch.randn(1, 2, 5, 5)
    with pytest.raises(ValueError, match=r"^Only zero-padded .* pads with 'reflect'\.$"):
        contributions(nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"), x, 0, 0, 0)
    conv = nn.Conv2d(2, 3, 3)
    with pytest.raises(ModelError, match=r"outside the layer's output, which is 3×3×3\.$"):
        contributions(conv, x, 0, 3, 0)
    with pytest.raises(ModelError, match="outside"):
        contributions(conv, x, 3, 0, 0)
    with pytest.raises(ModelError, match="takes 2 input channels, got 1"):
        contributions(conv, x[:, :1], 0, 0, 0)
    with pytest.raises(ModelError, match=r"one image of shape \(1, C, H, W\)"):
        contributions(conv, x[0], 0, 0, 0)


def test_an09_theoretical_field_of_vgg16(models) -> None:
    vgg = models.get("vgg16").module
    path = [
        (m.kernel_size, m.stride, m.padding, getattr(m, "dilation", 1))
        for m in vgg.features[:29]
        if isinstance(m, nn.Conv2d | nn.MaxPool2d)
    ]
    # conv5_3: the textbook 196 pixels, jump 16
    assert theoretical_field(path) == ((196, 196), (16, 16), (-90, -90))
    assert theoretical_field([]) == ((1, 1), (1, 1), (0, 0))
    with pytest.raises(ValueError, match="must be at least 1"):
        theoretical_field([(3, 0, 1, 1)])


def _plain_stack() -> nn.Sequential:
    torch.manual_seed(9)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.Conv2d(4, 5, (5, 3), stride=2, padding=(2, 1)),
        nn.AvgPool2d(3, stride=2, padding=1),
        nn.Conv2d(5, 3, 3, padding=2, dilation=2),
        nn.Conv2d(3, 2, (1, 3), stride=(1, 2), padding=(0, 1)),
    ).eval()


def test_an10_measured_field_equals_arithmetic_on_a_plain_stack() -> None:
    stack = _plain_stack()
    x = torch.randn(1, 3, 33, 35, generator=torch.Generator().manual_seed(10))
    path = [(m.kernel_size, m.stride, m.padding, getattr(m, "dilation", 1)) for m in stack]
    field = theoretical_field(path)
    assert field == (
        (1 + 2 + 4 * 1 + 2 * 2 + 2 * 2 * 4, 1 + 2 + 2 * 1 + 2 * 2 + 2 * 2 * 4 + 2 * 4),
        (4, 8),
        (-1 - 2 - 2 - 2 * 4, -1 - 1 - 2 - 2 * 4 - 4),
    )
    with torch.no_grad():
        _, _, height, width = stack(x).shape
    for row in range(height):
        for col in range(width):
            measured = receptive_field(stack, "4", x, 1, row, col)
            assert measured == theoretical_box(field, row, col, (33, 35)), (row, col)


def test_an11_vgg16_fields(models) -> None:
    vgg = models.get("vgg16").module
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(11))
    box = receptive_field(vgg, "features.0", x, 0, 10, 10)
    assert box == Box(9, 9, 11, 11) and (box.height, box.width, box.area) == (3, 3, 9)
    # a negative unit is followed by an in-place ReLU: its field must survive that
    negative = next(
        (c, 10, 10) for c in range(64) if contributions(vgg.features[0], x, c, 10, 10).value < 0
    )
    assert receptive_field(vgg, "features.0", x, *negative) == Box(9, 9, 11, 11)
    # behind ReLUs and max-pools the measured field lies within the theoretical one
    path = [
        (m.kernel_size, m.stride, m.padding, getattr(m, "dilation", 1))
        for m in vgg.features[:15]
        if isinstance(m, nn.Conv2d | nn.MaxPool2d)
    ]
    outer = theoretical_box(theoretical_field(path), 8, 5, (64, 64))
    assert outer == Box(8 * 4 - 18, 5 * 4 - 18, 8 * 4 + 21, 5 * 4 + 21)  # conv3_3: 40 pixels
    deep = receptive_field(vgg, "features.14", x, 7, 8, 5)
    assert deep is not None
    assert outer.top <= deep.top <= deep.bottom <= outer.bottom
    assert outer.left <= deep.left <= deep.right <= outer.right
    assert all(p.grad is None for p in vgg.parameters())


def test_an12_no_hooks_and_no_grad_mode_left_behind() -> None:
    stack = _plain_stack()
    x = torch.randn(1, 3, 16, 16)

    def no_hooks() -> bool:
        return all(not m._forward_hooks and not m._forward_pre_hooks for m in stack.modules())

    with torch.no_grad():
        assert receptive_field(stack, "0", x, 0, 5, 5) == Box(4, 4, 6, 6)
        assert not torch.is_grad_enabled()
    with torch.inference_mode():
        assert receptive_field(stack, "0", x, 0, 0, 0) == Box(0, 0, 1, 1)
        assert torch.is_inference_mode_enabled()
    assert not x.requires_grad and x.grad is None
    assert all(p.grad is None for p in stack.parameters())
    assert no_hooks()
    with pytest.raises(ValueError, match=r"^The model has no layer named 'nope'\.$"):
        receptive_field(stack, "nope", x, 0, 0, 0)
    assert no_hooks()
    with pytest.raises(ModelError, match=r"^The unit \(0, 99, 0\) is outside the layer '1'"):
        receptive_field(stack, "1", x, 0, 99, 0)
    assert no_hooks()
    with pytest.raises(ModelError, match=r"one image of shape"):
        receptive_field(stack, "0", x[0], 0, 0, 0)
    assert no_hooks()


def test_an13_contributions_is_a_frozen_record() -> None:
    c = contributions(nn.Conv2d(1, 1, 1, bias=False), torch.ones(1, 1, 2, 2), 0, 1, 1)
    assert isinstance(c, Contributions) and c.bias == 0.0 and c.box == Box(1, 1, 1, 1)
