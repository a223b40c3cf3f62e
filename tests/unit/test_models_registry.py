"""Model names and the process-wide cache: order, errors, single-flight builds, LRU, staleness."""

from __future__ import annotations

import threading
import time

import pytest
import torch
from torch import nn

from dashboard.models import available_models, get_model, registry
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
def cache(monkeypatch: pytest.MonkeyPatch) -> registry.ModelCache:
    fresh = registry.ModelCache(maxsize=3)
    monkeypatch.setattr(registry, "CACHE", fresh)
    monkeypatch.setattr(registry, "_user_model", None)
    return fresh


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


def test_reg01_available_models_order_and_labels(cache) -> None:
    models = available_models()
    names = [name for name, _label in models]
    assert names == ["tinyvgg", "custom", *ZOO_ORDER]
    labels = dict(models)
    assert labels["tinyvgg"] == "TinyVGG"
    assert labels["custom"] == "Custom conv 1→4 3×3"
    assert labels["vgg16"] == "VGG16"
    assert labels["resnet18"] == "ResNet-18"
    assert names[0] == registry.DEFAULT_MODEL == registry.default_model() == "tinyvgg"


def test_reg02_unknown_name_lists_the_choices(cache) -> None:
    with pytest.raises(ValueError, match=r"^Unknown model 'x'\. Choose one of: tinyvgg, custom, "):
        get_model("x")
    with pytest.raises(ValueError, match="Unknown model 'user'"):
        get_model("user")


def test_reg03_eight_threads_build_once(cache, monkeypatch) -> None:
    builds: list[int] = []

    def slow_build(*, allow_download: bool = False) -> LoadedModel:
        builds.append(1)
        time.sleep(0.2)
        return _tiny("fake")

    monkeypatch.setitem(registry.SPECS, "fake", ("Fake", slow_build))
    barrier = threading.Barrier(8)
    results: list[LoadedModel] = []

    def worker() -> None:
        barrier.wait()
        results.append(get_model("fake"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(builds) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert cache._key_locks == {}
    assert get_model("fake") is results[0]


def test_reg04_failed_build_raises_to_every_caller_and_is_retried(cache, monkeypatch) -> None:
    calls: list[int] = []

    def broken(*, allow_download: bool = False) -> LoadedModel:
        calls.append(1)
        raise RuntimeError("boom")

    monkeypatch.setitem(registry.SPECS, "broken", ("Broken", broken))
    for _ in range(2):
        with pytest.raises(RuntimeError, match="boom"):
            get_model("broken")
    assert len(calls) == 2
    assert cache._key_locks == {}


def test_reg05_lru_keeps_maxsize_models(cache, monkeypatch) -> None:
    for name in "abcd":
        monkeypatch.setitem(
            registry.SPECS, name, (name, lambda *, allow_download=False, n=name: _tiny(n))
        )
    first = get_model("a")
    for name in "bcd":
        get_model(name)
    assert cache.cached_keys() == ["b", "c", "d"]
    assert get_model("a") is not first


def test_reg06_fallback_is_rebuilt_once_real_weights_appear(cache, monkeypatch, tmp_path) -> None:
    marker = tmp_path / "weights.pth"
    tried: list[bool] = []

    def build(*, allow_download: bool = False) -> LoadedModel:
        tried.append(allow_download)
        model = _tiny("fb", key="fb:real" if marker.exists() else "fb:random")
        if not marker.exists():
            model.upgradable = lambda allow: marker.exists() or (allow and not allow_download)
        return model

    monkeypatch.setitem(registry.SPECS, "fb", ("Fallback", build))
    assert get_model("fb").key == "fb:random"
    assert get_model("fb").key == "fb:random"
    assert tried == [False]
    assert get_model("fb", allow_download=True).key == "fb:random"  # retried with download
    assert get_model("fb", allow_download=True).key == "fb:random"  # failed: not retried again
    assert tried == [False, True]
    marker.write_bytes(b"x")
    assert get_model("fb").key == "fb:real"
    assert tried == [False, True, False]


def test_reg07_env_sets_cache_size(monkeypatch) -> None:
    monkeypatch.setenv("CONVSCOPE_MODEL_CACHE", "5")
    assert registry._maxsize_from_env() == 5
    monkeypatch.setenv("CONVSCOPE_MODEL_CACHE", "lots")
    assert registry._maxsize_from_env() == 4
    monkeypatch.delenv("CONVSCOPE_MODEL_CACHE")
    assert registry._maxsize_from_env() == 4


def test_reg08_get_model_custom_and_user_registration(cache) -> None:
    custom = get_model("custom")
    assert get_model("custom") is custom
    registry.register_user_model(_tiny("mine", key="user:tests.fixtures:mine"))
    assert available_models()[0] == ("user", "MINE")
    assert registry.default_model() == "user"
    user = get_model("user")
    assert (user.name, user.key) == ("user", "user:tests.fixtures:mine")
    registry.clear_cache()
    assert cache.cached_keys() == []
    assert get_model("user") is user


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

    from dashboard.models import get_model, with_uploaded_weights

    base = get_model("custom")
    conv = base.module.get_submodule("0")
    handle = conv.register_forward_hook(lambda *_: None)  # as if a capture were running
    try:
        state = {k: v.clone() + 1 for k, v in base.module.state_dict().items()}
        uploaded = with_uploaded_weights("custom", save(state), "plus-one.safetensors")
    finally:
        handle.remove()
    assert all(not m._forward_hooks for m in uploaded.module.modules())
    assert torch.equal(uploaded.module.get_submodule("0").weight, state["0.weight"])
