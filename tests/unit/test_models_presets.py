"""The presets: "custom" (seeded one-conv demo) and "tinyvgg" (shipped trained weights)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from torch import nn

from dashboard.models import presets, tinyvgg
from dashboard.models.loaded import normalize

torch.set_num_threads(2)


def test_pre01_custom_kernels_equal_manual_seed_zero_and_keep_global_rng() -> None:
    torch.manual_seed(1234)
    state = torch.get_rng_state()
    loaded = presets.build_custom()
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(0)
    reference = nn.Conv2d(1, 4, kernel_size=3, padding=1)
    conv = loaded.module[0]
    assert torch.equal(conv.weight, reference.weight)
    assert torch.equal(conv.bias, reference.bias)
    assert torch.equal(presets.build_custom().module[0].weight, conv.weight)
    assert (loaded.key, loaded.name, loaded.label) == (
        "custom:random",
        "custom",
        "Custom conv 1→4 3×3",
    )
    assert loaded.weights == "random (seed 0)"
    assert loaded.notice is None
    assert [layer.label for layer in loaded.conv_layers] == ["0 · Conv2d 1→4 3×3 · 4×28×28"]
    assert not loaded.module.training
    assert not any(p.requires_grad for p in loaded.module.parameters())


def test_pre02_custom_default_input_and_preprocess() -> None:
    loaded = presets.build_custom()
    expected = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded.default_input(), expected)
    image = Image.new("RGB", (56, 30), (255, 255, 255))
    image.paste((0, 0, 0), (0, 0, 28, 30))  # left half black
    x = loaded.preprocess(image)
    assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
    assert x[0, 0, :, 0].max() == 0.0 and x[0, 0, :, -1].min() == 1.0
    shown = loaded.to_display(x)
    assert shown.shape == (28, 28) and shown.dtype == np.float32
    np.testing.assert_array_equal(shown, x[0, 0].numpy())


@pytest.fixture
def random_tinyvgg(monkeypatch: pytest.MonkeyPatch, tmp_path):
    def missing() -> nn.Module:
        raise RuntimeError("The trained TinyVGG weights are missing (tinyvgg.safetensors).")

    monkeypatch.setattr(tinyvgg, "load_trained", missing)
    monkeypatch.setattr(tinyvgg, "WEIGHTS_PATH", tmp_path / "tinyvgg.safetensors")
    return presets.build_tinyvgg()


def test_pre03_tinyvgg_without_weights_is_random_with_a_notice(random_tinyvgg, tmp_path) -> None:
    loaded = random_tinyvgg
    assert loaded.key == "tinyvgg:random"
    assert loaded.weights == "random (seed 0)"
    assert "missing" in loaded.notice and "random" in loaded.notice
    assert loaded.upgradable is not None and not loaded.upgradable(False)
    (tmp_path / "tinyvgg.safetensors").write_bytes(b"appeared")
    assert loaded.upgradable(False)
    assert [layer.name for layer in loaded.conv_layers] == [
        "block1.0",
        "block1.2",
        "block2.0",
        "block2.2",
    ]
    assert loaded.conv_layers[2].label == "block2.0 · Conv2d 16→32 3×3 · 32×32×32"


def test_pre04_tinyvgg_preprocess_crops_normalises_and_displays(random_tinyvgg) -> None:
    loaded = random_tinyvgg
    assert (loaded.input_channels, loaded.input_size) == (3, (64, 64))
    image = Image.new("RGB", (128, 64), (255, 0, 0))
    image.paste((0, 0, 255), (0, 0, 32, 64))  # blue left quarter is cropped away
    x = loaded.preprocess(image)
    assert x.shape == (1, 3, 64, 64)
    red = normalize(torch.tensor([1.0, 0.0, 0.0]).reshape(3, 1, 1), tinyvgg.MEAN, tinyvgg.STD)
    torch.testing.assert_close(x[0], red.expand(3, 64, 64))
    shown = loaded.to_display(x)
    assert shown.dtype == np.uint8 and shown.shape == (64, 64, 3)
    assert (shown == [255, 0, 0]).all()
    noise = loaded.to_display(loaded.default_input())
    expected = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(noise, (expected[0].permute(1, 2, 0) * 255).numpy(), atol=1)
    gray = loaded.preprocess(Image.new("L", (64, 64), 128))
    assert gray.shape == (1, 3, 64, 64)


def test_pre05_tinyvgg_uses_the_shipped_weights() -> None:
    if not tinyvgg.WEIGHTS_PATH.is_file():
        pytest.skip("tinyvgg.safetensors is not trained yet (python -m dashboard.training)")
    loaded = presets.build_tinyvgg()
    assert (loaded.key, loaded.weights, loaded.notice) == (
        "tinyvgg:shipped",
        "trained on ConvScope shapes",
        None,
    )
    saved = load_file(str(tinyvgg.WEIGHTS_PATH))
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert loaded.label == "TinyVGG"


def test_pre06_tinyvgg_loads_trained_weights_from_a_file(monkeypatch, tmp_path) -> None:
    path = tmp_path / "tinyvgg.safetensors"
    torch.manual_seed(5)
    state = tinyvgg.TinyVGG().state_dict()
    save_file(state, str(path))
    monkeypatch.setattr(tinyvgg, "load_trained", partial(tinyvgg.load_trained, path))
    loaded = presets.build_tinyvgg()
    assert (loaded.key, loaded.notice, loaded.upgradable) == ("tinyvgg:shipped", None, None)
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, state[key]), key
