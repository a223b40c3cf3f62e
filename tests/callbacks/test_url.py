"""The shareable URL through the real Dash endpoint: a link sets the controls, the controls
write the link, bad links get a sentence and the defaults, and one round converges."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import ids
from dashboard.app import create_app
from dashboard.config import Config
from dashboard.urlstate import parse
from tests.callbacks.dash_http import DashHTTP

SEARCH = f"{ids.URL}.search"
VIEW = f"{ids.URL_VIEW}.data"
WRITE = f"{ids.URL_WRITE}.data"
STATUS = f"{ids.URL_STATUS}.children"
MODEL = f"{ids.MODEL_SELECT}.value"
LAYER = f"{ids.LAYER_SELECT}.value"
CHANNEL = f"{ids.CHANNEL_STORE}.data"
FULL = (
    "?model=tinyvgg&layer=block2.0&channel=5&image=coffee.png&scale=shared&kernels=norms"
    "&kscale=layer&look=tutorial&sort=maximum&lang=zh"
)


@pytest.fixture
def http(models, tmp_path) -> DashHTTP:
    config = Config(cache_mb=128, request_timeout_s=120, jobs_dir=str(tmp_path / "jobs"))
    page = DashHTTP(create_app(config, models=models))
    page.page.values[f"{ids.LAYER_SELECT}.value"] = "block1.0"  # as on_model set it
    return page


def open_link(http: DashHTTP, search: str) -> dict:
    """What on_url answers for a page whose address bar now says ``search``."""
    out = http.call(VIEW, {SEARCH: search}, [SEARCH])
    http.page.values[SEARCH] = search
    http.page.values.update(out)
    return out


@pytest.mark.parametrize(
    ("search", "prop", "value"),
    [
        ("?model=vgg16", MODEL, "vgg16"),
        ("?layer=block2.2", LAYER, "block2.2"),
        ("?channel=7", CHANNEL, 7),
        ("?layer=block1.2&channel=7", CHANNEL, 7),
        ("?image=coffee.png", f"{ids.SAMPLE_SELECT}.value", "sample:coffee.png"),
        ("?image=random", f"{ids.SAMPLE_SELECT}.value", "random"),
        ("?scale=shared", f"{ids.SCALE_SELECT}.value", "shared"),
        ("?kernels=norms", f"{ids.KERNEL_VIEW}.value", "norms"),
        ("?kscale=channel", f"{ids.KERNEL_SCALE}.value", "channel"),
        ("?look=tutorial", f"{ids.LOOK}.value", ["tutorial"]),
        ("?sort=zeros", f"{ids.SORT_SELECT}.value", "zeros"),
        ("?lang=zh", f"{ids.LANG_STORE}.data", "zh"),
        ("?zoom=1,20,30,2", f"{ids.URL_ZOOM}.data", "1,20,30,2"),
    ],
)
def test_cur01_a_link_sets_each_control(http, search, prop, value) -> None:
    out = open_link(http, search)
    assert out[prop] == value
    assert out[STATUS] == ""
    assert out[VIEW]["search"] == search


def test_cur02_a_channel_on_the_same_grid_moves_the_selection(http) -> None:
    out = open_link(http, "?channel=7")
    assert out[f"{ids.URL_CHANNEL}.data"] == 7  # on_select redraws outlines, detail, kernels
    selected = http.call(
        http.wire.named(f"{ids.CHANNEL_STORE}.data", f"{ids.URL_CHANNEL}.data"),
        {f"{ids.URL_CHANNEL}.data": 7},
        [f"{ids.URL_CHANNEL}.data"],
    )
    assert selected[CHANNEL] == selected[f"{ids.CHANNEL_PICKED}.data"] == 7
    assert "channel 7" in selected[f"{ids.FEATURE_DETAIL}.figure"]["layout"]["title"]["text"]


def test_cur03_on_model_takes_the_links_layer_a_picked_model_its_first(http) -> None:
    out = open_link(http, "?model=vgg16&layer=features.10")
    assert out[MODEL] == "vgg16" and LAYER not in out  # on_model sets it, once
    on_model = f"{ids.LAYER_SELECT}.options"
    layer = http.call(on_model, {MODEL: "vgg16"}, [MODEL])[LAYER]
    assert layer == "features.10"
    http.page.values[SEARCH] = "?model=tinyvgg&layer=block1.0"  # the visitor moved on
    assert http.call(on_model, {MODEL: "vgg16"}, [MODEL])[LAYER] == "features.0"


def test_cur04_the_controls_write_the_link(http) -> None:
    open_link(http, "")
    changes = {
        LAYER: "block2.0",
        CHANNEL: 5,
        f"{ids.IMAGE_STORE}.data": "sample:coffee.png",
        f"{ids.SCALE_SELECT}.value": "shared",
        f"{ids.KERNEL_VIEW}.value": "norms",
        f"{ids.KERNEL_SCALE}.value": "layer",
        f"{ids.LOOK}.value": ["tutorial"],
        f"{ids.SORT_SELECT}.value": "maximum",
        f"{ids.LANG_STORE}.data": "zh",
    }
    out = http.call(WRITE, changes, list(changes))
    assert out[WRITE] == {"search": FULL, "from": "", "n": 1}


def test_cur05_zoom_enters_the_link_and_leaves_with_the_layer(http) -> None:
    open_link(http, "?model=tinyvgg&layer=block1.0&channel=0")
    relayout = f"{ids.FEATURE_GRID}.relayoutData"
    zoom = {"xaxis.range[0]": 1, "xaxis.range[1]": 20.5, "yaxis.range[0]": 30, "yaxis.range[1]": 2}
    out = http.call(WRITE, {relayout: zoom}, [relayout])
    assert parse(out[WRITE]["search"]).state.zoom == (1, 20.5, 30, 2)
    http.page.values[SEARCH] = out[WRITE]["search"]
    # a new layer redraws the grid: no zoom in its link
    out = http.call(WRITE, {relayout: zoom, LAYER: "block1.2"}, [LAYER])
    assert parse(out[WRITE]["search"]).state.zoom is None
    out = http.call(WRITE, {relayout: {"xaxis.autorange": True}}, [relayout])
    assert parse(out[WRITE]["search"]).state.zoom is None


def test_cur06_one_round_converges(http) -> None:
    """URL -> controls -> URL: the link the applied controls write is the one opened."""
    out = open_link(http, FULL)
    assert out[STATUS] == ""
    changed = [k for k in out if k not in (VIEW, STATUS)]
    # on_image stores the chosen sample as the image (on_model the layer: already set here)
    http.page.values[f"{ids.IMAGE_STORE}.data"] = out[f"{ids.SAMPLE_SELECT}.value"]
    reply = http.wire.post(WRITE, http.page.values, changed)
    assert reply.status == 204 and reply.outputs == {}  # nothing to write
    # and the page's own write is not applied back
    write = {"search": "?model=tinyvgg&layer=block1.2", "n": 3}
    http.page.values[WRITE] = write
    again = http.call(VIEW, {SEARCH: write["search"]}, [SEARCH])
    assert set(again) == {VIEW} and again[VIEW]["n"] == 3 and again[VIEW]["own"] is True
    # and it never leads the panels: on_model picks a new model's first layer
    http.page.values.update(again)
    http.page.values[SEARCH] = write["search"]
    layer = http.call(f"{ids.LAYER_SELECT}.options", {MODEL: "tinyvgg"}, [MODEL])[LAYER]
    assert layer == "block1.0"


def test_cur07_a_link_opened_mid_layer_waits_for_consistent_controls(http) -> None:
    open_link(http, "")
    # a new model whose layer has not arrived yet: nothing is written
    reply = http.wire.post(WRITE, {**http.page.values, MODEL: "vgg16"}, [MODEL])
    assert reply.status == 204
    reply = http.wire.post(WRITE, {**http.page.values, CHANNEL: 16}, [CHANNEL])
    assert reply.status == 204  # block1.0 has 16 channels: 16 is a transient


@pytest.mark.parametrize(
    ("search", "words", "defaults"),
    [
        ("?model=resnet9000", "the model “resnet9000”", {}),
        ("?layer=features.99", "the layer “features.99”", {}),
        ("?channel=99", "the channel “99”", {}),
        ("?channel=-3", "the channel “-3”", {}),
        ("?image=nope.png", "the image “nope.png”", {}),
        ("?scale=rainbow", "the colour mode “rainbow”", {}),
        ("?kernels=3d", "the kernel view “3d”", {}),
        ("?sort=%3Cb%3E", "the order “<b>”", {}),
        ("?lang=fr", "the language “fr”", {}),
        ("?zoom=1,2", "the zoom window “1,2”", {}),
        (
            "?model=vgg16&layer=block1.0&channel=700",
            "the layer “block1.0”",
            {MODEL: "vgg16"},
        ),
        ("?" + "x=1&" * 3000, "too long or malformed", {}),
        ("?image=upload", "made with an uploaded image", {}),
    ],
)
def test_cur08_bad_links_get_a_sentence_and_the_defaults(http, search, words, defaults) -> None:
    out = open_link(http, search)
    assert words in out[STATUS]
    controls = {k: v for k, v in out.items() if k not in (VIEW, STATUS)}
    assert controls == defaults  # the page already shows the defaults: nothing else moves
    assert "Traceback" not in out[STATUS] and len(out[STATUS]) < 400


def test_cur09_upload_link_shows_the_sample_and_says_why(http) -> None:
    http.page.values[f"{ids.IMAGE_STORE}.data"] = "sample:coffee.png"
    out = open_link(http, "?image=upload")
    assert out[f"{ids.SAMPLE_SELECT}.value"] == "sample:chelsea.png"
    assert out[STATUS] == (
        "This link was made with an uploaded image, which links cannot carry; showing the "
        "sample chelsea instead. Upload the image to see it."
    )
    # back/forward in the page that has the upload keeps it
    http.page.values[f"{ids.IMAGE_STORE}.data"] = "upload:" + "ab" * 32
    out = open_link(http, "?image=upload&layer=block1.0")
    assert f"{ids.SAMPLE_SELECT}.value" not in out and out[STATUS] == ""


def test_cur10_a_zoom_link_draws_the_window(http) -> None:
    open_link(http, "?layer=block1.0&zoom=10,40,30,0")
    values = {LAYER: "block1.0", f"{ids.GRID_SIZE}.data": {"feature": [200, 200]}}
    out = http.call(f"{ids.FEATURE_GRID}.figure", values, [LAYER])
    layout = out[f"{ids.FEATURE_GRID}.figure"]["layout"]
    assert layout["xaxis"]["range"] == [10, 40] and layout["yaxis"]["range"] == [30, 0]
    assert ":url:" in layout["uirevision"]
    # back/forward to another zoom of the same grid: a Patch of the window
    name = http.wire.named(f"{ids.FEATURE_GRID}.figure", f"{ids.URL_ZOOM}.data")
    out = http.call(name, {**values, f"{ids.URL_ZOOM}.data": "0,10,10,0"}, [f"{ids.URL_ZOOM}.data"])
    assigned = {
        tuple(op["location"]): op["params"]["value"]
        for op in out[f"{ids.FEATURE_GRID}.figure"]["operations"]
    }
    assert assigned[("layout", "xaxis", "range")] == [0, 10]
    assert assigned[("layout", "yaxis", "range")] == [10, 0]
    assert out[f"{ids.FEATURE_ZOOM}.data"] is True  # the window's real pixels


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["model", "layer", "channel", "image", "scale", "zoom", "lang", "x"]),
            st.text(max_size=30),
        ),
        max_size=8,
    )
)
def test_cur11_fuzzed_links_never_fail(http, pairs) -> None:
    from urllib.parse import urlencode

    search = "?" + urlencode(pairs)
    reply = http.wire.post(VIEW, {**http.page.values, SEARCH: search}, [SEARCH])
    assert reply.status == 200, reply.head
    assert "Something went wrong" not in str(reply.outputs.get(STATUS))
