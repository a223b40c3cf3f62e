"""Checkpoints as people save them: wrappers, prefixes, part of a model; said in a sentence."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as save_safetensors
from safetensors.torch import save_file

from dashboard.errors import WeightsError
from dashboard.models import ModelRegistry, load_user_model, zoo
from dashboard.models.checkpoints import align_names
from tests.fixtures.one_size_net import OneSizeNet, Wrapper

torch.set_num_threads(2)
SPEC = "tests.fixtures.one_size_net:build"
SIZE = (32, 32)


def _trained(seed: int = 3) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return OneSizeNet().state_dict()


def _prefixed(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {prefix + k: v for k, v in state.items()}


def _pt_bytes(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


STYLES = {
    "plain": lambda s: s,
    "module. (DataParallel)": lambda s: _prefixed(s, "module."),
    "model. (Lightning)": lambda s: _prefixed(s, "model."),
    "state_dict.": lambda s: _prefixed(s, "state_dict."),
    "module.model.": lambda s: _prefixed(s, "module.model."),
    '{"state_dict": ...}': lambda s: {"state_dict": s, "epoch": 7},
    '{"model": ...}': lambda s: {"model": s, "optimizer": {"lr": torch.tensor(0.1)}},
    '{"model_state_dict": ...}': lambda s: {"model_state_dict": s, "epoch": 3},
    'Lightning {"state_dict": model.*}': lambda s: {"state_dict": _prefixed(s, "model.")},
    '{"model": {"state_dict": module.*}}': lambda s: {
        "model": {"state_dict": _prefixed(s, "module.")}
    },
}


@pytest.mark.parametrize("style", list(STYLES))
def test_ck01_every_checkpoint_style_loads_exactly(tmp_path: Path, style: str) -> None:
    state = _trained()
    path = tmp_path / "ckpt.pt"
    torch.save(STYLES[style](state), path)
    loaded = load_user_model(SPEC, weights=str(path), input_size=SIZE)
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert loaded.notice is None and loaded.initial_tensors == ()
    assert loaded.weights == "from ckpt.pt"


@pytest.mark.parametrize("prefix", ["", "module.", "model.", "state_dict."])
def test_ck02_safetensors_with_prefixes_load_exactly(tmp_path: Path, prefix: str) -> None:
    state = _trained(seed=4)
    save_file(_prefixed(state, prefix), str(tmp_path / "w.safetensors"))
    loaded = load_user_model(SPEC, weights=str(tmp_path / "w.safetensors"), input_size=SIZE)
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert loaded.notice is None


def test_ck03_partial_checkpoint_keeps_the_rest_and_says_so(tmp_path: Path) -> None:
    state = _trained()
    convs = {k: v for k, v in state.items() if k.startswith("conv")}
    torch.save(_prefixed(convs, "module."), tmp_path / "convs.pt")
    torch.manual_seed(11)
    initial = OneSizeNet()
    torch.manual_seed(11)  # the factory builds the same initial weights
    loaded = load_user_model(SPEC, weights=str(tmp_path / "convs.pt"), input_size=SIZE)
    module = loaded.module
    for key in convs:
        assert torch.equal(module.state_dict()[key], state[key]), key
    assert torch.equal(module.fc.weight, initial.fc.weight)
    assert torch.equal(module.fc.bias, initial.fc.bias)
    assert not torch.equal(module.fc.weight, state["fc.weight"])
    assert loaded.notice == (
        "Loaded 4 of 6 tensors from convs.pt (names without the prefix 'module.'); kept the "
        "model's initial weights for: fc.weight, fc.bias."
    )
    assert loaded.initial_tensors == ("fc.weight", "fc.bias")
    assert loaded.weights == "4 of 6 tensors from convs.pt"


def test_ck04_new_head_shape_and_extra_keys_are_named(tmp_path: Path) -> None:
    state = _trained()
    finetuned = dict(state, **{"fc.weight": torch.zeros(10, 512), "fc.bias": torch.zeros(10)})
    finetuned["aux.weight"] = torch.ones(3)
    save_file(finetuned, str(tmp_path / "ft.safetensors"))
    loaded = load_user_model(SPEC, weights=str(tmp_path / "ft.safetensors"), input_size=SIZE)
    assert torch.equal(loaded.module.conv2.weight, state["conv2.weight"])
    assert loaded.notice == (
        "Loaded 4 of 6 tensors from ft.safetensors; kept the model's initial weights for: "
        "fc.weight, fc.bias (fc.weight is 10×512 in the file but 4×512 in the model; "
        "fc.bias is 10 in the file but 4 in the model). Ignored 1 tensor the model does not "
        "have: aux.weight."
    )


def test_ck05_a_checkpoint_fitting_nothing_is_an_error(tmp_path: Path) -> None:
    torch.save(
        {"encoder.weight": torch.zeros(3), "decoder.bias": torch.zeros(2)}, tmp_path / "x.pt"
    )
    with pytest.raises(WeightsError) as info:
        load_user_model(SPEC, weights=str(tmp_path / "x.pt"), input_size=SIZE)
    assert str(info.value) == (
        "The weights in x.pt do not fit Your model (tests.fixtures.one_size_net:build): none "
        "of its 2 tensor names (encoder.weight, decoder.bias) is one of the model's "
        "(conv1.weight, conv1.bias, conv2.weight and 3 more)."
    )
    wrong = {k: torch.zeros(v.numel() + 1) for k, v in _trained().items()}
    torch.save(wrong, tmp_path / "shapes.pt")
    with pytest.raises(WeightsError, match=r"every tensor it shares a name with has another sh"):
        load_user_model(SPEC, weights=str(tmp_path / "shapes.pt"), input_size=SIZE)


def test_ck06_a_wrapped_model_takes_a_plain_checkpoint(tmp_path: Path) -> None:
    state = _trained()
    torch.save(state, tmp_path / "inner.pt")
    loaded = load_user_model(
        "tests.fixtures.one_size_net:build_wrapped",
        weights=str(tmp_path / "inner.pt"),
        input_size=SIZE,
    )
    assert torch.equal(loaded.module.model.conv1.weight, state["conv1.weight"])
    assert loaded.notice is None


def test_ck07_align_names_prefers_the_names_as_saved() -> None:
    expected = Wrapper().state_dict().keys()  # "model.conv1.weight", ...
    state = _prefixed(_trained(), "model.")
    renamed, note = align_names(state, expected)
    assert note is None and set(renamed) == set(expected)
    mixed = {"model.a": torch.zeros(1), "a": torch.zeros(1)}  # stripping would merge them
    assert align_names(mixed, ["a"]) == (mixed, None)


def test_ck08_partial_upload_in_the_page_keeps_the_base_and_says_so() -> None:
    reg = ModelRegistry(cache_size=2, upload_slots=2)
    base = reg.get("custom")
    weight = torch.full((4, 1, 3, 3), 0.25)
    data = _pt_bytes({"state_dict": {"module.0.weight": weight}})
    loaded = reg.with_uploaded_weights("custom", data, "half.pt")
    assert torch.equal(loaded.module[0].weight, weight)
    assert torch.equal(loaded.module[0].bias, base.module[0].bias)
    assert loaded.notice == (
        "Loaded 1 of 2 tensors from half.pt (names without the prefix 'module.'); kept the "
        "model's initial weights for: 0.bias."
    )
    assert loaded.weights == "uploaded half.pt (1 of 2 tensors)"
    assert reg.get("custom").module is base.module and base.notice is None
    with pytest.raises(WeightsError, match=r"^The weights in none\.pt do not fit Custom conv"):
        reg.with_uploaded_weights("custom", _pt_bytes({"fc.weight": weight}), "none.pt")


def test_ck09_partial_zoo_upload_keeps_the_base_models_weights(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no ImageNet weights: seeded random base
    reg = ModelRegistry(cache_size=2, upload_slots=2)
    base = reg.get("squeezenet1_1")
    torch.manual_seed(12)
    state = zoo.architecture("squeezenet1_1").state_dict()
    names = list(state)
    partial = save_safetensors(dict(list(state.items())[2:]))
    loaded = reg.with_uploaded_weights("squeezenet1_1", partial, "partial.safetensors")
    for key, value in loaded.module.state_dict().items():
        want = base.module.state_dict()[key] if key in names[:2] else state[key]
        assert torch.equal(value, want), key
    assert loaded.initial_tensors == tuple(names[:2])
    assert loaded.notice.startswith(
        f"Loaded {len(names) - 2} of {len(names)} tensors from partial.safetensors; kept the "
        f"model's initial weights for: {names[0]}, {names[1]}."
    )
    assert not any(t.is_meta or t.requires_grad for t in loaded.module.parameters())


class Evil:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_ck10_wrapped_pickles_are_still_never_unpickled(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    data = _pt_bytes({"state_dict": {"module.0.weight": Evil(target)}})
    with pytest.raises(WeightsError, match=r"^evil\.pt is not a weights file ConvScope can read"):
        ModelRegistry().with_uploaded_weights("custom", data, "evil.pt")
    (tmp_path / "evil.pt").write_bytes(data)
    with pytest.raises(WeightsError, match=r"^evil\.pt is not a weights file ConvScope can read"):
        load_user_model(SPEC, weights=str(tmp_path / "evil.pt"), input_size=SIZE)
    assert not target.exists()
