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
            raise ModelError(f"--classes {file.name} is over 4 MB: one class name per line.")
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ModelError(f"--classes: there is no file {path}.") from None
    except UnicodeDecodeError:
        raise ModelError(f"--classes {file.name} is not UTF-8 text.") from None
    except OSError as exc:
        raise ModelError(f"--classes {file.name} cannot be read ({exc.strerror}).") from None
    names = [line.strip() for line in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise ModelError(f"--classes {file.name} names no classes: write one name per line.")
    return tuple(names)
