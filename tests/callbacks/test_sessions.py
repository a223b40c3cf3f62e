"""Many sessions at once against one app: each sees only its own image, layer and channel.

Every thread drives the real Dash endpoint through its own ``DashHTTP`` (one Flask test
client each, one shared app) and checks the raw activations in its responses against a
direct torch computation: ``F.conv2d`` on the layer's input, taken from a private copy of
the model so that no test hook ever touches the app's shared modules.
"""

from __future__ import annotations

import base64
import copy
import io
import threading
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save as save_safetensors

from dashboard.app import create_app
from dashboard.config import Config
from dashboard.models import LoadedModel
from dashboard.samples import SAMPLES_DIR
from tests.callbacks.dash_http import DashHTTP
from tests.unit.figure_helpers import decode
from tests.wire import cell_data

MODEL, LAYER, IMAGE, CHANNEL, WEIGHTS = (
    "model-select.value",
    "layer-select.value",
    "image-store.data",
    "channel-store.data",
    "weights-store.data",
)
ROUNDS = 3


@dataclass(frozen=True)
class Plan:
    model: str
    layer: str
    channel: int
    image: str = "upload"  # "upload": a new image of its own each round; else a fixed key
    fmt: str = "PNG"
    weights: bool = False  # upload its own weights first (custom model)
    bad_upload: bool = False  # sends a bad upload between rounds 0 and 1


PLANS = [
    Plan("tinyvgg", "block1.0", 3),
    Plan("tinyvgg", "block2.2", 7, fmt="JPEG"),
    Plan("custom", "0", 1),
    Plan("custom", "0", 2, fmt="JPEG", bad_upload=True),
    Plan("tinyvgg", "block1.2", 5, image="sample:chelsea.png"),
    Plan("custom", "0", 3, image="sample:astronaut.png", weights=True),
    Plan("tinyvgg", "block2.0", 11, image="random"),
    Plan("tinyvgg", "block1.0", 15, fmt="JPEG"),
]


def data_url(payload: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode()}"


