"""User flows through the real Dash endpoint: values, linking, bad input, weights uploads."""

from __future__ import annotations

import base64
import io
import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save as save_safetensors

from dashboard.app import create_app
from dashboard.config import Config
from tests.callbacks.dash_http import DashHTTP
from tests.wire import cell_data

MODEL, LAYER, IMAGE, CHANNEL = (
    "model-select.value",
    "layer-select.value",
    "image-store.data",
    ("channel-store.data"),
)
WEIGHTS = "weights-store.data"


@pytest.fixture
def http(models) -> DashHTTP:
    return DashHTTP(create_app(Config(cache_mb=128, request_timeout_s=120), models=models))


def view(model: str, layer: str, image: str = "random", channel: int = 0, **extra) -> dict:
    return {
        MODEL: model,
        LAYER: layer,
        IMAGE: image,
        CHANNEL: channel,
        "scale-select.value": "tile",
        "kernel-view.value": "grid",
        **extra,
    }


def data_url(payload: bytes, mime: str = "application/octet-stream") -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode()}"


def customdata(figure: dict) -> np.ndarray:
    return cell_data(figure["data"][0])


def test_cb01_model_lists_layers_and_notice(http: DashHTTP) -> None:
    out = http.call("layer-select.options", {MODEL: "tinyvgg"}, [MODEL])
    assert [o["value"] for o in out["layer-select.options"]] == [
        "block1.0",
        "block1.2",
        "block2.0",
        "block2.2",
    ]
    assert out["layer-select.value"] == "block1.0" and out["model-notice.hidden"] is True
    out = http.call("layer-select.options", {MODEL: "vgg16"}, [MODEL])
    assert len(out["layer-select.options"]) == 13
    assert "random weights" in out["model-notice.children"]
    assert out["model-notice.hidden"] is False
    out = http.call("layer-select.options", {MODEL: "no-such-net"}, [MODEL])
    assert "sent a model choice that ConvScope cannot use" in out["model-notice.children"]


def test_cb02_feature_grid_holds_raw_activations(http: DashHTTP) -> None:
    out = http.call("feature-grid.figure", view("custom", "0"), [LAYER])
    model = http.app.explorer.models.get("custom")
    conv = model.module.get_submodule("0")
    with torch.no_grad():
        want = F.conv2d(model.default_input(), conv.weight, conv.bias, padding=1)[0].numpy()
    cells = customdata(out["feature-grid.figure"])  # [raw, channel, row, col]
    found = 0
    for raw, channel, row, col in cells.reshape(-1, 4):
        if channel >= 0:
            assert raw == pytest.approx(want[int(channel), int(row), int(col)], abs=1e-6)
            found += 1
    assert found == want.size
    assert out["status.children"] == ""


def test_cb03_kernel_grid_holds_raw_weights(http: DashHTTP) -> None:
    out = http.call("kernel-grid.figure", view("tinyvgg", "block1.2"), [LAYER])
    module = http.app.explorer.models.get("tinyvgg").module
    weight = module.get_submodule("block1.2").weight.detach().numpy()
    cells = customdata(out["kernel-grid.figure"]).reshape(-1, 5)  # [w, in, out, r, c]
    cells = cells[cells[:, 2] >= 0]  # gaps between bands carry -1
    for w, i, o, r, c in cells:
        assert w == weight[int(o), int(i), int(r), int(c)]
    assert len(cells) == weight.size


def click_kernel(channel: int) -> dict:
    # as Dash 4 delivers it: customdata as an object with string keys
    customdata = {"0": 0.1, "1": 0, "2": channel, "3": 1, "4": 1}
    return {"points": [{"curveNumber": 0, "customdata": customdata, "x": 21, "y": 1}]}


def patched_locations(patch: dict) -> list[list]:
    assert patch["__dash_patch_update"]
    return [op["location"] for op in patch["operations"]]


