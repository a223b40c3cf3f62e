"""What a worker runs first for a big model (dashboard/preparing.py), without Celery.

The worker's job body runs here in-process with a faked download (no network) and a
dictionary standing in for Redis; the flows through Celery and a browser are in
tests/callbacks/test_prepare.py and tests/browser/test_prepare.py.
"""

from __future__ import annotations

import io
import time

import pytest
import torch

from dashboard.config import Config
from dashboard.errors import PreparingError
from dashboard.explorer import Explorer
from dashboard.models import ModelRegistry, hub_cache, zoo
from dashboard.preparing import MB, Preparer, weight_bytes
from dashboard.samples import RANDOM_KEY
from tests.unit.test_hub_cache import _fake_url, torch_home  # noqa: F401 - the fixture

torch.set_num_threads(2)


class DictStore:
    """The shared store's put/get/exists on a dict (TTL ignored)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def put(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        self.data[key] = value

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def exists(self, key: str) -> bool:
        return key in self.data

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def explorer(allow_download: bool | str = False) -> Explorer:
    registry = ModelRegistry(allow_download=allow_download, cache_size=2)
    return Explorer(Config(cache_mb=64), registry)


def test_pr01_weight_bytes_counts_parameters_and_buffers() -> None:
    model = explorer().model("tinyvgg")
    tensors = [*model.module.parameters(), *model.module.buffers()]
    assert weight_bytes(model) == sum(t.numel() * 4 for t in tensors) > 0


def test_pr02_a_claimed_first_pass_waits_for_the_worker_and_nothing_else_does() -> None:
    web, store = explorer(), DictStore()
    model = web.model("tinyvgg")
    size = weight_bytes(model) / MB
    big = Preparer(web, store, threshold_mb=size, on_worker=False)
    small = Preparer(web, store, threshold_mb=size * 1.01, on_worker=False)
    worker = Preparer(web, store, threshold_mb=0, on_worker=True)
    assert big.needs_worker(model, RANDOM_KEY)
    assert not small.needs_worker(model, RANDOM_KEY) and not worker.needs_worker(model, RANDOM_KEY)
    assert not small.claim(model, RANDOM_KEY)
    web.preparer = big
    big.check(model, RANDOM_KEY)  # not claimed (no job asked): it would run here
    assert big.claim(model, RANDOM_KEY)
    with pytest.raises(PreparingError, match="TinyVGG runs on a worker for this image first"):
        web.layer_outputs(model, RANDOM_KEY)
    assert web.forward_passes == 0
    # the worker's run, here on the same explorer (a worker never waits for itself)
    web.preparer = worker
    seen: list[tuple] = []
    done = worker.run("tinyvgg", None, RANDOM_KEY, lambda *a: seen.append(a))
    assert done["model"] == "tinyvgg" and done["key"] == model.key
    assert [text for text, *_ in seen] == ["Loading TinyVGG…", "Running TinyVGG on this image…"]
    web.preparer = big
    assert not big.needs_worker(model, RANDOM_KEY)  # held now, and a marker says it ran
    web.activations.clear()  # what it put in Redis evicted since: run here, never stuck
    assert big.finished("tinyvgg", RANDOM_KEY) and not big.claim(model, RANDOM_KEY)
    web.layer_outputs(model, RANDOM_KEY)
    assert web.forward_passes == 2  # the worker's pass (same explorer) and this one


def test_pr05_a_lost_job_releases_its_claim() -> None:
    web, store = explorer(), DictStore()
    model = web.model("tinyvgg")
    web.preparer = Preparer(web, store, threshold_mb=0, on_worker=False)
    assert web.preparer.claim(model, RANDOM_KEY)
    with pytest.raises(PreparingError):
        web.layer_outputs(model, RANDOM_KEY)
    web.preparer.release("tinyvgg", RANDOM_KEY)  # the page's answer to a lost worker
    web.layer_outputs(model, RANDOM_KEY)
    assert web.forward_passes == 1


def test_pr03_the_worker_downloads_missing_weights_and_relays_the_bytes(monkeypatch) -> None:
    torch.manual_seed(3)
    buffer = io.BytesIO()
    torch.save(zoo.architecture("squeezenet1_1").state_dict(), buffer)
    data = buffer.getvalue()
    opened = _fake_url(monkeypatch, data, on_read=lambda: time.sleep(0.15))
    monkeypatch.setattr(hub_cache, "CHUNK_BYTES", 1 << 19)  # ~10 reads of 0.15 s
    monkeypatch.setattr(hub_cache, "_hash_prefix", lambda name: None)
    on_worker = explorer(allow_download=True)
    seen: list[tuple] = []
    done = Preparer(on_worker, DictStore(), 0, on_worker=True).run(
        "squeezenet1_1", None, RANDOM_KEY, lambda *a: seen.append(a)
    )
    assert len(opened) == 1 and done["key"] == "squeezenet1_1:IMAGENET1K_V1"
    downloads = [(got, total) for text, got, total in seen if text.startswith("Downloading")]
    assert downloads and downloads[-1][1] == len(data) // MB
    assert [got for got, _total in downloads] == sorted(got for got, _total in downloads)
    assert seen[-1][0] == "Running SqueezeNet 1.1 on this image…"


def test_pr04_a_web_process_with_workers_never_downloads_and_says_who_does(monkeypatch) -> None:
    def urlopen(*args, **kwargs):
        raise AssertionError("a web process must not touch the network")

    monkeypatch.setattr(hub_cache.urllib.request, "urlopen", urlopen)
    loaded = zoo.build_zoo("squeezenet1_1", allow_download=zoo.ON_WORKER)
    assert loaded.key == "squeezenet1_1:random"
    assert str(loaded.notice).startswith("ImageNet weights for SqueezeNet 1.1 are not in this")
    assert "a worker downloads them" in str(loaded.notice)
    assert not loaded.upgradable(zoo.ON_WORKER)  # no rebuild on every request
    path = hub_cache.hub_checkpoint(zoo.get_model_weights("squeezenet1_1").DEFAULT.url)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(zoo.architecture("squeezenet1_1").state_dict(), path)
    assert loaded.upgradable(zoo.ON_WORKER)  # the worker's file appeared (a shared folder)
