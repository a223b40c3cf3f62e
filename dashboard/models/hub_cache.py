"""The torch hub checkpoint cache: where pretrained weights live, and fetching them.

Downloads stream to a temporary file beside the target and are renamed into place
only once complete and hash-checked, so a reader never sees a torn file. A per-file
lock makes concurrent requests for one file download it once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import torch.hub

from dashboard.i18n import _
from dashboard.models.later import Later

logger = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_S = 10.0
CHUNK_BYTES = 1 << 20
Progress = Callable[[int, int | None], None]

_LOCKS_GUARD = threading.Lock()
_FILE_LOCKS: dict[Path, threading.Lock] = {}
_STATUS_GUARD = threading.Lock()
_STATUS: dict[str, tuple[int, int | None]] = {}


class DownloadError(OSError):
    """A download that failed; the message (a :class:`Later`) says why in a few words."""


def hub_checkpoint(url: str) -> Path:
    """Where torch hub keeps the file of `url`: $TORCH_HOME/hub/checkpoints/<basename>.

    torch.hub.get_dir() reads TORCH_HOME on every call, so tests can point it elsewhere.
    """
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def _file_lock(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(path.resolve(), threading.Lock())


def _hash_prefix(filename: str) -> str | None:
    """torch hub's convention: "name-<sha256 prefix>.ext"."""
    match = torch.hub.HASH_REGEX.search(filename)
    return match.group(1) if match and match.group(1) else None


def fetch(
    url: str,
    dest: Path,
    *,
    progress: Progress | None = None,
    timeout: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Download `url` to `dest` atomically unless `dest` already exists.

    Args:
        url: http(s) URL of the file.
        dest: final path; its directory is created.
        progress: called as progress(done_bytes, total_bytes or None) after each chunk.
        timeout: seconds allowed for the connection and for each read.

    Returns:
        `dest`.

    Raises:
        OSError: the download failed (urllib's URLError and TimeoutError are OSErrors);
            DownloadError when the content does not match the hash in the file name.
    """
    with _file_lock(dest):
        if dest.is_file():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                while chunk := resp.read(CHUNK_BYTES):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
            expected = _hash_prefix(dest.name)
            if expected and not digest.hexdigest().startswith(expected):
                name = dest.name
                raise DownloadError(
                    Later(
                        lambda: _("the downloaded {file} does not match its checksum").format(
                            file=name
                        )
                    )
                )
            os.replace(tmp, dest)
            logger.info("downloaded %s (%d bytes)", dest, done)
        finally:
            tmp.unlink(missing_ok=True)
        return dest


@contextlib.contextmanager
def tracked(key: str) -> Iterator[Progress]:
    """A progress callback recording (done, total) under `key` for download_status."""

    def record(done: int, total: int | None) -> None:
        with _STATUS_GUARD:
            _STATUS[key] = (done, total)

    record(0, None)
    try:
        yield record
    finally:
        with _STATUS_GUARD:
            _STATUS.pop(key, None)


def download_status(key: str) -> tuple[int, int | None] | None:
    """(done_bytes, total_bytes or None) while `key` downloads, else None."""
    with _STATUS_GUARD:
        return _STATUS.get(key)


def failure_reason(exc: BaseException) -> Later | str:
    """A few words on why a download failed, for a notice sentence (worded when shown)."""
    if isinstance(exc, urllib.error.HTTPError):
        code = exc.code
        return Later(lambda: _("the server answered HTTP {code}").format(code=code))
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return Later(lambda: _("the connection timed out"))
    if isinstance(exc, DownloadError) and exc.args:
        return exc.args[0]  # a Later
    if isinstance(exc, urllib.error.URLError | ConnectionError):
        return Later(lambda: _("network unreachable"))
    return f"{type(exc).__name__}: {exc}"
