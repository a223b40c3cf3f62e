"""Budgets of "Real layer sizes, fast", without timings: bytes on the wire, forward passes.

Every figure of every VGG16 conv layer serialises (as Dash sends it) to at most 2 MB, on
dense random float32 (base64 of such data holds the most "/", which plotly escapes to six
bytes: the worst realistic payload). Through the real Dash endpoint, on the small models,
a layer switch runs no forward pass, a new image exactly one, and no response exceeds 2 MB.
Timings live in ``python -m bench``, not here.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from plotly.io.json import to_json_plotly
from torchvision.models.vgg import cfgs

from dashboard.app import create_app
from dashboard.config import Config
from dashboard.figures import (
    feature_detail,
    feature_grid,
    kernel_grid,
    kernel_paging,
    kernel_rgb_grid,
)
from tests.wire import DashClient as DashEndpoint
from tests.wire import ExplorerTab as Session
from tests.wire import ForwardCounter, distinct_images, find_explorer, initial_values

MAX_BYTES = 2_000_000
RNG = np.random.default_rng(1307)

# (name, weight shape (out, in, kh, kw), output shape (C, H, W)) at 224x224.
VGG16_CONVS: list[tuple[str, tuple[int, int, int, int], tuple[int, int, int]]] = [
    ("features.0", (64, 3, 3, 3), (64, 224, 224)),
    ("features.2", (64, 64, 3, 3), (64, 224, 224)),
    ("features.5", (128, 64, 3, 3), (128, 112, 112)),
    ("features.7", (128, 128, 3, 3), (128, 112, 112)),
    ("features.10", (256, 128, 3, 3), (256, 56, 56)),
    ("features.12", (256, 256, 3, 3), (256, 56, 56)),
    ("features.14", (256, 256, 3, 3), (256, 56, 56)),
    ("features.17", (512, 256, 3, 3), (512, 28, 28)),
    ("features.19", (512, 512, 3, 3), (512, 28, 28)),
    ("features.21", (512, 512, 3, 3), (512, 28, 28)),
    ("features.24", (512, 512, 3, 3), (512, 14, 14)),
    ("features.26", (512, 512, 3, 3), (512, 14, 14)),
    ("features.28", (512, 512, 3, 3), (512, 14, 14)),
]
MAP_SHAPES = sorted({shape for _, _, shape in VGG16_CONVS}, reverse=True)
WEIGHT_SHAPES = sorted({shape for _, shape, _ in VGG16_CONVS})
LARGEST_WEIGHTS = (512, 512, 3, 3)


def wire_bytes(figure) -> int:
    """Bytes of the figure's JSON exactly as Dash serialises a callback output."""
    return len(to_json_plotly(figure).encode())


def dense(shape: tuple[int, ...], scale: float = 3.0) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def test_bgt00_shape_list_is_torchvision_vgg16() -> None:
    """The hard-coded list follows torchvision's VGG16 config "D" (no model is built)."""
    derived, index, side, channels = [], 0, 224, 3
    for item in cfgs["D"]:
        if item == "M":
            side //= 2
            index += 1
            continue
        derived.append((f"features.{index}", (item, channels, 3, 3), (item, side, side)))
        channels, index = item, index + 2  # Conv2d, ReLU
    assert derived == VGG16_CONVS


