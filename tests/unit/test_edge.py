"""The edge: forged component values become a sentence or a safe default, never a crash."""

from __future__ import annotations

import pytest

from dashboard import edge
from dashboard.errors import UserError
from dashboard.modes import KernelMode, ScaleMode

# What the outside attack sent as channel-store.data, plus friends.
FORGED = ["abc", "nan", "1e400", [1], {}, "9" * 5000, True, -1, 1.5, float("inf"), 2**64, None]


@pytest.mark.parametrize("value", FORGED[:-1])
def test_edge01_forged_channels_are_refused_with_a_sentence(value) -> None:
    with pytest.raises(UserError, match="channel number that ConvScope cannot use"):
        edge.channel(value)


def test_edge02_real_channels_pass() -> None:
    assert [edge.channel(v) for v in (None, 0, 7, 7.0, 2047)] == [0, 0, 7, 7, 2047]


@pytest.mark.parametrize("value", [None, 5, [1, 2], {"a": 1}, "", "x" * 300, ["vgg16"]])
def test_edge03_model_must_be_a_known_name(value) -> None:
    with pytest.raises(UserError, match="model choice"):
        edge.model(value, ["tinyvgg", "vgg16"])
    assert edge.model("vgg16", ["tinyvgg", "vgg16"]) == "vgg16"


def test_edge04_modes() -> None:
    assert edge.scale("shared") is ScaleMode.SHARED and edge.kernel_mode("rgb") is KernelMode.RGB
    for bad in (None, 1, "RGB", ["grid"], {"v": "grid"}):
        with pytest.raises(UserError):
            edge.kernel_mode(bad)
        with pytest.raises(UserError):
            edge.scale(bad)


@pytest.mark.parametrize(
    "value",
    [
        5,
        "x",
        [1],
        {"model": "custom"},
        {"model": ["a"], "key": "k"},
        {"model": "a", "key": "a key\n"},
    ],
)
def test_edge05_weights_reference_must_be_what_the_server_made(value) -> None:
    with pytest.raises(UserError, match="weights reference"):
        edge.weights_ref(value)
    assert edge.weights_ref(None) is None
    ref = {"model": "custom", "key": "custom:upload:0123456789abcdef"}
    assert edge.weights_ref(ref) == ref


def test_edge06_sessions_and_file_names() -> None:
    assert edge.session("0" * 32) == "0" * 32
    for bad in (None, 5, "0" * 31, "g" * 32, ["0" * 32], "0" * 33):
        assert edge.session(bad) is None
    assert edge.display_filename(None) == "your file"
    assert edge.display_filename(["a"]) == "your file"
    assert edge.display_filename("../../etc/passwd\n\x00") == ".._.._etc_passwd"
    assert len(edge.display_filename("a" * 5000)) == edge.MAX_FILENAME
    with pytest.raises(UserError, match="file upload"):
        edge.upload(5, "x.png")


@pytest.mark.parametrize(
    "click",
    [
        None,
        5,
        {"points": 5},
        {"points": []},
        {"points": [5]},
        {"points": [{"customdata": "abc"}]},
        {"points": [{"customdata": ["1e400", "3"]}]},
        {"points": [{"customdata": [0, float("nan")]}]},
        {"points": [{"customdata": [0, -1]}]},  # an empty slot of the last row
        {"points": [{"customdata": [0, 2.5]}]},
        {"points": [{"customdata": {"x": 1}}]},
        {"points": [{"customdata": [0, True]}]},
    ],
)
def test_edge07_clicks_that_name_no_channel_are_ignored(click) -> None:
    assert edge.clicked_channel(click, 1) is None


def test_edge08_real_clicks_name_their_channel() -> None:
    assert edge.clicked_channel({"points": [{"customdata": [0.5, 3, 1, 2]}]}, 1) == 3
    assert edge.clicked_channel({"points": [{"customdata": {"0": 0.5, "1": 7.0}}]}, 1) == 7


def test_edge09_zoom_windows_from_relayout_data() -> None:
    box = {"xaxis.range[0]": 1.5, "xaxis.range[1]": 9, "yaxis.range[0]": 20, "yaxis.range[1]": 3}
    assert edge.zoom_window(box) == ((1.5, 9.0), (20.0, 3.0))
    assert edge.zoom_window({"xaxis.range": [0, 4], "yaxis.range": [4, 0]}) == ((0, 4), (4, 0))
    assert edge.zoom_window({"xaxis.autorange": True, "yaxis.autorange": True}) == "reset"
    for other in (None, [], {"autosize": True}, {"dragmode": "pan"}, {"xaxis.range[0]": 1}):
        assert edge.zoom_window(other) is None
    for bad in ("1", float("nan"), 1e400, True, [1], 1e9):
        assert edge.zoom_window({**box, "xaxis.range[0]": bad}) is None


def test_edge10_plot_sizes() -> None:
    assert edge.plot_size({"feature": [640, 400]}, "feature") == (640, 400)
    for bad in (
        None,
        {"feature": [1, 400]},
        {"feature": [640]},
        {"feature": ["640", 400]},
        {"feature": [640, 10**9]},
        {"kernel": [640, 400]},
        {"feature": [True, 400]},
    ):
        assert edge.plot_size(bad, "feature") is None
