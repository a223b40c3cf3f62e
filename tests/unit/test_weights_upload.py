"""Uploaded weights: safetensors or weights-only .pt round-trip; bad files get clear sentences."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as save_safetensors

from dashboard.errors import ModelError, WeightsError
from dashboard.models import ModelRegistry, tinyvgg, zoo

torch.set_num_threads(2)


@pytest.fixture
def reg() -> ModelRegistry:
    return ModelRegistry(cache_size=3, upload_slots=2)


def _custom_state(seed: int = 7) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {
        "0.weight": torch.randn(4, 1, 3, 3, generator=generator),
        "0.bias": torch.randn(4, generator=generator),
    }


def _pt_bytes(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["safetensors", "pt"])
def test_up01_custom_round_trip(reg, kind: str) -> None:
    state = _custom_state()
    if kind == "safetensors":
        data, filename = save_safetensors(state), "mine.safetensors"
    else:
        data, filename = _pt_bytes(state), "mine.pt"
    loaded = reg.with_uploaded_weights("custom", data, filename)
    conv = loaded.module[0]
    assert torch.equal(conv.weight, state["0.weight"]) and torch.equal(conv.bias, state["0.bias"])
    assert loaded.key.startswith("custom:upload:") and len(loaded.key) == len("custom:upload:") + 16
    assert loaded.weights == f"uploaded {filename}" and loaded.notice is None
    # every tensor is the user's: trained weights, though the base "custom" model is random
    assert loaded.trained and not reg.get("custom").trained
    assert loaded.conv_layers == reg.get("custom").conv_layers
    assert not any(p.requires_grad for p in loaded.module.parameters())
    # the shared base model is untouched, and the same bytes come from the cache
    assert not torch.equal(reg.get("custom").module[0].weight, state["0.weight"])
    assert reg.with_uploaded_weights("custom", data, filename) is loaded
    assert reg.uploaded(loaded.key) is loaded


def test_up02_checkpoint_wrappers_and_dataparallel_prefix_are_understood(reg) -> None:
    state = _custom_state()
    wrapped = {"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}
    loaded = reg.with_uploaded_weights("custom", _pt_bytes(wrapped), "ckpt.pth")
    assert torch.equal(loaded.module[0].weight, state["0.weight"])


def test_up03_tinyvgg_round_trip(reg) -> None:
    torch.manual_seed(11)
    state = tinyvgg.TinyVGG().state_dict()
    loaded = reg.with_uploaded_weights("tinyvgg", save_safetensors(state), "tv.safetensors")
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, state[key]), key


class Evil:
    """Unpickling this runs a shell command that creates a file."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


@pytest.mark.parametrize("wrap", ["torch.save", "raw pickle"])
def test_up04_arbitrary_pickles_are_never_unpickled(reg, tmp_path, wrap: str) -> None:
    target = tmp_path / "pwned"
    payload = {"0.weight": Evil(target)}
    data = _pt_bytes(payload) if wrap == "torch.save" else pickle.dumps(payload)
    with pytest.raises(WeightsError, match=r"^evil\.pt is not a weights file ConvScope can read"):
        reg.with_uploaded_weights("custom", data, "evil.pt")
    assert not target.exists()


def test_up05_garbage_and_empty_files(reg) -> None:
    with pytest.raises(WeightsError, match=r"notes\.txt is not a weights file"):
        reg.with_uploaded_weights("custom", b"hello, these are not weights", "notes.txt")
    with pytest.raises(WeightsError, match="does not hold a state dict"):
        reg.with_uploaded_weights("custom", _pt_bytes({}), "empty.pt")
    with pytest.raises(WeightsError, match=r"not a plain state dict: 0\.weight"):
        reg.with_uploaded_weights("custom", _pt_bytes({"0.weight": [1, 2]}), "list.pt")


def test_up06_wrong_keys_are_named(reg) -> None:
    state = _custom_state()
    state["extra.weight"] = torch.zeros(1)
    del state["0.bias"]
    loaded = reg.with_uploaded_weights("custom", save_safetensors(state), "keys.safetensors")
    assert loaded.notice == (
        "Loaded 1 of 2 tensors from keys.safetensors; kept the model's initial weights for: "
        "0.bias. Ignored 1 tensor the model does not have: extra.weight."
    )
    assert torch.equal(loaded.module[0].weight, state["0.weight"])
    assert torch.equal(loaded.module[0].bias, reg.get("custom").module[0].bias)
    with pytest.raises(WeightsError) as info:
        reg.with_uploaded_weights(
            "custom", save_safetensors({"extra.weight": torch.zeros(1)}), "none.safetensors"
        )
    assert str(info.value) == (
        "The weights in none.safetensors do not fit Custom conv 1→4 3×3: none of its 1 tensor "
        "names (extra.weight) is one of the model's (0.weight, 0.bias)."
    )


def test_up07_wrong_shape_names_key_and_both_shapes(reg) -> None:
    state = _custom_state()
    state["0.weight"] = torch.zeros(4, 1, 5, 5)
    loaded = reg.with_uploaded_weights("custom", save_safetensors(state), "shape.safetensors")
    assert loaded.notice == (
        "Loaded 1 of 2 tensors from shape.safetensors; kept the model's initial weights for: "
        "0.weight (0.weight is 4×1×5×5 in the file but 4×1×3×3 in the model)."
    )
    del state["0.bias"]
    with pytest.raises(WeightsError) as info:
        reg.with_uploaded_weights("custom", save_safetensors(state), "shape1.safetensors")
    assert str(info.value) == (
        "The weights in shape1.safetensors do not fit Custom conv 1→4 3×3: every tensor it "
        "shares a name with has another shape (0.weight is 4×1×5×5 in the file but 4×1×3×3 "
        "in the model)."
    )


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_up08_nan_or_inf_values_are_named(reg, bad: float) -> None:
    state = _custom_state()
    state["0.bias"][2] = bad
    with pytest.raises(WeightsError) as info:
        reg.with_uploaded_weights("custom", _pt_bytes(state), "nan.pt")
    assert str(info.value) == "The weights in nan.pt contain NaN or infinite values in 0.bias."


def test_up09_half_precision_is_cast_and_unknown_model_rejected(reg) -> None:
    state = {k: v.half() for k, v in _custom_state().items()}
    loaded = reg.with_uploaded_weights("custom", save_safetensors(state), "half.safetensors")
    assert loaded.module[0].weight.dtype == torch.float32
    torch.testing.assert_close(loaded.module[0].weight, state["0.weight"].float())
    with pytest.raises(ModelError, match="There is no model called 'nope'"):
        reg.with_uploaded_weights("nope", b"", "x.pt")


def test_up10_zoo_upload_loads_without_copying_the_base(reg, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.manual_seed(12)
    state = zoo.architecture("squeezenet1_1").state_dict()
    loaded = reg.with_uploaded_weights("squeezenet1_1", save_safetensors(state), "sq.safetensors")
    assert loaded.module is not reg.get("squeezenet1_1").module
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert not any(t.is_meta or t.requires_grad for t in loaded.module.parameters())
    assert loaded.input_size == (224, 224) and loaded.mean == (0.485, 0.456, 0.406)
    partial = save_safetensors(dict(list(state.items())[2:]))
    loaded = reg.with_uploaded_weights("squeezenet1_1", partial, "partial.safetensors")
    assert loaded.notice.startswith("Loaded 50 of 52 tensors from partial.safetensors; kept")
    assert loaded.initial_tensors == ("features.0.weight", "features.0.bias")
