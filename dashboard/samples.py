"""The input images a session can point at: shipped samples, the seeded random input, uploads.

A session refers to its image by a key string kept in the browser; the server resolves the
key here. Sample keys come from a fixed list made at start-up, so no client-chosen string
ever becomes a file path.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image

from dashboard.i18n import N_, _
from dashboard.images import MAX_SIDE, ImageError, image_digest

logger = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "samples"
RANDOM_KEY = "random"
UPLOAD_PREFIX = "upload:"
SAMPLE_PREFIX = "sample:"
# A derived image: the horizontal mirror of the model's input for the key after it. Only
# the Explorer resolves it (it flips the preprocessed tensor); the store never holds one.
MIRROR_PREFIX = "mirror:"

DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024
# Uploads are shrunk to MAX_SIDE at decode time: a session may keep four of the largest.
PER_SESSION_IMAGES = 4
PER_SESSION_BYTES = PER_SESSION_IMAGES * MAX_SIDE * MAX_SIDE * 3

MSG_NO_LONGER_HELD = N_(
    "Your uploaded image is no longer held by the server; please upload it again."
)
MSG_TOO_LARGE_TO_KEEP = N_(
    "This image is too large for the server to keep; please upload a smaller one."
)
# The shipped samples' names, for the catalogue (the shapes are also TinyVGG's classes).
SAMPLE_NAMES = (
    N_("astronaut"),
    N_("chelsea"),
    N_("coffee"),
    N_("blob"),
    N_("checkerboard"),
    N_("circle"),
    N_("cross"),
    N_("dots"),
    N_("ring"),
    N_("stripes"),
    N_("triangle"),
)


def list_samples(directory: Path = SAMPLES_DIR) -> dict[str, Path]:
    """``{key: path}`` of the shipped sample images, photos first, then generated shapes."""
    found = sorted(directory.glob("*.png")) + sorted(directory.glob("*/*.png"))
    return {SAMPLE_PREFIX + p.relative_to(directory).as_posix(): p for p in found}


def sample_label(key: str) -> str:
    stem = Path(key.removeprefix(SAMPLE_PREFIX)).stem
    name = stem.removeprefix("shapes-").replace("-", " ").replace("_", " ")
    name = _(name) if name in SAMPLE_NAMES else name
    return _("shape: {name}").format(name=name) if stem.startswith("shapes-") else name


def mirror_key(key: str) -> str:
    """The key of ``key``'s horizontal mirror (the mirror of a mirror is the image itself)."""
    return key.removeprefix(MIRROR_PREFIX) if is_mirror(key) else MIRROR_PREFIX + key


def is_mirror(key: str) -> bool:
    return key.startswith(MIRROR_PREFIX)


def _image_bytes(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


class ImageStore:
    """Resolves image keys to PIL images; uploads are held in memory under quotas.

    An upload is stored once under its pixel digest, however many sessions upload it,
    and is charged in full to each session that holds it. Two limits apply:

    * per session (``per_session_images`` uploads, ``per_session_bytes``): a session
      over either drops its own oldest uploads, never another session's;
    * global (``budget_bytes``, each image counted once): least recently added or
      read images go first, whoever uploaded them.

    Sizes are width × height × bands of what is held, i.e. after decode-time
    downscaling. One lock guards everything; only the digest is computed outside it.
    """

    def __init__(
        self,
        budget_bytes: int = DEFAULT_BUDGET_BYTES,
        per_session_bytes: int | None = None,
        per_session_images: int = PER_SESSION_IMAGES,
    ) -> None:
        """Set the limits.

        Args:
            budget_bytes: All uploads held, each image counted once.
            per_session_bytes: One session's uploads; default the smaller of
                ``PER_SESSION_BYTES`` and ``budget_bytes``.
            per_session_images: How many uploads one session may keep.

        Raises:
            ValueError: a limit is not positive, or a session's exceeds the budget.
        """
        if per_session_bytes is None:
            per_session_bytes = min(PER_SESSION_BYTES, budget_bytes)
        if not 0 < per_session_bytes <= budget_bytes:
            raise ValueError(
                f"need 0 < per_session_bytes ({per_session_bytes}) <= budget ({budget_bytes})."
            )
        if per_session_images < 1:
            raise ValueError(f"per_session_images must be positive, got {per_session_images}.")
        self.budget_bytes = budget_bytes
        self.per_session_bytes = per_session_bytes
        self.per_session_images = per_session_images
        self._samples = list_samples()
        self._lock = threading.Lock()
        self._images: OrderedDict[str, Image.Image] = OrderedDict()  # oldest use first
        self._sizes: dict[str, int] = {}
        self._holders: dict[str, set[str]] = {}  # key -> sessions holding it
        self._held: dict[str, OrderedDict[str, None]] = {}  # session -> keys, oldest first
        self._total = 0

    @property
    def sample_keys(self) -> list[str]:
        return list(self._samples)

    def add_upload(self, image: Image.Image, session: str) -> str:
        """Hold ``image`` for ``session`` and return its key ("upload:<sha256>").

        Raises:
            ImageError: the image alone is larger than a session may hold.
        """
        size = _image_bytes(image)
        if size > self.per_session_bytes:
            logger.info(
                "upload of %d bytes refused: session quota %d", size, self.per_session_bytes
            )
            raise ImageError(MSG_TOO_LARGE_TO_KEEP)
        key = UPLOAD_PREFIX + image_digest(image)
        with self._lock:
            if key not in self._images:
                self._images[key] = image
                self._sizes[key] = size
                self._holders[key] = set()
                self._total += size
            self._images.move_to_end(key)
            self._holders[key].add(session)
            held = self._held.setdefault(session, OrderedDict())
            held[key] = None
            held.move_to_end(key)
            self._enforce_session_quota(session)
            while self._total > self.budget_bytes:
                self._evict(next(iter(self._images)))
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
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
        if image is None:
            raise ImageError(MSG_NO_LONGER_HELD)
        return image

    def _enforce_session_quota(self, session: str) -> None:
        """Drop ``session``'s oldest uploads until it is within its quotas (lock held).

        The newest upload always survives: it alone fits the byte quota (checked before
        adding) and the count quota is at least one.
        """
        held = self._held[session]
        held_bytes = sum(self._sizes[key] for key in held)
        while len(held) > self.per_session_images or held_bytes > self.per_session_bytes:
            oldest = next(iter(held))
            held_bytes -= self._sizes[oldest]
            del held[oldest]
            holders = self._holders[oldest]
            holders.discard(session)
            if not holders:  # nobody else holds it
                self._evict(oldest)

    def _evict(self, key: str) -> None:
        """Forget ``key`` for every session that holds it (lock held)."""
        del self._images[key]
        self._total -= self._sizes.pop(key)
        for session in self._holders.pop(key):
            held = self._held[session]
            del held[key]
            if not held:
                del self._held[session]
