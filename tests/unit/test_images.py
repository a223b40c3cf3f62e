"""dashboard.images against a generated hostile corpus and files with known right answers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from dashboard.images import (
    ALLOWED_FORMATS,
    MAX_JPEG_SCANS,
    MAX_PIXELS,
    MSG_BAD_UPLOAD,
    MSG_CORRUPT,
    MSG_EMPTY,
    MSG_TOO_MANY_SCANS,
    MSG_UNSUPPORTED,
    ImageError,
    decode_upload,
    image_digest,
    load_image_bytes,
)
from tests.unit import image_corpus as corpus

REPO = Path(__file__).resolve().parents[2]
WHITE = (255, 255, 255)
MB = 2**20


def assert_human(exc: ImageError) -> None:
    """A refusal is one plain sentence: no internals, paths or class names."""
    message = str(exc)
    assert message.endswith(".") and "\n" not in message
    for leak in ("Traceback", "PIL", "/", "\\", "Error", "<", "0x", "BytesIO"):
        assert leak not in message, message


def refuse(data: bytes, **kwargs: int) -> str:
    with pytest.raises(ImageError) as info:
        load_image_bytes(data, **kwargs)
    assert_human(info.value)
    return str(info.value)


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def pixels(img: Image.Image) -> list:
    return [img.getpixel((x, y)) for y in range(img.height) for x in range(img.width)]


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 40) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(a, b, strict=True))


# ---- refusals --------------------------------------------------------------------


def test_contract_constants() -> None:
    assert ALLOWED_FORMATS == ("PNG", "JPEG", "WEBP", "BMP", "GIF")
    assert MAX_PIXELS == 40_000_000
    assert issubclass(ImageError, ValueError)


def test_zero_bytes_is_empty() -> None:
    assert refuse(b"") == MSG_EMPTY


@pytest.mark.parametrize("name", sorted(corpus.NOT_IMAGES))
def test_not_an_image_is_unsupported(name: str) -> None:
    assert refuse(corpus.NOT_IMAGES[name]) == MSG_UNSUPPORTED


@pytest.mark.parametrize("fmt", sorted(corpus.disallowed_formats()))
def test_readable_but_disallowed_format_is_unsupported(fmt: str) -> None:
    data = corpus.disallowed_formats()[fmt]
    if fmt not in ("PSD", "ZIP"):  # prove Pillow itself would have read it
        assert Image.open(io.BytesIO(data)).format == fmt
    assert refuse(data) == MSG_UNSUPPORTED


@pytest.mark.parametrize(
    "data",
    [
        corpus.truncated(corpus.encode(corpus.noise(), "PNG")),
        corpus.truncated(corpus.encode(corpus.noise(), "JPEG")),
        corpus.truncated(corpus.encode(corpus.noise(), "GIF")),
        corpus.truncated(corpus.encode(corpus.noise(), "BMP")),
        corpus.encode(corpus.noise(), "PNG")[:33],  # signature + IHDR only
        corpus.encode(corpus.noise(), "WEBP")[:40],
        corpus.png_bad_crc(),
    ],
    ids=["png-half", "jpeg-half", "gif-half", "bmp-half", "png-header", "webp-head", "png-crc"],
)
def test_truncated_or_corrupt(data: bytes) -> None:
    assert refuse(data) == MSG_CORRUPT


BOMBS = {
    "png-20000": corpus.png_bomb(20000, 20000),
    "gif-20000": corpus.gif_declared(20000, 20000),
    "bmp-20000": corpus.bmp_declared(20000, 20000),
    "jpeg-20000": corpus.jpeg_declared(20000, 20000),
    "webp-16000-canvas": corpus.webp_animated_canvas(16000, 16000),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_refused_fast_and_small(name: str) -> None:
    data = BOMBS[name]
    assert len(data) < 8 * 1024
    # tracemalloc sees Python and numpy buffers; Pillow's pixel memory is plain malloc,
    # which test_bomb_peak_rss_stays_small measures in a fresh process.
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = refuse(data)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 10 * MB
    assert "limit" in message and "40-megapixel" in message


def test_our_header_check_names_the_size() -> None:
    # 7000 x 7000 = 49 MP: under Pillow's bomb limit, so only our check stands in the way.
    message = refuse(corpus.webp_animated_canvas(7000, 7000))
    assert message == "The image is 7000 × 7000 pixels, more than the 40-megapixel limit."
    assert refuse(corpus.png_bomb(8000, 6000)).startswith("The image is 8000 × 6000 pixels")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pillow_bomb_warning_without_error_filter_still_refused_by_size() -> None:
    # In production warnings are not errors: Pillow only warns at 89-179 MP.
    message = refuse(corpus.webp_animated_canvas(13000, 13000))
    assert message.startswith("The image is 13000 × 13000 pixels")


def test_pillow_bomb_warning_as_error_refused() -> None:
    assert "limit" in refuse(corpus.png_bomb(10000, 10000))


def test_jpeg_scan_bomb_refused_before_decoding() -> None:
    plain_scans = corpus.encode(Image.new("L", (64, 64)), "JPEG", progressive=True).count(
        b"\xff\xda"
    )
    at_limit = corpus.jpeg_scan_bomb(MAX_JPEG_SCANS - plain_scans)
    assert load_image_bytes(at_limit).size == (64, 64)  # libjpeg accepts repeated scans
    started = time.perf_counter()
    assert refuse(corpus.jpeg_scan_bomb(MAX_JPEG_SCANS - plain_scans + 1)) == MSG_TOO_MANY_SCANS
    assert refuse(corpus.jpeg_scan_bomb(5000, size=6000)) == MSG_TOO_MANY_SCANS
    assert time.perf_counter() - started < 1.0


def test_ordinary_progressive_jpeg_loads() -> None:
    img = load_image_bytes(corpus.encode(corpus.noise(), "JPEG", progressive=True))
    assert (img.mode, img.size) == ("RGB", (64, 64))


def test_max_pixels_is_configurable() -> None:
    data = corpus.encode(Image.new("RGB", (100, 100), corpus.RED), "PNG")
    message = refuse(data, max_pixels=9_999)
    assert message == "The image is 100 × 100 pixels, more than the 9,999-pixel limit."
    assert load_image_bytes(data, max_pixels=10_000).size == (100, 100)
    with pytest.raises(ValueError, match="max_pixels"):
        load_image_bytes(data, max_pixels=0)


def test_pillow_global_limit_untouched() -> None:
    before = Image.MAX_IMAGE_PIXELS
    refuse(corpus.png_bomb())
    load_image_bytes(corpus.encode(Image.new("L", (1, 1)), "PNG"), max_pixels=10**9)
    assert before == Image.MAX_IMAGE_PIXELS


def test_technical_reason_is_logged_not_shown(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="dashboard.images"):
        refuse(corpus.png_bomb())
        refuse(corpus.NOT_IMAGES["pdf-header"])
    assert "DecompressionBombError" in caplog.text
    assert "UnidentifiedImageError" in caplog.text


RSS_PROBE = """
import sys
from tests.unit import image_corpus
from dashboard.images import ImageError, load_image_bytes

