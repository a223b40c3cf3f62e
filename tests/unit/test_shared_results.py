"""Computed results shared between processes through a real redis-server: activations one
key per layer, explained units as records; Redis down, over-cap and forged entries computed
here instead; without a shared store nothing touches Redis."""

from __future__ import annotations

import copy
import dataclasses
import logging

import numpy as np
import pytest
import torch
from PIL import Image

from dashboard.config import Config
from dashboard.explaining import Explainer
from dashboard.explorer import Explorer
from dashboard.images import ImageError
from dashboard.models import ModelRegistry
from dashboard.records import array_bytes
from dashboard.results import layer_key
from dashboard.samples import ImageStore, mirror_key
from dashboard.shared import KEY_PREFIX, SharedStore
from dashboard.views import View
from tests.callbacks.reference import conv_output

IMAGE = "sample:chelsea.png"
HOUR = 3600
CONFIG = Config(cache_mb=64, request_timeout_s=120)


@pytest.fixture
def process():
    """Makes one web process's Explorer: its own models, images and caches, Redis in common
    (``process(url, cap)``); their connections closed after the test."""
    stores: list[SharedStore] = []

    def make(redis_url: str | None, cap: int = 2**30, config: Config = CONFIG) -> Explorer:
        shared = None if redis_url is None else SharedStore(redis_url, HOUR, cap)
        stores.extend([shared] if shared else [])
        return Explorer(config, ModelRegistry(), ImageStore(shared=shared), shared)

    yield make
    for store in stores:
        store.client.close()


def calls(explorer: Explorer, name: str = "tinyvgg") -> list[int]:
    """A list that grows by one on every forward pass of ``explorer``'s model ``name``."""
    seen: list[int] = []
    explorer.model(name).module.register_forward_pre_hook(lambda *_: seen.append(1))
    return seen


def reference(explorer: Explorer, layer: str, image: str = IMAGE, name: str = "tinyvgg"):
    model = explorer.model(name)
    return conv_output(model.module, layer, explorer.input_tensor(model, image))


def layers(explorer: Explorer, name: str = "tinyvgg") -> list[str]:
    return [c.name for c in explorer.model(name).conv_layers]


def test_sr01_a_second_process_serves_every_layer_without_a_pass(process, redis_server) -> None:
    a, b = process(redis_server.url), process(redis_server.url)
    a.maps(View("tinyvgg", "block1.0", IMAGE))
    assert a.forward_passes == 1
    passes = calls(b)
    for n, layer in enumerate(layers(b), start=1):
        _model, _layer, maps, _view = b.maps(View("tinyvgg", layer, IMAGE))
        np.testing.assert_array_equal(maps, reference(a, layer))
        # one layer read, only its bytes held here
        assert b.results.counts()["hits"] == n
        assert b.activations.used == sum(reference(a, name).nbytes for name in layers(b)[:n])
    assert b.forward_passes == 0 and passes == []
    assert b.health()["shared_hits"] == len(layers(b)) and b.health()["forward_passes"] == 0
    b.maps(View("tinyvgg", "block1.0", IMAGE))  # read once, then held
    assert b.results.counts()["hits"] == len(layers(b))


def test_sr02_mirror_and_upload_keys_are_the_same_in_every_process(process, redis_server) -> None:
    a, b = process(redis_server.url), process(redis_server.url)
    rng = np.random.default_rng(3)
    from PIL import Image

    picture = Image.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=np.uint8), "RGB")
    upload = a.add_upload(picture, "s1")
    assert b.add_upload(picture, "s2") == upload  # the pixel digest names it
    for image in (upload, mirror_key(IMAGE)):
        a.maps(View("tinyvgg", "block2.0", image))
        _m, _l, maps, _v = b.maps(View("tinyvgg", "block2.0", image))
        np.testing.assert_array_equal(maps, reference(b, "block2.0", image))
    assert a.forward_passes == 2 and b.forward_passes == 0


def test_sr03_outputs_ready_then_a_worker_pass_is_read(process, redis_server) -> None:
    web, worker = process(redis_server.url), process(redis_server.url)
    model = web.model("tinyvgg")
    assert not web.outputs_ready(model.key, IMAGE)
    assert not worker.outputs_ready(model.key, IMAGE)  # not built there yet
    worker.layer_outputs(worker.model("tinyvgg"), IMAGE)  # what a Celery task runs
    assert web.outputs_ready(model.key, IMAGE)
    assert web.results.counts()["hits"] == 0  # an EXISTS: nothing transferred
    passes = calls(web)
    _m, _l, maps, _v = web.maps(View("tinyvgg", "block2.2", IMAGE))
    assert web.forward_passes == 0 and passes == []
    np.testing.assert_array_equal(maps, reference(web, "block2.2"))
    # one layer gone from Redis (evicted): not ready, and that layer is computed here
    redis_server.client().delete(KEY_PREFIX + layer_key(model.shared_key, IMAGE, "block1.2"))
    assert not web.outputs_ready(model.key, IMAGE)
    _m, _l, maps, _v = web.maps(View("tinyvgg", "block1.2", IMAGE))
    np.testing.assert_array_equal(maps, reference(web, "block1.2"))
    assert web.forward_passes == 1 and web.outputs_ready(model.key, IMAGE)


