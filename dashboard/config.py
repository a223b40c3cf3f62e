"""Settings from environment variables and the command line, as one frozen dataclass."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

ENV_PREFIX = "CONVSCOPE_"
VALUE_RANGES = ("0-1", "0-255")  # what a white pixel is before normalisation: 1 or 255
MAX_INPUT_SIDE = 2048
REDIS_SCHEMES = ("redis", "rediss", "unix")
_SIZE = re.compile(r"^\s*(\d+)\s*(?:[x×X,]\s*(\d+))?\s*$")


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def parse_input_size(text: str, option: str = "--input-size") -> tuple[int, int]:
    """ "28" -> (28, 28); "112x96" -> (112, 96), height first.

    Raises:
        ValueError: a sentence naming `option` and what was given.
    """
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{option} must be H or HxW in pixels (e.g. 28 or 112x96), got {text!r}.")
    height = int(match.group(1))
    width = int(match.group(2) or height)
    if not (1 <= height <= MAX_INPUT_SIDE and 1 <= width <= MAX_INPUT_SIDE):
        raise ValueError(
            f"{option} must be between 1 and {MAX_INPUT_SIDE} pixels a side, got {text!r}."
        )
    return (height, width)


def _channel_values(text: str, option: str, *, positive: bool) -> tuple[float, ...]:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) not in (1, 3) or not all(math.isfinite(v) for v in values):
        raise ValueError(
            f"{option} must be 1 or 3 numbers separated by commas (one per channel, e.g. "
            f"0.5 or 0.485,0.456,0.406), got {text!r}."
        )
    if positive and not all(v > 0 for v in values):
        raise ValueError(f"{option} must be greater than zero (it divides), got {text!r}.")
    return values


def parse_mean(text: str, option: str = "--mean") -> tuple[float, ...]:
    """ "0.5" or "0.485,0.456,0.406" -> per-channel means, in the units of --value-range."""
    return _channel_values(text, option, positive=False)


def parse_std(text: str, option: str = "--std") -> tuple[float, ...]:
    """Like parse_mean, every value > 0."""
    return _channel_values(text, option, positive=True)


def parse_value_range(text: str, option: str = "--value-range") -> str:
    """ "0-1" or "0-255" (also "0..255", "255")."""
    cleaned = text.strip().replace("..", "-").replace("–", "-").replace(" ", "")
    cleaned = {"1": "0-1", "255": "0-255"}.get(cleaned, cleaned)
    if cleaned not in VALUE_RANGES:
        raise ValueError(f"{option} must be 0-1 or 0-255, got {text!r}.")
    return cleaned


def parse_redis_url(text: str, option: str = "--redis-url") -> str:
    """A redis://, rediss:// or unix:// address (its password is never repeated back)."""
    url = text.strip()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in REDIS_SCHEMES:
        got = f"one starting with {scheme}://" if scheme else "one without a scheme"
        raise ValueError(f"{option} must be a redis://, rediss:// or unix:// address, got {got}.")
    return url