def peak_rss_kib():  # VmHWM belongs to this process's own memory map, unlike ru_maxrss,
    with open("/proc/self/status") as status:  # which inherits the parent's peak at exec
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

data = getattr(image_corpus, sys.argv[1])(int(sys.argv[2]), int(sys.argv[3]))
before = peak_rss_kib()
try:
    load_image_bytes(data)
    print("loaded")
except ImageError as exc:
    print("refused:", exc)
print((peak_rss_kib() - before) // 1024)
"""


def peak_rss_growth_mb(factory: str, width: int, height: int) -> tuple[str, int]:
    """Run one load in a fresh interpreter (production warning filters); return its RSS growth."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONWARNINGS", None)
    args = [sys.executable, "-c", RSS_PROBE, factory, str(width), str(height)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=True)
    outcome, growth = done.stdout.strip().splitlines()
    return outcome, int(growth)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize(
    ("factory", "width", "height"),
    [
        ("png_zero_filled", 8000, 8000),  # a complete, valid 192 MB image: our check
        ("png_bomb", 20000, 20000),  # Pillow's DecompressionBombError
        ("webp_animated_canvas", 13000, 13000),  # Pillow only warns: our check
        ("gif_declared", 20000, 20000),
    ],
)
def test_bomb_peak_rss_stays_small(factory: str, width: int, height: int) -> None:
    outcome, growth = peak_rss_growth_mb(factory, width, height)
    assert outcome.startswith("refused: The image")
    assert growth < 50


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_rss_probe_does_see_a_real_decode() -> None:
    # Control for the test above: a 36 MB image under the limit does grow the peak.
    outcome, growth = peak_rss_growth_mb("png_zero_filled", 4000, 3000)
    assert outcome == "loaded"
    assert growth > 30


