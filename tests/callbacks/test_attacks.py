"""The outside attack's findings, replayed through the real Dash endpoint (issue 8)."""

from __future__ import annotations

import io
import threading
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from dashboard.app import create_app
from dashboard.capture.queue import MSG_PREVIOUS
from dashboard.config import Config
from dashboard.models import ModelRegistry, conv_layers
from dashboard.models.loaded import LoadedModel
from dashboard.views import View
from tests.wire import DashClient, Tab, data_url

MODEL, LAYER, IMAGE = "model-select.value", "layer-select.value", "image-store.data"


@pytest.fixture(scope="module")
def client(models) -> DashClient:
    return DashClient(create_app(Config(cache_mb=64, request_timeout_s=60), models=models))


def upload(tab: Tab, payload: bytes, name: str, mime: str = "image/png") -> dict:
    tab.set({"image-upload.contents": data_url(payload, mime), "image-upload.filename": name})
    return tab.fire("image-store.data", ["image-upload.contents"]).outputs


def feature_status(tab: Tab) -> str:
    tab.set({MODEL: "tinyvgg", LAYER: "block1.0"})
    return tab.fire("feature-grid.figure", [IMAGE]).outputs["status.children"]


def phone_photo() -> bytes:
    """A 6000×4000 JPEG like a phone's (a gradient with noise), about 1 MB."""
    rng = np.random.default_rng(0)
    y, x = np.ogrid[0:4000, 0:6000]
    pixels = np.empty((4000, 6000, 3), np.uint8)
    pixels[..., 0], pixels[..., 1], pixels[..., 2] = x * 255 // 6000, y * 255 // 4000, (x + y) % 256
    pixels += rng.integers(0, 8, pixels.shape, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


def test_atk01_a_24_megapixel_phone_photo_is_shown(client: DashClient) -> None:
    tab = Tab(client)
    out = upload(tab, phone_photo(), "IMG_0001.jpg", "image/jpeg")
    assert out["upload-status.children"] == ""
    label = out["sample-select.options"][0]["label"]
    assert label == "Uploaded: IMG_0001.jpg (6000×4000, downscaled to 1024×683)"
    assert feature_status(tab) == ""


def test_atk02_big_black_pngs_of_one_session_evict_nobody_else(client: DashClient) -> None:
    victim, attacker = Tab(client), Tab(client)
    mine = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(mine, format="PNG")
    assert upload(victim, mine.getvalue(), "mine.png")["upload-status.children"] == ""
    for index in range(12):  # 4700² black PNGs, ~100 KB each, 66 MB each when decoded
        buffer = io.BytesIO()
        Image.new("RGB", (4700, 4700), (index, 0, 0)).save(buffer, format="PNG")
        assert len(buffer.getvalue()) < 200_000
        assert (
            upload(attacker, buffer.getvalue(), f"black{index}.png")["upload-status.children"] == ""
        )
    assert feature_status(victim) == ""  # the victim's upload is still held


def test_atk03_a_zip_bomb_of_weights_is_refused_with_a_sentence(client: DashClient) -> None:
    plain = io.BytesIO()
    torch.save({"0.weight": torch.zeros(50_000_000), "0.bias": torch.zeros(4)}, plain)
    bomb = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item.filename))
    assert len(bomb.getvalue()) < 1_000_000  # 200 MB of zeros inside
    tab = Tab(client)
    tab.set(
        {
            MODEL: "custom",
            "weights-upload.contents": data_url(bomb.getvalue(), "application/octet-stream"),
            "weights-upload.filename": "bomb.pt",
        }
    )
    out = tab.fire("weights-store.data", ["weights-upload.contents"]).outputs
    assert "weights-store.data" not in out
    assert "bomb.pt" in out["weights-status.children"]
    assert "compressed" in out["weights-status.children"]


class Gated(nn.Module):
    """A one-conv model whose forward waits for a gate: passes stay pending on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.started.set()
        assert self.gate.wait(30)
        return self.conv(x)


def test_atk04_one_visitor_cannot_starve_another(config) -> None:
    module = Gated().eval()
    loaded = LoadedModel(
        key="gated:0",
        name="gated",
        label="Gated",
        module=module,
        conv_layers=conv_layers(module, (1, 8, 8)),
        input_channels=1,
        input_size=(8, 8),
        weights="random",
    )
    models = ModelRegistry(specs={"gated": ("Gated", lambda *, allow_download=False: loaded)})
    explorer = create_app(config, models=models).explorer
    images = {n: explorer.add_upload(Image.new("L", (8, 8), n), f"{n:032x}") for n in range(3)}
    benign = View("gated", "conv", images[0], session="b" * 32)
    explorer.feature_view(benign)  # the benign visitor's image is computed and cached

    module.started.clear()
    module.gate.clear()  # the flooding visitor's pass now hangs in forward()
    flood = View("gated", "conv", images[1], session="f" * 32)
    first = threading.Thread(target=lambda: explorer.feature_view(flood))
    first.start()
    assert module.started.wait(10)
    try:
        for _ in range(20):  # its next fresh images are refused at once
            with pytest.raises(Exception, match="Still working on your previous image"):
                explorer.feature_view(View("gated", "conv", images[2], session="f" * 32))
        # while that pass still runs, the other visitor's cached view is answered
        assert explorer.feature_view(benign).channel == 0
        assert explorer.queue.pending == 1 and explorer.queue.refused == 20
    finally:
        module.gate.set()
        first.join(30)
    assert MSG_PREVIOUS.startswith("Still working")