def test_cb04_click_selects_channel_and_patches_outlines(http: DashHTTP) -> None:
    state = view("tinyvgg", "block1.0", "sample:chelsea.png", channel=0)
    clicked = ["kernel-grid.clickData"]
    out = http.call("channel-store.data", {**state, clicked[0]: click_kernel(5)}, clicked)
    assert out["channel-store.data"] == 5
    # the grids get their outlines only; the detail and the channel's kernels come along
    assert patched_locations(out["feature-grid.figure"]) == [["layout", "shapes"]]
    assert patched_locations(out["kernel-grid.figure"]) == [["layout", "shapes"]]
    detail = out["feature-detail.figure"]
    assert "channel 5" in detail["layout"]["title"]["text"]
    assert [t["name"] for t in detail["data"]] == ["feature map", "input"]
    assert "out 5" in out["channel-kernels.figure"]["layout"]["title"]["text"]

    # the page draws that input now: the next click sends the map alone
    drawn = {**state, "detail-input.data": out["detail-input.data"]}
    out = http.call("channel-store.data", {**drawn, clicked[0]: click_kernel(3)}, clicked)
    where = patched_locations(out["feature-detail.figure"])
    assert ["data", 0] in where and ["layout", "title"] in where
    assert not [w for w in where if (w[0] == "data" and w[1] != 0) or "xaxis2" in w]
    map_trace = next(
        op for op in out["feature-detail.figure"]["operations"] if op["location"] == ["data", 0]
    )
    assert "channel 3" in next(
        op["params"]["value"]["text"]
        for op in out["feature-detail.figure"]["operations"]
        if op["location"] == ["layout", "title"]
    )
    assert map_trace["params"]["value"]["name"] == "feature map"
    assert http.last_bytes < 40_000  # a 64×64 float32 map; the 256×256 photo stays put


def test_cb04b_a_click_with_no_layer_chosen_is_a_sentence(http: DashHTTP) -> None:
    """The layer list is empty while its model cannot be shown (weights lost, say)."""
    state = view("custom", None, channel=0)
    clicked = ["kernel-grid.clickData"]
    out = http.call("channel-store.data", {**state, clicked[0]: click_kernel(1)}, clicked)
    assert out["status.children"] == "Choose a conv layer first."


def test_cb05_channel_beyond_new_layer_resets(http: DashHTTP) -> None:
    out = http.call("feature-grid.figure", view("custom", "0", channel=12), [LAYER])
    assert out["channel-store.data"] == 0
    detail = http.call("feature-detail.figure", view("custom", "0", channel=12), [LAYER])
    assert "channel 0" in detail["feature-detail.figure"]["layout"]["title"]["text"]


def test_cb06_bad_upload_is_a_sentence_and_leaves_state(http: DashHTTP) -> None:
    values = {
        "sample-select.value": "random",
        "image-upload.contents": data_url(b"%PDF-1.7 not an image", "application/pdf"),
        "image-upload.filename": "paper.pdf",
        "sample-select.options": [],
    }
    out = http.call("image-store.data", values, ["image-upload.contents"])
    assert set(out) == {"upload-status.children"}  # the session keeps its image
    assert "not an image ConvScope can read" in out["upload-status.children"]
    good = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 30)).save(good, "PNG")
    values["image-upload.contents"] = data_url(good.getvalue(), "image/png")
    values["image-upload.filename"] = "green.png"
    out = http.call("image-store.data", values, ["image-upload.contents"])
    key = out["image-store.data"]
    assert key.startswith("upload:") and out["sample-select.value"] == key
    assert out["sample-select.options"][0]["label"] == "Uploaded: green.png (40×30)"
    shown = http.call("feature-grid.figure", view("tinyvgg", "block1.0", key), [IMAGE])
    assert shown["status.children"] == ""
    expired = http.call("feature-grid.figure", view("tinyvgg", "block1.0", "upload:ff"), [IMAGE])
    assert "upload it again" in expired["status.children"]


