"""Decode and validate uploaded images into upright, fully loaded, small RGB or L PIL images.

Every upload is hostile until proven otherwise: the payload size is checked before
base64 decoding, only an allow-list of formats is parsed, and the pixel count is
checked from the header before any pixel is decoded. Big photos are normal input, so
they are shrunk at decode time to at most ``MAX_SIDE`` pixels a side (JPEGs by libjpeg's
DCT scaling, so the full-size picture is never in memory). Users see one plain sentence
(`ImageError`, a `UserError`); the technical reason goes to the log.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import struct
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from dashboard.errors import UserError
from dashboard.i18n import _, ngettext

logger = logging.getLogger(__name__)

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
MAX_PIXELS = 40_000_000
# The models look at a few hundred pixels a side; keeping more only costs memory.
MAX_SIDE = 1024
# Every progressive JPEG scan re-walks all blocks, so a small file with thousands of
# scans costs minutes of CPU. libjpeg's default progressive script uses 10 scans.
MAX_JPEG_SCANS = 100

# Anything Pillow's parsers and decoders raise on hostile bytes. Warnings are listed
# because under `-W error` (our tests) Pillow's warnings arrive as exceptions.
_PARSE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError)
_DECODE_ERRORS = (*_PARSE_ERRORS, struct.error, OverflowError, ZeroDivisionError, Warning)
# Magic numbers of the allowed formats: a file that starts like one but fails to
# open is reported as corrupt rather than as "not an image".
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_GREY_MODES = frozenset({"1", "L", "LA", "La"})
_DATA_URL_HEADER_MAX = 256  # "data:<mime>;base64," is short; never scan a huge string
# EXIF orientation -> the transpose that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = frozenset({5, 6, 7, 8})


class ImageError(UserError, ValueError):
    """An upload was refused; ``str(exc)`` is one sentence to show the user."""


@dataclass(frozen=True)
class DecodedImage:
    """A decoded upload: the (possibly downscaled) image and the size the file had.

    ``original_size`` is (width, height) before downscaling, after EXIF rotation.
    """

    image: Image.Image
    original_size: tuple[int, int]

    @property
    def was_downscaled(self) -> bool:
        return self.image.size != self.original_size


def _refused(error: ImageError, reason: object) -> ImageError:
    """Log the technical reason and return the user-facing error to raise."""
    if isinstance(reason, BaseException):
        reason = f"{type(reason).__name__}: {reason}"
    logger.info("Image refused (%s): %s", error, reason)
    return error


def _empty() -> ImageError:
    return ImageError("The file is empty.")


def _bad_upload() -> ImageError:
    return ImageError("The upload arrived damaged and could not be read; please try again.")


def _corrupt() -> ImageError:
    return ImageError("The image file is truncated or corrupt.")


def _unsupported() -> ImageError:
    return ImageError(
        "This file is not an image ConvScope can read (allowed: PNG, JPEG, WebP, BMP, GIF)."
    )


def _too_many_scans() -> ImageError:
    return ImageError("This JPEG is built from too many progressive scans to decode safely.")


# The English sentences, for tests and callers that compare.
MSG_EMPTY = _empty().message
MSG_UNSUPPORTED = _unsupported().message
MSG_CORRUPT = _corrupt().message
MSG_TOO_MANY_SCANS = _too_many_scans().message
MSG_BAD_UPLOAD = _bad_upload().message


def _too_big_file(max_bytes: int) -> ImageError:
    return ImageError("The file is larger than the {limit} limit.", limit=_human_bytes(max_bytes))


def _human_bytes(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return ngettext("{n} byte", "{n} bytes", n).format(n=n)


def _pixel_limit(max_pixels: int) -> str:
    if max_pixels >= 1_000_000:
        return _("{n}-megapixel").format(n=f"{max_pixels / 1_000_000:g}")
    return _("{n}-pixel").format(n=f"{max_pixels:,}")


def _looks_like_allowed_format(data: bytes) -> bool:
    return data.startswith(_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def decode_upload(
    contents: str,
    filename: str | None = None,
    *,
    max_bytes: int,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
) -> DecodedImage:
    """Turn a ``dcc.Upload`` data URL into a validated, small RGB or L image.

    Args:
        contents: ``"data:<mime>;base64,<payload>"`` as sent by ``dcc.Upload``.
        filename: The browser-supplied name; used for logging only, never trusted.
        max_bytes: Largest decoded file accepted. The payload length is checked
            before decoding, so an oversize upload costs no decoding work.
        max_pixels: Largest width × height accepted, see `load_image_bytes`.
        max_side: Longest side of the returned image, see `load_image_bytes`.

    Returns:
        A fully loaded, upright image of mode "RGB" or "L", and its original size.

    Raises:
        ImageError: The upload is malformed, too large, or not a readable image.
        ValueError: ``max_bytes`` is not positive (a programming error).
    """
    data = decode_data_url(contents, filename, max_bytes=max_bytes)
    try:
        return load_image_bytes(data, max_pixels=max_pixels, max_side=max_side)
    except ImageError:
        logger.info("Upload %r (%d bytes) refused.", filename, len(data))
        raise


def decode_data_url(contents: str, filename: str | None = None, *, max_bytes: int) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL, refusing oversize payloads before decoding.

    Raises:
        ImageError: malformed, empty or larger than ``max_bytes`` (a user sentence).
        ValueError: ``max_bytes`` is not positive (a programming error).
    """
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be positive, got {max_bytes!r}.")
    if not isinstance(contents, str):
        raise _refused(_bad_upload(), f"contents is {type(contents).__name__}, not str")
    if len(contents) == 5 and contents.lower() == "data:":  # a zero-byte file, in Chrome
        raise _refused(_empty(), f"empty data URL (file {filename!r})")
    comma = contents.find(",", 0, _DATA_URL_HEADER_MAX)
    header = contents[:comma].lower() if comma >= 0 else ""
    if not (header.startswith("data:") and header.endswith(";base64")):
        raise _refused(_bad_upload(), f"not a base64 data URL (file {filename!r})")
    payload_chars = len(contents) - comma - 1
    if payload_chars > 4 * -(-max_bytes // 3):  # base64 length of max_bytes bytes
        raise _refused(
            _too_big_file(max_bytes),
            f"payload of {payload_chars} base64 chars (file {filename!r})",
        )
    try:
        data = base64.b64decode(contents[comma + 1 :], validate=True)
    except ValueError as exc:  # binascii.Error, or non-ASCII characters
        raise _refused(_bad_upload(), exc) from exc
    if len(data) > max_bytes:
        raise _refused(_too_big_file(max_bytes), len(data))
    if not data:
        raise _refused(_empty(), f"empty payload (file {filename!r})")
    return data


def load_image_bytes(
    data: bytes, *, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE
) -> DecodedImage:
    """Decode image bytes into an upright, fully loaded RGB or L image of bounded size.

    Only PNG, JPEG, WebP, BMP and GIF are parsed. Animated files give their first
    frame; EXIF orientation is applied; transparency is flattened onto white;
    16-bit grey is scaled (not clipped) to 8 bits; metadata (EXIF, ICC, text) is
    dropped. An image whose longest side exceeds ``max_side`` is shrunk to fit,
    keeping its aspect ratio: a JPEG is decoded at 1/2, 1/4 or 1/8 scale (draft
    mode) and then resampled, other formats are decoded then resampled. Smaller
    images keep their exact pixels. The result is detached from ``data``.

    Raises:
        ImageError: Empty, not an allowed image, corrupt, more than ``max_pixels``
            pixels (checked from the header, before decoding; Pillow's own
            ``Image.MAX_IMAGE_PIXELS`` bomb limit also applies), or a JPEG of more
            than ``MAX_JPEG_SCANS`` scans.
        ValueError: ``max_pixels`` or ``max_side`` is not positive (a programming error).
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, got {max_pixels!r}.")
    if max_side < 1:
        raise ValueError(f"max_side must be positive, got {max_side!r}.")
    if not data:
        raise _refused(_empty(), "zero bytes")
    limit = _pixel_limit(max_pixels)
    try:
        with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise _refused(
                    ImageError(
                        "The image is {width} × {height} pixels, more than the {limit} limit.",
                        width=width,
                        height=height,
                        limit=limit,
                    ),
                    f"{img.format} header declares {width}x{height}",
                )
            # b"\xff\xda" starts every scan and never occurs inside entropy-coded data
            # (0xFF is stuffed there), so counting it bounds the scans libjpeg sees.
            scans = data.count(b"\xff\xda") if img.format in ("JPEG", "MPO") else 0
            if scans > MAX_JPEG_SCANS:
                raise _refused(_too_many_scans(), f"{scans} start-of-scan markers")
            target = _fitted_size((width, height), max_side)
            box = None
            if target != (width, height) and img.format in ("JPEG", "MPO"):
                drafted = img.draft("L" if img.mode == "L" else "RGB", target)
                box = drafted[1] if drafted else None
            img.load()
            orientation = _orientation(img)
            out = _to_rgb_or_l(img)
            if target != (width, height):
                # reducing_gap=3: integer box reduction first, then Lanczos over the last
                # factor of 3 or less, "indistinguishable from fair resampling" (Pillow).
                out = out.resize(target, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
            if orientation in _UPRIGHT:
                out = out.transpose(_UPRIGHT[orientation])
            if orientation in _SWAPS_AXES:
                width, height = height, width
            if out is img:  # nothing made a copy: detach the pixels from the file
                out = img.copy()
            out.info = {}
            return DecodedImage(out, (width, height))
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refused(
            ImageError("The image's dimensions are far above the {limit} limit.", limit=limit),
            exc,
        ) from exc
    except MemoryError as exc:
        raise _refused(ImageError("The image is too large to process."), exc) from exc
    except UnidentifiedImageError as exc:
        if _looks_like_allowed_format(data):
            raise _refused(_corrupt(), exc) from exc
        raise _refused(_unsupported(), exc) from exc
    except _DECODE_ERRORS as exc:
        raise _refused(_corrupt(), exc) from exc


def _fitted_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """``size`` scaled to a longest side of ``max_side``, aspect kept; unchanged if it fits."""
    width, height = size
    longest = max(width, height)
    if longest <= max_side:
        return size
    return max(1, round(width * max_side / longest)), max(1, round(height * max_side / longest))


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation (1 = upright); a broken EXIF block counts as upright."""
    try:
        value = img.getexif().get(ExifTags.Base.Orientation, 1)
    except _DECODE_ERRORS as exc:
        logger.warning("Ignoring unreadable EXIF orientation: %s: %s", type(exc).__name__, exc)
        return 1
    return value if isinstance(value, int) else 1


def _to_rgb_or_l(img: Image.Image) -> Image.Image:
    """Normalise any decoded mode to "RGB" or "L"; an image already in one is returned as is."""
    mode = img.mode
    if mode.startswith("I") or mode == "F":
        out = _scale_to_l(img)
    else:
        target = "L" if mode in _GREY_MODES else "RGB"
        if mode in _ALPHA_MODES or "transparency" in img.info:
            # Convert through RGBA/LA so palette and tRNS transparency are honoured,
            # then blend onto white: out = src * alpha + white * (1 - alpha).
            src = img.convert(target + "A")
            out = Image.new(target, src.size, "white")
            out.paste(src, mask=src)
        else:
            out = img.convert(target) if mode != target else img
    return out


def _scale_to_l(img: Image.Image) -> Image.Image:
    """Scale 16/32-bit integer or float grey to 8 bits without clipping to white."""
    arr = np.asarray(img)
    sixteen_bit = img.mode == "I" and arr.min() >= 0 and arr.max() <= 65535
    if img.mode.startswith("I;16") or sixteen_bit:
        # 16-bit samples: 0..65535 -> 0..255 with rounding (65535 / 255 == 257).
        scaled = (arr.astype(np.uint32) + 128) // 257
    else:  # other ranges: stretch the finite values onto 0..255
        values = np.where(np.isfinite(arr), arr, 0).astype(np.float64)
        lo, hi = float(values.min()), float(values.max())
        scaled = np.rint((values - lo) * (255.0 / (hi - lo))) if hi > lo else values * 0
    return Image.fromarray(scaled.astype(np.uint8))


def image_digest(img: Image.Image) -> str:
    """Return the sha256 hex of the image's mode, size, palette and pixels (a cache key)."""
    digest = hashlib.sha256(f"{img.mode}\0{img.width}x{img.height}\0".encode())
    palette = img.getpalette()
    if palette is not None:
        digest.update(bytes(palette))
    digest.update(img.tobytes())
    return digest.hexdigest()
