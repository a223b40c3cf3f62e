"""The ModelRegistry: order, errors, single-flight builds, LRU, staleness, the user model."""

from __future__ import annotations

import threading
import time

import pytest
import torch
from torch import nn

from dashboard.config import Config
from dashboard.errors import ModelError
from dashboard.models import ModelRegistry
from dashboard.models.layers import conv_layers
from dashboard.models.loaded import LoadedModel

torch.set_num_threads(2)

ZOO_ORDER = [
    "vgg16",
    "vgg11",
    "alexnet",
    "resnet18",
    "resnet50",
    "googlenet",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "squeezenet1_1",
    "efficientnet_b0",
    "densenet121",
    "convnext_tiny",
    "regnet_y_400mf",
]


@pytest.fixture
def reg() -> ModelRegistry:
    return ModelRegistry(cache_size=3)


def _tiny(name: str, key: str | None = None) -> LoadedModel:
    module = nn.Sequential(nn.Conv2d(1, 2, 3)).eval()
    return LoadedModel(
        key=key or f"{name}:random",
        name=name,
        label=name.upper(),
        module=module,
        conv_layers=conv_layers(module, (1, 8, 8)),
        input_channels=1,
        input_size=(8, 8),
        weights="random (seed 0)",
        notice=None,
    )


def test_reg01_available_models_order_and_labels(reg) -> None:
    models = reg.available()
    names = [name for name, _label in models]
    assert names == ["tinyvgg", "custom", *ZOO_ORDER]
    labels = dict(models)
    assert labels["tinyvgg"] == "TinyVGG"
    assert labels["custom"] == "Custom conv 1→4 3×3"
    assert labels["vgg16"] == "VGG16"
    assert labels["resnet18"] == "ResNet-18"
    assert names[0] == reg.default_name("tinyvgg") == "tinyvgg"
    assert reg.default_name("nonsense") == "tinyvgg"


def test_reg02_unknown_name_lists_the_choices(reg) -> None:
    with pytest.raises(
        ModelError, match=r"^There is no model called 'x'\. Choose one of: TinyVGG, "
    ):
        reg.get("x")
    with pytest.raises(ModelError, match="no model called 'user'"):
        reg.get("user")


