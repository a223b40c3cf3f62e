"""Explaining a value through the real Dash endpoint and the Explainer: the terms add up to
what torch computes, fields and statistics are right, forged values get a sentence."""

from __future__ import annotations

import pytest

from dashboard import ids
from dashboard.app import create_app
from dashboard.config import Config
from dashboard.explaining import Explainer
from dashboard.explorer import Explorer
from dashboard.jobs import Jobs
from dashboard.samples import ImageStore
from dashboard.views import View
from tests.callbacks.dash_http import DashHTTP
from tests.callbacks.reference import conv_output

EXPLAIN = f"{ids.EXPLAIN_FIGURE}.figure"
CLICK = f"{ids.FEATURE_DETAIL}.clickData"
TEXT = f"{ids.EXPLAIN_TEXT}.children"
TOTAL = f"{ids.EXPLAIN_TOTAL}.data"


@pytest.fixture
def http(models, tmp_path) -> DashHTTP:
    config = Config(cache_mb=128, request_timeout_s=120, jobs_dir=str(tmp_path / "jobs"))
    return DashHTTP(create_app(config, models=models))


@pytest.fixture
def explainer(models, tmp_path) -> Explainer:
    config = Config(cache_mb=256, request_timeout_s=300, jobs_dir=str(tmp_path / "jobs"))
    return Explainer(Explorer(config, models, ImageStore()), Jobs(config))


def click(row: int, col: int, curve: int = 0) -> dict:
    return {"points": [{"curveNumber": curve, "x": col, "y": row, "z": 0.0}]}


def words(children: object) -> str:
    if isinstance(children, list):
        return " ".join(words(c) for c in children)
    if isinstance(children, dict):
        return words(children.get("props", {}).get("children"))
    return "" if children is None else str(children)


def test_cex01_clicked_pixel_total_equals_torch(http, models) -> None:
    model = models.get("tinyvgg")
    name = http.wire.named(EXPLAIN, CLICK)
    values = {
        f"{ids.LAYER_SELECT}.value": "block2.0",
        f"{ids.CHANNEL_STORE}.data": 5,
        CLICK: click(4, 7),
    }
    out = http.call(name, values, [CLICK])
    image = http.page.values[f"{ids.IMAGE_STORE}.data"]
    x = http.app.explorer.input_tensor(model, image)
    want = conv_output(model.module, "block2.0", x)[5, 4, 7]
    total = out[TOTAL]
    assert total["row"] == 4 and total["col"] == 7
    assert abs(total["total"] - want) <= 1e-5 * max(1.0, abs(want))
    assert abs(total["shown"] - want) <= 1e-5 * max(1.0, abs(want))
    meta = out[EXPLAIN]["layout"]["meta"]["explain"]
    assert meta["channel"] == 5 and abs(meta["value"] - total["total"]) < 1e-12
    assert "Receptive field (red box on the input)" in words(out[TEXT])
    shapes = out[f"{ids.FEATURE_DETAIL}.figure"]  # a Patch of the detail's shapes
    assert "x2" in str(shapes) and "'x'" in str(shapes)


@pytest.mark.parametrize(
    "forged",
    [None, "x", {"points": []}, click(1, 1, curve=1), click(-3, 2), {"points": [{"x": "a"}]}],
)
def test_cex02_clicks_no_map_sends_change_nothing(http, forged) -> None:
    name = http.wire.named(EXPLAIN, CLICK)
    out = http.call(name, {CLICK: forged}, [CLICK])
    assert out == {}


def test_cex03_pixel_outside_the_map_gets_a_sentence(http) -> None:
    name = http.wire.named(EXPLAIN, CLICK)
    out = http.call(name, {f"{ids.LAYER_SELECT}.value": "block2.2", CLICK: click(40, 2)}, [CLICK])
    assert "Row 40, col 2 is outside the 32×32 map" in words(out[TEXT])


@pytest.mark.parametrize(
    ("model", "layer", "channel", "row", "col", "plain"),
    [
        ("vgg16", "features.0", 7, 0, 223, True),
        ("vgg16", "features.28", 100, 7, 0, True),
        ("vgg16", "features.28", 3, 6, 6, True),
        ("resnet18", "layer2.0.conv1", 17, 0, 5, False),
        ("mobilenet_v2", "features.2.conv.1.0", 40, 55, 55, True),
    ],
)
def test_cex04_explanations_add_up_on_real_architectures(
    explainer, model, layer, channel, row, col, plain
) -> None:
    loaded = explainer.explorer.model(model)
    image = explainer.explorer.images.sample_keys[0]
    view = View(model, layer, image, channel=channel)
    shown = explainer.explain(view, row, col)
    x = explainer.explorer.input_tensor(loaded, image)
    want = conv_output(loaded.module, layer, x)[channel, row, col]
    scale = max(1.0, abs(want))
    assert abs(shown.total - want) <= 1e-5 * scale
    assert abs(shown.shown - want) <= 1e-5 * scale
    field = shown.sentences[1]
    assert ("Theoretical field" in field) == plain, field
    assert ("not a plain stack" in field) == (not plain), field


