"""The shipped TinyVGG: weights load, classify held-out shapes, and have structured kernels."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from dashboard.models.tinyvgg import CLASSES, INPUT_SIZE, WEIGHTS_PATH, TinyVGG, load_trained
from dashboard.training import shapes
from dashboard.training.__main__ import SAMPLES_DIR, main
from dashboard.training.kernel_metrics import (
    dct_matrix,
    low_frequency_fraction,
    neighbour_correlation,
    random_expectation,
)
from dashboard.training.train import TrainConfig, accuracy, train

# Neither the training stream (SeedSequence([0, epoch])) nor the training log's test set.
FRESH_TEST_SEED = 20_261_129
RANDOM_INIT_SEEDS = range(8)
TEST_IMAGES = 400  # 98.25 % of these are right with the shipped weights
TINY = ["--epochs", "1", "--samples-per-epoch", "32", "--batch-size", "16", "--test-size", "8"]


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One torch thread, restored after: on a shared busy CPU two spinning threads crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained() -> TinyVGG:
    return load_trained()


def first_layer(model: TinyVGG) -> np.ndarray:
    return model.block1[0].weight.detach().numpy()


def test_tv01_shipped_weights_load_into_tinyvgg(trained: TinyVGG) -> None:
    assert WEIGHTS_PATH.stat().st_size < 1_000_000
    assert not trained.training
    assert first_layer(trained).shape == (16, 3, 3, 3)
    assert all(p.dtype == torch.float32 for p in trained.state_dict().values())
    assert trained(torch.zeros(2, 3, INPUT_SIZE, INPUT_SIZE)).shape == (2, len(CLASSES))


def test_tv02_missing_weights_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(RuntimeError, match="missing"):
        load_trained(tmp_path / "nope.safetensors")


@pytest.mark.usefixtures("one_thread")
def test_tv03_held_out_accuracy(trained: TinyVGG) -> None:
    images, labels = shapes.generate(TEST_IMAGES, FRESH_TEST_SEED)
    assert accuracy(trained, images, labels) >= 0.95


def test_tv04_trained_kernels_are_more_structured_than_random_init(trained: TinyVGG) -> None:
    def random_conv1(seed: int) -> np.ndarray:
        torch.manual_seed(seed)
        return first_layer(TinyVGG())

    randoms = [low_frequency_fraction(random_conv1(s)) for s in RANDOM_INIT_SEEDS]
    score = low_frequency_fraction(first_layer(trained))
    assert abs(np.mean(randoms) - random_expectation(3, 3)) < 0.05
    assert score > max(randoms) + 0.25
    correlations = [neighbour_correlation(random_conv1(s)) for s in RANDOM_INIT_SEEDS]
    assert neighbour_correlation(first_layer(trained)) > max(correlations) + 0.3


def test_tv05_kernel_metrics_on_known_kernels() -> None:
    basis = dct_matrix(5)
    np.testing.assert_allclose(basis @ basis.T, np.eye(5), atol=1e-12)
    ramp = np.broadcast_to(np.arange(3.0), (2, 3, 3, 3))
    assert low_frequency_fraction(ramp) == pytest.approx(1.0)
    assert neighbour_correlation(ramp) == pytest.approx(4 / 7)
    checker = np.array([[1.0, -1, 1], [-1, 1, -1], [1, -1, 1]])[None, None]
    assert low_frequency_fraction(checker) < 0.05
    noise = np.random.default_rng(0).standard_normal((4000, 3, 3, 3))
    assert low_frequency_fraction(noise) == pytest.approx(1 / 3, abs=0.01)
    assert neighbour_correlation(noise) == pytest.approx(-1 / 8, abs=0.01)
    with pytest.raises(ValueError, match="kernel weight"):
        low_frequency_fraction(np.ones((3, 3)))
    with pytest.raises(ValueError, match="all zeros"):
        neighbour_correlation(np.zeros((1, 1, 3, 3)))


def test_tv06_shapes_classes_match_the_model() -> None:
    assert shapes.CLASSES == CLASSES


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 20), seed=st.integers(0, 2**32 - 1))
def test_tv07_shapes_are_seeded_images_in_range(n: int, seed: int) -> None:
    images, labels = shapes.generate(n, seed)
    again, labels_again = shapes.generate(n, seed)
    assert images.shape == (n, INPUT_SIZE, INPUT_SIZE, 3)
    assert images.dtype == np.float32 and labels.dtype == np.int64
    assert images.min(initial=0.0) >= 0.0 and images.max(initial=1.0) <= 1.0
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(labels, labels_again)
    counts = np.bincount(labels, minlength=len(CLASSES))
    assert counts.max() - counts.min() <= 1


def test_tv08_shapes_differ_by_seed_and_fill_every_class() -> None:
    a, labels = shapes.generate(64, 1)
    b, _ = shapes.generate(64, 2)
    assert not np.array_equal(a, b)
    for label in range(len(CLASSES)):
        chosen = a[labels == label]
        # every class draws a visible shape: a real spread of colours in each image
        assert (chosen.std(axis=(1, 2)).max(axis=1) > 0.05).all(), CLASSES[label]
    with pytest.raises(ValueError, match="n must be non-negative"):
        shapes.generate(-1, 0)


def test_tv09_shipped_samples_exist_one_per_class() -> None:
    for name in CLASSES:
        with Image.open(SAMPLES_DIR / f"shapes-{name}.png") as image:
            assert image.size == (INPUT_SIZE, INPUT_SIZE)
            assert image.mode == "RGB"


@pytest.mark.usefixtures("one_thread")
def test_tv10_training_is_deterministic_for_a_seed() -> None:
    config = TrainConfig(epochs=1, samples_per_epoch=32, batch_size=16, test_size=8, threads=1)
    first, second = train(config), train(config)
    for key, value in first.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[key]), key


@pytest.mark.usefixtures("one_thread")
def test_tv11_training_script_runs_end_to_end(tmp_path) -> None:
    weights = tmp_path / "w" / "tiny.safetensors"
    samples = tmp_path / "samples"
    test_accuracy = main(
        [*TINY, "--threads", "1", "--weights", str(weights), "--samples-dir", str(samples)]
    )
    assert 0.0 <= test_accuracy <= 1.0
    model = load_trained(weights)
    assert first_layer(model).shape == (16, 3, 3, 3)
    assert sorted(p.name for p in samples.glob("*.png")) == sorted(
        f"shapes-{name}.png" for name in CLASSES
    )
