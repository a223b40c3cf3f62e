"""Class names for a user's classifier: ``--classes file.txt``, one name per line."""

from __future__ import annotations

from pathlib import Path

from dashboard.errors import ModelError

MAX_CLASSES_BYTES = 4 * 1024 * 1024


def read_class_names(path: str) -> tuple[str, ...]:
    """The names in ``path``, one per line, in output order (blank lines at the end dropped).

    Raises:
        ModelError: the file is missing, unreadable, too big, not UTF-8 or names nothing.
    """
    file = Path(path)
    try:
        if file.stat().st_size > MAX_CLASSES_BYTES:
            raise ModelError(
                "--classes {file} is over 4 MB: one class name per line.", file=file.name
            )
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ModelError("--classes: there is no file {path}.", path=path) from None
    except UnicodeDecodeError:
        raise ModelError("--classes {file} is not UTF-8 text.", file=file.name) from None
    except OSError as exc:
        raise ModelError(
            "--classes {file} cannot be read ({reason}).", file=file.name, reason=exc.strerror
        ) from None
    names = [line.strip() for line in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise ModelError(
            "--classes {file} names no classes: write one name per line.", file=file.name
        )
    return tuple(names)
