"""Bytes on the wire and round trips (issue 10), without timings.

Through the real endpoint with ``Accept-Encoding: br``, as a browser asks: every VGG16 layer
switch (random weights, the cat, the largest overview budget) costs at most 600 KB in all
its answers; every user step is one round trip (no callback it fires waits for another's
output); a new layer resends the detail's map, not the input image beside it.
"""

from __future__ import annotations

import json

import brotli
import pytest

from dashboard import ids
from dashboard.app import create_app
from dashboard.config import Config
from tests.wire import DashClient, ExplorerTab, ForwardCounter, initial_values, split_outputs
from tests.wire.transport import HEADERS, FlaskTransport

LAYER_SWITCH_BYTES = 600_000
LAYER = "layer-select.value"


class BrotliTransport(FlaskTransport):
    """Flask's test client asking for brotli; records each answer's bytes on the wire."""

    def __init__(self, app) -> None:
        super().__init__(app)
        self.answers: list[tuple[str | None, int]] = []

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {**HEADERS, "Accept-Encoding": "br, gzip"}
        reply = self.client.open(path, method=method, data=body, headers=headers)
        data = reply.get_data()
        encoding = reply.headers.get("Content-Encoding")
        self.answers.append((encoding, len(data)))
        return reply.status_code, brotli.decompress(data) if encoding == "br" else data


@pytest.fixture(scope="module")
def wire(models) -> tuple[DashClient, BrotliTransport]:
    app = create_app(Config(cache_mb=512, request_timeout_s=120), models=models)
    transport = BrotliTransport(app)
    return DashClient(transport), transport


def fired_by(client: DashClient, trigger: str) -> list[dict]:
    return [
        dep
        for dep in client.dependencies
        if trigger in {f"{i['id']}.{i['property']}" for i in dep["inputs"]}
    ]


# The address bar records what the panels settled on (e.g. the kernel view a layer's size
# picks), so it is written after them, by design; nothing drawn waits for it.
AFTER_THE_PANELS = {f"{ids.URL_WRITE}.data"}


@pytest.mark.parametrize(
    "trigger",
    [LAYER, "image-store.data", "feature-grid.clickData", "kernel-grid.clickData"],
)
def test_pay01_each_user_step_is_one_round_trip(wire, trigger: str) -> None:
    """No callback a step fires has an input that another callback of the same step
    outputs: the renderer sends them all at once and none waits for a second round."""
    client, _ = wire
    fired = fired_by(client, trigger)
    assert len(fired) >= 2 if trigger in (LAYER, "image-store.data") else fired
    outputs = {
        id(dep): {f"{o['id']}.{o['property']}" for o in split_outputs(dep["output"])}
        for dep in fired
    }
    for dep in fired:
        if any(o in AFTER_THE_PANELS for o in outputs[id(dep)]):
            continue
        inputs = {f"{i['id']}.{i['property']}" for i in dep["inputs"]}
        for other in fired:
            if other is not dep:
                waits_for = inputs & outputs[id(other)]
                assert not waits_for, (dep["output"], "waits for", other["output"], waits_for)


@pytest.mark.slow
def test_pay02_every_vgg16_layer_switch_fits_600_kb_compressed(wire) -> None:
    client, transport = wire
    tab = ExplorerTab(client, initial_values(client, "vgg16", "sample:chelsea.png"))
    tab.open_model("vgg16")
    layers = [option["value"] for option in tab.values["layer-select.options"]]
    assert len(layers) == 13
    for layer in [*layers[1:], layers[0]]:  # features.0 last: its detail patches the map
        transport.answers.clear()
        replies = [*tab.switch_layer(layer), tab.fire("channel-kernels.figure", [LAYER])]
        for reply in replies:
            reply.raise_for_status()
        assert "channel 0" in str(tab.values["feature-detail.figure"]["layout"]["title"])
        total = sum(size for _, size in transport.answers)
        assert total <= LAYER_SWITCH_BYTES, (layer, transport.answers)
        assert all(enc == "br" or size < 1024 for enc, size in transport.answers), layer


def test_pay03_a_new_layer_resends_the_detail_map_not_the_input_image(wire) -> None:
    client, transport = wire
    tab = ExplorerTab(client, initial_values(client, "tinyvgg", "sample:chelsea.png"))
    tab.open_model("tinyvgg")
    first = tab.values["feature-detail.figure"]
    assert [trace["name"] for trace in first["data"]] == ["feature map", "input"]
    image = first["data"][1]

    transport.answers.clear()
    reply = tab.switch_layer("block1.2")[2]
    patch = reply.outputs["feature-detail.figure"]
    touched = [op["location"] for op in patch["operations"]]
    assert ["data", 0] in touched
    assert not [where for where in touched if where[:2] == ["data", 1] or "xaxis2" in where]
    shown = tab.values["feature-detail.figure"]
    assert "block1.2 · channel 0" in shown["layout"]["title"]["text"]
    assert shown["data"][1] == image  # the input image drawn by the first answer stays
    assert image["z"]["bdata"] not in json.dumps(reply.outputs)

    # a new image draws the whole detail again
    tab.set({"image-store.data": "sample:coffee.png"})
    again = tab.fire("feature-detail.figure", ["image-store.data"]).outputs
    assert [trace["name"] for trace in again["feature-detail.figure"]["data"]] == [
        "feature map",
        "input",
    ]


def test_pay04_the_first_view_is_computed_before_the_page_asks(models, caplog) -> None:
    """``python -m dashboard`` warms the first page's model and forward pass while it starts:
    the first visitor's grids then run no forward pass."""
    app = create_app(Config(cache_mb=64), models=models)
    model_name, image = app.first_view
    assert (model_name, image) == ("tinyvgg", "sample:chelsea.png")
    app.explorer.warm(model_name, image)
    counter = ForwardCounter(app.explorer.model(model_name).module)
    try:
        client = DashClient(app)
        tab = ExplorerTab(client, initial_values(client, model_name, image))
        for reply in tab.open_model(model_name):
            reply.raise_for_status()
        assert "feature-grid.figure" in tab.values
    finally:
        counter.remove()
    assert counter.calls == 0
    app.explorer.warm("no-such-model", image)  # logged, never raised
    assert "warming no-such-model" in caplog.text