@dataclass(frozen=True)
class Config:
    """Everything the app can be told. Each field maps to an env var (see ``ENV``).

    ``input_size``, ``mean``, ``std`` and ``value_range`` describe the input of
    ``user_model`` only: (H, W) in pixels; per-channel mean and std (1 or 3 values) in the
    units of ``value_range``, which says whether pixels are 0..1 or 0..255 before
    ``(x - mean) / std``.
    """

    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    default_model: str = "tinyvgg"
    allow_download: bool = False
    cache_mb: int = 512
    model_cache: int = 4
    image_store_mb: int = 64
    max_pending_passes: int = 8
    threads: int = 8
    max_upload_mb: float = 10.0
    max_weights_mb: float = 100.0
    torch_threads: int = 2
    request_timeout_s: float = 30.0
    user_model: str | None = None
    user_weights: str | None = None
    input_size: tuple[int, int] | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    value_range: str = "0-1"
    classes: str | None = None  # a text file naming the user model's outputs, one per line
    compress: bool = True  # brotli/gzip answers; off only to measure what it saves
    jobs_dir: str | None = None  # background jobs' diskcache (None: a folder in the temp dir)
    jobs_cache_mb: int = 256  # feature visualisations and job results kept on disk
    featurevis_steps: int = 256  # gradient-ascent steps of one feature visualisation
    # Shared state (dashboard/shared.py): uploads kept in Redis so any process serves any
    # visitor. None: everything stays in this process's memory, as without Redis.
    redis_url: str | None = None
    redis_ttl_h: float = 24.0  # an upload kept this long after its last use
    redis_upload_mb: float = 100.0  # most one upload (image or weights) may occupy there
    redis_memory_mb: int = 512  # Redis's maxmemory, set at start when allowed (0: leave it)
    # Computed results (recomputable) are written only while Redis uses less than this, so
    # they never crowd out uploads (which are not): the rest of maxmemory is the uploads'.
    redis_results_mb: int = 256
    # Background jobs with Redis (dashboard/celery_jobs.py): a running job's heartbeat older
    # than jobs_stale_s means its worker died; a job no worker has taken within jobs_queue_s
    # is given up. The page then says so and its start button works again.
    jobs_stale_s: float = 30.0
    jobs_queue_s: float = 300.0
    # Signs background-job handles (Flask's secret_key): the same in every process, so a job
    # started through one is polled and cancelled through another. None: with Redis, one
    # created there once and shared (dashboard/signing.py). Never printed (repr=False).
    secret_key: str | None = dataclasses.field(default=None, repr=False)
    # With Redis, a model whose weights take at least this many MB runs its first pass on
    # an image (and downloads its weights) on a worker, not in a web process (preparing.py).
    worker_model_mb: float = 50.0

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_weights_bytes(self) -> int:
        return int(max(self.max_weights_mb, self.max_upload_mb) * 1024 * 1024)

    @property
    def cache_bytes(self) -> int:
        return self.cache_mb * 1024 * 1024

    @property
    def image_store_bytes(self) -> int:
        return self.image_store_mb * 1024 * 1024

    @property
    def redis_ttl_s(self) -> int:
        return max(1, round(self.redis_ttl_h * 3600))

    @property
    def redis_upload_bytes(self) -> int:
        return int(self.redis_upload_mb * 1024 * 1024)

    @property
    def max_request_bytes(self) -> int:
        """Largest request body: a weights upload as base64 (a third more) plus the JSON."""
        return int(self.max_weights_bytes * 4 / 3) + 65536


# field name -> environment variable; HOST and PORT are what a PaaS sets.
ENV: dict[str, str] = {
    "host": "HOST",
    "port": "PORT",
    **{
        f.name: ENV_PREFIX + f.name.upper()
        for f in fields(Config)
        if f.name not in {"host", "port"}
    },
}
# Other names a field is read from when its own variable is unset: REDIS_URL is what a PaaS
# sets when a Redis add-on is attached; SECRET_KEY what Flask deployments usually set.
ENV_ALIASES: dict[str, tuple[str, ...]] = {
    "redis_url": ("REDIS_URL",),
    "secret_key": ("SECRET_KEY",),
}
# Fields whose text needs more than int() or float(); the same parsers read the CLI flags.
# Each takes (text, name of the option or variable for its sentence).
PARSERS: dict[str, Callable[[str, str], object]] = {
    "input_size": parse_input_size,
    "mean": parse_mean,
    "std": parse_std,
    "value_range": parse_value_range,
    "redis_url": parse_redis_url,
}


def _parse(name: str, kind: str, raw: str, variable: str) -> object:
    if name in PARSERS:
        return PARSERS[name](raw, variable)
    if kind == "bool":
        return _flag(raw)
    if kind.startswith("int"):
        return int(raw)
    if kind.startswith("float"):
        return float(raw)
    return raw


def config_from_env(env: Mapping[str, str] | None = None, **overrides: object) -> Config:
    """Build a Config from ``env`` (default ``os.environ``), then apply ``overrides``.

    Overrides are the CLI flags: None means "not given"; a str for a field in ``PARSERS``
    is parsed here (``mean="0.5,0.5,0.5"``), other values must already be typed.

    Raises:
        ValueError: an environment variable or flag holds a value of the wrong type or
            form (the message names the variable or flag).
    """
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for field in fields(Config):
        names = (ENV[field.name], *ENV_ALIASES.get(field.name, ()))
        variable = next((name for name in names if env.get(name)), None)
        if variable is None:
            continue
        raw = env[variable]
        kind = str(field.type)
        try:
            values[field.name] = _parse(field.name, kind, raw, variable)
        except ValueError as exc:
            if field.name in PARSERS:  # its sentence names the variable and the value
                raise ValueError(str(exc)) from None
            raise ValueError(f"{variable}={raw!r} is not a valid {kind}.") from None
    for name, value in overrides.items():
        if value is None:
            continue
        if name in PARSERS and isinstance(value, str):
            value = PARSERS[name](value, "--" + name.replace("_", "-"))
        values[name] = value
    return Config(**values)
