"""exporting: file names that are safe and say what they hold; bytes that read back equal."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from dashboard import exporting
from dashboard.exporting import ExplanationRecord


@pytest.mark.parametrize(
    ("made", "want"),
    [
        (exporting.activations_name("vgg16", "features.28"), "vgg16_features.28_activations.npy"),
        (exporting.kernels_name("vgg16", "features.28"), "vgg16_features.28_kernels.npy"),
        (exporting.map_name("vgg16", "features.28", 17), "vgg16_features.28_ch17_map.csv"),
        (
            exporting.explanation_name("vgg16", "features.28", 17, 12, 40),
            "vgg16_features.28_ch17_r12c40_explanation.npz",
        ),
        (exporting.figure_stem("tinyvgg", "block1.0", "map", 3), "tinyvgg_block1.0_ch3_map"),
    ],
)
def test_ex01_names_say_model_layer_channel(made, want) -> None:
    assert made == want


@pytest.mark.parametrize(
    "hostile",
    ["../../etc/passwd", "a/b\\c", "..", "", "CON:", "x" * 500, "ünï cödé\x00\n", "-rf"],
)
def test_ex02_names_are_filesystem_safe(hostile) -> None:
    name = exporting.map_name(hostile, hostile, 0)
    stem = name.removesuffix("_ch0_map.csv")
    assert all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in name), name
    assert "/" not in name and "\\" not in name and not name.startswith((".", "-"))
    assert ".." not in stem.split("_")
    assert len(name) <= 2 * exporting.MAX_PART + 20


def test_ex03_npy_round_trip_keeps_dtype_shape_and_bits() -> None:
    rng = np.random.default_rng(0)
    array = rng.standard_normal((5, 7, 3)).astype(np.float32)
    array[0, 0, 0] = np.float32(1e-38)  # subnormal-adjacent values survive too
    back = np.load(io.BytesIO(exporting.npy_bytes(array)), allow_pickle=False)
    assert back.dtype == np.float32 and back.shape == (5, 7, 3)
    assert np.array_equal(back, array)
    # a non-contiguous view is saved as the array it shows
    view = array[:, ::2, ::-1]
    assert np.array_equal(np.load(io.BytesIO(exporting.npy_bytes(view))), view)


def test_ex04_csv_parses_back_equal_at_float32() -> None:
    rng = np.random.default_rng(1)
    feature_map = (rng.standard_normal((6, 9)) * 10.0 ** rng.integers(-8, 8, (6, 9))).astype(
        np.float32
    )
    data = exporting.csv_bytes(feature_map)
    back = np.loadtxt(io.BytesIO(data), delimiter=",", dtype=np.float64).astype(np.float32)
    assert back.shape == (6, 9)
    assert np.array_equal(back, feature_map)
    assert data.decode().count("\n") == 6
    with pytest.raises(ValueError):
        exporting.csv_bytes(feature_map[None])


def _record(measured=(0, 1, 4, 5), theoretical=None) -> ExplanationRecord:
    rng = np.random.default_rng(2)
    patch, kernel = rng.standard_normal((2, 4, 3, 3))
    terms = np.einsum("cij,cij->c", kernel, patch)
    return ExplanationRecord(
        model="tinyvgg",
        layer="block1.0",
        channel=5,
        row=2,
        col=3,
        total=float(terms.sum() + 0.25),
        shown=float(np.float32(terms.sum() + 0.25)),
        bias=0.25,
        terms=terms,
        input_channels=np.arange(4, 8),
        top_channels=np.argsort(-np.abs(terms), kind="stable")[:3],
        patch=patch,
        kernel=kernel,
        measured_field=measured,
        theoretical_field=theoretical,
    )


def test_ex05_npz_holds_the_explanation_without_pickles() -> None:
    record = _record()
    data = exporting.npz_bytes(record)
    assert zipfile.is_zipfile(io.BytesIO(data))
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert str(npz["model"]) == "tinyvgg" and str(npz["layer"]) == "block1.0"
        assert (int(npz["channel"]), int(npz["row"]), int(npz["col"])) == (5, 2, 3)
        assert npz["terms"].sum() + npz["bias"] == pytest.approx(npz["total"], abs=1e-12)
        top = record.top_channels
        assert np.array_equal(npz["top_input_channels"], record.input_channels[top])
        assert np.array_equal(npz["top_patches"], record.patch[top])
        assert np.array_equal(npz["top_kernels"], record.kernel[top])
        assert np.allclose(npz["top_products"].sum(axis=(1, 2)), npz["top_terms"], atol=1e-12)
        assert npz["receptive_field"].tolist() == [0, 1, 4, 5]
        assert npz["theoretical_field"].shape == (0,)


def test_ex06_image_options_per_format() -> None:
    assert exporting.image_options("a_b_map", "png") == {
        "filename": "a_b_map",
        "format": "png",
        "scale": 2,
    }
    assert exporting.image_options("a_b_map", "svg")["format"] == "svg"
