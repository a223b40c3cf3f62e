"""What a load run does: paths, the model and action mixes, and ``LoadOptions``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "assets" / "samples"
DEFAULT_OUT = ROOT / "bench" / "results" / "load-latest.json"
MIB = 1024 * 1024

# model -> share of model switches; VGG16 is 528 MB and ~6 s to build: keep it rare.
MODEL_MIX = {"tinyvgg": 0.35, "custom": 0.3, "resnet18": 0.25, "vgg16": 0.1}
ACTION_MIX = {
    "switch_model": 0.12,
    "switch_layer": 0.18,
    "choose_sample": 0.1,
    "upload_image": 0.14,
    "click_feature": 0.16,
    "click_kernel": 0.08,
    "page_kernels": 0.03,
    "toggle_scale": 0.04,
    "upload_weights": 0.04,
    "bad_image": 0.08,
    "bad_weights": 0.03,
}


@dataclass(frozen=True)
class LoadOptions:
    """What one run does; the defaults are the full run."""

    sessions: int = 8
    seconds: float = 180.0
    port: int = 0  # 0: a free loopback port
    out: Path | None = DEFAULT_OUT
    models: tuple[str, ...] = tuple(MODEL_MIX)
    cache_mb: int = 256
    model_cache: int = 3
    max_requests: int = 50_000
    think_ms: float = 100.0  # mean pause between a session's actions
    connections: int = 2  # keep-alive connections per session, used in turn
    client_timeout_s: float = 150.0  # above gunicorn's --timeout 120
    startup_timeout_s: float = 180.0
    seed: int = 0
    server_args: tuple[str, ...] = ()  # appended after the Procfile's (experiments only)
    extra_env: tuple[tuple[str, str], ...] = ()  # e.g. (("MALLOC_ARENA_MAX", "2"),)
    keep_log: bool = False
    processes: int = 1  # web processes, each request of a tab to any of them
    redis: bool = False  # a private redis-server and one Celery worker, shared
