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
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, JpegImagePlugin

from dashboard.errors import UserError, page_message
from dashboard.images import (
    ALLOWED_FORMATS,
    MAX_JPEG_SCANS,
    MAX_PIXELS,
    MAX_SIDE,
    MSG_BAD_UPLOAD,
    MSG_CORRUPT,
    MSG_EMPTY,
    MSG_TOO_MANY_SCANS,
    MSG_UNSUPPORTED,
    DecodedImage,
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
    assert MAX_SIDE == 1024
    assert issubclass(ImageError, ValueError)


def test_image_error_is_a_user_error_the_page_shows() -> None:
    assert issubclass(ImageError, UserError)
    with pytest.raises(ImageError) as info:
        load_image_bytes(corpus.NOT_IMAGES["svg"])
    assert page_message(info.value) == MSG_UNSUPPORTED


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
    try:
        message = refuse(data)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 10 * MB  # memory, not time: these machines are shared and noisy
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
    assert load_image_bytes(at_limit).image.size == (64, 64)  # libjpeg accepts repeated scans
    # the scan counter answers before any decoding (its sentence names the scans)
    assert refuse(corpus.jpeg_scan_bomb(MAX_JPEG_SCANS - plain_scans + 1)) == MSG_TOO_MANY_SCANS
    assert refuse(corpus.jpeg_scan_bomb(5000, size=6000)) == MSG_TOO_MANY_SCANS


def test_ordinary_progressive_jpeg_loads() -> None:
    img = load_image_bytes(corpus.encode(corpus.noise(), "JPEG", progressive=True)).image
    assert (img.mode, img.size) == ("RGB", (64, 64))


def test_max_pixels_is_configurable() -> None:
    data = corpus.encode(Image.new("RGB", (100, 100), corpus.RED), "PNG")
    message = refuse(data, max_pixels=9_999)
    assert message == "The image is 100 × 100 pixels, more than the 9,999-pixel limit."
    assert load_image_bytes(data, max_pixels=10_000).image.size == (100, 100)
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


PEAK_RSS_KIB = """
def peak_rss_kib():  # VmHWM belongs to this process's own memory map, unlike ru_maxrss,
    with open("/proc/self/status") as status:  # which inherits the parent's peak at exec
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
"""

RSS_PROBE = (
    """
import sys
from tests.unit import image_corpus
from dashboard.images import ImageError, load_image_bytes
"""
    + PEAK_RSS_KIB
    + """
data = getattr(image_corpus, sys.argv[1])(int(sys.argv[2]), int(sys.argv[3]))
before = peak_rss_kib()
try:
    load_image_bytes(data)
    print("loaded")
except ImageError as exc:
    print("refused:", exc)
print((peak_rss_kib() - before) // 1024)
"""
)

# Reads the file in the probe: building a 24 MP photo there would raise the high-water
# mark above what its decoding costs, hiding the very growth the test looks for.
FILE_RSS_PROBE = (
    """
import sys
from pathlib import Path
from dashboard.images import load_image_bytes
"""
    + PEAK_RSS_KIB
    + """
data = Path(sys.argv[1]).read_bytes()
before = peak_rss_kib()
decoded = load_image_bytes(data, max_side=int(sys.argv[2]))
print("loaded %dx%d" % decoded.image.size)
print((peak_rss_kib() - before) // 1024)
"""
)


def run_rss_probe(script: str, *args: object) -> tuple[str, int]:
    """Run ``script`` in a fresh interpreter (production warning filters); its two lines."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONWARNINGS", None)
    command = [sys.executable, "-c", script, *map(str, args)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=True)
    outcome, growth = done.stdout.strip().splitlines()
    return outcome, int(growth)


def peak_rss_growth_mb(factory: str, width: int, height: int) -> tuple[str, int]:
    """Load ``image_corpus.<factory>(width, height)`` in a fresh process; its RSS growth."""
    return run_rss_probe(RSS_PROBE, factory, width, height)


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
    img = decode_upload(data_url(RED_PNG), "red.png", max_bytes=MB).image
    assert (img.mode, img.size, img.getpixel((2, 1))) == ("RGB", (3, 2), corpus.RED)


def test_decode_upload_ignores_the_claimed_mime_and_filename() -> None:
    img = decode_upload(data_url(RED_PNG, "application/pdf"), "x.exe", max_bytes=MB).image
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
    with pytest.raises(ImageError) as info:
        decode_upload(huge, "/home/me/huge.png", max_bytes=10 * MB)
    assert str(info.value) == "The file is larger than the 10 MB limit."
    assert_human(info.value)


def test_size_limit_is_exact() -> None:
    n = len(RED_PNG)
    assert decode_upload(data_url(RED_PNG), max_bytes=n).image.size == (3, 2)
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
    img = load_image_bytes(corpus.encode(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG")).image
    assert (img.mode, img.size, img.getpixel((0, 0))) == ("RGB", (1, 1), (1, 2, 3))


def test_result_is_loaded_detached_and_metadata_free() -> None:
    img = load_image_bytes(corpus.exif_rotated_jpeg(6)).image
    assert type(img) is Image.Image and not isinstance(img, ImageFile.ImageFile)
    assert img.info == {} and len(img.getexif()) == 0
    assert img.im is not None  # pixels are in memory, no file behind them


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (1000, 4), (32768, 128), (65535, 255)])
def test_16_bit_grey_scaled_not_clipped(value: int, expected: int) -> None:
    data = corpus.encode(Image.new("I;16", (4, 4), value), "PNG")
    img = load_image_bytes(data).image
    assert img.mode == "L"
    assert abs(img.getpixel((1, 1)) - expected) <= 1


def test_16_bit_rgb_png() -> None:
    img = load_image_bytes(corpus.png_16bit_rgb(32768)).image
    assert img.mode == "RGB" and close(img.getpixel((0, 0)), (128, 128, 128), tol=1)


def test_palette_png_without_transparency() -> None:
    img = load_image_bytes(corpus.palette_png(transparent=False)).image
    assert img.mode == "RGB" and pixels(img) == [corpus.RED, corpus.BLUE]


def test_palette_png_with_transparency_goes_white() -> None:
    img = load_image_bytes(corpus.palette_png(transparent=True)).image
    assert img.mode == "RGB" and pixels(img) == [corpus.RED, WHITE]


def test_rgba_composited_on_white() -> None:
    img = load_image_bytes(corpus.rgba_png()).image
    transparent, red, half_red, blue = pixels(img)
    assert img.mode == "RGB"
    assert (transparent, red, blue) == (WHITE, corpus.RED, corpus.BLUE)
    assert close(half_red, (255, 127, 127), tol=2)


def test_grey_alpha_composited_on_white_stays_grey() -> None:
    img = load_image_bytes(corpus.la_png()).image
    assert img.mode == "L" and pixels(img) == [255, 0]


def test_grey_png_with_trns_transparency() -> None:
    grey = Image.new("L", (2, 1))
    grey.putdata([10, 200])
    img = load_image_bytes(corpus.encode(grey, "PNG", transparency=10)).image
    assert img.mode == "L" and pixels(img) == [255, 200]


def test_one_bit_becomes_l() -> None:
    bits = Image.new("1", (2, 1))
    bits.putpixel((1, 0), 1)
    img = load_image_bytes(corpus.encode(bits, "PNG")).image
    assert img.mode == "L" and pixels(img) == [0, 255]


def test_grey_stays_grey() -> None:
    img = load_image_bytes(corpus.encode(Image.new("L", (5, 4), 77), "PNG")).image
    assert img.mode == "L" and img.getpixel((4, 3)) == 77


def test_cmyk_jpeg_colour() -> None:
    red_in_cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    img = load_image_bytes(corpus.encode(red_in_cmyk, "JPEG", quality=95)).image
    assert img.mode == "RGB" and close(img.getpixel((8, 8)), corpus.RED)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animation_gives_first_frame(fmt: str) -> None:
    data = corpus.animated(fmt)
    with Image.open(io.BytesIO(data)) as original:  # the file really is animated
        assert original.n_frames == 2
    img = load_image_bytes(data).image
    assert img.mode == "RGB" and img.getpixel((4, 4)) == corpus.RED


def test_mpo_camera_file_gives_first_picture() -> None:
    # Pillow's JPEG opener returns MPO (multi-picture JPEG, e.g. from 3D cameras).
    pictures = [Image.new("RGB", (8, 8), colour) for colour in (corpus.RED, corpus.BLUE)]
    data = corpus.encode(pictures[0], "MPO", save_all=True, append_images=pictures[1:])
    assert close(load_image_bytes(data).image.getpixel((4, 4)), corpus.RED, tol=4)


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
    img = load_image_bytes(corpus.exif_rotated_jpeg(orientation)).image
    assert img.size == size
    assert close(img.getpixel(marker), corpus.RED)
    assert close(img.getpixel(far_corner), WHITE)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
def test_garbage_exif_is_ignored() -> None:
    img = load_image_bytes(corpus.jpeg_with_garbage_exif()).image
    assert img.size == (8, 8) and close(img.getpixel((4, 4)), corpus.GREEN)


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("WEBP", {"lossless": True}), ("BMP", {}), ("PNG", {}), ("GIF", {})],
)
def test_lossless_round_trip(fmt: str, params: dict) -> None:
    original = corpus.noise((13, 7), seed=3)
    if fmt == "GIF":  # GIF has 256 colours: compare with what GIF can hold
        original = original.quantize(64).convert("RGB")
    img = load_image_bytes(corpus.encode(original, fmt, **params)).image
    assert img.mode == "RGB" and img.tobytes() == original.tobytes()


def test_jpeg_round_trip() -> None:
    img = load_image_bytes(corpus.encode(Image.new("RGB", (16, 16), (30, 160, 90)), "JPEG")).image
    assert img.mode == "RGB" and close(img.getpixel((8, 8)), (30, 160, 90), tol=4)


# ---- image_digest ------------------------------------------------


def test_image_digest_known_answer_and_sensitivity() -> None:
    black = Image.new("L", (1, 1))
    assert image_digest(black) == hashlib.sha256(b"L\x001x1\x00\x00").hexdigest()
    a = load_image_bytes(corpus.encode(corpus.noise((8, 8)), "PNG")).image
    b = load_image_bytes(corpus.encode(corpus.noise((8, 8)), "BMP")).image
    assert image_digest(a) == image_digest(b)  # same pixels, different files
    b.putpixel((7, 7), (0, 0, 0) if b.getpixel((7, 7)) != (0, 0, 0) else (1, 1, 1))
    assert image_digest(a) != image_digest(b)
    row, column = Image.new("L", (2, 1)), Image.new("L", (1, 2))
    assert image_digest(row) != image_digest(column)
    assert image_digest(Image.new("L", (3, 1))) != image_digest(Image.new("RGB", (1, 1)))


# ---- big photos are shrunk at decode time ------------------------------------

PHONE = (6000, 4000)  # a 24 MP phone photo


@pytest.fixture(scope="module")
def phone_jpeg() -> bytes:
    data = corpus.phone_photo(*PHONE)
    assert len(data) < 3 * MB  # an ordinary photo, far below the 10 MB upload limit
    return data


def assert_aspect_kept(decoded: DecodedImage) -> None:
    """The short side is within a pixel of the original's, scaled like the long side."""
    (width, height), (new_width, new_height) = decoded.original_size, decoded.image.size
    assert abs(new_width * height - new_height * width) <= max(width, height)


def is_red(pixel: tuple[int, ...]) -> bool:
    return close(pixel, corpus.RED, tol=30)


def test_phone_photo_decodes_small_keeping_its_size_and_look(phone_jpeg: bytes) -> None:
    decoded = decode_upload(data_url(phone_jpeg, "image/jpeg"), "IMG_0001.jpg", max_bytes=10 * MB)
    img = decoded.image
    assert isinstance(decoded, DecodedImage) and decoded.was_downscaled
    assert decoded.original_size == PHONE
    assert (img.mode, img.size) == ("RGB", (1024, 683))
    assert_aspect_kept(decoded)
    assert img.info == {} and type(img) is Image.Image
    # Same picture as a full decode shrunk by Pillow at its best, give or take JPEG's DCT.
    with Image.open(io.BytesIO(phone_jpeg)) as full:
        reference = full.convert("RGB").resize(img.size, Image.Resampling.LANCZOS)
    difference = np.abs(np.asarray(img, np.int16) - np.asarray(reference, np.int16))
    assert difference.mean() < 2 and np.percentile(difference, 99) < 12
    assert is_red(img.getpixel((50, 30))) and not is_red(img.getpixel((900, 600)))


def test_phone_photo_is_decoded_in_draft_mode(
    phone_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libjpeg decodes at 1/4 scale: 1500 x 1000 is the largest picture ever in memory.
    loaded_sizes: list[tuple[int, int]] = []
    real_load = JpegImagePlugin.JpegImageFile.load

    def spy(self: JpegImagePlugin.JpegImageFile) -> object:
        loaded_sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    assert load_image_bytes(phone_jpeg).image.size == (1024, 683)
    assert set(loaded_sizes) == {(1500, 1000)}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_phone_photo_peak_memory_stays_small(phone_jpeg: bytes, tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(phone_jpeg)
    outcome, growth = run_rss_probe(FILE_RSS_PROBE, photo, MAX_SIDE)
    assert outcome == "loaded 1024x683"
    assert growth < 25  # 1500 x 1000 x 3 = 4.5 MB decoded, plus the resampling buffers
    # Control: the same probe without downscaling does hold the full 72 MB picture.
    outcome, growth = run_rss_probe(FILE_RSS_PROBE, photo, 10**6)
    assert outcome == "loaded 6000x4000"
    assert growth > 65


def test_exif_rotated_phone_photo_keeps_its_rotation() -> None:
    # Stored 6000 x 4000 on its side; orientation 6 turns it 90° clockwise: the red
    # block of the stored top-left corner ends at the top right of a portrait picture.
    decoded = load_image_bytes(corpus.phone_photo(*PHONE, orientation=6))
    img = decoded.image
    assert decoded.original_size == (4000, 6000)
    assert img.size == (683, 1024) and decoded.was_downscaled
    assert is_red(img.getpixel((683 - 30, 50)))
    assert not is_red(img.getpixel((30, 50))) and not is_red(img.getpixel((683 - 30, 1024 - 50)))
    assert len(img.getexif()) == 0


def test_black_png_of_22_megapixels_decodes_downscaled() -> None:
    data = corpus.png_zero_filled(4700, 4700)  # 66 MB decoded, ~300 KB on disk
    assert len(data) < MB
    decoded = load_image_bytes(data)
    assert decoded.original_size == (4700, 4700) and decoded.was_downscaled
    assert (decoded.image.mode, decoded.image.size) == ("RGB", (1024, 1024))
    assert decoded.image.getextrema() == ((0, 0), (0, 0), (0, 0))


def test_png_downscale_keeps_the_picture() -> None:
    halves = Image.new("L", (4000, 2000), 0)
    halves.paste(255, (2000, 0, 4000, 2000))
    img = load_image_bytes(corpus.encode(halves, "PNG")).image
    assert (img.mode, img.size) == ("L", (1024, 512))
    assert img.getpixel((100, 256)) == 0 and img.getpixel((1000, 256)) == 255
    assert 0 < img.getpixel((511, 256)) < 255 or 0 < img.getpixel((512, 256)) < 255


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1025, 1), (1024, 1)),
        ((40000, 1), (1024, 1)),  # never rounds a side down to zero
        ((5000, 100), (1024, 20)),
        ((100, 5000), (20, 1024)),
        ((2048, 1536), (1024, 768)),
        ((2051, 1037), (1024, 518)),  # 517.7
    ],
)
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_downscale_keeps_the_aspect_ratio(
    size: tuple[int, int], expected: tuple[int, int], fmt: str
) -> None:
    decoded = load_image_bytes(corpus.encode(Image.new("RGB", size, corpus.BLUE), fmt))
    assert decoded.image.size == expected and decoded.original_size == size
    assert_aspect_kept(decoded)
    assert close(decoded.image.getpixel((0, 0)), corpus.BLUE, tol=8)


