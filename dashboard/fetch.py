"""``python -m dashboard fetch``: put the zoo's ImageNet weights into the torch hub cache.

For a machine with a network; the files can then be copied into an offline machine's
``$TORCH_HOME/hub/checkpoints``, where the app looks for them. Downloads go through
hub_cache.fetch: a temporary file beside the target, checked against the sha256 prefix
in the file name (torch hub's check_hash convention), renamed into place only when whole.
A file already there is checked the same way, so running this on the offline machine
after copying verifies the copy without touching the network.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
from pathlib import Path
from typing import TextIO

import torch.hub
from torchvision.models import WeightsEnum, get_model_weights

from dashboard.models.hub_cache import DOWNLOAD_TIMEOUT_S, failure_reason, fetch, hub_checkpoint
from dashboard.models.zoo import ZOO_LABELS

PROG = "python -m dashboard fetch"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_README = 'the README, "Pretrained weights on an offline machine"'


def imagenet_weights(name: str) -> WeightsEnum:
    """The ImageNet weights the app loads for zoo model `name` (as zoo.build_zoo chooses)."""
    return get_model_weights(name).DEFAULT


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """One model's pretrained weights file: where it comes from and where it must go."""

    model: str
    weights: str  # the enum member, e.g. IMAGENET1K_V1
    url: str
    path: Path  # $TORCH_HOME/hub/checkpoints/<file name from the URL>
    size_mb: float | None


def checkpoint(name: str) -> Checkpoint:
    weights = imagenet_weights(name)
    size = weights.meta.get("_file_size")
    return Checkpoint(name, weights.name, weights.url, hub_checkpoint(weights.url), size)


def matches_hash(path: Path) -> bool | None:
    """Whether `path`'s sha256 starts with the prefix in its name; None if it has none."""
    match = torch.hub.HASH_REGEX.search(path.name)
    if not match or not match.group(1):
        return None
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest().startswith(match.group(1))


class TerminalProgress:
    """fetch's progress callback: one rewritten line on a terminal, else a line per 10 %."""

    def __init__(self, file_name: str, stream: TextIO) -> None:
        self.file_name, self.stream = file_name, stream
        self.tty = stream.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int | None) -> None:
        step = done * 100 // total if total else done >> 24  # no total: every 16 MiB
        if not self.tty:
            step -= step % 10
        if step == self.shown:
            return
        self.shown = step
        size = f"{done / 2**20:.1f} / {total / 2**20:.1f} MB" if total else f"{done / 2**20:.1f} MB"
        percent = f"  {done * 100 // total:3d} %" if total else ""
        line = f"  {self.file_name}  {size}{percent}"
        self.stream.write(f"\r{line}" if self.tty else f"{line}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.shown >= 0:
            self.stream.write("\n")


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 3600 seconds")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Download the ImageNet weights of the named models (or --all) into "
        "$TORCH_HOME/hub/checkpoints, where ConvScope looks for them. Files already there "
        "are checked against the hash in their name and kept.",
        epilog=f"Valid models: {', '.join(ZOO_LABELS)}. Copying the files to an offline "
        f"machine: see {_README}.",
    )
    parser.add_argument("models", nargs="*", metavar="MODEL", help="zoo model names, e.g. vgg16")
    parser.add_argument("--all", action="store_true", help="every zoo model (about 1.6 GB)")
    parser.add_argument(
        "--list",
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="print the folder, file names and URLs (all models unless named); download nothing",
    )
    parser.add_argument(
        "--force", action="store_true", help="download again files that are already there"
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        default=DOWNLOAD_TIMEOUT_S,
        help=f"seconds allowed to connect and for each read (default {DOWNLOAD_TIMEOUT_S:g})",
    )
    return parser.parse_args(argv)


def chosen_models(args: argparse.Namespace) -> list[str] | str:
    """The model names asked for, in order without repeats, or a sentence saying what is wrong."""
    names = list(dict.fromkeys(name.lower() for name in args.models))
    unknown = [name for name in names if name not in ZOO_LABELS]
    if unknown:
        return (
            f"Unknown model{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: choose from "
            f"{', '.join(ZOO_LABELS)} (TinyVGG and the custom model come with ConvScope)."
        )
    if names and args.all:
        return "Name models or give --all, not both."
    if not names and not args.all and not args.dry_run:
        return f"Name the models to fetch ({', '.join(ZOO_LABELS)}) or give --all."
    return names or list(ZOO_LABELS)


def folder_line(folder: Path) -> str:
    home = os.environ.get("TORCH_HOME")
    source = f"TORCH_HOME={home}" if home else "TORCH_HOME is not set"
    return f"Weights folder: {folder}  ({source})"


