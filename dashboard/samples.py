"""The input images a session can point at: shipped samples, the seeded random input, uploads.

A session refers to its image by a key string kept in the browser; the server resolves the
key here. Sample keys come from a fixed list made at start-up, so no client-chosen string
ever becomes a file path.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cachetools import LRUCache
from PIL import Image

from dashboard.images import ImageError, image_digest

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "samples"
RANDOM_KEY = "random"
UPLOAD_PREFIX = "upload:"
SAMPLE_PREFIX = "sample:"


def list_samples(directory: Path = SAMPLES_DIR) -> dict[str, Path]:
    """``{key: path}`` of the shipped sample images, photos first, then generated shapes."""
    found = sorted(directory.glob("*.png")) + sorted(directory.glob("*/*.png"))
    return {SAMPLE_PREFIX + p.relative_to(directory).as_posix(): p for p in found}


def sample_label(key: str) -> str:
    stem = Path(key.removeprefix(SAMPLE_PREFIX)).stem
    return stem.replace("shapes-", "shape: ").replace("-", " ").replace("_", " ")


def _image_bytes(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


class ImageStore:
    """Resolves image keys to PIL images; uploads live in a bounded LRU keyed by digest."""

    def __init__(self, budget_bytes: int = 64 * 1024 * 1024) -> None:
        self._samples = list_samples()
        self._uploads: LRUCache = LRUCache(maxsize=budget_bytes, getsizeof=_image_bytes)
        self._lock = threading.Lock()

    @property
    def sample_keys(self) -> list[str]:
        return list(self._samples)

    def add_upload(self, image: Image.Image) -> str:
        key = UPLOAD_PREFIX + image_digest(image)
        with self._lock:
            self._uploads[key] = image
        return key

    def get(self, key: str) -> Image.Image | None:
        """The image for ``key``; None for the random input.

        Raises:
            ImageError: the key is unknown or the upload has been evicted.
        """
        if key == RANDOM_KEY:
            return None
        if key in self._samples:
            with Image.open(self._samples[key]) as image:
                return image.convert("RGB")
        with self._lock:
            image = self._uploads.get(key)
        if image is None:
            raise ImageError(
                "Your uploaded image is no longer held by the server; please upload it again."
            )
        return image
