"""The user's own model: factory specs, weights files, channels/size, clear refusals."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from dashboard.models import ModelRegistry, load_user_model
from dashboard.models.user_spec import NO_HOOKS
from tests.fixtures.mnist_net import MnistNet

torch.set_num_threads(2)
SPEC = "tests.fixtures.mnist_net:build"


def _mnist_state(seed: int = 1) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return MnistNet().state_dict()


def test_usr01_mnist_factory_defaults_to_grayscale_28() -> None:
    loaded = load_user_model(SPEC)
    assert (loaded.name, loaded.key, loaded.label) == (
        "user",
        f"user:{SPEC}",
        f"Your model ({SPEC})",
    )
    assert (loaded.input_channels, loaded.input_size) == (1, (28, 28))
    assert loaded.weights == "as built by the factory (no weights file)"
    assert [layer.label for layer in loaded.conv_layers] == [
        "conv1 · Conv2d 1→8 3×3 · 8×28×28",
        "conv2 · Conv2d 8→16 3×3 · 16×14×14",
    ]
    assert loaded.mean is None and loaded.std is None
    x = loaded.preprocess(Image.new("RGB", (100, 100), (255, 255, 255)))
    assert x.shape == (1, 1, 28, 28) and torch.all(x == 1.0)
    assert loaded.to_display(x).dtype == np.float32
    assert not loaded.module.training


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_usr02_weights_round_trip(tmp_path, suffix: str) -> None:
    state = _mnist_state()
    path = tmp_path / f"mnist{suffix}"
    if suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)
    loaded = load_user_model(SPEC, weights=str(path))
    assert loaded.weights == f"from mnist{suffix}"
    assert loaded.key == f"user:{SPEC}+mnist{suffix}"
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_usr03_weights_problems_are_sentences(tmp_path) -> None:
    state = _mnist_state()
    bad_shape = dict(state, **{"fc.weight": torch.zeros(10, 99)})
    save_file(bad_shape, str(tmp_path / "shape.safetensors"))
    loaded = load_user_model(SPEC, weights=str(tmp_path / "shape.safetensors"))
    assert "fc.weight is 10×99 in the file but 10×784 in the model" in loaded.notice
    assert loaded.initial_tensors == ("fc.weight",)
    missing = {k: v for k, v in state.items() if not k.startswith("conv2.")}
    save_file(missing, str(tmp_path / "missing.safetensors"))
    loaded = load_user_model(SPEC, weights=str(tmp_path / "missing.safetensors"))
    assert loaded.notice == (
        "Loaded 4 of 6 tensors from missing.safetensors; kept the model's initial weights "
        "for: conv2.weight, conv2.bias."
    )
    nan = dict(state, **{"conv1.weight": torch.full((8, 1, 3, 3), float("nan"))})
    torch.save(nan, tmp_path / "nan.pt")
    with pytest.raises(ValueError, match=r"NaN or infinite values in conv1\.weight\.$"):
        load_user_model(SPEC, weights=str(tmp_path / "nan.pt"))
    with pytest.raises(ValueError, match="does not exist"):
        load_user_model(SPEC, weights=str(tmp_path / "nowhere.pt"))


def test_usr04_forward_failure_names_size_and_the_sizes_that_work() -> None:
    with pytest.raises(ValueError) as info:
        load_user_model(SPEC, input_size=(32, 32))
    assert str(info.value) == (
        f"The model Your model ({SPEC}) could not run on a 1×32×32 input (mat1 and mat2 shapes "
        "cannot be multiplied (1x1024 and 784x10)). It runs on 28×28: pass --input-size 28."
    )


def test_usr05_rgb_model_gets_224_and_imagenet_normalisation() -> None:
    loaded = load_user_model("tests.fixtures.mnist_net:build_rgb")
    assert (loaded.input_channels, loaded.input_size) == (3, (224, 224))
    assert loaded.mean == (0.485, 0.456, 0.406)
    assert loaded.conv_layers[1].label == "2 · Conv2d 4→4 3×3 · 4×109×109 · depthwise"
    plain = load_user_model(
        "tests.fixtures.mnist_net:build_rgb", input_size=(40, 60), normalize=False
    )
    assert plain.input_size == (40, 60) and plain.mean is None
    x = plain.preprocess(Image.new("RGB", (60, 40), (0, 255, 0)))
    assert x.shape == (1, 3, 40, 60) and torch.all(x[0, 1] == 1.0)


def test_usr06_channel_problems() -> None:
    with pytest.raises(ValueError, match=r"takes 1-channel input .* not 3 channels"):
        load_user_model(SPEC, input_channels=3)
    with pytest.raises(ValueError, match="takes 2-channel input; ConvScope feeds images"):
        load_user_model("tests.fixtures.mnist_net:build_two_channel")


def test_usr07_not_an_image_model() -> None:
    with pytest.raises(ValueError, match=r"has no Conv2d layer to show \(it has Conv1d layers"):
        load_user_model("tests.fixtures.mnist_net:conv1d_only")
    with pytest.raises(ValueError, match=r"returned a int, not a torch\.nn\.Module"):
        load_user_model("tests.fixtures.mnist_net:not_a_module")
    with pytest.raises(ValueError, match="is a int, not a function"):
        load_user_model("tests.fixtures.mnist_net:NOT_CALLABLE")
    with pytest.raises(ValueError, match=r"mnist_net:broken failed: ImportError: needs a"):
        load_user_model("tests.fixtures.mnist_net:broken")


def test_usr08_bad_specs() -> None:
    with pytest.raises(ValueError, match=r"Could not import tests\.fixtures\.nowhere"):
        load_user_model("tests.fixtures.nowhere:build")
    with pytest.raises(ValueError, match="has no missing to build"):
        load_user_model("tests.fixtures.mnist_net:missing")
    with pytest.raises(ValueError, match=r"should look like 'package\.module:factory'"):
        load_user_model("just_a_name")


def test_usr09_factory_from_a_python_file(tmp_path) -> None:
    source = tmp_path / "net.py"
    source.write_text("from torch import nn\n\ndef make():\n    return nn.Conv2d(3, 2, 5)\n")
    loaded = load_user_model(f"{source}:make", input_size=(16, 16))
    assert loaded.conv_layers[0].label == "(model) · Conv2d 3→2 5×5 · 2×12×12"
    assert loaded.conv_layers[0].name == ""


class Evil:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_usr10_model_files_are_refused_unopened(tmp_path) -> None:
    target = tmp_path / "pwned"
    pickled = tmp_path / "model.pt"
    torch.save({"model": Evil(target)}, pickled)
    with pytest.raises(
        ValueError, match=r"model\.pt was saved with torch\.save and ConvScope never"
    ):
        load_user_model(str(pickled))
    assert not target.exists()
    scripted = tmp_path / "scripted.pt"  # the layout torch.jit.save writes
    with zipfile.ZipFile(scripted, "w") as archive:
        archive.writestr("scripted/code/__torch__.py", "")
        archive.writestr("scripted/constants.pkl", b"")
        archive.writestr("scripted/data.pkl", b"")
    with pytest.raises(ValueError, match=r"scripted\.pt is a TorchScript file"):
        load_user_model(str(scripted))
    (tmp_path / "notes.pth").write_bytes(b"plain text")
    with pytest.raises(ValueError, match=r"notes\.pth is not a model ConvScope can use"):
        load_user_model(str(tmp_path / "notes.pth"))
    with pytest.raises(ValueError, match="does not exist"):
        load_user_model(str(tmp_path / "absent.pt"))


def test_usr11_registered_user_model_is_served_by_name() -> None:
    loaded = load_user_model(SPEC)
    reg = ModelRegistry(user_model=loaded)
    assert reg.available()[0] == ("user", f"Your model ({SPEC})")
    assert reg.get("user").module is loaded.module
    buffer = io.BytesIO()
    state = _mnist_state(seed=2)
    torch.save(state, buffer)
    uploaded = reg.with_uploaded_weights("user", buffer.getvalue(), "epoch9.pt")
    assert torch.equal(uploaded.module.conv1.weight, state["conv1.weight"])
    assert not torch.equal(loaded.module.conv1.weight, state["conv1.weight"])


def _help_text() -> str:
    out = subprocess.run(
        [sys.executable, "-m", "dashboard", "--help"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(out.split())  # argparse wraps lines


def test_usr12_torchscript_refusals_say_what_help_says(tmp_path) -> None:
    help_text = _help_text()
    assert f"TorchScript is not supported ({NO_HOOKS})" in help_text
    assert "model files saved whole with torch.save are never unpickled" in help_text
    with pytest.raises(ValueError) as info:
        load_user_model("tests.fixtures.one_size_net:build_scripted")
    assert str(info.value) == (
        "tests.fixtures.one_size_net:build_scripted() returned a TorchScript module, which "
        f"ConvScope cannot inspect: {NO_HOOKS}; return the eager module (the one given to "
        "torch.jit.script)."
    )
    scripted = tmp_path / "scripted.pt"
    with zipfile.ZipFile(scripted, "w") as archive:
        archive.writestr("scripted/code/__torch__.py", "")
        archive.writestr("scripted/constants.pkl", b"")
    with pytest.raises(ValueError, match=re.escape(f"cannot inspect: {NO_HOOKS};")):
        load_user_model(str(scripted))