@pytest.mark.parametrize("shape", MAP_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("scale", ["tile", "shared"])
def test_bgt01_feature_grid_of_every_layer_fits(shape: tuple[int, int, int], scale: str) -> None:
    figure = feature_grid(dense(shape), scale=scale, selected=shape[0] - 1, layer="features.0")
    assert wire_bytes(figure) <= MAX_BYTES


@pytest.mark.parametrize("shape", MAP_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_bgt01b_a_feature_cell_costs_its_colour_and_its_raw_value_only(
    shape: tuple[int, int, int],
) -> None:
    """uint8 colour + float32 value in base64 (~8 B of JSON with the separators) per cell;
    channel, row and col are derived in the browser (figures/cells.py). With them: ~23 B."""
    figure = feature_grid(dense(shape), layer="features.0")
    cells = np.asarray(figure.data[0].z).size
    assert wire_bytes(figure) / cells <= 9


def test_bgt02_every_kernel_page_of_the_largest_layer_fits() -> None:
    weights = dense(LARGEST_WEIGHTS, scale=0.05)
    paging = kernel_paging(LARGEST_WEIGHTS)
    assert paging.pages > 1
    sizes = [
        wire_bytes(kernel_grid(weights, page=page, selected=page * paging.per_page))
        for page in range(paging.pages)
    ]
    assert len(sizes) == paging.pages
    assert max(sizes) <= MAX_BYTES


@pytest.mark.parametrize("shape", WEIGHT_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_bgt03_first_and_last_kernel_page_of_every_layer_fit(
    shape: tuple[int, int, int, int],
) -> None:
    weights = dense(shape, scale=0.05)
    last = kernel_paging(shape).pages - 1
    for page in sorted({0, last}):
        assert wire_bytes(kernel_grid(weights, page=page)) <= MAX_BYTES


@pytest.mark.parametrize("shape", MAP_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_bgt04_detail_beside_the_input_fits(shape: tuple[int, int, int]) -> None:
    fmap = dense(shape[1:])
    image = RNG.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    figure = feature_detail(fmap, channel=shape[0] - 1, layer="features.0", image=image)
    assert wire_bytes(figure) <= MAX_BYTES


def test_bgt05_rgb_kernels_of_the_first_layer_fit() -> None:
    assert wire_bytes(kernel_rgb_grid(dense((64, 3, 3, 3), scale=0.3), selected=63)) <= MAX_BYTES


# --- through the real endpoint -------------------------------------------------------


@pytest.fixture(scope="module")
def app():
    return create_app(Config(cache_mb=64, default_model="tinyvgg", request_timeout_s=60))


@pytest.fixture
def passes(app):
    """() -> (cache misses, hooked forward calls) of the app's Explorer and TinyVGG."""
    explorer = find_explorer(app)
    counters = {}

    def count(model: str) -> tuple[int, int]:
        if model not in counters:
            counters[model] = ForwardCounter(explorer.model(model).module)
        return explorer.activations.stats.forward_passes, counters[model].calls

    yield count
    for counter in counters.values():
        counter.remove()


def every_size(responses) -> list[int]:
    return [r.nbytes for r in responses]


@pytest.mark.parametrize("model", ["tinyvgg", "custom"])
def test_bgt06_switching_layers_runs_no_forward_pass(app, passes, model: str) -> None:
    endpoint = DashEndpoint(app)
    session = Session(endpoint, initial_values(endpoint, model, "random"))
    before = passes(model)
    opened = session.open_model(model)
    after_open = passes(model)
    assert after_open[0] - before[0] <= 1 and after_open[1] - before[1] <= 1  # 0 if cached
    layers = [layer.name for layer in app.explorer.models.get(model).conv_layers]
    sizes = every_size(opened)
    for layer in [*reversed(layers), *layers]:
        responses = session.switch_layer(layer)
        assert all(r.status == 200 for r in responses)
        assert responses[1].outputs["status.children"] == ""
        sizes += every_size(responses)
    assert passes(model) == after_open
    assert max(sizes) <= MAX_BYTES


@pytest.mark.parametrize("model", ["tinyvgg", "custom"])
def test_bgt07_a_new_image_runs_exactly_one_forward_pass(app, passes, model: str) -> None:
    endpoint = DashEndpoint(app)
    session = Session(endpoint, initial_values(endpoint, model, "random"))
    session.open_model(model)
    layers = [layer.name for layer in app.explorer.models.get(model).conv_layers]
    session.switch_layer(layers[-1])
    images = distinct_images(seed={"tinyvgg": 1, "custom": 2}[model], size=96)
    for index in range(3):
        before = passes(model)
        upload = session.upload(next(images), f"budget-{index}.png")
        shown = session.new_image()
        assert [p - b for p, b in zip(passes(model), before, strict=True)] == [1, 1]
        assert shown[0].outputs["status.children"] == ""
        # Everything of that image is now cached: every layer switch is free.
        for layer in layers:
            session.switch_layer(layer)
        assert [p - b for p, b in zip(passes(model), before, strict=True)] == [1, 1]
        assert max(upload.nbytes, *every_size(shown)) <= MAX_BYTES


def test_bgt08_the_same_image_again_runs_no_forward_pass(app, passes) -> None:
    endpoint = DashEndpoint(app)
    session = Session(endpoint, initial_values(endpoint, "tinyvgg", "random"))
    session.open_model("tinyvgg")
    image = Image.new("RGB", (64, 48), (200, 30, 90))
    session.upload(image, "same.png")
    session.new_image()
    before = passes("tinyvgg")
    session.upload(image, "same-again.png")
    session.new_image()
    assert passes("tinyvgg") == before
