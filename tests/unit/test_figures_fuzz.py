"""Fuzz the figure builders: any small shape, any real dtype, NaN/Inf, constants.

They must never raise, and what they send to the browser must be strict JSON with no
non-finite number anywhere, including inside the base64 typed arrays.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dashboard.figures import (
    feature_detail,
    feature_grid,
    kernel_grid,
    kernel_outline,
    kernel_paging,
    kernel_rgb_grid,
)
from dashboard.figures.paging import page_range
from tests.unit.figure_helpers import kernel_at
from tests.unit.test_figures_blocks import comb_rects

# When an example fails, hypothesis pretty-prints it with black, whose mypy_extensions import
# warns; with warnings-as-errors that would hide the real failure behind an INTERNALERROR.
pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
)

DTYPES = [
    np.float16,
    np.float32,
    np.float64,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.bool_,
]
FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,  # do not write .hypothesis/ into the repo
    suppress_health_check=[HealthCheck.too_slow],
)
SIDE = st.integers(1, 7)


def arrays(shape: st.SearchStrategy) -> st.SearchStrategy:
    """Arrays of any listed dtype; float elements include NaN, ±Inf, huge and tiny values."""
    return st.sampled_from(DTYPES).flatmap(lambda dtype: hnp.arrays(dtype, shape))


def reject_constant(token: str) -> None:
    raise AssertionError(f"non-standard JSON token {token}")


def assert_strict_finite_json(fig) -> None:
    payload = json.loads(fig.to_json(), parse_constant=reject_constant)

    def walk(node: object, key: str) -> None:
        if isinstance(node, dict):
            if "bdata" in node and "dtype" in node:
                raw = base64.b64decode(node["bdata"])
                values = np.frombuffer(raw, dtype=np.dtype("<" + node["dtype"]))
                assert np.isfinite(values).all(), f"non-finite value inside typed array {key}"
                return
            for name, value in node.items():
                walk(value, name)
        elif isinstance(node, list):
            for value in node:
                walk(value, key)
        elif node is None:
            # plotly writes NaN/Inf in plain lists as null; only separator breaks may be null
            assert key in ("x", "y"), f"null (a NaN or Inf?) in {key}"
        elif isinstance(node, float):
            assert np.isfinite(node)

    walk(payload, "figure")


@FUZZ
@given(maps=arrays(st.tuples(st.integers(1, 12), SIDE, SIDE)), shared=st.booleans())
def test_fuz01_feature_grid(maps: np.ndarray, shared: bool) -> None:
    fig = feature_grid(maps, scale="shared" if shared else "tile", selected=0, max_cells=200)
    assert_strict_finite_json(fig)


@FUZZ
@given(
    weights=arrays(st.tuples(st.sampled_from([1, 2, 4, 6]), st.integers(1, 4), SIDE, SIDE)),
    groups=st.sampled_from([1, 2]),
    page=st.integers(-1, 5),
)
def test_fuz02_kernel_grid(weights: np.ndarray, groups: int, page: int) -> None:
    groups = groups if weights.shape[0] % groups == 0 else 1
    fig = kernel_grid(weights, groups=groups, page=page, max_cells=60, selected=1)
    assert_strict_finite_json(fig)


@FUZZ
@given(weights=arrays(st.tuples(st.integers(1, 10), st.just(3), SIDE, SIDE)))
def test_fuz03_kernel_rgb_grid(weights: np.ndarray) -> None:
    assert_strict_finite_json(kernel_rgb_grid(weights, selected=2))


IMAGES = st.one_of(
    st.none(),
    arrays(st.tuples(SIDE, SIDE)),
    hnp.arrays(np.uint8, st.tuples(SIDE, SIDE, st.just(3))),
    arrays(st.tuples(SIDE, SIDE, st.sampled_from([1, 3, 4]))),
)


@FUZZ
@given(fmap=arrays(st.tuples(st.integers(1, 9), st.integers(1, 9))), image=IMAGES)
def test_fuz04_feature_detail(fmap: np.ndarray, image: np.ndarray | None) -> None:
    fig = feature_detail(fmap, channel=0, layer="fuzz", image=image, max_side=4)
    assert_strict_finite_json(fig)


@FUZZ
@given(
    # up to 24 inputs: tall pages wrap into input blocks, with tails
    shape=st.tuples(st.integers(1, 40), st.integers(1, 24), st.integers(1, 4), st.integers(1, 4)),
    max_cells=st.integers(1, 3000),
    data=st.data(),
)
def test_fuz05_kernel_bands_blocks_cells_clicks_and_outlines_agree(
    shape: tuple[int, int, int, int], max_cells: int, data: st.DataObject
) -> None:
    weights = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)  # all distinct
    paging = kernel_paging(shape, max_cells)
    page = data.draw(st.integers(0, paging.pages - 1), label="page")
    fig = kernel_grid(weights, page=page, max_cells=max_cells)
    cd = np.asarray(fig.data[0].customdata)
    start, stop = page_range(paging, page)
    real = cd[..., 2] >= 0
    o, i, r, c = (cd[real][:, k].astype(int) for k in range(1, 5))
    assert real.sum() == weights[start:stop].size
    np.testing.assert_array_equal(cd[real][:, 0], weights[i, o, r, c])
    for row, col in np.ndindex(cd.shape[:2]):
        expected = (int(cd[row, col, 2]), int(cd[row, col, 1])) if real[row, col] else None
        assert kernel_at(paging, page, row, col) == expected
    rows, cols = np.indices(cd.shape[:2])
    for channel in range(start, stop):
        shapes = kernel_outline(paging, page, channel)
        assert len(shapes) == 2  # one selection: one halo, one core
        core = shapes[1]
        cores = [core] if core["type"] == "rect" else comb_rects(core["path"])
        assert len(cores) == fig.layout.meta["blocks"]
        inside = np.zeros(cd.shape[:2], dtype=int)
        for s in cores:
            inside += (s["x0"] < cols) & (cols < s["x1"]) & (s["y0"] < rows) & (rows < s["y1"])
        assert inside.max() == 1  # the blocks' outlines never overlap
        assert (cd[..., 2][inside == 1] == channel).all()
        assert inside.sum() == (cd[..., 2] == channel).sum() == np.prod(shape[1:])