def session_image(seed: int, fmt: str) -> tuple[bytes, Image.Image]:
    """A distinct photo-like image as file bytes, and what those bytes decode to."""
    rng = np.random.default_rng(seed)
    w, h = (int(v) for v in rng.integers(48, 160, size=2))
    coarse = Image.fromarray((rng.random((5, 5, 3)) * 255).astype(np.uint8))
    pixels = np.asarray(coarse.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float64)
    pixels = np.clip(pixels + rng.normal(0, 12, pixels.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    with Image.open(io.BytesIO(buffer.getvalue())) as decoded:
        return buffer.getvalue(), decoded.convert("RGB")


class Reference:
    """One session's private copy of its model: layer inputs, then F.conv2d by hand."""

    def __init__(
        self, plan: Plan, loaded: LoadedModel, state: dict[str, torch.Tensor] | None
    ) -> None:
        self.loaded = loaded
        self.module = copy.deepcopy(self.loaded.module)
        if state is not None:
            self.module.load_state_dict(state)
        self.conv = self.module.get_submodule(plan.layer)

    def maps(self, image: Image.Image | None) -> np.ndarray:
        x = self.loaded.default_input() if image is None else self.loaded.preprocess(image)
        seen: list[torch.Tensor] = []
        handle = self.conv.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
        try:
            with torch.no_grad():
                self.module(x)
        finally:
            handle.remove()
        c = self.conv
        with torch.no_grad():
            out = F.conv2d(seen[0], c.weight, c.bias, c.stride, c.padding, c.dilation, c.groups)
        return out[0].numpy()


def check_feature_grid(figure: dict, want: np.ndarray) -> None:
    meta = figure["layout"]["meta"]
    assert meta["factor"] == 1 and meta["channels"] == want.shape[0]
    nrows, ncols, th, tw = meta["nrows"], meta["ncols"], meta["tile_h"], meta["tile_w"]
    cells = cell_data(figure["data"][0]).reshape(nrows, th, ncols, tw, 4)
    tiles = cells.transpose(0, 2, 1, 3, 4).reshape(-1, th, tw, 4)[: want.shape[0]]
    np.testing.assert_allclose(tiles[..., 0], want, rtol=1e-5, atol=1e-5)
    assert np.array_equal(tiles[:, 0, 0, 1], np.arange(want.shape[0]))


def run_session(http: DashHTTP, plan: Plan, index: int, barrier: threading.Barrier) -> None:
    state = None
    values = {MODEL: plan.model, "scale-select.value": "tile", "kernel-view.value": "grid"}
    values.update({CHANNEL: 0, WEIGHTS: None, "sample-select.options": []})
    if plan.weights:
        gen = torch.Generator().manual_seed(100 + index)
        state = {
            "0.weight": torch.randn(4, 1, 3, 3, generator=gen),
            "0.bias": torch.randn(4, generator=gen),
        }
        payload = save_safetensors(state)
        values["weights-upload.contents"] = data_url(payload, "application/octet-stream")
        values["weights-upload.filename"] = f"session{index}.safetensors"
        out = http.call(WEIGHTS, values, ["weights-upload.contents"])
        values[WEIGHTS] = out[WEIGHTS]
    reference = Reference(plan, http.app.explorer.models.get(plan.model), state)
    out = http.call("layer-select.options", values, [MODEL])
    assert plan.layer in [o["value"] for o in out["layer-select.options"]]
    values[LAYER] = plan.layer
    for round_ in range(ROUNDS):
        barrier.wait(timeout=120)
        if plan.bad_upload and round_ == 1:
            bad = {**values, "image-upload.contents": data_url(b"%PDF-1.7", "application/pdf")}
            bad["image-upload.filename"] = "x.pdf"
            refused = http.call(IMAGE, bad, ["image-upload.contents"])
            assert set(refused) == {"upload-status.children"}
            assert "not an image" in refused["upload-status.children"]
        barrier.wait(timeout=120)
        image = None if plan.image == "random" else plan.image
        if plan.image == "upload":
            payload, image = session_image(1000 * index + round_, plan.fmt)
            values["image-upload.contents"] = data_url(payload, f"image/{plan.fmt.lower()}")
            values["image-upload.filename"] = f"s{index}-{round_}.{plan.fmt.lower()}"
            out = http.call(IMAGE, values, ["image-upload.contents"])
            values[IMAGE] = out[IMAGE]
        else:
            values[IMAGE] = plan.image
            if image is not None:
                with Image.open(SAMPLES_DIR / plan.image.removeprefix("sample:")) as sample:
                    image = sample.convert("RGB")
        want = reference.maps(image)
        features = http.call("feature-grid.figure", values, [IMAGE])
        assert features["status.children"] == ""
        check_feature_grid(features["feature-grid.figure"], want)
        kernels = http.call("kernel-grid.figure", values, ["kernel-view.value"])
        cells = decode(kernels["kernel-grid.figure"]["data"][0]["customdata"]).reshape(-1, 5)
        weight = reference.conv.weight.detach().numpy()
        for w, i, o, r, c in cells[cells[:, 2] >= 0]:
            assert w == weight[int(o), int(i), int(r), int(c)]
        raw = want[plan.channel, 0, 0]
        customdata = {"0": float(raw), "1": plan.channel, "2": 0, "3": 0}  # as Dash 4 sends it
        point = {"curveNumber": 0, "customdata": customdata}
        click = {"points": [{**point, "x": 0, "y": 0}]}
        values["feature-grid.clickData"] = click
        selected = http.call(CHANNEL, values, ["feature-grid.clickData"])
        assert selected[CHANNEL] == plan.channel
        values[CHANNEL] = plan.channel
        detail = http.call("feature-detail.figure", values, [CHANNEL])["feature-detail.figure"]
        title = detail["layout"]["title"]["text"]
        assert title.startswith(f"{plan.layer} · channel {plan.channel} ·"), title
        np.testing.assert_allclose(decode(detail["data"][0]["z"]), want[plan.channel], atol=1e-5)


@pytest.mark.parametrize("count", [2, len(PLANS)])
def test_cs01_sessions_in_threads_see_only_their_own_views(count: int) -> None:
    app = create_app(Config(cache_mb=64, request_timeout_s=120))
    plans = PLANS[:count] if count > 2 else [PLANS[0], PLANS[2]]
    barrier = threading.Barrier(len(plans))
    failures: list[BaseException] = []

    def target(index: int, plan: Plan) -> None:
        try:
            run_session(DashHTTP(app), plan, index, barrier)
        except BaseException as exc:
            failures.append(exc)
            barrier.abort()

    threads = [
        threading.Thread(target=target, args=(i, plan), name=f"session-{i}")
        for i, plan in enumerate(plans)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    real = [f for f in failures if not isinstance(f, threading.BrokenBarrierError)]
    if real or failures:
        raise (real or failures)[0]
    health = app.server.test_client().get("/healthz").get_json()
    assert health["forward_hooks"] == 0
    assert health["activation_cache_bytes"] <= health["activation_cache_budget"]