def test_cex05_theoretical_field_of_vgg16_features28(explainer) -> None:
    image = explainer.explorer.images.sample_keys[0]
    shown = explainer.explain(View("vgg16", "features.28", image, channel=0), 7, 7)
    # conv5_3's field is 196×196; unit (7, 7) of a 14×14 map starts at 16·7 − 90 = 22
    assert "dashed): 196×196 px" in shown.sentences[1]
    dashed = [s for s in shown.shapes if (s.get("line") or {}).get("dash")]
    assert dashed and dashed[-1]["x0"] == pytest.approx(22 - 0.5)


def test_cex06_statistics_and_sort_through_the_endpoint(http, models) -> None:
    out = http.call(
        f"{ids.STATS_BARS}.figure",
        {f"{ids.LAYER_SELECT}.value": "block1.0", f"{ids.SORT_SELECT}.value": "maximum"},
        [f"{ids.SORT_SELECT}.value"],
    )
    assert "after block1.1 (ReLU)" in out[f"{ids.STATS_TEXT}.children"]
    bars = out[f"{ids.STATS_BARS}.figure"]
    assert "sorted by max" in bars["layout"]["title"]["text"]
    forged = http.call(
        f"{ids.STATS_BARS}.figure",
        {f"{ids.LAYER_SELECT}.value": "block1.0", f"{ids.SORT_SELECT}.value": "largest please"},
        [f"{ids.SORT_SELECT}.value"],
    )
    assert "sort order" in forged[f"{ids.STATS_TEXT}.children"]


@pytest.mark.parametrize("opacity", [-0.1, 7, "0.5", [1]])
def test_cex07_forged_opacity_gets_a_sentence(http, opacity) -> None:
    out = http.call(
        f"{ids.OVERLAY}.figure",
        {f"{ids.LAYER_SELECT}.value": "block1.0", f"{ids.OVERLAY_OPACITY}.value": opacity},
        [f"{ids.LAYER_SELECT}.value"],
    )
    assert "opacity" in str(out[f"{ids.OVERLAY}.figure"]["layout"]["annotations"])


def test_cex08_overlay_draws_the_selected_map_raw(http, models) -> None:
    out = http.call(
        f"{ids.OVERLAY}.figure",
        {
            f"{ids.LAYER_SELECT}.value": "block1.0",
            f"{ids.CHANNEL_STORE}.data": 3,
            f"{ids.CHANNEL_PICKED}.data": 3,
            f"{ids.OVERLAY_OPACITY}.value": 0.25,
        },
        [f"{ids.CHANNEL_PICKED}.data"],
    )
    figure = out[f"{ids.OVERLAY}.figure"]
    assert figure["data"][1]["opacity"] == 0.25
    assert "channel 3" in figure["layout"]["title"]["text"]


def test_cex09_a_click_moves_every_panel_below_the_grids_to_its_channel(http) -> None:
    layer = {f"{ids.LAYER_SELECT}.value": "block1.0", f"{ids.IMAGE_STORE}.data": "random"}
    point = {"curveNumber": 0, "customdata": {"0": 0.5, "1": 5, "2": 0, "3": 0}, "x": 0, "y": 0}
    grid_click = {f"{ids.FEATURE_GRID}.clickData": {"points": [point]}}
    out = http.call(f"{ids.CHANNEL_STORE}.data", {**layer, **grid_click}, list(grid_click))
    assert out[f"{ids.CHANNEL_STORE}.data"] == out[f"{ids.CHANNEL_PICKED}.data"] == 5
    picked = f"{ids.CHANNEL_PICKED}.data"
    followers = {
        dep["output"].strip(".").split(".")[0]
        for dep in http.wire.dependencies
        if picked in {f"{i['id']}.{i['property']}" for i in dep["inputs"]}
    }
    assert {ids.OVERLAY, ids.EXPLAIN_FIGURE, ids.FEATUREVIS_FIGURE} <= followers
    state = {**layer, f"{ids.CHANNEL_STORE}.data": 5, picked: 5}
    overlay = http.call(f"{ids.OVERLAY}.figure", state, [picked])[f"{ids.OVERLAY}.figure"]
    assert "channel 5" in overlay["layout"]["title"]["text"]
    reset = http.wire.named(f"{ids.EXPLAIN_FIGURE}.figure", picked)
    explain = http.call(reset, state, [picked])
    assert words(explain[TEXT]).startswith("Click a pixel")