def test_sr04_predictions_do_not_rerun_a_pass_another_process_shared(process, redis_server) -> None:
    a, b = process(redis_server.url), process(redis_server.url)
    a.layer_outputs(a.model("tinyvgg"), IMAGE)
    shown = b.predictions(View("tinyvgg", "block1.0", IMAGE))
    assert shown == a.predictions(View("tinyvgg", "block1.0", IMAGE))
    assert b.forward_passes == 0  # only its own prediction pass ran
    assert b.health()["prediction_passes"] == 1


def test_sr05_an_explanation_computed_by_one_is_read_by_another(process, redis_server) -> None:
    a, b = process(redis_server.url), process(redis_server.url)
    view = View("tinyvgg", "block2.0", IMAGE, channel=5)
    first = Explainer(a, None).explanation_record(view, 4, 7)
    other = Explainer(b, None)
    passes = calls(b)
    second = other.explanation_record(view, 4, 7)
    assert passes == [] and other._inputs.stats.misses == 0  # no pass, no field measured
    assert b.forward_passes == 0
    assert b.results.counts()["hits"] == 2  # the layer's map and the unit's record
    for field in ("total", "shown", "bias", "channel", "row", "col", "layer"):
        assert getattr(second, field) == getattr(first, field)
    for field in ("terms", "input_channels", "patch", "kernel", "top_channels"):
        np.testing.assert_array_equal(getattr(second, field), getattr(first, field))
    assert second.measured_field == first.measured_field
    assert second.theoretical_field == first.theoretical_field
    want = reference(b, "block2.0")[5, 4, 7]
    assert abs(second.total - want) <= 1e-5 * max(1.0, abs(want))
    assert other.explain(view, 4, 7).sentences == Explainer(a, None).explain(view, 4, 7).sentences


def test_sr06_redis_down_midway_pages_are_computed_here(process, redis_server, caplog) -> None:
    a, b = process(redis_server.url), process(redis_server.url)
    a.maps(View("tinyvgg", "block1.0", IMAGE))
    model = b.model("tinyvgg")
    redis_server.stop()
    with caplog.at_level(logging.WARNING):
        _m, _l, maps, _v = b.maps(View("tinyvgg", "block2.0", IMAGE))
        np.testing.assert_array_equal(maps, reference(b, "block2.0"))
        unit = Explainer(b, None).explanation_record(View("tinyvgg", "block2.0", IMAGE), 1, 2)
        assert not b.outputs_ready(model.key, "sample:coffee.png")
    assert b.forward_passes == 1
    assert abs(unit.total - reference(b, "block2.0")[0, 1, 2]) < 1e-4
    assert "not answering" in caplog.text
    assert b.health()["shared_down"] >= 3
    redis_server.start()  # back, empty: the next pass publishes again
    b.maps(View("tinyvgg", "block2.0", "sample:coffee.png"))
    assert a.outputs_ready(model.key, "sample:coffee.png")


def test_sr07_a_layer_over_the_cap_is_not_stored_but_computed(process, redis_server) -> None:
    a = process(redis_server.url)
    sizes = {n: len(array_bytes(reference(a, n))) for n in layers(a)}
    cap = min(sizes.values())  # the smallest layers fit, the largest do not
    big = max(sizes, key=sizes.get)
    assert sizes[big] > cap
    a, b = process(redis_server.url, cap), process(redis_server.url, cap)
    a.maps(View("tinyvgg", big, IMAGE))
    raw = redis_server.client()
    model_key, shared = a.model("tinyvgg").key, a.model("tinyvgg").shared_key
    stored = {n for n in layers(a) if raw.exists(KEY_PREFIX + layer_key(shared, IMAGE, n))}
    assert stored == {n for n, size in sizes.items() if size <= cap} and big not in stored
    assert a.health()["shared_too_large"] == len(layers(a)) - len(stored)
    assert not b.outputs_ready(model_key, IMAGE)
    _m, _l, maps, _v = b.maps(View("tinyvgg", big, IMAGE))
    np.testing.assert_array_equal(maps, reference(b, big))
    assert b.forward_passes == 1


