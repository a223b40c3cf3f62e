"""Settings from environment variables and the command line, as one frozen dataclass."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

ENV_PREFIX = "CONVSCOPE_"


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Config:
    """Everything the app can be told. Each field maps to an env var (see ``ENV``)."""

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
    input_size: int | None = None
    compress: bool = True  # brotli/gzip answers; off only to measure what it saves

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


def config_from_env(env: Mapping[str, str] | None = None, **overrides: object) -> Config:
    """Build a Config from ``env`` (default ``os.environ``), then apply ``overrides``.

    Raises:
        ValueError: an environment variable holds a value of the wrong type.
    """
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for field in fields(Config):
        raw = env.get(ENV[field.name])
        if raw is None or raw == "":
            continue
        kind = str(field.type)
        try:
            if kind == "bool":
                values[field.name] = _flag(raw)
            elif kind.startswith("int"):
                values[field.name] = int(raw)
            elif kind.startswith("float"):
                values[field.name] = float(raw)
            else:
                values[field.name] = raw
        except ValueError:
            raise ValueError(f"{ENV[field.name]}={raw!r} is not a valid {kind}.") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Config(**values)
