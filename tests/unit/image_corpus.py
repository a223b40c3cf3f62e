"""A hostile and a friendly image corpus, generated in memory (nothing binary is committed).

Every function returns the bytes of one file. Hand-made files (bombs, forged
headers) are built with zlib and struct so their headers can lie about their size.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    """Save ``img`` with Pillow into bytes."""
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def noise(size: tuple[int, int] = (64, 64), seed: int = 0) -> Image.Image:
    """Seeded RGB noise: incompressible, so half a file is half the pixel data."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


# ---- hand-made PNG ---------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def handmade_png(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes) -> bytes:
    """A PNG whose IHDR says ``width`` x ``height``, whatever ``idat`` really holds."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def png_bomb(width: int = 20000, height: int = 20000, rows: int = 16) -> bytes:
    """RGB PNG declaring ``width`` x ``height``; only ``rows`` rows of zeros, unfinished."""
    stream = zlib.compressobj(9)
    row = bytes(1 + 3 * width)  # filter byte + samples
    idat = b"".join(stream.compress(row) for _ in range(rows)) + stream.flush(zlib.Z_SYNC_FLUSH)
    return handmade_png(width, height, 8, 2, idat)


def png_zero_filled(width: int, height: int) -> bytes:
    """A complete, valid RGB PNG of black pixels: decoding it really allocates w*h*3."""
    stream = zlib.compressobj(1)
    row = bytes(1 + 3 * width)
    idat = b"".join(stream.compress(row) for _ in range(height)) + stream.flush()
    return handmade_png(width, height, 8, 2, idat)


def png_16bit_rgb(value: int, size: int = 4) -> bytes:
    """16-bit RGB PNG (Pillow cannot write one) with every sample equal to ``value``."""
    row = b"\x00" + struct.pack(">H", value) * 3 * size
    return handmade_png(size, size, 16, 2, zlib.compress(row * size))


def png_bad_crc() -> bytes:
    data = bytearray(encode(noise((16, 16)), "PNG"))
    data[data.index(b"IDAT") + 8] ^= 0xFF  # corrupt the compressed data, keep the CRC
    return bytes(data)


# ---- forged headers of other allowed formats ----------------------------------


def gif_declared(width: int = 20000, height: int = 20000) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # global palette of 2
    palette = b"\x00\x00\x00\xff\xff\xff"
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return b"GIF89a" + screen + palette + descriptor + b"\x02\x02\x44\x01\x00;"


def bmp_declared(width: int = 20000, height: int = 20000) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 64, 0, 0, 14 + 40) + info + bytes(64)


def jpeg_declared(width: int = 20000, height: int = 20000) -> bytes:
    """A real 8x8 JPEG whose SOF0 marker is patched to claim ``width`` x ``height``."""
    data = bytearray(encode(Image.new("RGB", (8, 8), RED), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_animated_canvas(width: int, height: int) -> bytes:
    """Animated WebP: a 1x1 frame on a ``width`` x ``height`` canvas; a few hundred bytes."""
    still = encode(Image.new("RGB", (1, 1), RED), "WEBP", lossless=True)
    vp8l = still[12:]  # the VP8L chunk, header included

    def chunk(kind: bytes, body: bytes) -> bytes:
        return kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)

    def u24(n: int) -> bytes:
        return struct.pack("<I", n)[:3]

    vp8x = bytes([0x02, 0, 0, 0]) + u24(width - 1) + u24(height - 1)
    anmf = u24(0) + u24(0) + u24(0) + u24(0) + u24(100) + b"\x00" + vp8l
    body = b"WEBP" + chunk(b"VP8X", vp8x) + chunk(b"ANIM", bytes(6)) + chunk(b"ANMF", anmf)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# ---- not images, and images of formats outside the allow-list ---------------


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inside.png", encode(Image.new("RGB", (4, 4), RED), "PNG"))
    return buffer.getvalue()


def psd_like() -> bytes:
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 8, 8, 8, 3)
    return header + bytes(4 * 3) + bytes(8 * 8 * 3)


NOT_IMAGES: dict[str, bytes] = {
    "plain-text": b"Hello, I am definitely a cat picture.\n",
    "pdf-header": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>',
    # Pillow would hand EPS to Ghostscript: the allow-list must stop it first.
    "eps": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\nshowpage\n",
    "html": b"<!doctype html><script>alert(1)</script>",
}


def disallowed_formats() -> dict[str, bytes]:
    """Images Pillow can read, in formats ConvScope refuses."""
    img = Image.new("RGB", (8, 8), RED)
    files = {fmt: encode(img, fmt) for fmt in ("TIFF", "ICO", "PPM", "PCX", "TGA", "QOI")}
    files["PSD"] = psd_like()
    files["ZIP"] = zip_archive()
    return files


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


# ---- friendly files with a known right answer --------------------------------


def palette_png(*, transparent: bool) -> bytes:
    """2x1 palette PNG: index 0 red, index 1 blue; index 1 transparent if asked."""
    img = Image.new("P", (2, 1))
    img.putpalette([*RED, *BLUE])
    img.putdata([0, 1])
    return encode(img, "PNG", transparency=1) if transparent else encode(img, "PNG")


def rgba_png() -> bytes:
    """4x1: fully transparent black, opaque red, half-transparent red, opaque blue."""
    img = Image.new("RGBA", (4, 1))
    img.putdata([(0, 0, 0, 0), (*RED, 255), (*RED, 128), (*BLUE, 255)])
    return encode(img, "PNG")


def la_png() -> bytes:
    """2x1 grey+alpha: transparent black, opaque black."""
    img = Image.new("LA", (2, 1))
    img.putdata([(0, 0), (0, 255)])
    return encode(img, "PNG")


def animated(fmt: str, frames: tuple[tuple[int, int, int], ...] = (RED, BLUE)) -> bytes:
    images = [Image.new("RGB", (8, 8), colour) for colour in frames]
    extra = {"lossless": True} if fmt == "WEBP" else {}
    return encode(images[0], fmt, save_all=True, append_images=images[1:], duration=100, **extra)


def exif_rotated_jpeg(orientation: int) -> bytes:
    """40x20 stored JPEG, white with a red 10x10 block in the stored top-left corner."""
    img = Image.new("RGB", (40, 20), "white")
    img.paste(RED, (0, 0, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(img, "JPEG", quality=95, exif=exif.tobytes())


def jpeg_scan_bomb(copies: int, size: int = 64) -> bytes:
    """A progressive JPEG whose last scan is repeated ``copies`` more times.

    libjpeg accepts the repeats (it only warns), and each one re-walks every block:
    at 6000 x 6000 pixels, 2000 repeats (260 KB) cost over a minute of CPU.
    """
    data = encode(Image.new("L", (size, size), 128), "JPEG", progressive=True)
    last_scan = data.rindex(b"\xff\xda")
    return data[:-2] + data[last_scan:-2] * copies + data[-2:]


def jpeg_with_garbage_exif() -> bytes:
    """A valid JPEG carrying an APP1 'Exif' segment full of junk."""
    data = encode(Image.new("RGB", (8, 8), GREEN), "JPEG", quality=95)
    junk = b"Exif\x00\x00MM\x00*\xff\xff\xff\xff" + bytes(range(256)) * 2
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(junk) + 2) + junk + data[2:]


def phone_photo(width: int = 6000, height: int = 4000, *, orientation: int = 1) -> bytes:
    """A camera-like JPEG: colour gradients plus sensor noise, quality 85, like a phone's.

    The stored top-left tenth (both ways) is a solid red block, so a test can tell where
    the stored corner ended up after EXIF rotation. 24 MP comes out at about 1-2 MB.
    """
    rng = np.random.default_rng(width * height)
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[..., 0] = np.linspace(20, 230, width, dtype=np.uint8)[None, :]
    pixels[..., 1] = np.linspace(30, 220, height, dtype=np.uint8)[:, None]
    pixels[..., 2] = 120
    pixels += rng.integers(0, 6, (height, width, 1), dtype=np.uint8)  # grain, all channels
    pixels[: height // 10, : width // 10] = RED
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    return encode(Image.fromarray(pixels), "JPEG", quality=85, exif=exif.tobytes())
