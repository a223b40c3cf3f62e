"""The user's model's input: size H×W, value range, mean/std, own transform, in words."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.models import get_model_weights

from dashboard.__main__ import main
from dashboard.app import create_app
from dashboard.config import config_from_env
from dashboard.errors import ModelError
from dashboard.models import load_user_model, presets
from dashboard.models.preprocessing import describe_torchvision

torch.set_num_threads(2)
FIXTURE = "tests.fixtures.one_size_net"
NON_SQUARE = f"{FIXTURE}:build_40x24"


def _photo(height: int, width: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


def test_pp01_non_square_input_size_reaches_the_model() -> None:
    config = config_from_env({"CONVSCOPE_INPUT_SIZE": "40x24"}, user_model=NON_SQUARE)
    assert config.input_size == (40, 24)
    loaded = load_user_model(NON_SQUARE, input_size=config.input_size)
    assert loaded.input_size == (40, 24)
    x = loaded.preprocess(_photo(300, 200))
    assert x.shape == (1, 3, 40, 24)
    assert [layer.output_shape for layer in loaded.conv_layers] == [(6, 40, 24), (8, 20, 12)]
    assert loaded.conv_layers[1].label == "conv2 · Conv2d 6→8 3×3 · 8×20×12"
    assert "centre-cropped to 40×24 (H×W)" in loaded.preprocessing


def test_pp02_activations_equal_the_reference_pipeline_on_0_255() -> None:
    """A model trained on (x − 127.5) / 128 of 0..255 pixels, through the app's own path."""
    config = config_from_env(
        {"CONVSCOPE_VALUE_RANGE": "0-255", "CONVSCOPE_MEAN": "127.5", "CONVSCOPE_STD": "128"},
        user_model=NON_SQUARE,
        input_size="40x24",
    )
    explorer = create_app(config).explorer
    model = explorer.models.get("user")
    assert model.preprocessing == (
        "RGB, resized and centre-cropped to 40×24 (H×W), values 0–255, then (x − 127.5) / 128 "
        "per channel"
    )
    image = _photo(40, 24, seed=1)  # already the input size: no resampling to compare
    key = explorer.add_upload(image, "session-a")
    got = explorer.layer_outputs(model, key, "session-a")
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    x = (x * 255 - 127.5) / 128
    net = model.module
    with torch.no_grad():
        conv1 = F.conv2d(x, net.conv1.weight, net.conv1.bias, padding=1)
        conv2 = F.conv2d(
            F.max_pool2d(F.relu(conv1), 2), net.conv2.weight, net.conv2.bias, padding=1
        )
    np.testing.assert_allclose(got["conv1"], conv1[0].numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(got["conv2"], conv2[0].numpy(), rtol=0, atol=1e-6)
    # shown as the photo it was, and the noise input spans the same 0..255 range
    np.testing.assert_array_equal(model.to_display(model.preprocess(image)), np.asarray(image))
    noise = model.default_input()
    assert -1.0 <= noise.min() < -0.9 and 0.9 < noise.max() <= 1.0


def test_pp03_per_channel_mean_and_std_on_0_1() -> None:
    loaded = load_user_model(
        NON_SQUARE, input_size=(40, 24), mean=(0.5, 0.25, 0.0), std=(0.5, 0.25, 2.0)
    )
    x = loaded.preprocess(Image.new("RGB", (24, 40), (255, 0, 255)))
    torch.testing.assert_close(x[0, :, 0, 0], torch.tensor([1.0, -1.0, 0.5]))
    assert loaded.preprocessing.endswith(
        "values 0–1, then (x − mean) / std per channel with mean 0.5, 0.25, 0 and std 0.5, 0.25, 2"
    )
    assert (loaded.to_display(x) == [255, 0, 255]).all()


def test_pp04_defaults_and_off_switches() -> None:
    rgb = load_user_model(f"{FIXTURE}:build", input_size=32)
    assert rgb.mean == (0.485, 0.456, 0.406) and rgb.pixel_max == 1.0
    assert rgb.preprocessing.endswith("std 0.229, 0.224, 0.225 (ImageNet's)")
    raw255 = load_user_model(f"{FIXTURE}:build", input_size=32, value_range="0-255")
    assert raw255.mean is None and raw255.preprocessing.endswith("values 0–255, not normalised")
    x = raw255.preprocess(Image.new("RGB", (32, 32), (255, 128, 0)))
    torch.testing.assert_close(x[0, :, 5, 5], torch.tensor([255.0, 128.0, 0.0]))
    off = load_user_model(f"{FIXTURE}:build", input_size=32, mean=(0,), std=(1,))
    assert off.mean is None and off.std is None
    caffe_mean = (123.68, 116.78, 103.94)
    caffe = load_user_model(f"{FIXTURE}:build", input_size=32, mean=caffe_mean, value_range="0-255")
    assert caffe.std == (1.0, 1.0, 1.0)
    gray = load_user_model("tests.fixtures.mnist_net:build", mean=(0.1307,), std=(0.3081,))
    assert gray.preprocessing == (
        "grayscale, resized and centre-cropped to 28×28 (H×W), values 0–1, then "
        "(x − 0.1307) / 0.3081 per channel"
    )


def test_pp05_bad_values_are_sentences(capsys) -> None:
    with pytest.raises(ValueError) as info:
        config_from_env({}, mean="a,b")
    assert str(info.value) == (
        "--mean must be 1 or 3 numbers separated by commas (one per channel, e.g. 0.5 or "
        "0.485,0.456,0.406), got 'a,b'."
    )
    with pytest.raises(ValueError, match=r"^CONVSCOPE_STD must be greater than zero"):
        config_from_env({"CONVSCOPE_STD": "0.5,0,0.5"})
    with pytest.raises(ValueError, match=r"^--input-size must be H or HxW in pixels"):
        config_from_env({}, input_size="40by24")
    with pytest.raises(ValueError, match=r"^CONVSCOPE_VALUE_RANGE must be 0-1 or 0-255, got"):
        config_from_env({"CONVSCOPE_VALUE_RANGE": "-1-1"})
    with pytest.raises(ModelError, match=r"^--mean has 2 numbers but the model takes 3-channel"):
        load_user_model(f"{FIXTURE}:build", input_size=32, mean=(0.5, 0.5))
    with pytest.raises(ModelError, match=r"^--mean has 3 numbers but the model takes 1-channel"):
        load_user_model("tests.fixtures.mnist_net:build", mean=(0.5, 0.5, 0.5))
    with pytest.raises(ModelError, match=r"^--std must be greater than zero"):
        load_user_model(f"{FIXTURE}:build", input_size=32, std=(-1.0,))
    with pytest.raises(ModelError, match=r"^normalize=False turns normalisation off"):
        load_user_model(f"{FIXTURE}:build", input_size=32, normalize=False, mean=(0.5,))
    assert main(["--model", f"{FIXTURE}:build", "--mean", "a,b"]) == 2
    assert capsys.readouterr().err == (
        "error: --mean must be 1 or 3 numbers separated by commas (one per channel, e.g. 0.5 "
        "or 0.485,0.456,0.406), got 'a,b'.\n"
    )


def _half_size_tensor(image: Image.Image) -> torch.Tensor:
    """A user's own pipeline: 20×12 (H×W) stretch, 0..1, no normalisation."""
    small = image.resize((12, 20), Image.Resampling.NEAREST)
    return torch.from_numpy(np.asarray(small, dtype=np.float32) / 255.0).permute(2, 0, 1)


def test_pp06_own_transform_replaces_the_pipeline() -> None:
    loaded = load_user_model("tests.fixtures.mnist_net:build_rgb", transform=_half_size_tensor)
    assert loaded.input_size == (20, 12)  # learnt from the transform's output
    image = _photo(200, 120, seed=2)
    torch.testing.assert_close(loaded.preprocess(image)[0], _half_size_tensor(image))
    assert loaded.preprocessing == "your own transform (_half_size_tensor), giving 3×20×12 tensors"
    with pytest.raises(ModelError, match=r"makes 20×12 inputs but the input size asked is 32×32"):
        load_user_model(
            "tests.fixtures.mnist_net:build_rgb", transform=_half_size_tensor, input_size=32
        )
    with pytest.raises(ModelError, match=r"must turn a PIL image into a \(3, H, W\) tensor"):
        load_user_model("tests.fixtures.mnist_net:build_rgb", transform=lambda im: im)


def test_pp07_every_built_in_model_says_how_it_preprocesses() -> None:
    weights = get_model_weights("resnet18").DEFAULT
    assert describe_torchvision(weights.transforms()) == (
        "ImageNet: RGB, shorter side resized to 256 (bilinear), centre crop 224×224, values "
        "0–1, then (x − mean) / std per channel with mean 0.485, 0.456, 0.406 and std 0.229, "
        "0.224, 0.225"
    )
    assert presets.build_tinyvgg().preprocessing == (
        "RGB, resized and centre-cropped to 64×64 (H×W), values 0–1, then (x − 0.5) / 0.25 "
        "per channel"
    )
    assert presets.build_custom().preprocessing == (
        "grayscale, stretched to 28×28 (H×W), values 0–1, not normalised"
    )
