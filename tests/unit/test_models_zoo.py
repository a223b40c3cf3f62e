"""Every torchvision zoo model builds with random weights and lists its conv layers right.

Each model is built once (one parametrized test per model) and dropped afterwards, so
at most one big model is alive at a time. No weights are downloaded: TORCH_HOME is empty.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torch import nn
from torchvision.models import get_model_weights, list_models

from dashboard.capture import capture_activations
from dashboard.models import LoadedModel, zoo

torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def empty_torch_home(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))


def _vgg16(loaded: LoadedModel) -> None:
    assert len(loaded.conv_layers) == 13
    labels = [layer.label for layer in loaded.conv_layers]
    assert labels[0] == "features.0 · Conv2d 3→64 3×3 · 64×224×224"
    assert "features.10 · Conv2d 128→256 3×3 · 256×56×56" in labels
    assert labels[-1] == "features.28 · Conv2d 512→512 3×3 · 512×14×14"


def _resnet18(loaded: LoadedModel) -> None:
    layers = {layer.name: layer for layer in loaded.conv_layers}
    assert len(layers) == 20
    down = layers["layer2.0.downsample.0"]
    assert (down.kernel_size, down.stride, down.output_shape) == ((1, 1), (2, 2), (128, 28, 28))
    assert down.label == "layer2.0.downsample.0 · Conv2d 64→128 1×1 · 128×28×28 · stride 2"
    assert layers["conv1"].label == "conv1 · Conv2d 3→64 7×7 · 64×112×112 · stride 2"
    assert "layer1.0.conv1" in layers


def _mobilenet_v2(loaded: LoadedModel) -> None:
    depthwise = [layer for layer in loaded.conv_layers if layer.groups > 1]
    assert depthwise and all(layer.groups == layer.in_channels for layer in depthwise)
    first = depthwise[0]
    assert first.name == "features.1.conv.0.0"  # inside a Conv2dNormActivation
    assert first.label == "features.1.conv.0.0 · Conv2d 32→32 3×3 · 32×112×112 · depthwise"


def _googlenet(loaded: LoadedModel) -> None:
    names = [layer.name for layer in loaded.conv_layers]
    assert names[:3] == ["conv1.conv", "conv2.conv", "conv3.conv"]
    assert "inception4a.branch2.1.conv" in names
    assert loaded.module.aux1 is None


def _densenet121(loaded: LoadedModel) -> None:
    names = [layer.name for layer in loaded.conv_layers]
    assert len(names) == 120
    assert "features.denseblock1.denselayer1.conv1" in names
    assert "features.transition1.conv" in names


def _resnet50(loaded: LoadedModel) -> None:
    assert len(loaded.conv_layers) == 53


def _regnet(loaded: LoadedModel) -> None:
    assert any("· groups" in layer.label for layer in loaded.conv_layers)


def _convnext(loaded: LoadedModel) -> None:
    depthwise = [layer for layer in loaded.conv_layers if "depthwise" in layer.label]
    assert depthwise and depthwise[0].kernel_size == (7, 7)


EXTRA_CHECKS: dict[str, Callable[[LoadedModel], None]] = {
    "vgg16": _vgg16,
    "resnet18": _resnet18,
    "resnet50": _resnet50,
    "mobilenet_v2": _mobilenet_v2,
    "googlenet": _googlenet,
    "densenet121": _densenet121,
    "regnet_y_400mf": _regnet,
    "convnext_tiny": _convnext,
}


def test_zoo01_curated_names_are_torchvision_models() -> None:
    assert set(zoo.ZOO_LABELS) <= set(list_models(module=torchvision.models))


def _check_layers_match_a_forward(loaded: LoadedModel) -> None:
    module = loaded.module
    for layer in loaded.conv_layers:
        conv = module.get_submodule(layer.name)
        assert isinstance(conv, nn.Conv2d)
        assert (conv.in_channels, conv.out_channels, conv.groups) == (
            layer.in_channels,
            layer.out_channels,
            layer.groups,
        )
        assert layer.label.startswith(f"{layer.name} · Conv2d ")
    middle = loaded.conv_layers[len(loaded.conv_layers) // 2]
    conv = module.get_submodule(middle.name)
    seen: list[torch.Tensor] = []
    handle = conv.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    try:
        with torch.inference_mode():
            module(loaded.default_input())
    finally:
        handle.remove()
    # ConvScope's capture equals torch's own convolution of that layer's input
    want = F.conv2d(
        seen[0], conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups
    )[0]
    got = capture_activations(module, loaded.default_input(), [middle.name])[middle.name]
    assert got.shape == middle.output_shape == tuple(want.shape)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-5)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in module.modules())


def _check_preprocess(loaded: LoadedModel) -> None:
    transforms = get_model_weights(loaded.name).DEFAULT.transforms()
    image = Image.new("RGB", (320, 240), (255, 0, 0))
    image.paste((0, 0, 255), (0, 0, 40, 240))  # cropped away by resize + centre crop
    x = loaded.preprocess(image)
    assert torch.equal(x, transforms(image).unsqueeze(0))
    assert x.shape == (1, 3, 224, 224)
    shown = loaded.to_display(x)
    assert shown.dtype == np.uint8 and shown.shape == (224, 224, 3)
    assert np.abs(shown.astype(int) - [255, 0, 0]).max() <= 1


@pytest.mark.slow
@pytest.mark.parametrize("name", list(zoo.ZOO_LABELS))
def test_zoo02_builds_random_and_lists_conv_layers(name: str) -> None:
    loaded = zoo.build_zoo(name)
    assert (loaded.key, loaded.label) == (f"{name}:random", zoo.ZOO_LABELS[name])
    assert loaded.weights == "random (seed 0)"
    assert loaded.notice == zoo.offline_message(loaded.label)
    assert (loaded.input_channels, loaded.input_size) == (3, (224, 224))
    assert not loaded.module.training
    assert not any(p.requires_grad for p in loaded.module.parameters())
    assert len(loaded.conv_layers) > 0
    _check_layers_match_a_forward(loaded)
    _check_preprocess(loaded)
    if name in EXTRA_CHECKS:
        EXTRA_CHECKS[name](loaded)


def test_zoo03_random_weights_are_reproducible_and_rng_untouched() -> None:
    torch.manual_seed(99)
    state = torch.get_rng_state()
    first = zoo.build_zoo("squeezenet1_1").module.features[0].weight
    assert torch.equal(torch.get_rng_state(), state)
    second = zoo.build_zoo("squeezenet1_1").module.features[0].weight
    assert torch.equal(first, second)