# ---- decode_upload ---------------------------------------------------------------

RED_PNG = corpus.encode(Image.new("RGB", (3, 2), corpus.RED), "PNG")


def test_decode_upload_round_trip() -> None:
    img = decode_upload(data_url(RED_PNG), "red.png", max_bytes=MB)
    assert (img.mode, img.size, img.getpixel((2, 1))) == ("RGB", (3, 2), corpus.RED)


def test_decode_upload_ignores_the_claimed_mime_and_filename() -> None:
    img = decode_upload(data_url(RED_PNG, "application/pdf"), "x.exe", max_bytes=MB)
    assert img.size == (3, 2)
    with pytest.raises(ImageError, match="not an image"):
        decode_upload(data_url(b"%PDF-1.7", "image/png"), "photo.png", max_bytes=MB)


@pytest.mark.parametrize(
    "contents",
    [
        "no comma at all",
        "data:image/png;base64" + base64.b64encode(RED_PNG).decode(),
        "data:image/png," + base64.b64encode(RED_PNG).decode(),  # not base64-encoded
        "image/png;base64," + base64.b64encode(RED_PNG).decode(),
        "data:image/png;base64,iVBORw0KGgo=!!",
        "data:image/png;base64,iVBORw0KGgo",  # bad padding
        "data:image/png;base64,iVBOR w0KG go=",  # whitespace is not base64
        "data:image/png;base64,ïVBORw0KGgo=",  # non-ASCII
        "x" * 300 + ",AAAA",  # comma too far away to be a data URL header
    ],
)
def test_malformed_data_url(contents: str) -> None:
    with pytest.raises(ImageError) as info:
        decode_upload(contents, "a.png", max_bytes=MB)
    assert str(info.value) == MSG_BAD_UPLOAD
    assert_human(info.value)


@pytest.mark.parametrize("contents", ["data:", "data:application/octet-stream;base64,"])
def test_empty_upload(contents: str) -> None:
    with pytest.raises(ImageError, match=r"^The file is empty\.$"):
        decode_upload(contents, "empty.png", max_bytes=MB)


def test_non_string_contents() -> None:
    with pytest.raises(ImageError, match="could not be read"):
        decode_upload(None, "a.png", max_bytes=MB)  # type: ignore[arg-type]


def test_oversize_refused_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("an oversize payload must not be decoded")

    monkeypatch.setattr(base64, "b64decode", never)
    monkeypatch.setattr(binascii, "a2b_base64", never)
    huge = "data:image/png;base64," + "A" * (64 * MB)
    started = time.perf_counter()
    with pytest.raises(ImageError) as info:
        decode_upload(huge, "/home/me/huge.png", max_bytes=10 * MB)
    assert time.perf_counter() - started < 0.5
    assert str(info.value) == "The file is larger than the 10 MB limit."
    assert_human(info.value)


