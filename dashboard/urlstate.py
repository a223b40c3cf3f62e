"""The view in a shareable URL: a query string <-> :class:`UrlState`, pure (no dash).

Parsing checks syntax only (a known mode, a small integer, four finite numbers); whether a
model has that layer or a layer that channel is decided by the page, which knows them.
Anything unusable is dropped and named in ``ParsedUrl.rejected``, never raised.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from dashboard.i18n import LANGUAGES
from dashboard.modes import KernelMode, KernelScale, Look, ScaleMode, SortKey
from dashboard.samples import RANDOM_KEY

MAX_QUERY = 4096  # characters; a longer query string is not read at all
MAX_FIELDS = 64
MAX_TEXT = 256
MAX_CHANNEL = 1 << 20
MAX_COORD = 1e7
UPLOAD = "upload"  # the image parameter of a view showing an uploaded image
SAMPLE_PREFIX = "sample:"
_TEXT = re.compile(r"[0-9A-Za-z_.:/+\-]{1,256}")
_INT = re.compile(r"[0-9]{1,7}")


@dataclass(frozen=True)
class UrlState:
    """A view as a link carries it; None: not in the link (the page's default)."""

    model: str | None = None
    layer: str | None = None
    channel: int | None = None
    image: str | None = None  # a sample's key without "sample:", "random", or UPLOAD
    scale: ScaleMode | None = None
    kernels: KernelMode | None = None
    kernel_scale: KernelScale | None = None
    look: Look | None = None
    sort: SortKey | None = None
    zoom: tuple[float, float, float, float] | None = None  # feature grid x0, x1, y0, y1
    lang: str | None = None


# query parameter of each field, in the order a link writes them
PARAMS: dict[str, str] = {
    "model": "model",
    "layer": "layer",
    "channel": "channel",
    "image": "image",
    "scale": "scale",
    "kernels": "kernels",
    "kernel_scale": "kscale",
    "look": "look",
    "sort": "sort",
    "zoom": "zoom",
    "lang": "lang",
}


@dataclass(frozen=True)
class ParsedUrl:
    state: UrlState
    rejected: tuple[tuple[str, str], ...] = ()  # (parameter, its raw value) unusable
    unreadable: bool = False  # the whole query string was too long or not a string


def _text(value: str) -> str | None:
    return value if _TEXT.fullmatch(value) else None


def _channel(value: str) -> int | None:
    if not _INT.fullmatch(value):
        return None
    number = int(value)
    return number if number < MAX_CHANNEL else None


def _enum(kind):
    def read(value: str):
        return kind(value) if value in tuple(kind) else None

    return read


def _zoom(value: str) -> tuple[float, float, float, float] | None:
    parts = value.split(",")
    if len(parts) != 4 or any(len(p) > 32 for p in parts):
        return None
    try:
        numbers = tuple(float(p) for p in parts)
    except ValueError:
        return None
    if not all(math.isfinite(v) and abs(v) <= MAX_COORD for v in numbers):
        return None
    x0, x1, y0, y1 = numbers
    return numbers if x0 != x1 and y0 != y1 else None


def _lang(value: str) -> str | None:
    return value if value in LANGUAGES else None


_READERS = {
    "model": _text,
    "layer": _text,
    "channel": _channel,
    "image": _text,
    "scale": _enum(ScaleMode),
    "kernels": _enum(KernelMode),
    "kernel_scale": _enum(KernelScale),
    "look": _enum(Look),
    "sort": _enum(SortKey),
    "zoom": _zoom,
    "lang": _lang,
}


def parse(search: object) -> ParsedUrl:
    """A query string (``"?model=vgg16&layer=features.0"``, the leading ``?`` optional) as
    a state; unknown parameters are ignored, the first of repeated ones counts."""
    if search is None or search == "":
        return ParsedUrl(UrlState())
    if not isinstance(search, str) or len(search) > MAX_QUERY:
        return ParsedUrl(UrlState(), unreadable=True)
    try:
        pairs = parse_qsl(
            search.removeprefix("?"), keep_blank_values=True, max_num_fields=MAX_FIELDS
        )
    except ValueError:  # more fields than MAX_FIELDS
        return ParsedUrl(UrlState(), unreadable=True)
    given: dict[str, str] = {}
    for key, value in pairs:
        given.setdefault(key, value)
    values: dict[str, object] = {}
    rejected = []
    for name, param in PARAMS.items():
        if param not in given:
            continue
        value = _READERS[name](given[param]) if len(given[param]) <= MAX_TEXT else None
        if value is None:
            rejected.append((param, given[param]))
        else:
            values[name] = value
    return ParsedUrl(UrlState(**values), tuple(rejected))


def _number(value: float) -> str:
    """Short and exact enough for an axis range: 4 decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _param_value(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(_number(v) for v in value)
    return str(value)


def to_search(state: UrlState) -> str:
    """The query string of ``state`` ("" when it holds nothing), fields in PARAMS order."""
    parts = []
    for name, param in PARAMS.items():
        value = getattr(state, name)
        if value is not None:
            parts.append(f"{param}={quote(_param_value(value), safe='/:,')}")
    return "?" + "&".join(parts) if parts else ""


def image_param(key: str) -> str:
    """The image parameter for an image key: a sample's name, "random", or UPLOAD."""
    if key.startswith(SAMPLE_PREFIX):
        return key.removeprefix(SAMPLE_PREFIX)
    return key if key == RANDOM_KEY else UPLOAD


def image_key(param: str) -> str:
    """The image key a (non-upload) image parameter names."""
    return param if param == RANDOM_KEY else SAMPLE_PREFIX + param
