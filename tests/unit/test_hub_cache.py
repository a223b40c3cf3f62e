"""Pretrained weights: hub cache lookup, our own download (faked), fallbacks with notices."""

from __future__ import annotations

import hashlib
import io
import threading
import time
import urllib.error
from pathlib import Path

import pytest
import torch
from torch import nn
from torchvision.models import GoogLeNet, get_model_weights

from dashboard.models import hub_cache, zoo
from dashboard.models.hub_cache import download_status, fetch, hub_checkpoint

torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def torch_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


class FakeResponse(io.BytesIO):
    """What urlopen returns: a readable body with headers, usable as a context manager."""

    def __init__(self, data: bytes, on_read=None) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        if self._on_read is not None:
            self._on_read()
        return super().read(size)


def _tiny_architecture(name: str, *, pretrained: bool = False) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 2, 3))


def test_ws01_hub_checkpoint_honours_torch_home(torch_home) -> None:
    url = get_model_weights("vgg16").DEFAULT.url
    assert hub_checkpoint(url) == torch_home / "hub" / "checkpoints" / "vgg16-397923af.pth"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (urllib.error.URLError(OSError(101, "Network is unreachable")), "network unreachable"),
        (urllib.error.URLError(TimeoutError("timed out")), "the connection timed out"),
        (TimeoutError("timed out"), "the connection timed out"),
        (ConnectionResetError(104, "reset"), "network unreachable"),
    ],
)
def test_ws02_failing_download_falls_back_fast(monkeypatch, error, reason) -> None:
    timeouts: list[float] = []

    def urlopen(url: str, timeout: float) -> FakeResponse:
        timeouts.append(timeout)
        raise error

    monkeypatch.setattr(hub_cache.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(zoo, "architecture", _tiny_architecture)
    loaded = zoo.build_zoo("vgg16", allow_download=True)
    assert timeouts and timeouts[0] <= 10  # a bounded wait, asked of the connection
    assert loaded.key == "vgg16:random" and loaded.weights == "random (seed 0)"
    assert loaded.notice == (
        f"Could not download the ImageNet weights for VGG16 ({reason}): showing random weights."
    )
    assert download_status("vgg16") is None
    checkpoints = hub_checkpoint(get_model_weights("vgg16").DEFAULT.url).parent
    assert list(checkpoints.iterdir()) == []  # no partial file left behind
    assert not loaded.upgradable(True)  # a failed download is not retried on every request


def test_ws03_offline_notice_when_downloads_are_off(monkeypatch) -> None:
    def urlopen(*args, **kwargs):
        raise AssertionError("must not touch the network")

    monkeypatch.setattr(hub_cache.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(zoo, "architecture", _tiny_architecture)
    loaded = zoo.build_zoo("vgg16")
    assert loaded.notice == (
        "ImageNet weights for VGG16 are not in the local cache (TORCH_HOME) and downloads are "
        "off (set CONVSCOPE_ALLOW_DOWNLOAD=1): showing random weights."
    )
    assert loaded.upgradable(True) and not loaded.upgradable(False)


def _save_checkpoint(name: str, state: dict[str, torch.Tensor]) -> Path:
    path = hub_checkpoint(get_model_weights(name).DEFAULT.url)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def test_ws04_cached_checkpoint_is_loaded() -> None:
    torch.manual_seed(3)
    state = zoo.architecture("squeezenet1_1").state_dict()
    _save_checkpoint("squeezenet1_1", state)
    loaded = zoo.build_zoo("squeezenet1_1")
    assert (loaded.key, loaded.weights, loaded.notice) == (
        "squeezenet1_1:IMAGENET1K_V1",
        "ImageNet IMAGENET1K_V1",
        None,
    )
    got = loaded.module.state_dict()
    assert got.keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(got[key], value), key
    assert not any(p.requires_grad for p in loaded.module.parameters())
    assert not any(t.is_meta for t in got.values())


@pytest.fixture
def no_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the dry-run forward: these tests are about loading weights."""
    monkeypatch.setattr(zoo, "conv_layers", lambda *args, **kwargs: [])


@pytest.mark.usefixtures("no_listing")
def test_ws05_googlenet_checkpoint_with_aux_heads_and_densenet_old_keys() -> None:
    torch.manual_seed(4)
    google = GoogLeNet(aux_logits=True, init_weights=False).state_dict()
    _save_checkpoint("googlenet", google)
    loaded = zoo.build_zoo("googlenet")
    assert loaded.notice is None and loaded.module.transform_input
    assert torch.equal(loaded.module.conv1.conv.weight, google["conv1.conv.weight"])
    assert loaded.module.aux1 is None

    # As in torchvision's file: old "norm.1" names and no BatchNorm batch counters.
    dense = zoo.architecture("densenet121").state_dict()
    old = {
        k.replace("denselayer1.norm1.", "denselayer1.norm.1."): v
        for k, v in dense.items()
        if not k.endswith("num_batches_tracked")
    }
    assert old.keys() != dense.keys()
    _save_checkpoint("densenet121", old)
    loaded = zoo.build_zoo("densenet121")
    assert loaded.notice is None
    key = "features.denseblock1.denselayer1.norm1.weight"
    assert torch.equal(loaded.module.state_dict()[key], dense[key])


@pytest.mark.usefixtures("no_listing")
def test_ws06_regnet_checkpoint_loads_without_meta_device() -> None:
    torch.manual_seed(6)
    state = zoo.architecture("regnet_y_400mf").state_dict()
    _save_checkpoint("regnet_y_400mf", state)
    loaded = zoo.build_zoo("regnet_y_400mf")
    assert loaded.weights.startswith("ImageNet") and loaded.notice is None
    assert torch.equal(loaded.module.stem[0].weight, state["stem.0.weight"])


def test_ws07_broken_cached_checkpoint_falls_back(monkeypatch) -> None:
    monkeypatch.setattr(zoo, "architecture", _tiny_architecture)
    path = hub_checkpoint(get_model_weights("alexnet").DEFAULT.url)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    loaded = zoo.build_zoo("alexnet")
    assert loaded.key == "alexnet:random"
    assert loaded.notice.startswith(
        "The cached ImageNet weights for AlexNet (alexnet-owt-7be5be79.pth) could not be used"
    )
    assert not loaded.upgradable(True)  # the same broken file is not re-read on every request
    path.write_bytes(b"a new file")
    assert loaded.upgradable(False)


def _fake_url(monkeypatch, data: bytes, on_read=None) -> list[str]:
    opened: list[str] = []

    def urlopen(url: str, timeout: float) -> FakeResponse:
        opened.append(url)
        return FakeResponse(data, on_read)

    monkeypatch.setattr(hub_cache.urllib.request, "urlopen", urlopen)
    return opened


def test_ws08_download_success_with_progress(monkeypatch) -> None:
    torch.manual_seed(8)
    state = zoo.architecture("squeezenet1_1").state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    seen: list[tuple[int, int | None] | None] = []
    _fake_url(monkeypatch, data, on_read=lambda: seen.append(download_status("squeezenet1_1")))
    monkeypatch.setattr(hub_cache, "CHUNK_BYTES", 1 << 16)
    monkeypatch.setattr(hub_cache, "_hash_prefix", lambda name: None)
    loaded = zoo.build_zoo("squeezenet1_1", allow_download=True)
    assert loaded.notice is None and loaded.weights == "ImageNet IMAGENET1K_V1"
    assert torch.equal(loaded.module.features[0].weight, state["features.0.weight"])
    assert seen[0] == (0, None)
    assert seen[2] == (2 << 16, len(data))
    assert download_status("squeezenet1_1") is None


def test_ws09_bad_checksum_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(zoo, "architecture", _tiny_architecture)
    _fake_url(monkeypatch, b"tampered")
    loaded = zoo.build_zoo("alexnet", allow_download=True)
    assert loaded.notice == (
        "Could not download the ImageNet weights for AlexNet (the downloaded "
        "alexnet-owt-7be5be79.pth does not match its checksum): showing random weights."
    )
    assert list(hub_checkpoint("http://x/alexnet-owt-7be5be79.pth").parent.iterdir()) == []


def test_ws10_fetch_checks_hash_prefix_and_downloads_once(monkeypatch, tmp_path) -> None:
    data = b"weights" * 1000
    prefix = hashlib.sha256(data).hexdigest()[:8]
    release = threading.Event()
    opened = _fake_url(monkeypatch, data, on_read=lambda: release.wait(5))
    dest = tmp_path / f"model-{prefix}.pth"
    done: list[Path] = []
    threads = [
        threading.Thread(target=lambda: done.append(fetch("http://x/m.pth", dest)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    assert not dest.exists()  # still streaming into a temporary file
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert opened == ["http://x/m.pth"]
    assert done == [dest, dest] and dest.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == [dest.name]
