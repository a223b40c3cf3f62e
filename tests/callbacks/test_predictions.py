"""The predictions panel through the real Dash endpoint: right classes, the notes, one pass."""

from __future__ import annotations

import re

import pytest
import torch

from dashboard.app import create_app
from dashboard.config import Config
from dashboard.views import MSG_NOT_A_CLASSIFIER, MSG_RANDOM_WEIGHTS
from tests.callbacks.dash_http import DashHTTP
from tests.wire import DashClient, ExplorerTab, ForwardCounter, initial_values

MODEL, IMAGE, WEIGHTS = "model-select.value", "image-store.data", "weights-store.data"
PANEL = "predictions.children"
SHAPES = ["blob", "checkerboard", "circle", "cross", "dots", "ring", "stripes", "triangle"]


@pytest.fixture
def http(models) -> DashHTTP:
    return DashHTTP(create_app(Config(cache_mb=128, request_timeout_s=120), models=models))


def walk(node: object):
    """Every component of a serialised children value, depth first."""
    if isinstance(node, list):
        for item in node:
            yield from walk(item)
    elif isinstance(node, dict) and "props" in node:
        yield node
        yield from walk(node["props"].get("children"))


def ranked(children: object) -> list[dict]:
    """Each ranked class the panel shows: name, share printed, the tooltip's raw numbers."""
    rows = []
    for item in walk(children):
        if item["type"] == "Li":
            name, share = item["props"]["children"]
            found = re.fullmatch(
                r"output (\d+) · probability (\S+) · logit (\S+)", item["props"]["title"]
            )
            assert found, item["props"]["title"]
            index, probability, logit = found.groups()
            rows.append(
                {
                    "name": name,
                    "share": share["props"]["children"],
                    "bar": item["props"]["style"]["--p"],
                    "index": int(index),
                    "probability": float(probability),
                    "logit": float(logit),
                }
            )
    return rows


def text(children: object) -> str:
    """The panel's plain text."""
    parts = []
    for item in walk(children):
        inner = item["props"].get("children")
        parts += [piece for piece in (inner if isinstance(inner, list) else [inner])]
    return " ".join(piece for piece in parts if isinstance(piece, str))


def predict(http: DashHTTP, model: str, image: str) -> object:
    out = http.call(PANEL, {MODEL: model, IMAGE: image, WEIGHTS: None}, [IMAGE])
    return out[PANEL]


@pytest.mark.parametrize("shape", SHAPES)
def test_pcb01_tinyvgg_names_each_shape_sample_first(http: DashHTTP, shape: str) -> None:
    children = predict(http, "tinyvgg", f"sample:tinyvgg/shapes-{shape}.png")
    rows = ranked(children)
    assert len(rows) == 5 and rows[0]["name"] == shape
    assert MSG_RANDOM_WEIGHTS not in text(children)
    # the numbers shown are the model's own, computed here directly
    explorer = http.app.explorer
    model = explorer.model("tinyvgg")
    x = explorer.input_tensor(model, f"sample:tinyvgg/shapes-{shape}.png")
    with torch.no_grad():
        logits = model.module(x)[0].double()
    probabilities = torch.softmax(logits, 0)
    assert [row["index"] for row in rows] == probabilities.topk(5).indices.tolist()
    for row in rows:
        assert row["probability"] == pytest.approx(float(probabilities[row["index"]]), rel=1e-3)
        assert row["logit"] == pytest.approx(float(logits[row["index"]]), rel=1e-3, abs=1e-4)
        assert row["name"] == model.classes[row["index"]]
    assert rows[0]["share"] == f"{rows[0]['probability']:.1%}"
    assert rows[0]["bar"] == f"{rows[0]['probability'] * 100:.1f}%"


def test_pcb02_a_random_weights_zoo_model_says_they_mean_nothing(http: DashHTTP) -> None:
    children = predict(http, "squeezenet1_1", "sample:coffee.png")
    model = http.app.explorer.model("squeezenet1_1")
    assert not model.trained
    rows = ranked(children)
    assert len(rows) == 5
    assert [row["name"] for row in rows] == [model.classes[row["index"]] for row in rows]
    assert MSG_RANDOM_WEIGHTS in text(children)


def test_pcb03_a_model_without_a_class_vector_says_no_predictions(http: DashHTTP) -> None:
    children = predict(http, "custom", "sample:astronaut.png")
    assert ranked(children) == []
    assert text(children) == MSG_NOT_A_CLASSIFIER


def test_pcb04_forged_values_get_a_sentence(http: DashHTTP) -> None:
    for values in (
        {MODEL: "no-such-net", IMAGE: "random"},
        {MODEL: "tinyvgg", IMAGE: ["random"]},
        {MODEL: "tinyvgg", IMAGE: "random", WEIGHTS: {"model": 1}},
    ):
        out = http.call(PANEL, values, [IMAGE])
        assert text(out[PANEL]).startswith("The page sent a"), out


def test_pcb05_a_layer_switch_never_runs_the_prediction_pass_a_new_image_once(models) -> None:
    app = create_app(Config(cache_mb=128, request_timeout_s=120), models=models)
    client = DashClient(app)
    fired_by_layer = [
        dep["output"]
        for dep in client.dependencies
        if "layer-select.value" in {f"{i['id']}.{i['property']}" for i in dep["inputs"]}
    ]
    assert fired_by_layer and not any("predictions" in output for output in fired_by_layer)

    tab = ExplorerTab(client, initial_values(client, "tinyvgg", "sample:tinyvgg/shapes-cross.png"))
    tab.open_model("tinyvgg")
    assert ranked(tab.fire(PANEL, [MODEL]).outputs[PANEL])[0]["name"] == "cross"
    health = app.server.test_client().get
    counter = ForwardCounter(app.explorer.model("tinyvgg").module)
    try:
        for layer in ("block1.2", "block2.0", "block2.2", "block1.0"):
            tab.switch_layer(layer)
        tab.fire(PANEL, [MODEL])  # even asked again, the same image is not rerun
        assert counter.calls == 0
        passes = health("/healthz").get_json()["prediction_passes"]

        tab.set({IMAGE: "sample:tinyvgg/shapes-stripes.png"})
        tab.new_image()
        reply = tab.fire(PANEL, [IMAGE])
        assert ranked(reply.outputs[PANEL])[0]["name"] == "stripes"
        assert counter.calls == 2  # the grids' pass and the prediction pass, once each
        assert health("/healthz").get_json()["prediction_passes"] == passes + 1
        assert reply.nbytes < 1_800, reply.nbytes  # five rows of text: few bytes
    finally:
        counter.remove()
