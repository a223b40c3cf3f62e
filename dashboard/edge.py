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
from dashboard.i18n import N_, _
from dashboard.modes import Compare, KernelMode, KernelScale, Look, ScaleMode, SortKey
from dashboard.samples import MIRROR_PREFIX

MAX_CHANNEL = 1 << 20  # far above any real layer (ResNet-50 has 2,048 channels)
MAX_NAME = 256
MAX_FILENAME = 120
_SESSION = re.compile(r"[0-9a-f]{32}")
_KEY = re.compile(r"[0-9A-Za-z_.:/+\-]{1,200}")


class InvalidInput(UserError):
    """A component value no real page would send."""

    def __init__(self, what: str) -> None:
        super().__init__(
            N_("The page sent a {what} that ConvScope cannot use; please reload the page."),
            what=what,
        )

    def translated(self) -> str:
        return _(self.message).format(what=_(self.params["what"]))


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


def image_key(value: object) -> str:
    """An image key: one the server made, or its mirror (never a mirror of a mirror)."""
    found = key(value, "image choice")
    if found.startswith(MIRROR_PREFIX * 2):
        raise InvalidInput("image choice")
    return found


def compare(value: object, samples: list[str]) -> str:
    """The "Compare with" choice: ``Compare.OFF`` (also for None), ``Compare.MIRROR``, or
    one of ``samples`` (the image keys the page offers)."""
    if value is None:
        return Compare.OFF
    if isinstance(value, str) and (value in tuple(Compare) or value in samples):
        return value
    raise InvalidInput("comparison choice")


def same_scale(value: object) -> bool:
    """The "same colour scale for both" checklist: [] (each its own) or ["shared"]."""
    if value is None or value == []:
        return False
    if value == [ScaleMode.SHARED.value]:
        return True
    raise InvalidInput("colour scale choice")


def scale(value: object) -> ScaleMode:
    if isinstance(value, str) and value in ScaleMode.__members__.values():
        return ScaleMode(value)
    raise InvalidInput("colour-scale choice")


def kernel_mode(value: object) -> KernelMode:
    if isinstance(value, str) and value in KernelMode.__members__.values():
        return KernelMode(value)
    raise InvalidInput("kernel view choice")


def kernel_scale(value: object) -> KernelScale:
    if isinstance(value, str) and value in KernelScale.__members__.values():
        return KernelScale(value)
    raise InvalidInput("kernel colour choice")


def look(value: object) -> Look:
    """The look checklist: [] (diverging colours) or ["tutorial"]."""
    if value is None or value == []:
        return Look.DIVERGING
    if value == [Look.TUTORIAL.value]:
        return Look.TUTORIAL
    raise InvalidInput("colour look choice")


def clicked_point(click: object) -> tuple[float, float] | None:
    """(x, y) of a click's first point, or None."""
    if not isinstance(click, dict):
        return None
    points = click.get("points")
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    x, y = (_finite(points[0].get(axis)) for axis in ("x", "y"))
    return None if x is None or y is None else (x, y)


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


MAX_COORD = 1e7  # far beyond any mosaic's axis range
MIN_PX, MAX_PX = 40, 20_000


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and abs(value) <= MAX_COORD else None


def zoom_window(relayout: object) -> tuple[tuple[float, float], tuple[float, float]] | str | None:
    """A plot's relayoutData as (x_range, y_range), "reset" (double-click, autorange), or
    None when it says nothing about the view (autosize, a drag mode, a forged value)."""
    if not isinstance(relayout, dict):
        return None
    if relayout.get("xaxis.autorange") is True or relayout.get("yaxis.autorange") is True:
        return "reset"
    ranges = []
    for axis in ("xaxis", "yaxis"):
        pair = relayout.get(f"{axis}.range")
        if not isinstance(pair, list) or len(pair) != 2:
            pair = [relayout.get(f"{axis}.range[0]"), relayout.get(f"{axis}.range[1]")]
        lo, hi = (_finite(v) for v in pair)
        if lo is None or hi is None:
            return None
        ranges.append((lo, hi))
    return ranges[0], ranges[1]


def plot_size(value: object, graph: str) -> tuple[int, int] | None:
    """The drawable (width, height) in px the page measured for ``graph``, or None."""
    if not isinstance(value, dict):
        return None
    size = value.get(graph)
    if not isinstance(size, list) or len(size) != 2:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in size):
        return None
    width, height = size
    return (width, height) if MIN_PX <= width <= MAX_PX and MIN_PX <= height <= MAX_PX else None


def sort_key(value: object) -> SortKey:
    """The grids' order: one of SortKey's values (None: by channel number)."""
    if value is None:
        return SortKey.CHANNEL
    if isinstance(value, str) and value in tuple(SortKey):
        return SortKey(value)
    raise InvalidInput("sort order")


def opacity(value: object) -> float:
    """The overlay's opacity: a number in [0, 1] (None: 0.6)."""
    if value is None:
        return 0.6
    number = _finite(value)
    if number is None or not 0.0 <= number <= 1.0:
        raise InvalidInput("opacity")
    return number


def clicked_pixel(click: object) -> tuple[int, int] | None:
    """(row, col) of a click on a map's first trace (the detail map), or None: a click
    on another trace (the input image beside it) or a value no plot sends."""
    if not isinstance(click, dict):
        return None
    points = click.get("points")
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    if points[0].get("curveNumber", 0) != 0:
        return None
    point = clicked_point(click)
    if point is None:
        return None
    col, row = (round(v) for v in point)
    return (row, col) if row >= 0 and col >= 0 else None


def value_range(selected: object) -> tuple[float, float] | None:
    """(lo, hi) of a horizontal range selection on the histogram, or None (cleared)."""
    if not isinstance(selected, dict):
        return None
    box = selected.get("range")
    xs = box.get("x") if isinstance(box, dict) else None
    if not isinstance(xs, list) or len(xs) != 2:
        return None
    lo, hi = (_finite(v) for v in xs)
    if lo is None or hi is None:
        return None
    return (min(lo, hi), max(lo, hi))


def explained_pixel(value: object) -> tuple[int, int] | None:
    """(row, col) of the explanation store ({"row", "col", ...} as the server made it), or
    None when nothing is explained yet."""
    if value is None:
        return None
    if isinstance(value, dict):
        row, col = value.get("row"), value.get("col")
        if all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v < MAX_CHANNEL
            for v in (row, col)
        ):
            return row, col
    raise InvalidInput("explained pixel")


def image_format(value: object, formats: tuple[str, ...]) -> str:
    """The figures' image format for the modebar's camera: one of ``formats``."""
    if isinstance(value, str) and value in formats:
        return value
    raise InvalidInput("image format")
