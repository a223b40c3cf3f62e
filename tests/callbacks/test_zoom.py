"""Deep zoom through the endpoint: a zoom box on the feature grid brings the real pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from dashboard.app import create_app
from dashboard.config import Config
from dashboard.samples import list_samples
from tests.wire import DashClient, Tab, cell_data, decode_typed

SIZE = {"feature": [620, 420], "kernel": [620, 420]}


@pytest.fixture(scope="module")
def client(models) -> DashClient:
    return DashClient(create_app(Config(cache_mb=256, request_timeout_s=120), models=models))


def vgg_first_layer(models) -> np.ndarray:
    """VGG16's first conv on the cat photo, computed here with torch."""
    model = models.get("vgg16")
    with Image.open(list_samples()["sample:chelsea.png"]) as image:
        x = model.preprocess(image.convert("RGB"))
    conv = model.module.features[0]
    with torch.inference_mode():
        return F.conv2d(x, conv.weight, conv.bias, padding=1)[0].numpy()


@pytest.mark.slow
def test_zm01_zooming_into_a_map_shows_its_real_pixels(client: DashClient, models) -> None:
    tab = Tab(client)
    tab.set(
        {
            "model-select.value": "vgg16",
            "layer-select.value": "features.0",
            "image-store.data": "sample:chelsea.png",
            "grid-size.data": SIZE,
        }
    )
    overview = tab.fire("feature-grid.figure", ["layer-select.value"]).outputs
    meta = overview["feature-grid.figure"]["layout"]["meta"]
    assert meta["factor"] > 1  # 64 maps of 224×224 do not fit 620×420 px
    # a box around map 9's top-left corner, in overview cells
    tr, tc = divmod(9, meta["ncols"])
    x0, y0 = tc * meta["tile_w"], tr * meta["tile_h"]
    relayout = {
        "xaxis.range[0]": x0 - 0.5,
        "xaxis.range[1]": x0 + 6.5,
        "yaxis.range[0]": y0 + 4.5,
        "yaxis.range[1]": y0 - 0.5,
    }
    tab.set({"feature-grid.relayoutData": relayout})
    zoom = client.named("feature-grid.figure", "feature-grid.relayoutData")
    reply = tab.fire(zoom, ["feature-grid.relayoutData"])
    trace = tab.values["feature-grid.figure"]["data"][0]
    assert tab.values["feature-zoom.data"] is True
    assert trace["dx"] == pytest.approx(1 / meta["factor"])
    assert "mean of" not in trace["hovertemplate"]
    cells = cell_data(trace).reshape(-1, 4)
    want = vgg_first_layer(models)
    cells = cells[cells[:, 1] == 9]
    assert len(cells) >= 7 * meta["factor"] * 5 * meta["factor"] * 0.9
    for raw, channel, row, col in cells:
        assert raw == pytest.approx(want[int(channel), int(row), int(col)], rel=1e-5, abs=1e-6)
    assert reply.nbytes <= 2_000_000
    # double-click: back to the overview's block means
    tab.set({"feature-grid.relayoutData": {"xaxis.autorange": True, "yaxis.autorange": True}})
    tab.fire(zoom, ["feature-grid.relayoutData"])
    assert tab.values["feature-grid.figure"]["data"][0]["dx"] == 1
    assert tab.values["feature-zoom.data"] is False


@pytest.mark.slow
def test_zm02_zooming_into_the_kernel_norms_shows_real_weights(client: DashClient, models) -> None:
    tab = Tab(client)
    tab.set(
        {
            "model-select.value": "vgg16",
            "layer-select.value": "features.28",
            "image-store.data": "random",
            "grid-size.data": SIZE,
        }
    )
    out = tab.fire("kernel-grid.figure", ["layer-select.value"]).outputs
    assert out["kernel-grid.figure"]["layout"]["meta"]["grid"] == "kernel_norms"
    assert tab.values["kernel-view.value"] == "norms"
    zoom = client.named("kernel-grid.figure", "kernel-grid.relayoutData")
    window = {"xaxis.range": [9.5, 30.5], "yaxis.range": [40.5, 19.5]}
    tab.set({"kernel-grid.relayoutData": window})
    tab.fire(zoom, ["kernel-grid.relayoutData"])
    trace = tab.values["kernel-grid.figure"]["data"][0]
    cells = decode_typed(trace["customdata"]).reshape(-1, 5)
    cells = cells[cells[:, 2] >= 0]
    weight = models.get("vgg16").module.get_submodule("features.28").weight.detach().numpy()
    outs, ins = cells[:, 2].astype(int), cells[:, 1].astype(int)
    assert outs.min() <= 10 and outs.max() >= 30 and ins.min() <= 20 and ins.max() >= 40
    for w, i, o, r, c in cells:
        assert np.float32(w) == weight[int(o), int(i), int(r), int(c)]
    tab.set({"kernel-grid.relayoutData": {"xaxis.autorange": True, "yaxis.autorange": True}})
    tab.fire(zoom, ["kernel-grid.relayoutData"])
    assert "customdata" not in tab.values["kernel-grid.figure"]["data"][0]  # the norms again