def test_sr08_a_forged_entry_is_not_trusted(process, redis_server, caplog) -> None:
    a, b = process(redis_server.url), process(redis_server.url)
    model_key = a.model("tinyvgg").shared_key
    key = KEY_PREFIX + layer_key(model_key, IMAGE, "block1.0")
    forged = np.empty(3, dtype=object)  # np.save would pickle it; np.load must refuse
    raw = redis_server.client()
    for value in (b"not an array", array_bytes(np.zeros((2, 3), np.float32)), _pickled(forged)):
        raw.set(key, value)
        with caplog.at_level(logging.WARNING):
            _m, _l, maps, _v = b.maps(View("tinyvgg", "block1.0", IMAGE))
        np.testing.assert_array_equal(maps, reference(b, "block1.0"))
        b.activations.clear()
    assert "could not be read" in caplog.text


def _pickled(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def test_sr09_without_a_shared_store_nothing_touches_redis(process, monkeypatch) -> None:
    import redis

    def refuse(*_args, **_kwargs):
        pytest.fail("Redis used without REDIS_URL")

    monkeypatch.setattr(redis.Redis, "from_url", refuse)
    monkeypatch.setattr(redis.Redis, "__init__", refuse)
    explorer = process(None)
    assert explorer.results is None and SharedStore.from_config(CONFIG) is None
    _m, _l, maps, _v = explorer.maps(View("tinyvgg", "block1.2", IMAGE))
    np.testing.assert_array_equal(maps, reference(explorer, "block1.2"))
    assert explorer.outputs_ready(explorer.model("tinyvgg").key, IMAGE)
    assert explorer.forward_passes == explorer.activations.stats.forward_passes == 1
    assert "shared_hits" not in explorer.health()
    Explainer(explorer, None).explain(View("tinyvgg", "block1.2", IMAGE), 0, 0)


def test_sr10_concurrent_readers_of_one_shared_layer_read_it_once(process, redis_server) -> None:
    import threading

    a, b = process(redis_server.url), process(redis_server.url)
    a.layer_outputs(a.model("tinyvgg"), IMAGE)
    model = b.model("tinyvgg")
    barrier = threading.Barrier(6)
    got: list[np.ndarray] = []

    def read() -> None:
        barrier.wait()
        got.append(b.layer_output(model, IMAGE, "block2.2"))

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 6 and all(g is got[0] for g in got)
    assert b.results.counts()["hits"] == 1 and b.forward_passes == 0
    assert torch.equal(torch.from_numpy(got[0]), torch.from_numpy(reference(b, "block2.2")))


def test_sr11_a_retrained_or_differently_preprocessed_model_never_reads_old_results(
    process, redis_server
) -> None:
    """Same key, other weights or preprocessing (a model retrained into a file of the same
    name, a new release): the shared results of the old one are not served."""
    a = process(redis_server.url)
    model = a.model("tinyvgg")
    a.maps(View("tinyvgg", "block1.0", IMAGE))
    retrained = dataclasses.replace(model, module=copy.deepcopy(model.module))
    with torch.no_grad():
        retrained.module.get_submodule("block1.0").weight.mul_(2.0)
    other_mean = dataclasses.replace(model, transform=None, mean=(0.1,) * len(model.mean))
    for changed in (retrained, other_mean):
        assert changed.key == model.key and changed.shared_key != model.shared_key
        b = process(redis_server.url)
        assert not b.results.ready(changed.shared_key, IMAGE, ["block1.0"])
        got = b.layer_output(changed, IMAGE, "block1.0")
        x = changed.preprocess(b.images.get(IMAGE))
        np.testing.assert_array_equal(got, conv_output(changed.module, "block1.0", x))
        assert b.forward_passes == 1  # its own pass, not the old model's outputs
    assert model.shared_key == a.model("tinyvgg").shared_key  # stable for one model


def test_sr12_results_stop_at_their_budget_and_never_push_out_an_upload(
    process, redis_server
) -> None:
    """Redis full to maxmemory: results over their budget are not written (computed again
    where needed), so the upload that no process could compute again is still there."""
    client = redis_server.client()
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory", used + 40 * 2**20)  # room for the biggest layer
    client.config_set("maxmemory-policy", "volatile-lru")
    budget = dataclasses.replace(CONFIG, redis_results_mb=max(1, (used + 2**20) // 2**20))
    a = process(redis_server.url, config=budget)
    image = Image.fromarray(np.random.default_rng(12).integers(0, 255, (900, 900, 3), np.uint8))
    key = a.add_upload(image, "s1")  # ~2.4 MB, fits maxmemory
    for name in ("vgg16",):  # about 52 MB of layers for one image: far over both
        a.layer_outputs(a.model(name), key)
    counts = a.health()
    assert counts["shared_over_budget"] > 0 and counts["shared_writes"] < 13
    b = process(redis_server.url, config=budget)
    assert b.images.get(key) is not None  # the upload is still shared
    unlimited = process(redis_server.url)  # the control: results without a budget
    unlimited.layer_outputs(unlimited.model("vgg16"), mirror_key(key))
    with pytest.raises(ImageError, match="no longer held"):  # pushed out by results
        process(redis_server.url).images.get(key)