def test_size_limit_is_exact() -> None:
    n = len(RED_PNG)
    assert decode_upload(data_url(RED_PNG), max_bytes=n).size == (3, 2)
    for limit in (n - 1, n - 2, n - 3, n - 4):  # the pre-check or the post-decode check
        with pytest.raises(ImageError, match=r"^The file is larger than the .* limit\.$"):
            decode_upload(data_url(RED_PNG), max_bytes=limit)
    with pytest.raises(ValueError, match="max_bytes"):
        decode_upload(data_url(RED_PNG), max_bytes=0)


def test_filename_never_reaches_the_message() -> None:
    with pytest.raises(ImageError) as info:
        decode_upload(data_url(b"hello"), "../../etc/<script>.png", max_bytes=MB)
    assert str(info.value) == MSG_UNSUPPORTED


# ---- files with a known right answer ------------------------------------------


def test_one_by_one_png() -> None:
    img = load_image_bytes(corpus.encode(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG"))
    assert (img.mode, img.size, img.getpixel((0, 0))) == ("RGB", (1, 1), (1, 2, 3))


def test_result_is_loaded_detached_and_metadata_free() -> None:
    img = load_image_bytes(corpus.exif_rotated_jpeg(6))
    assert type(img) is Image.Image and not isinstance(img, ImageFile.ImageFile)
    assert img.info == {} and len(img.getexif()) == 0
    assert img.im is not None  # pixels are in memory, no file behind them


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (1000, 4), (32768, 128), (65535, 255)])
def test_16_bit_grey_scaled_not_clipped(value: int, expected: int) -> None:
    data = corpus.encode(Image.new("I;16", (4, 4), value), "PNG")
    img = load_image_bytes(data)
    assert img.mode == "L"
    assert abs(img.getpixel((1, 1)) - expected) <= 1


def test_16_bit_rgb_png() -> None:
    img = load_image_bytes(corpus.png_16bit_rgb(32768))
    assert img.mode == "RGB" and close(img.getpixel((0, 0)), (128, 128, 128), tol=1)


def test_palette_png_without_transparency() -> None:
    img = load_image_bytes(corpus.palette_png(transparent=False))
    assert img.mode == "RGB" and pixels(img) == [corpus.RED, corpus.BLUE]


def test_palette_png_with_transparency_goes_white() -> None:
    img = load_image_bytes(corpus.palette_png(transparent=True))
    assert img.mode == "RGB" and pixels(img) == [corpus.RED, WHITE]


def test_rgba_composited_on_white() -> None:
    img = load_image_bytes(corpus.rgba_png())
    transparent, red, half_red, blue = pixels(img)
    assert img.mode == "RGB"
    assert (transparent, red, blue) == (WHITE, corpus.RED, corpus.BLUE)
    assert close(half_red, (255, 127, 127), tol=2)


def test_grey_alpha_composited_on_white_stays_grey() -> None:
    img = load_image_bytes(corpus.la_png())
    assert img.mode == "L" and pixels(img) == [255, 0]


def test_grey_png_with_trns_transparency() -> None:
    grey = Image.new("L", (2, 1))
    grey.putdata([10, 200])
    img = load_image_bytes(corpus.encode(grey, "PNG", transparency=10))
    assert img.mode == "L" and pixels(img) == [255, 200]


def test_one_bit_becomes_l() -> None:
    bits = Image.new("1", (2, 1))
    bits.putpixel((1, 0), 1)
    img = load_image_bytes(corpus.encode(bits, "PNG"))
    assert img.mode == "L" and pixels(img) == [0, 255]


def test_grey_stays_grey() -> None:
    img = load_image_bytes(corpus.encode(Image.new("L", (5, 4), 77), "PNG"))
    assert img.mode == "L" and img.getpixel((4, 3)) == 77


