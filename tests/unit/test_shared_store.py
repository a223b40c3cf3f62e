"""The shared store against a real redis-server: bytes, TTLs, uploads, and Redis down."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save as save_safetensors

from dashboard.config import Config
from dashboard.errors import SharedStoreError, WeightsError
from dashboard.images import ImageError
from dashboard.models import ModelRegistry
from dashboard.samples import MSG_NO_LONGER_HELD, ImageStore
from dashboard.shared import KEY_PREFIX, SharedStore
from tests.redis_server import RedisServer
from tests.wire.server import free_port

DOWN = "The server's shared store (Redis) is not answering; please try again in a moment."
HOUR = 3600


def store(server: RedisServer, ttl_s: int = HOUR, cap: int = 2**20) -> SharedStore:
    return SharedStore(server.url, ttl_s, cap)


def picture(seed: int, mode: str = "RGB", size: tuple[int, int] = (97, 61)) -> Image.Image:
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def test_sh01_bytes_round_trip_with_a_ttl_refreshed_on_read(redis_server) -> None:
    shared = store(redis_server)
    value = bytes(range(256)) * 4096 + b"\0\n\r"  # every byte value, 1 MB
    shared.put("k", value)
    assert shared.get("k") == value
    raw = redis_server.client()
    assert HOUR - 5 <= raw.ttl(KEY_PREFIX + "k") <= HOUR
    raw.expire(KEY_PREFIX + "k", 10)
    assert shared.get("k") == value
    assert raw.ttl(KEY_PREFIX + "k") > 10  # the read gave it its full TTL again
    raw.expire(KEY_PREFIX + "k", 10)
    shared.touch("k")
    assert raw.ttl(KEY_PREFIX + "k") > 10
    assert shared.get("missing") is None
    assert shared.ping()


def test_sh02_the_ttl_expires_entries(redis_server) -> None:
    shared = store(redis_server, ttl_s=1)
    shared.put("short", b"x")
    time.sleep(2.2)
    assert shared.get("short") is None


@pytest.mark.parametrize("how", ["stopped", "never started"])
def test_sh03_redis_down_is_one_sentence_quickly(redis_server, how) -> None:
    shared = (
        store(redis_server)
        if how == "stopped"
        else SharedStore(f"redis://127.0.0.1:{free_port()}/0", HOUR, 2**20)
    )
    if how == "stopped":
        shared.put("k", b"v")  # a pooled connection that the stop then breaks
        redis_server.stop()
    start = time.monotonic()
    for call in (lambda: shared.put("k", b"v"), lambda: shared.get("k")):
        with pytest.raises(SharedStoreError) as caught:
            call()
        assert str(caught.value) == DOWN and caught.value.__cause__ is None
    shared.touch("k")  # only logged
    assert shared.ping() is False
    assert time.monotonic() - start < 5


def test_sh04_memory_budget_set_when_allowed_and_skipped_when_refused(
    redis_server, tmp_path, caplog
) -> None:
    config = Config(redis_url=redis_server.url, redis_memory_mb=64)
    SharedStore.from_config(config)
    settings = redis_server.client().config_get("maxmemory*")
    assert settings["maxmemory"] == str(64 * 2**20)
    assert settings["maxmemory-policy"] == "volatile-lru"
    assert SharedStore.from_config(Config()) is None
    locked = RedisServer(tmp_path / "locked.log", extra_args=("--rename-command", "CONFIG", ""))
    locked.start()
    try:
        with caplog.at_level(logging.INFO, logger="dashboard.shared"):
            shared = SharedStore.from_config(Config(redis_url=locked.url))
        assert "refused CONFIG SET" in caplog.text
        shared.put("k", b"v")  # the store works all the same
        assert shared.get("k") == b"v"
    finally:
        locked.stop()


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_sh05_an_upload_on_one_store_is_served_by_another(redis_server, mode) -> None:
    shared = store(redis_server)
    first, second = ImageStore(shared=shared), ImageStore(shared=store(redis_server))
    image = picture(1, mode)
    key = first.add_upload(image, "session-a")
    assert key.startswith("upload:") and len(key) == len("upload:") + 64
    raw = redis_server.client()
    assert HOUR - 5 <= raw.ttl(KEY_PREFIX + "image:" + key.removeprefix("upload:")) <= HOUR
    got = second.get(key)
    assert got.mode == mode and np.array_equal(np.asarray(got), np.asarray(image))
    redis_server.client().flushall()  # now held here: served without Redis's copy
    assert np.array_equal(np.asarray(second.get(key)), np.asarray(image))
    with pytest.raises(ImageError, match="no longer held"):
        ImageStore(shared=shared).get(key)


def test_sh06_an_upload_the_store_cannot_take_or_does_not_hold(redis_server) -> None:
    images = ImageStore(shared=store(redis_server, cap=10_000))
    with pytest.raises(ImageError, match="too large for the server to keep"):
        images.add_upload(picture(2, size=(200, 200)), "s")  # noise: ~120 KB of PNG
    assert redis_server.client().dbsize() == 0
    with pytest.raises(ImageError) as caught:
        images.get("upload:" + "0" * 64)
    assert caught.value.message == MSG_NO_LONGER_HELD
    other = images.add_upload(picture(3, size=(8, 8)), "s")
    redis_server.client().set(
        KEY_PREFIX + "image:" + "1" * 64,
        redis_server.client().get(KEY_PREFIX + "image:" + other.removeprefix("upload:")),
    )
    with pytest.raises(ImageError, match="no longer held"):  # pixels of another digest
        ImageStore(shared=store(redis_server)).get("upload:" + "1" * 64)


def test_sh07_upload_and_get_with_redis_down_say_so(redis_server) -> None:
    images = ImageStore(shared=store(redis_server))
    held = images.add_upload(picture(4), "s")
    redis_server.stop()
    with pytest.raises(SharedStoreError, match="not answering"):
        images.add_upload(picture(5), "s")
    with pytest.raises(SharedStoreError, match="not answering"):
        ImageStore(shared=store(redis_server)).get(held)
    assert images.get(held) is not None  # what this process holds is still served


def custom_weights(seed: int) -> tuple[dict[str, torch.Tensor], bytes]:
    gen = torch.Generator().manual_seed(seed)
    state = {"0.weight": torch.randn(4, 1, 3, 3, generator=gen), "0.bias": torch.randn(4)}
    return state, save_safetensors(state)


def test_sh08_uploaded_weights_are_rebuilt_by_another_registry(redis_server) -> None:
    first = ModelRegistry(shared=store(redis_server, cap=2**20))
    second = ModelRegistry(shared=store(redis_server, cap=2**20))
    state, payload = custom_weights(7)
    key = first.with_uploaded_weights("custom", payload, "mine.safetensors").key
    stored = redis_server.client().get(KEY_PREFIX + "weights:" + key)
    assert stored is not None and stored.endswith(payload)
    rebuilt = second.uploaded(key)
    assert rebuilt.key == key and "mine.safetensors" in str(rebuilt.weights)
    conv = rebuilt.module.get_submodule("0")
    assert torch.equal(conv.weight, state["0.weight"]) and torch.equal(conv.bias, state["0.bias"])
    with pytest.raises(WeightsError, match="no longer held"):
        second.uploaded("custom:upload:" + "0" * 16)
    with pytest.raises(WeightsError, match="no longer held"):  # without Redis, as before
        ModelRegistry().uploaded(key)
    redis_server.stop()
    with pytest.raises(SharedStoreError, match="not answering"):
        ModelRegistry(shared=store(redis_server)).uploaded(key)


def test_sh09_weights_over_the_cap_are_refused_before_loading(redis_server) -> None:
    registry = ModelRegistry(shared=store(redis_server, cap=100))
    _state, payload = custom_weights(8)
    with pytest.raises(WeightsError, match="larger than the server can share"):
        registry.with_uploaded_weights("custom", payload, "big.safetensors")
    assert redis_server.client().dbsize() == 0


def test_sh10_put_once_the_first_value_wins_and_has_no_ttl(redis_server) -> None:
    first, second = store(redis_server), store(redis_server)
    assert first.put_once("once", b"a") == b"a"
    assert second.put_once("once", b"b") == b"a"  # the second writer reads the first value
    assert redis_server.client().ttl(KEY_PREFIX + "once") == -1  # never expires
    redis_server.stop()
    with pytest.raises(SharedStoreError) as caught:
        first.put_once("once", b"c")
    assert str(caught.value) == DOWN