def test_reg03_eight_threads_build_once(reg) -> None:
    builds: list[int] = []

    def slow_build(*, allow_download: bool = False) -> LoadedModel:
        builds.append(1)
        time.sleep(0.2)
        return _tiny("fake")

    reg.specs.__setitem__("fake", ("Fake", slow_build))
    barrier = threading.Barrier(8)
    results: list[LoadedModel] = []

    def worker() -> None:
        barrier.wait()
        results.append(reg.get("fake"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(builds) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert reg._models._pending == {}
    assert reg.get("fake") is results[0]


def test_reg04_failed_build_raises_to_every_caller_and_is_retried(reg) -> None:
    calls: list[int] = []

    def broken(*, allow_download: bool = False) -> LoadedModel:
        calls.append(1)
        raise RuntimeError("boom")

    reg.specs.__setitem__("broken", ("Broken", broken))
    for _ in range(2):
        with pytest.raises(RuntimeError, match="boom"):
            reg.get("broken")
    assert len(calls) == 2
    assert reg._models._pending == {}


def test_reg05_lru_keeps_maxsize_models(reg) -> None:
    for name in "abcd":
        reg.specs.__setitem__(name, (name, lambda *, allow_download=False, n=name: _tiny(n)))
    first = reg.get("a")
    for name in "bcd":
        reg.get(name)
    assert reg._models.keys() == ["b", "c", "d"]
    assert reg.get("a") is not first


def test_reg06_fallback_is_rebuilt_once_real_weights_appear(reg, tmp_path) -> None:
    marker = tmp_path / "weights.pth"
    tried: list[bool] = []

    def build(*, allow_download: bool = False) -> LoadedModel:
        tried.append(allow_download)
        model = _tiny("fb", key="fb:real" if marker.exists() else "fb:random")
        if not marker.exists():
            model.upgradable = lambda allow: marker.exists() or (allow and not allow_download)
        return model

    reg.specs.__setitem__("fb", ("Fallback", build))
    assert reg.get("fb").key == "fb:random"
    assert reg.get("fb").key == "fb:random"
    assert tried == [False]
    reg.allow_download = True
    assert reg.get("fb").key == "fb:random"  # retried with download
    assert reg.get("fb").key == "fb:random"  # failed: not retried again
    assert tried == [False, True]
    reg.allow_download = False
    marker.write_bytes(b"x")
    assert reg.get("fb").key == "fb:real"
    assert tried == [False, True, False]


def test_reg07_config_sets_cache_size() -> None:
    from dashboard.app import build_registry
    from dashboard.config import config_from_env

    config = config_from_env({"CONVSCOPE_MODEL_CACHE": "5"})
    assert config.model_cache == 5
    assert build_registry(config)._models.budget == 5
    with pytest.raises(ValueError, match="CONVSCOPE_MODEL_CACHE='lots'"):
        config_from_env({"CONVSCOPE_MODEL_CACHE": "lots"})
    assert build_registry(Config())._models.budget == 4


def test_reg08_get_model_custom_and_user_registration() -> None:
    reg = ModelRegistry(cache_size=3, user_model=_tiny("mine", key="user:tests.fixtures:mine"))
    custom = reg.get("custom")
    assert reg.get("custom") is custom
    assert reg.available()[0] == ("user", "MINE")
    assert reg.default_name("tinyvgg") == "user"
    user = reg.get("user")
    assert (user.name, user.key) == ("user", "user:tests.fixtures:mine")
    reg.clear()
    assert reg._models.keys() == []
    assert reg.get("user") is user


def test_reg09_registries_are_independent() -> None:
    """Two apps in one process share nothing: no module globals hold models."""
    first, second = ModelRegistry(), ModelRegistry()
    assert first.get("custom") is not second.get("custom")
    first.specs["only-here"] = ("Only here", lambda *, allow_download=False: _tiny("x"))
    assert "only-here" not in second.names


def test_reg_race01_custom_kernels_survive_a_concurrent_trained_load(tmp_path) -> None:
    """Loading TinyVGG in one thread must not shift the seeded custom kernels in another."""
    import threading

    from safetensors.torch import save_file

    from dashboard.models import presets, tinyvgg
    from dashboard.models.seeding import seeded

    path = tmp_path / "tinyvgg.safetensors"
    save_file(seeded(tinyvgg.TinyVGG, seed=1).state_dict(), str(path))
    want = seeded(presets.custom_module)[0].weight.detach().clone()
    stop = threading.Event()

    def load_repeatedly() -> None:
        while not stop.is_set():
            tinyvgg.load_trained(path)

    loader = threading.Thread(target=load_repeatedly)
    loader.start()
    try:
        built = [seeded(presets.custom_module)[0].weight.detach() for _ in range(300)]
    finally:
        stop.set()
        loader.join()
    assert all(torch.equal(w, want) for w in built)


def test_reg_hooks01_uploaded_copy_never_inherits_a_live_capture_hook() -> None:
    from safetensors.torch import save

    reg = ModelRegistry()
    base = reg.get("custom")
    conv = base.module.get_submodule("0")
    handle = conv.register_forward_hook(lambda *_: None)  # as if a capture were running
    try:
        state = {k: v.clone() + 1 for k, v in base.module.state_dict().items()}
        uploaded = reg.with_uploaded_weights("custom", save(state), "plus-one.safetensors")
    finally:
        handle.remove()
    assert all(not m._forward_hooks for m in uploaded.module.modules())
    assert torch.equal(uploaded.module.get_submodule("0").weight, state["0.weight"])