def test_cmyk_jpeg_colour() -> None:
    red_in_cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    img = load_image_bytes(corpus.encode(red_in_cmyk, "JPEG", quality=95))
    assert img.mode == "RGB" and close(img.getpixel((8, 8)), corpus.RED)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animation_gives_first_frame(fmt: str) -> None:
    data = corpus.animated(fmt)
    with Image.open(io.BytesIO(data)) as original:  # the file really is animated
        assert original.n_frames == 2
    img = load_image_bytes(data)
    assert img.mode == "RGB" and img.getpixel((4, 4)) == corpus.RED


def test_mpo_camera_file_gives_first_picture() -> None:
    # Pillow's JPEG opener returns MPO (multi-picture JPEG, e.g. from 3D cameras).
    pictures = [Image.new("RGB", (8, 8), colour) for colour in (corpus.RED, corpus.BLUE)]
    data = corpus.encode(pictures[0], "MPO", save_all=True, append_images=pictures[1:])
    assert close(load_image_bytes(data).getpixel((4, 4)), corpus.RED, tol=4)


@pytest.mark.parametrize(
    ("orientation", "size", "marker", "far_corner"),
    [
        (1, (40, 20), (4, 4), (35, 15)),
        (3, (40, 20), (35, 15), (4, 4)),  # 180°: top-left -> bottom-right
        (6, (20, 40), (15, 4), (4, 35)),  # 90° clockwise: top-left -> top-right
        (8, (20, 40), (4, 35), (15, 4)),  # 90° anticlockwise: top-left -> bottom-left
    ],
)
def test_exif_orientation_applied(
    orientation: int, size: tuple[int, int], marker: tuple[int, int], far_corner: tuple[int, int]
) -> None:
    img = load_image_bytes(corpus.exif_rotated_jpeg(orientation))
    assert img.size == size
    assert close(img.getpixel(marker), corpus.RED)
    assert close(img.getpixel(far_corner), WHITE)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
def test_garbage_exif_is_ignored() -> None:
    img = load_image_bytes(corpus.jpeg_with_garbage_exif())
    assert img.size == (8, 8) and close(img.getpixel((4, 4)), corpus.GREEN)


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("WEBP", {"lossless": True}), ("BMP", {}), ("PNG", {}), ("GIF", {})],
)
def test_lossless_round_trip(fmt: str, params: dict) -> None:
    original = corpus.noise((13, 7), seed=3)
    if fmt == "GIF":  # GIF has 256 colours: compare with what GIF can hold
        original = original.quantize(64).convert("RGB")
    img = load_image_bytes(corpus.encode(original, fmt, **params))
    assert img.mode == "RGB" and img.tobytes() == original.tobytes()


def test_jpeg_round_trip() -> None:
    img = load_image_bytes(corpus.encode(Image.new("RGB", (16, 16), (30, 160, 90)), "JPEG"))
    assert img.mode == "RGB" and close(img.getpixel((8, 8)), (30, 160, 90), tol=4)


# ---- image_digest ------------------------------------------------


def test_image_digest_known_answer_and_sensitivity() -> None:
    black = Image.new("L", (1, 1))
    assert image_digest(black) == hashlib.sha256(b"L\x001x1\x00\x00").hexdigest()
    a = load_image_bytes(corpus.encode(corpus.noise((8, 8)), "PNG"))
    b = load_image_bytes(corpus.encode(corpus.noise((8, 8)), "BMP"))
    assert image_digest(a) == image_digest(b)  # same pixels, different files
    b.putpixel((7, 7), (0, 0, 0) if b.getpixel((7, 7)) != (0, 0, 0) else (1, 1, 1))
    assert image_digest(a) != image_digest(b)
    row, column = Image.new("L", (2, 1)), Image.new("L", (1, 2))
    assert image_digest(row) != image_digest(column)
    assert image_digest(Image.new("L", (3, 1))) != image_digest(Image.new("RGB", (1, 1)))
