"""``--classes file.txt``: a user's classifier names its outputs; the file is checked."""

from __future__ import annotations

import pytest

from dashboard.app import create_app, load_user_config
from dashboard.config import Config
from dashboard.errors import ModelError
from tests.wire import DashClient, Tab

MNIST = "tests.fixtures.mnist_net:build"
DIGITS = [f"digit {d}" for d in range(10)]


def config(tmp_path, names: list[str] | None, text: str | None = None) -> Config:
    path = tmp_path / "classes.txt"
    path.write_text(text if text is not None else "\n".join(names or []) + "\n\n")
    return Config(user_model=MNIST, input_size=(28, 28), classes=str(path))


def test_cls01_names_reach_the_top5_panel(tmp_path) -> None:
    model = load_user_config(config(tmp_path, DIGITS))
    assert model.classes == tuple(DIGITS)
    app = create_app(config(tmp_path, DIGITS))
    tab = Tab(DashClient(app))
    tab.set({"model-select.value": "user", "image-store.data": "random"})
    reply = tab.fire("predictions.children", ["model-select.value"])
    reply.raise_for_status()
    shown = str(reply.outputs["predictions.children"])
    assert sum(name in shown for name in DIGITS) == 5  # five of them, by name
    assert "class 3" not in shown


@pytest.mark.parametrize(
    ("names", "text", "sentence"),
    [
        (DIGITS[:7], None, "names 7 classes, but"),
        (None, "\n\n", "names no classes"),
        (None, "\udcff", None),  # not UTF-8 (written below as raw bytes)
    ],
)
def test_cls02_a_wrong_file_is_a_sentence(tmp_path, names, text, sentence) -> None:
    cfg = config(tmp_path, names, text if text != "\udcff" else "")
    if text == "\udcff":
        (tmp_path / "classes.txt").write_bytes(b"\xff\xfe\xfa bad")
        sentence = "is not UTF-8 text"
    with pytest.raises(ModelError, match=sentence):
        load_user_config(cfg)


def test_cls03_missing_file_and_non_classifier(tmp_path) -> None:
    missing = Config(user_model=MNIST, input_size=(28, 28), classes=str(tmp_path / "no.txt"))
    with pytest.raises(ModelError, match="there is no file"):
        load_user_config(missing)
    path = tmp_path / "c.txt"
    path.write_text("a\nb\n")
    conv_only = Config(user_model="tests.fixtures.mnist_net:conv_only", classes=str(path))
    with pytest.raises(ModelError, match="output is not a vector"):
        load_user_config(conv_only)


def test_cls04_the_page_says_how_the_input_was_made() -> None:
    app = create_app(
        Config(
            user_model=MNIST, input_size=(28, 28), value_range="0-255", mean=(127.5,), std=(128,)
        )
    )
    tab = Tab(DashClient(app))
    for model, words in [("user", ["0–255", "127.5", "128"]), ("tinyvgg", ["0.5", "0.25"])]:
        tab.set({"model-select.value": model})
        reply = tab.fire("layer-select.options", ["model-select.value"])
        text = reply.outputs["preprocessing.children"]
        assert text.startswith("The input the model saw: ") and all(w in text for w in words)