def test_cb07_uploaded_weights_are_shown_raw(http: DashHTTP) -> None:
    conv = torch.nn.Conv2d(1, 4, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(36, dtype=torch.float32).reshape(4, 1, 3, 3) / 7)
    payload = save_safetensors({"0.weight": conv.weight.data, "0.bias": conv.bias.data})
    values = {
        "weights-upload.contents": data_url(payload),
        "weights-upload.filename": "mine.safetensors",
        MODEL: "custom",
    }
    out = http.call("weights-store.data", values, ["weights-upload.contents"])
    stored = out[WEIGHTS]
    assert stored["model"] == "custom" and ":upload:" in stored["key"]
    assert "mine.safetensors" in out["weights-status.children"]
    kernels = http.call("kernel-grid.figure", view("custom", "0", **{WEIGHTS: stored}), [WEIGHTS])
    cells = customdata(kernels["kernel-grid.figure"]).reshape(-1, 5)
    cells = cells[cells[:, 2] >= 0]
    assert len(cells) == 36
    for w, i, o, r, c in cells:
        assert w == pytest.approx(float(conv.weight.detach()[int(o), int(i), int(r), int(c)]))


class _Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_cb08_pickled_weights_never_run(http: DashHTTP, tmp_path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"0.weight": _Exploit(str(marker))})
    values = {
        "weights-upload.contents": data_url(payload),
        "weights-upload.filename": "evil.pt",
        MODEL: "custom",
    }
    out = http.call("weights-store.data", values, ["weights-upload.contents"])
    assert WEIGHTS not in out
    assert out["weights-status.children"]
    assert "Traceback" not in out["weights-status.children"]
    assert not marker.exists()


def test_cb09_user_model_from_the_command_line() -> None:
    app = create_app(Config(user_model="tests.fixtures.mnist_net:build"))
    assert app.layout().children[1].children[0].children[1].value == "user"
    http = DashHTTP(app)
    out = http.call("feature-grid.figure", view("user", "conv2", "sample:chelsea.png"), [LAYER])
    assert out["status.children"] == ""
    assert "16 feature maps 14×14" in out["feature-grid.figure"]["layout"]["title"]["text"]
    assert "user" not in [name for name, _ in create_app(Config()).explorer.models.available()]
    with pytest.raises(ValueError):
        create_app(Config(user_model="tests.fixtures.mnist_net:conv1d_only"))


def test_cb10_oversize_requests_are_refused_on_the_server() -> None:
    app = create_app(Config(max_upload_mb=1, max_weights_mb=1))
    http = DashHTTP(app)
    too_big = data_url(b"\x89PNG" + bytes(2**20), "image/png")  # just over the 1 MB limit
    values = {
        "sample-select.value": "random",
        "image-upload.contents": too_big,
        "image-upload.filename": "huge.png",
        "sample-select.options": [],
    }
    out = http.call("image-store.data", values, ["image-upload.contents"])
    assert out["upload-status.children"] == "The file is larger than the 1 MB limit."
    # a request beyond what any upload may need never reaches a callback
    response = http.client.post(
        "/_dash-update-component", data=b"x" * 3_000_000, content_type="application/json"
    )
    assert response.status_code == 413


def test_cb11_rgb_view_only_where_a_layer_reads_rgb(http: DashHTTP) -> None:
    rgb = {**view("tinyvgg", "block1.0"), "kernel-view.value": "rgb"}
    out = http.call("kernel-grid.figure", rgb, ["kernel-view.value"])
    assert out["kernel-grid.figure"]["data"][0]["type"] == "image"
    options = {o["value"]: o for o in out["kernel-view.options"]}
    assert not options["rgb"]["disabled"]
    # a 512-input layer cannot be RGB: it falls back to what reads at its size (the norm
    # overview), and the radio says so
    deep = {**view("vgg16", "features.28"), "kernel-view.value": "rgb"}
    out = http.call("kernel-grid.figure", deep, [LAYER])
    assert out["kernel-grid.figure"]["layout"]["meta"]["grid"] == "kernel_norms"
    assert {o["value"]: o for o in out["kernel-view.options"]}["rgb"]["disabled"] is True
    assert out["kernel-view.value"] == "norms"
    assert out["kernel-pager.hidden"] is True
    # asked for every kernel, it pages
    every = {**deep, "kernel-view.value": "grid"}
    out = http.call("kernel-grid.figure", every, ["kernel-view.value"])
    assert out["kernel-grid.figure"]["layout"]["meta"]["grid"] == "kernel"
    assert out["kernel-pager.hidden"] is False
