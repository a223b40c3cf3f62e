"""Fuzz dashboard.images: any input gives a small RGB/L image or an ImageError, nothing else."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from dashboard.images import MAX_SIDE, DecodedImage, ImageError, decode_upload, load_image_bytes
from tests.unit import image_corpus as corpus

# Mutations can forge headers of up to 65535 x 65535 pixels: a 1 MP cap keeps every
# example cheap while exercising the same code paths as the 40 MP default.
FUZZ_MAX_PIXELS = 2**20
# The seeds are a few pixels a side: small limits send them through the downscaling
# (JPEG draft) path, the default one through the untouched path.
FUZZ_MAX_SIDES = st.sampled_from([1, 5, 8, MAX_SIDE])
FUZZ = settings(
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _seeds() -> list[bytes]:
    small = corpus.noise((12, 9), seed=1)
    return [
        corpus.encode(small, "PNG"),
        corpus.encode(small, "JPEG", quality=80),
        corpus.encode(small, "JPEG", progressive=True),
        corpus.encode(small, "GIF"),
        corpus.encode(small, "BMP"),
        corpus.encode(small, "WEBP", lossless=True),
        corpus.encode(small, "WEBP", quality=50),
        corpus.animated("GIF"),
        corpus.animated("PNG"),
        corpus.palette_png(transparent=True),
        corpus.rgba_png(),
        corpus.png_16bit_rgb(40000),
        corpus.encode(Image.new("I;16", (5, 3), 30000), "PNG"),
        corpus.exif_rotated_jpeg(6),
        corpus.encode(Image.new("CMYK", (6, 6), (10, 200, 30, 0)), "JPEG"),
    ]


SEEDS = _seeds()


def check(data: bytes, max_side: int = MAX_SIDE) -> None:
    """The property: a valid image no larger than asked, or one human sentence."""
    try:
        decoded = load_image_bytes(data, max_pixels=FUZZ_MAX_PIXELS, max_side=max_side)
    except ImageError as exc:
        message = str(exc)
        assert message.endswith(".") and "PIL" not in message and "/" not in message
        return
    check_decoded(decoded, max_side)


def check_decoded(decoded: DecodedImage, max_side: int) -> None:
    img = decoded.image
    assert type(img) is Image.Image
    assert img.mode in ("RGB", "L")
    assert 1 <= max(img.size) <= max_side
    width, height = decoded.original_size
    assert 1 <= width * height <= FUZZ_MAX_PIXELS
    assert decoded.was_downscaled == (max(width, height) > max_side)
    if not decoded.was_downscaled:
        assert img.size == decoded.original_size
    img.tobytes()  # pixels really are loaded and readable


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid seed file with a few byte flips, insertions, deletions or a truncation."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if action == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":  # extreme values hit size and length fields hardest
            data[at] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            del data[at:]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    check(data)


@FUZZ
@given(st.sampled_from([s[:16] for s in SEEDS]), st.binary(max_size=512))
def test_fuzz_valid_signature_then_garbage(signature: bytes, tail: bytes) -> None:
    check(signature + tail)


@settings(FUZZ, max_examples=1000)
@given(mutated(), FUZZ_MAX_SIDES)
def test_fuzz_mutated_valid_files(data: bytes, max_side: int) -> None:
    check(data, max_side)


@FUZZ
@given(st.text(max_size=300) | st.builds(lambda b: "data:;base64," + b, st.text(max_size=300)))
def test_fuzz_decode_upload_text(contents: str) -> None:
    try:
        decoded = decode_upload(contents, "fuzz.png", max_bytes=4096, max_pixels=FUZZ_MAX_PIXELS)
    except ImageError:
        return
    check_decoded(decoded, MAX_SIDE)


@FUZZ
@given(mutated(), FUZZ_MAX_SIDES)
def test_fuzz_decode_upload_of_mutated_files(data: bytes, max_side: int) -> None:
    contents = "data:image/png;base64," + base64.b64encode(data).decode()
    limits = {"max_bytes": 64 * 1024, "max_pixels": FUZZ_MAX_PIXELS, "max_side": max_side}
    try:
        decoded = decode_upload(contents, None, **limits)
    except ImageError:
        return
    check_decoded(decoded, max_side)


@pytest.mark.parametrize("seed", range(len(SEEDS)))
@pytest.mark.parametrize("max_side", [1, 5, MAX_SIDE])
def test_every_seed_is_valid(seed: int, max_side: int) -> None:
    """The mutations start from files that do load, at every size limit the fuzzers use."""
    check_decoded(load_image_bytes(SEEDS[seed], max_side=max_side), max_side)
