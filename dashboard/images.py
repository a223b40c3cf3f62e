"""Decode and validate uploaded images into upright, fully loaded RGB or L PIL images.

Every upload is hostile until proven otherwise: the payload size is checked before
base64 decoding, only an allow-list of formats is parsed, and the pixel count is
checked from the header before any pixel is decoded. Users see one plain sentence
(`ImageError`); the technical reason goes to the log.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import struct

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
MAX_PIXELS = 40_000_000
# Every progressive JPEG scan re-walks all blocks, so a small file with thousands of
# scans costs minutes of CPU. libjpeg's default progressive script uses 10 scans.
MAX_JPEG_SCANS = 100

MSG_EMPTY = "The file is empty."
MSG_UNSUPPORTED = (
    "This file is not an image ConvScope can read (allowed: PNG, JPEG, WebP, BMP, GIF)."
)
MSG_CORRUPT = "The image file is truncated or corrupt."
MSG_TOO_MANY_SCANS = "This JPEG is built from too many progressive scans to decode safely."
MSG_BAD_UPLOAD = "The upload arrived damaged and could not be read; please try again."

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


class ImageError(ValueError):
    """An upload was refused; ``str(exc)`` is one sentence to show the user."""


def _refused(message: str, reason: object) -> ImageError:
    """Log the technical reason and return the user-facing error to raise."""
    if isinstance(reason, BaseException):
        reason = f"{type(reason).__name__}: {reason}"
    logger.info("Image refused (%s): %s", message, reason)
    return ImageError(message)


def _human_bytes(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return f"{n} bytes"


def _pixel_limit(max_pixels: int) -> str:
    if max_pixels >= 1_000_000:
        return f"{max_pixels / 1_000_000:g}-megapixel"
    return f"{max_pixels:,}-pixel"


def _looks_like_allowed_format(data: bytes) -> bool:
    return data.startswith(_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def decode_upload(
    contents: str, filename: str | None = None, *, max_bytes: int, max_pixels: int = MAX_PIXELS
) -> Image.Image:
    """Turn a ``dcc.Upload`` data URL into a validated RGB or L image.

    Args:
        contents: ``"data:<mime>;base64,<payload>"`` as sent by ``dcc.Upload``.
        filename: The browser-supplied name; used for logging only, never trusted.
        max_bytes: Largest decoded file accepted. The payload length is checked
            before decoding, so an oversize upload costs no decoding work.
        max_pixels: Largest width × height accepted, see `load_image_bytes`.

    Returns:
        A fully loaded, upright image of mode "RGB" or "L".

    Raises:
        ImageError: The upload is malformed, too large, or not a readable image.
        ValueError: ``max_bytes`` is not positive (a programming error).
    """
    data = decode_data_url(contents, filename, max_bytes=max_bytes)
    try:
        return load_image_bytes(data, max_pixels=max_pixels)
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
        raise _refused(MSG_BAD_UPLOAD, f"contents is {type(contents).__name__}, not str")
    if len(contents) == 5 and contents.lower() == "data:":  # a zero-byte file, in Chrome
        raise _refused(MSG_EMPTY, f"empty data URL (file {filename!r})")
    comma = contents.find(",", 0, _DATA_URL_HEADER_MAX)
    header = contents[:comma].lower() if comma >= 0 else ""
    if not (header.startswith("data:") and header.endswith(";base64")):
        raise _refused(MSG_BAD_UPLOAD, f"not a base64 data URL (file {filename!r})")
    payload_chars = len(contents) - comma - 1
    if payload_chars > 4 * -(-max_bytes // 3):  # base64 length of max_bytes bytes
        raise _refused(
            f"The file is larger than the {_human_bytes(max_bytes)} limit.",
            f"payload of {payload_chars} base64 chars (file {filename!r})",
        )
    try:
        data = base64.b64decode(contents[comma + 1 :], validate=True)
    except ValueError as exc:  # binascii.Error, or non-ASCII characters
        raise _refused(MSG_BAD_UPLOAD, exc) from exc
    if len(data) > max_bytes:
        raise _refused(f"The file is larger than the {_human_bytes(max_bytes)} limit.", len(data))
    if not data:
        raise _refused(MSG_EMPTY, f"empty payload (file {filename!r})")
    return data


def load_image_bytes(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode image bytes into an upright, fully loaded RGB or L image.

    Only PNG, JPEG, WebP, BMP and GIF are parsed. Animated files give their first
    frame; EXIF orientation is applied; transparency is flattened onto white;
    16-bit grey is scaled (not clipped) to 8 bits; metadata (EXIF, ICC, text) is
    dropped. The result is detached from ``data``.

    Raises:
        ImageError: Empty, not an allowed image, corrupt, more than ``max_pixels``
            pixels (checked from the header, before decoding; Pillow's own
            ``Image.MAX_IMAGE_PIXELS`` bomb limit also applies), or a JPEG of more
            than ``MAX_JPEG_SCANS`` scans.
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, got {max_pixels!r}.")
    if not data:
        raise _refused(MSG_EMPTY, "zero bytes")
    limit = _pixel_limit(max_pixels)
    try:
        with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise _refused(
                    f"The image is {width} × {height} pixels, more than the {limit} limit.",
                    f"{img.format} header declares {width}x{height}",
                )
            # b"\xff\xda" starts every scan and never occurs inside entropy-coded data
            # (0xFF is stuffed there), so counting it bounds the scans libjpeg sees.
            scans = data.count(b"\xff\xda") if img.format in ("JPEG", "MPO") else 0
            if scans > MAX_JPEG_SCANS:
                raise _refused(MSG_TOO_MANY_SCANS, f"{scans} start-of-scan markers")
            img.load()
            _make_upright(img)
            return _to_rgb_or_l(img)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refused(f"The image's dimensions are far above the {limit} limit.", exc) from exc
    except MemoryError as exc:
        raise _refused("The image is too large to process.", exc) from exc
    except UnidentifiedImageError as exc:
        message = MSG_CORRUPT if _looks_like_allowed_format(data) else MSG_UNSUPPORTED
        raise _refused(message, exc) from exc
    except _DECODE_ERRORS as exc:
        raise _refused(MSG_CORRUPT, exc) from exc


def _make_upright(img: Image.Image) -> None:
    """Apply the EXIF orientation in place (no copy); a broken EXIF block is ignored."""
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except _DECODE_ERRORS as exc:
        logger.warning("Ignoring unreadable EXIF orientation: %s: %s", type(exc).__name__, exc)


def _to_rgb_or_l(img: Image.Image) -> Image.Image:
    """Normalise any decoded mode to "RGB" or "L", with metadata dropped."""
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
            out = img.convert(target) if mode != target else img.copy()
    out.info = {}
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
