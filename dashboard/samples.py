"""The input images a session can point at: shipped samples, the seeded random input, uploads.

A session refers to its image by a key string kept in the browser; the server resolves the
key here. Sample keys come from a fixed list made at start-up, so no client-chosen string
ever becomes a file path.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from dashboard.i18n import N_, _
from dashboard.images import MAX_SIDE, ImageError, image_digest

if TYPE_CHECKING:
    from dashboard.shared import SharedStore

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


def _shared_key(key: str) -> str:
    """The shared store's key of upload ``key``: "image:<sha256>"."""
    return "image:" + key.removeprefix(UPLOAD_PREFIX)


def encode_lossless(image: Image.Image) -> bytes:
    """``image`` as PNG (every mode an upload decodes to: RGB, L), pixels exact."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # fast; a photo shrinks little more
    return buffer.getvalue()


def decode_lossless(data: bytes) -> Image.Image | None:
    """What :func:`encode_lossless` wrote, fully loaded; None for anything else."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            image.load()
            return image.copy()
    except (OSError, SyntaxError, ValueError):
        return None


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
        shared: SharedStore | None = None,
    ) -> None:
        """Set the limits.

        Args:
            budget_bytes: All uploads held, each image counted once.
            per_session_bytes: One session's uploads; default the smaller of
                ``PER_SESSION_BYTES`` and ``budget_bytes``.
            per_session_images: How many uploads one session may keep.
            shared: Where uploads are also kept for other processes (None: this
                process only).

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
        self.shared = shared
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

        With a shared store the image is written there first, so that any process can
        serve the key.

        Raises:
            ImageError: the image alone is larger than a session may hold, or than the
                shared store takes.
            SharedStoreError: the shared store does not answer.
        """
        size = _image_bytes(image)
        if size > self.per_session_bytes:
            logger.info(
                "upload of %d bytes refused: session quota %d", size, self.per_session_bytes
            )
            raise ImageError(MSG_TOO_LARGE_TO_KEEP)
        digest = image_digest(image)
        if self.shared is not None:
            self._share(digest, image)
        key = UPLOAD_PREFIX + digest
        self._hold(key, image, size, session)
        return key

    def get(self, key: str) -> Image.Image | None:
        """The image for ``key``; None for the random input.

        An upload this process does not hold is read from the shared store, when there
        is one, and then held here like an upload (under the global budget).

        Raises:
            ImageError: the key is unknown or the upload has been evicted.
            SharedStoreError: the shared store does not answer.
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
            return self._fetch(key)
        if self.shared is not None:
            self.shared.touch(_shared_key(key))
        return image

    def _share(self, digest: str, image: Image.Image) -> None:
        data = encode_lossless(image)
        if not self.shared.fits(len(data)):
            logger.info("upload of %d PNG bytes refused: shared store cap", len(data))
            raise ImageError(MSG_TOO_LARGE_TO_KEEP)
        self.shared.put(_shared_key(UPLOAD_PREFIX + digest), data)

    def _fetch(self, key: str) -> Image.Image:
        """The upload ``key`` from the shared store, now held here too."""
        data = None
        if self.shared is not None and key.startswith(UPLOAD_PREFIX):
            data = self.shared.get(_shared_key(key))
        image = None if data is None else decode_lossless(data)
        if image is None or UPLOAD_PREFIX + image_digest(image) != key:
            if data is not None:
                logger.warning("shared store holds something else under %s", key)
            raise ImageError(MSG_NO_LONGER_HELD)
        self._hold(key, image, _image_bytes(image), None)
        return image

    def _hold(self, key: str, image: Image.Image, size: int, session: str | None) -> None:
        """Keep ``image`` under ``key``, for ``session`` (None: read from the shared store,
        held for nobody, under the global budget only)."""
        with self._lock:
            if key not in self._images:
                self._images[key] = image
                self._sizes[key] = size
                self._holders[key] = set()
                self._total += size
            self._images.move_to_end(key)
            if session is not None:
                self._holders[key].add(session)
                held = self._held.setdefault(session, OrderedDict())
                held[key] = None
                held.move_to_end(key)
                self._enforce_session_quota(session)
            while self._total > self.budget_bytes:
                self._evict(next(iter(self._images)))

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