def print_list(checkpoints: list[Checkpoint], out: TextIO) -> None:
    rows = [("model", "weights", "file", "MB", "here", "url")]
    for ckpt in checkpoints:
        size = f"{ckpt.size_mb:.0f}" if ckpt.size_mb is not None else "?"
        here = "present" if ckpt.path.is_file() else "missing"
        rows.append((ckpt.model, ckpt.weights, ckpt.path.name, size, here, ckpt.url))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]  # the URL goes last, ragged
    for model, weights, name, size, here, url in rows:
        cells = (model.ljust(widths[0]), weights.ljust(widths[1]), name.ljust(widths[2]))
        print(*cells, size.rjust(widths[3]), here.ljust(widths[4]), url, sep="  ", file=out)


def download(ckpt: Checkpoint, *, force: bool, timeout: float, err: TextIO) -> None:
    """Download `ckpt` into its folder; with `force`, replace a file already there atomically.

    Raises:
        OSError, http.client.HTTPException: the download failed; nothing was written.
    """
    progress = TerminalProgress(ckpt.path.name, err)
    try:
        if not force:
            fetch(ckpt.url, ckpt.path, progress=progress, timeout=timeout)
            return
        # fetch skips a file that exists: fetch into a scratch folder beside it, same name
        # (the hash check reads it), then one rename replaces the old file.
        ckpt.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=ckpt.path.parent, prefix=".fetch-") as scratch:
            fresh = fetch(
                ckpt.url, Path(scratch) / ckpt.path.name, progress=progress, timeout=timeout
            )
            os.replace(fresh, ckpt.path)
    finally:
        progress.close()


def _is_network_failure(exc: BaseException) -> bool:
    """No route to the server at all (as opposed to a bad answer from it)."""
    if isinstance(exc, urllib.error.HTTPError):
        return False
    return isinstance(exc, urllib.error.URLError | TimeoutError | ConnectionError)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied writing into the folder"
    return failure_reason(exc)


def report_present(ckpt: Checkpoint, out: TextIO, err: TextIO) -> bool:
    """Say whether the file already there is whole (by its hash); False if it is not."""
    name, folder = ckpt.path.name, ckpt.path.parent
    try:
        whole = matches_hash(ckpt.path)
    except OSError as exc:
        print(f"{ckpt.model}: cannot read {name} in {folder} ({exc.strerror}).", file=err)
        return False
    if whole is False:
        print(
            f"{ckpt.model}: {name} is in {folder} but does not match the checksum in its name "
            "(a partial copy?): copy it again, or rerun with --force.",
            file=err,
        )
        return False
    checked = " (checksum ok)" if whole else ""
    print(f"{ckpt.model}: {name} already there{checked}, skipped.", file=out)
    return True


def fetch_all(
    checkpoints: list[Checkpoint], args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    failed = 0
    unreachable: str | None = None  # after one network failure, do not wait on every file
    for ckpt in checkpoints:
        name, folder = ckpt.path.name, ckpt.path.parent
        if ckpt.path.is_file() and not args.force:
            failed += not report_present(ckpt, out, err)
            continue
        if unreachable is not None:
            failed += 1
            print(f"{ckpt.model}: not tried ({unreachable}); copy {name} into {folder}.", file=err)
            continue
        size = f" ({ckpt.size_mb:.0f} MB)" if ckpt.size_mb is not None else ""
        print(f"{ckpt.model}: downloading {name}{size} from {ckpt.url}", file=out, flush=True)
        try:
            download(ckpt, force=args.force, timeout=args.timeout, err=err)
        except (OSError, http.client.HTTPException) as exc:
            failed += 1
            reason = _reason(exc)
            hint = ""
            if _is_network_failure(exc):
                unreachable = reason
                hint = (
                    f" Without a network here, fetch it on a machine that has one and copy "
                    f"{name} into that folder (see {_README})."
                )
            print(
                f"{ckpt.model}: could not download {ckpt.url} into {folder} ({reason}).{hint}",
                file=err,
            )
            continue
        print(f"{ckpt.model}: {name} done.", file=out)
    if failed:
        print(f"{failed} of {len(checkpoints)} failed.", file=err)
    return EXIT_FAILED if failed else EXIT_OK


def main(argv: list[str]) -> int:
    """Run ``python -m dashboard fetch`` with `argv` (the arguments after "fetch")."""
    args = parse_args(argv)
    names = chosen_models(args)
    if isinstance(names, str):
        print(f"{PROG}: {names}", file=sys.stderr)
        return EXIT_USAGE
    checkpoints = [checkpoint(name) for name in names]
    print(folder_line(checkpoints[0].path.parent), file=sys.stdout)
    if args.dry_run:
        print_list(checkpoints, sys.stdout)
        return EXIT_OK
    try:
        return fetch_all(checkpoints, args, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        # hub_cache.fetch removed its temporary file on the way out
        print("\nInterrupted: no partial file was left behind.", file=sys.stderr)
        return EXIT_INTERRUPTED
