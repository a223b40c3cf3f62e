"""Compare mode through the real Dash endpoint: a second map of the same channel on another
image (a sample or the mirror of this one) equals torch computed directly on that image's
input, the shared colour scale is one range on both maps, forged values get a sentence."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save as save_safetensors

from dashboard import ids
from dashboard.app import create_app
from dashboard.config import Config
from tests.callbacks.dash_http import DashHTTP
from tests.callbacks.reference import conv_output
from tests.wire import data_url, decode_typed

COMPARE = f"{ids.COMPARE_DETAIL}.figure"
DETAIL = f"{ids.FEATURE_DETAIL}.figure"
DRAWN = f"{ids.DETAIL_INPUT}.data"
CHOICE = f"{ids.COMPARE_SELECT}.value"
SAME = f"{ids.COMPARE_SCALE}.value"
LAYER = f"{ids.LAYER_SELECT}.value"
IMAGE = f"{ids.IMAGE_STORE}.data"
CHANNEL = f"{ids.CHANNEL_STORE}.data"
HIDDEN = f"{ids.COMPARE_ROW}.hidden"
CAT, DOTS = "sample:chelsea.png", "sample:tinyvgg/shapes-dots.png"


@pytest.fixture
def http(models) -> DashHTTP:
    return DashHTTP(create_app(Config(cache_mb=128, request_timeout_s=120), models=models))


def state(layer: str = "block1.0", image: str = CAT, channel: int = 0, **extra) -> dict:
    return {LAYER: layer, IMAGE: image, CHANNEL: channel, DRAWN: f"tinyvgg|{image}", **extra}


def compare(http: DashHTTP, values: dict, changed: str = CHOICE) -> dict:
    return http.call(http.wire.named(COMPARE, changed), values, [changed])


def detail(http: DashHTTP, values: dict) -> dict:
    """on_detail's answer after a layer switch (the first map, drawn from scratch)."""
    return http.call(DETAIL, {**values, DRAWN: None}, [LAYER])[DETAIL]


def shown_map(figure: dict) -> np.ndarray:
    return decode_typed(figure["data"][0]["z"])


def title(figure: dict) -> str:
    return figure["layout"]["title"]["text"]


def note(figure: dict) -> str:
    return " ".join(a["text"] for a in figure["layout"].get("annotations", []))


def patched(patch: dict) -> dict:
    assert patch["__dash_patch_update"]
    return {tuple(op["location"]): op["params"]["value"] for op in patch["operations"]}


def test_cmp01_mirror_map_equals_torch_on_the_flipped_input(http, models) -> None:
    model = models.get("tinyvgg")
    values = state("block1.0", CAT, channel=3, **{CHOICE: "mirror"})
    out = compare(http, values)
    assert out[HIDDEN] is False
    figure = out[COMPARE]
    assert "Compared: mirror of this image · block1.0 · channel 3 " in title(figure)
    x = http.app.explorer.input_tensor(model, CAT)
    want = conv_output(model.module, "block1.0", torch.flip(x, dims=(-1,)))[3]
    # same module, same float32 input: the same numbers (a 64×64 map is shown unaveraged)
    np.testing.assert_allclose(shown_map(figure), want, rtol=1e-5, atol=1e-6)
    # the first map is the unflipped image's; the mirror's map is not simply its flip (the
    # kernels are not symmetric), which is why the second map is computed, never flipped
    first = detail(http, values)
    assert "channel 3 " in title(first)
    np.testing.assert_allclose(shown_map(first), conv_output(model.module, "block1.0", x)[3])
    assert not np.allclose(shown_map(figure), np.flip(shown_map(first), axis=-1), atol=1e-3)
    # the mirrored input is drawn beside it
    assert figure["data"][1]["type"] == "image"


def test_cmp02_a_sample_follows_layer_and_channel(http, models) -> None:
    model = models.get("tinyvgg")
    x = http.app.explorer.input_tensor(model, DOTS)
    for layer, channel in (("block1.2", 5), ("block2.2", 30)):
        values = state(layer, CAT, channel=channel, **{CHOICE: DOTS})
        out = compare(http, values, changed=DRAWN)  # after the first map was redrawn
        figure = out[COMPARE]
        assert f"Compared: shape: dots · {layer} · channel {channel} " in title(figure)
        want = conv_output(model.module, layer, x)[channel]
        np.testing.assert_allclose(shown_map(figure), want, rtol=1e-5, atol=1e-6)
        assert f"channel {channel} " in title(detail(http, values))


def test_cmp03_same_colour_scale_is_one_range_on_both_maps(http) -> None:
    values = state("block2.0", CAT, channel=7, **{CHOICE: DOTS})
    own = compare(http, values)
    first = detail(http, values)
    first_range = (first["data"][0]["zmin"], first["data"][0]["zmax"])
    theirs = own[COMPARE]["data"][0]
    # each its own: the first map keeps the range on_detail drew
    assert patched(own[DETAIL]) == {
        ("data", 0, "zmin"): first_range[0],
        ("data", 0, "zmax"): first_range[1],
    }
    assert (theirs["zmin"], theirs["zmax"]) != first_range
    shared = compare(http, {**values, SAME: ["shared"]}, changed=SAME)
    union = (min(first_range[0], theirs["zmin"]), max(first_range[1], theirs["zmax"]))
    both = shared[COMPARE]["data"][0]
    assert (both["zmin"], both["zmax"]) == union
    assert patched(shared[DETAIL]) == {("data", 0, "zmin"): union[0], ("data", 0, "zmax"): union[1]}
    assert both["colorbar"]["title"]["text"] == "activation"  # raw units
    # off again: the compare row hides and the first map gets its own range back
    off = compare(http, {**values, SAME: ["shared"], CHOICE: "off"})
    assert off[HIDDEN] is True
    assert tuple(patched(off[DETAIL]).values()) == first_range


