"""Predictions: top_k equals torch's own softmax and topk; the Explorer runs it once per image."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
import torch
from torch import nn

from dashboard.capture.predict import ClassScore, class_vector, top_k
from dashboard.config import Config
from dashboard.errors import ModelError
from dashboard.explorer import Explorer
from dashboard.models.tinyvgg import CLASSES
from dashboard.views import MSG_NOT_A_CLASSIFIER, MSG_RANDOM_WEIGHTS, View, prediction_view
from tests.wire import ForwardCounter


def small_classifier(classes: int = 10, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(24, classes),
    ).eval()


def direct_top(module: nn.Module, x: torch.Tensor, k: int) -> tuple[list[int], list[float]]:
    """torch.softmax(model(x)).topk, computed directly (in float64, as top_k promises)."""
    with torch.no_grad():
        logits = module(x)
    top = torch.softmax(logits.double(), dim=1).topk(k, dim=1)
    return top.indices[0].tolist(), top.values[0].tolist()


def assert_matches(got: list[ClassScore], module: nn.Module, x: torch.Tensor, k: int) -> None:
    indices, probabilities = direct_top(module, x, k)
    with torch.no_grad():
        logits = module(x)[0]
    assert [score.index for score in got] == indices
    for score, want in zip(got, probabilities, strict=True):
        assert score.probability == pytest.approx(want, abs=1e-9)
        assert score.logit == float(logits[score.index])


def test_pred01_top_k_equals_softmax_topk_computed_directly() -> None:
    module = small_classifier(classes=10)
    for seed in range(5):
        x = torch.randn(1, 3, 9, 7, generator=torch.Generator().manual_seed(seed))
        got = top_k(module, x)
        assert got is not None and len(got) == 5
        assert_matches(got, module, x, 5)
        assert [s.probability for s in got] == sorted((s.probability for s in got), reverse=True)


def test_pred02_trained_tinyvgg_through_top_k_equals_torch(models) -> None:
    model = models.get("tinyvgg")
    assert model.trained and model.classes == CLASSES
    x = model.default_input()
    got = top_k(model.module, x, k=len(CLASSES))
    assert got is not None
    assert_matches(got, model.module, x, len(CLASSES))
    assert sum(score.probability for score in got) == pytest.approx(1.0, abs=1e-12)


def test_pred03_fewer_classes_than_k_gives_them_all() -> None:
    module = small_classifier(classes=3)
    got = top_k(module, torch.randn(1, 3, 5, 5), k=5)
    assert got is not None and sorted(s.index for s in got) == [0, 1, 2]


@pytest.mark.parametrize(
    ("output", "vector"),
    [
        (torch.zeros(1, 7), True),
        (torch.zeros(1, 7, 1, 1), True),  # a fully convolutional classifier's head
        (torch.zeros(1, 4, 28, 28), False),  # a map per channel (segmentation, "custom")
        (torch.zeros(1, 1), False),  # one number
        (torch.zeros(2, 7), False),  # not a batch of one
        (torch.zeros(7), False),
        ([{"boxes": torch.zeros(0, 4)}], False),  # detection models
        ({"out": torch.zeros(1, 21, 8, 8)}, False),  # torchvision segmentation models
        ((torch.zeros(1, 7), torch.zeros(1, 7)), False),
    ],
    ids=["1xN", "1xNx1x1", "maps", "scalar", "batch", "flat", "detection", "dict", "tuple"],
)
def test_pred04_only_a_class_vector_is_ranked(output: object, vector: bool) -> None:
    assert (class_vector(output) is not None) == vector

    class Fixed(nn.Module):
        def forward(self, _x: torch.Tensor) -> object:
            return output

    assert (top_k(Fixed(), torch.zeros(1, 3, 4, 4)) is not None) == vector


def test_pred05_non_finite_outputs_are_a_sentence() -> None:
    class Broken(nn.Module):
        def forward(self, _x: torch.Tensor) -> torch.Tensor:
            return torch.tensor([[0.0, float("nan"), 1.0]])

    with pytest.raises(ModelError, match="not finite"):
        top_k(Broken(), torch.zeros(1, 3, 4, 4))


def test_pred06_names_random_weights_and_no_vector_in_the_view(models) -> None:
    tinyvgg = models.get("tinyvgg")
    scores = (ClassScore(2, 0.9, 3.0), ClassScore(17, 0.1, 1.0))
    shown = prediction_view(tinyvgg, scores)
    assert [c.name for c in shown.classes] == ["circle", "class 17"]  # TinyVGG has 8 names
    assert shown.note == ""
    unnamed = prediction_view(dataclasses.replace(tinyvgg, classes=None, trained=False), scores)
    assert [c.name for c in unnamed.classes] == ["class 2", "class 17"]
    assert unnamed.note == MSG_RANDOM_WEIGHTS
    assert prediction_view(tinyvgg, ()).note == MSG_NOT_A_CLASSIFIER


@pytest.fixture
def explorer(models) -> Explorer:
    return Explorer(Config(cache_mb=64, request_timeout_s=60), models)


def test_pred07_one_prediction_pass_per_image_after_the_activation_pass(explorer) -> None:
    model = explorer.model("tinyvgg")
    image = "sample:tinyvgg/shapes-ring.png"
    counter = ForwardCounter(model.module)
    try:
        shown = explorer.predictions(View("tinyvgg", None, image))
        # the grids' pass ran first (it is cached now), then the full pass: two calls
        assert explorer.activations.peek((model.key, image)) is not None
        assert counter.calls == 2
        assert shown.classes[0].name == "ring"
        for layer in model.conv_layers:
            assert explorer.predictions(View("tinyvgg", layer.name, image)) == shown
        assert counter.calls == 2
    finally:
        counter.remove()
    assert explorer.health()["prediction_passes"] == 1


def test_pred08_a_busy_session_still_gets_its_predictions(explorer) -> None:
    """The prediction pass queues in a lane of its own: the session's other pass in flight
    does not turn it away as "your previous image"; it runs once that pass is done."""
    image, session = "sample:tinyvgg/shapes-dots.png", "ab" * 16
    explorer.layer_outputs(explorer.model("tinyvgg"), image, session)
    started, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def hold() -> None:
        started.set()
        release.wait(30)

    def predict() -> None:
        try:
            outcome["shown"] = explorer.predictions(View("tinyvgg", None, image, session=session))
        except Exception as exc:
            outcome["error"] = exc

    holder = threading.Thread(
        target=explorer.queue.run, args=(session, "held", hold, "holding"), daemon=True
    )
    predictor = threading.Thread(target=predict, daemon=True)
    holder.start()
    try:
        assert started.wait(30)
        predictor.start()
        deadline = time.monotonic() + 30
        while explorer.queue.pending < 2 and predictor.is_alive():
            assert time.monotonic() < deadline, "the prediction pass was never queued"
            time.sleep(0.01)
        assert "error" not in outcome, outcome
    finally:
        release.set()
        holder.join(30)
        predictor.join(30)
    assert outcome["shown"].classes[0].name == "dots"
    assert explorer.queue.refused == 0


def test_pred09_warming_computes_the_first_pages_predictions(explorer) -> None:
    explorer.warm("tinyvgg", "sample:chelsea.png")
    counter = ForwardCounter(explorer.model("tinyvgg").module)
    try:
        explorer.predictions(View("tinyvgg", None, "sample:chelsea.png", session="cd" * 16))
    finally:
        counter.remove()
    assert counter.calls == 0