@pytest.mark.parametrize(("mode", "colour"), [("L", 90), ("RGB", (30, 160, 90))])
def test_big_jpeg_keeps_its_mode(mode: str, colour: int | tuple[int, ...]) -> None:
    img = load_image_bytes(corpus.encode(Image.new(mode, (3000, 2000), colour), "JPEG")).image
    assert (img.mode, img.size) == (mode, (1024, 683))
    assert close(np.atleast_1d(img.getpixel((500, 300))), np.atleast_1d(colour), tol=4)


def test_big_cmyk_jpeg_downscaled_to_rgb() -> None:
    red_in_cmyk = Image.new("CMYK", (3000, 2000), (0, 255, 255, 0))
    img = load_image_bytes(corpus.encode(red_in_cmyk, "JPEG", quality=95)).image
    assert (img.mode, img.size) == ("RGB", (1024, 683)) and is_red(img.getpixel((500, 300)))


@pytest.mark.parametrize(
    ("fmt", "size"),
    [("PNG", (300, 200)), ("PNG", (1024, 1000)), ("WEBP", (64, 1024)), ("JPEG", (1024, 768))],
)
def test_images_that_fit_keep_their_exact_pixels(fmt: str, size: tuple[int, int]) -> None:
    params = {"lossless": True} if fmt == "WEBP" else {}
    data = corpus.encode(corpus.noise(size, seed=5), fmt, **params)
    with Image.open(io.BytesIO(data)) as plain:  # Pillow's own full-size decode
        expected = plain.convert("RGB").tobytes()
    decoded = load_image_bytes(data)
    assert decoded.original_size == size and not decoded.was_downscaled
    assert decoded.image.size == size and decoded.image.tobytes() == expected


def test_untouched_image_is_still_detached() -> None:
    img = load_image_bytes(corpus.encode(corpus.noise((8, 8)), "PNG")).image
    assert type(img) is Image.Image and img.info == {}


def test_max_side_is_configurable() -> None:
    data = corpus.encode(Image.new("RGB", (100, 50), corpus.RED), "PNG")
    decoded = decode_upload(data_url(data), max_bytes=MB, max_side=10)
    assert decoded.image.size == (10, 5) and decoded.original_size == (100, 50)
    with pytest.raises(ValueError, match="max_side"):
        load_image_bytes(data, max_side=0)
