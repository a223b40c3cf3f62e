"""The edge: every value a client sends is checked here, once, then trusted inside.

Any callback value can be forged (a hand-made POST to /_dash-update-component), so each
reader takes ``object`` and returns a value of the type the app uses, or raises
:class:`InvalidInput`, a user sentence naming the control. Nothing past this module
re-checks types.
"""

from __future__ import annotations

import math
import re
import unicodedata

from dashboard.errors import UserError
from dashboard.modes import KernelMode, ScaleMode

MAX_CHANNEL = 1 << 20  # far above any real layer (ResNet-50 has 2,048 channels)
MAX_NAME = 256
MAX_FILENAME = 120
_SESSION = re.compile(r"[0-9a-f]{32}")
_KEY = re.compile(r"[0-9A-Za-z_.:/+\-]{1,200}")


class InvalidInput(UserError):
    """A component value no real page would send."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"The page sent a {what} that ConvScope cannot use; please reload the page."
        )


def channel(value: object) -> int:
    """A channel index: a non-negative int (or an integral float) below ``MAX_CHANNEL``."""
    if isinstance(value, bool):
        raise InvalidInput("channel number")
    if value is None:
        return 0
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value < MAX_CHANNEL:
        return value
    raise InvalidInput("channel number")


def optional_channel(value: object, what: str) -> int | None:
    """A small non-negative index kept by the page (a channel or page number), or None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_CHANNEL:
        return value
    raise InvalidInput(what)


def name(value: object, what: str) -> str:
    """A short name chosen from a list the server made (model, layer)."""
    if isinstance(value, str) and 0 < len(value) <= MAX_NAME:
        return value
    raise InvalidInput(what)


def optional_name(value: object, what: str) -> str | None:
    return None if value is None else name(value, what)


def model(value: object, known: list[str]) -> str:
    """One of the app's model names."""
    if isinstance(value, str) and value in known:
        return value
    raise InvalidInput("model choice")


def key(value: object, what: str) -> str:
    """A server-made key string (image or cache key): short, plain characters only."""
    if isinstance(value, str) and _KEY.fullmatch(value):
        return value
    raise InvalidInput(what)


def scale(value: object) -> ScaleMode:
    if isinstance(value, str) and value in ScaleMode.__members__.values():
        return ScaleMode(value)
    raise InvalidInput("colour-scale choice")


def kernel_mode(value: object) -> KernelMode:
    if isinstance(value, str) and value in KernelMode.__members__.values():
        return KernelMode(value)
    raise InvalidInput("kernel view choice")


def weights_ref(value: object) -> dict | None:
    """The weights store: None, or {"model": name, "key": cache key} as the server made it."""
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"model", "key"}:
        return {
            "model": name(value["model"], "weights reference"),
            "key": key(value["key"], "weights reference"),
        }
    raise InvalidInput("weights reference")


def session(value: object) -> str | None:
    """The page's session id (32 hex digits, made by the server), or None if absent/forged."""
    return value if isinstance(value, str) and _SESSION.fullmatch(value) else None


def upload(contents: object, filename: object) -> tuple[str | None, str]:
    """``dcc.Upload`` contents (a data URL string) and a display-safe file name."""
    if contents is not None and not isinstance(contents, str):
        raise InvalidInput("file upload")
    return contents, display_filename(filename)


def display_filename(value: object) -> str:
    """The browser's file name, for messages only: printable, short, never a path."""
    if not isinstance(value, str):
        return "your file"
    text = "".join(ch for ch in value if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    text = text.replace("/", "_").replace("\\", "_").strip()
    if len(text) > MAX_FILENAME:
        text = text[: MAX_FILENAME - 1] + "…"
    return text or "your file"


def clicked_channel(click: object, index: int) -> int | None:
    """The channel a grid click stands for: ``customdata[index]`` of its first point.

    None for anything else (an empty slot of the last row, or a value no plot sends).
    """
    if not isinstance(click, dict):
        return None
    points = click.get("points")
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    data = points[0].get("customdata")
    # The browser sends a heatmap cell's customdata (a typed array) as {"0": v0, "1": v1, …}.
    if isinstance(data, dict):
        value = data.get(str(index))
    elif isinstance(data, list) and len(data) > index:
        value = data[index]
    else:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not float(value).is_integer():
        return None
    return int(value) if 0 <= value < MAX_CHANNEL else None