def test_cmp04_off_leaves_the_first_map_alone(http) -> None:
    # a redraw of the first map with compare off: nothing is sent (HTTP 204)
    assert compare(http, state(**{CHOICE: "off"}), changed=DRAWN) == {}
    # on_detail and on_select neither read nor write the compare controls
    compare_ids = {ids.COMPARE_SELECT, ids.COMPARE_SCALE, ids.COMPARE_DETAIL, ids.COMPARE_ROW}
    for name in (DETAIL, f"{ids.CHANNEL_STORE}.data"):
        dep = http.wire.deps[name]
        used = {spec["id"] for spec in dep["inputs"] + dep["state"]}
        assert not used & compare_ids, name
        assert ids.COMPARE_DETAIL not in dep["output"]
    # a first map showing a sentence (DETAIL_INPUT None) gets no colour range patch
    out = compare(http, {**state(**{CHOICE: "mirror", SAME: ["shared"]}), DRAWN: None}, DRAWN)
    assert DETAIL not in out and "channel 0" in title(out[COMPARE])


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({CHOICE: "sample:../../etc/passwd"}, "comparison choice"),
        ({CHOICE: 7}, "comparison choice"),
        ({CHOICE: ["mirror"]}, "comparison choice"),
        ({CHOICE: "upload:" + "0" * 64}, "comparison choice"),  # not offered by the page
        ({CHOICE: "mirror", SAME: "yes"}, "colour scale choice"),
        ({CHOICE: "mirror", SAME: ["shared", "shared"]}, "colour scale choice"),
        ({CHOICE: "mirror", IMAGE: "mirror:mirror:random"}, "image choice"),
        ({CHOICE: "mirror", IMAGE: "mirror:upload:gone"}, "no longer held"),
        ({CHOICE: "mirror", CHANNEL: -1}, "channel number"),
    ],
)
def test_cmp05_forged_compare_values_get_a_sentence(http, changes, words) -> None:
    out = compare(http, {**state(), **changes})
    figure = out[COMPARE]
    assert words in note(figure), note(figure)
    assert "Traceback" not in note(figure) and out[HIDDEN] is False
    assert DETAIL not in out  # the first map is left as it is


def test_cmp06_uploaded_weights_are_used_for_the_second_image(http) -> None:
    conv = torch.nn.Conv2d(1, 4, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(torch.linspace(-1, 1, 36).reshape(4, 1, 3, 3))
        conv.bias.copy_(torch.tensor([0.1, -0.2, 0.3, 0.0]))
    payload = save_safetensors({"0.weight": conv.weight.data, "0.bias": conv.bias.data})
    upload = {
        "weights-upload.contents": data_url(payload, "application/octet-stream"),
        "weights-upload.filename": "mine.safetensors",
        f"{ids.MODEL_SELECT}.value": "custom",
    }
    stored = http.call(f"{ids.WEIGHTS_STORE}.data", upload, ["weights-upload.contents"])[
        f"{ids.WEIGHTS_STORE}.data"
    ]
    values = {
        **state("0", "random", channel=2, **{CHOICE: "mirror"}),
        f"{ids.MODEL_SELECT}.value": "custom",
        f"{ids.WEIGHTS_STORE}.data": stored,
    }
    figure = compare(http, values)[COMPARE]
    model = http.app.explorer.model("custom", stored)
    x = torch.flip(model.default_input(), dims=(-1,))
    with torch.no_grad():
        want = F.conv2d(x, conv.weight, conv.bias, padding=1)[0, 2].numpy()
    np.testing.assert_allclose(shown_map(figure), want, rtol=1e-5, atol=1e-6)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["off", "mirror", "shared", "random", CAT, "mirror:random", ["shared"]]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_cmp07_fuzzed_compare_values_answer_a_sentence_or_nothing(http, data) -> None:
    name = http.wire.named(COMPARE, CHOICE)
    dep = http.wire.deps[name]
    props = [f"{d['id']}.{d['property']}" for d in (*dep["inputs"], *dep["state"])]
    forged = {prop: data.draw(JSON, label=prop) for prop in props if prop != LAYER}
    trigger = data.draw(st.sampled_from([f"{d['id']}.{d['property']}" for d in dep["inputs"]]))
    reply = http.wire.post(name, {**http.page.values, **state(), **forged}, [trigger])
    assert reply.status in (200, 204), reply.head
    if COMPARE in reply.outputs:
        figure = reply.outputs[COMPARE]
        assert "Traceback" not in str(figure)
        assert note(figure) or figure["data"], figure  # a sentence, or a map
