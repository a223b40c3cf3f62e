"""The shareable URL's query string <-> UrlState: every field round-trips, garbage is
dropped and named, never raised."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.modes import KernelMode, KernelScale, Look, ScaleMode, SortKey
from dashboard.urlstate import (
    MAX_QUERY,
    PARAMS,
    UPLOAD,
    ParsedUrl,
    UrlState,
    image_key,
    image_param,
    parse,
    to_search,
)

ONE_FIELD = [
    ("model", "vgg16", "?model=vgg16"),
    ("layer", "features.28", "?layer=features.28"),
    ("layer", "layer4.2.conv3", "?layer=layer4.2.conv3"),
    ("channel", 0, "?channel=0"),
    ("channel", 511, "?channel=511"),
    ("image", "tinyvgg/shapes-blob.png", "?image=tinyvgg/shapes-blob.png"),
    ("image", UPLOAD, "?image=upload"),
    ("scale", ScaleMode.SHARED, "?scale=shared"),
    ("kernels", KernelMode.NORMS, "?kernels=norms"),
    ("kernel_scale", KernelScale.CHANNEL, "?kscale=channel"),
    ("look", Look.TUTORIAL, "?look=tutorial"),
    ("sort", SortKey.MAXIMUM, "?sort=maximum"),
    ("zoom", (-0.5, 40.25, 31.5, -0.5), "?zoom=-0.5,40.25,31.5,-0.5"),
    ("lang", "zh", "?lang=zh"),
]


def test_url01_fields_and_params_agree() -> None:
    assert list(PARAMS) == [f.name for f in dataclasses.fields(UrlState)]


@pytest.mark.parametrize(("field", "value", "search"), ONE_FIELD)
def test_url02_each_field_round_trips(field, value, search) -> None:
    state = UrlState(**{field: value})
    assert to_search(state) == search
    assert parse(search) == ParsedUrl(state)
    assert parse(search.removeprefix("?")).state == state  # the "?" is optional


def test_url03_full_state_in_param_order() -> None:
    state = UrlState(**{field: value for field, value, _ in ONE_FIELD})
    search = to_search(state)
    assert search.startswith("?model=vgg16&layer=layer4.2.conv3&channel=511&image=upload&")
    assert search.endswith("&zoom=-0.5,40.25,31.5,-0.5&lang=zh")
    assert parse(search).state == state
    assert to_search(UrlState()) == "" and parse("").state == UrlState()


@pytest.mark.parametrize(
    ("search", "param"),
    [
        ("?model=vg%20g", "model"),
        ("?model=" + "m" * 300, "model"),
        ("?layer=features.0%3Cscript%3E", "layer"),
        ("?channel=-1", "channel"),
        ("?channel=1.5", "channel"),
        ("?channel=99999999", "channel"),
        ("?channel=%EF%BC%91", "channel"),  # a full-width digit
        ("?image=../../etc/passwd%00", "image"),
        ("?scale=SHARED", "scale"),
        ("?kernels=", "kernels"),
        ("?kscale=all", "kscale"),
        ("?look=dark", "look"),
        ("?sort=random", "sort"),
        ("?zoom=1,2,3", "zoom"),
        ("?zoom=nan,1,2,3", "zoom"),
        ("?zoom=1e300,1,2,3", "zoom"),
        ("?zoom=1,1,2,3", "zoom"),  # an empty window
        ("?lang=fr", "lang"),
    ],
)
def test_url04_bad_values_are_dropped_and_named(search, param) -> None:
    parsed = parse(search)
    assert parsed.state == UrlState()
    assert [p for p, _raw in parsed.rejected] == [param]


def test_url05_unknown_params_ignored_first_of_repeats_counts() -> None:
    parsed = parse("?utm_source=x&model=vgg16&model=alexnet&channel=3&channel=x")
    assert parsed.state == UrlState(model="vgg16", channel=3)
    assert parsed.rejected == ()


@pytest.mark.parametrize(
    "search",
    [7, ["?model=vgg16"], "?" + "a" * (MAX_QUERY + 1), "&".join(["x=1"] * 100)],
)
def test_url06_unreadable_query_strings(search) -> None:
    parsed = parse(search)
    assert parsed.unreadable and parsed.state == UrlState()


def test_url07_image_keys() -> None:
    assert image_param("sample:chelsea.png") == "chelsea.png"
    assert image_key("chelsea.png") == "sample:chelsea.png"
    assert image_param("random") == image_key("random") == "random"
    assert image_param("upload:" + "ab" * 32) == UPLOAD


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_url08_any_text_parses_without_raising(text) -> None:
    parsed = parse(text)
    assert isinstance(parsed.state, UrlState)
    # what parses serialises to a query string that parses back to it
    assert parse(to_search(parsed.state)).state == parsed.state


names = st.from_regex(r"[0-9A-Za-z_.:/\-]{1,40}", fullmatch=True)
coords = st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 4))


@settings(max_examples=200, deadline=None)
@given(
    st.builds(
        UrlState,
        model=st.none() | names,
        layer=st.none() | names,
        channel=st.none() | st.integers(0, (1 << 20) - 1),
        image=st.none() | names,
        scale=st.none() | st.sampled_from(ScaleMode),
        kernels=st.none() | st.sampled_from(KernelMode),
        kernel_scale=st.none() | st.sampled_from(KernelScale),
        look=st.none() | st.sampled_from(Look),
        sort=st.none() | st.sampled_from(SortKey),
        zoom=st.none()
        | st.tuples(coords, coords, coords, coords).filter(lambda z: z[0] != z[1] and z[2] != z[3]),
        lang=st.none() | st.sampled_from(["en", "zh"]),
    )
)
def test_url09_every_state_round_trips(state) -> None:
    assert parse(to_search(state)) == ParsedUrl(state)
