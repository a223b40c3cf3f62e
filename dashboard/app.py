"""The app factory: ``create_app(config) -> Dash`` with its callbacks registered."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from dash import Dash

from dashboard.callbacks import register_callbacks
from dashboard.config import Config
from dashboard.explorer import Explorer
from dashboard.layout import build_layout
from dashboard.models import (
    available_models,
    cached_models,
    load_user_model,
    register_user_model,
)
from dashboard.samples import RANDOM_KEY, sample_label

ASSETS = Path(__file__).resolve().parent.parent / "assets"
log = logging.getLogger(__name__)


def load_user_config(config: Config):
    """The user's own model named by ``--model`` / CONVSCOPE_USER_MODEL.

    Raises:
        ValueError, TypeError, RuntimeError: with a sentence saying what is wrong.
    """
    size = (config.input_size, config.input_size) if config.input_size else None
    return load_user_model(config.user_model, config.user_weights, input_size=size)


def health(explorer: Explorer) -> dict:
    """For the PaaS health check and the load test: alive, cache use, hooks left behind."""
    return {
        "status": "ok",
        "activation_cache_bytes": explorer.activations.used_bytes,
        "activation_cache_budget": explorer.activations.budget_bytes,
        "forward_passes": explorer.activations.stats.forward_passes,
        "models_cached": len(cached_models()),
        "forward_hooks": sum(
            len(m._forward_hooks) + len(m._forward_pre_hooks)
            for model in cached_models()
            for m in model.module.modules()
        ),
    }


def create_app(config: Config | None = None) -> Dash:
    """Build the Dash app for ``config``; nothing heavy happens until the first request."""
    config = config or Config()
    # One worker's threads share the cores: torch must not oversubscribe them.
    torch.set_num_threads(max(1, config.torch_threads))
    if config.user_model:
        register_user_model(load_user_config(config))
    explorer = Explorer(config)
    app = Dash(
        __name__,
        title="ConvScope",
        assets_folder=str(ASSETS),
        update_title=None,
        serve_locally=True,
    )
    server = app.server
    # Refuse oversized requests before Flask reads them; base64 adds a third.
    server.config["MAX_CONTENT_LENGTH"] = int(config.max_weights_bytes * 4 / 3) + 65536
    server.add_url_rule("/healthz", "healthz", lambda: health(explorer))

    models = available_models()
    names = [name for name, _ in models]
    default_model = "user" if config.user_model else config.default_model
    default_model = default_model if default_model in names else names[0]
    samples = [(RANDOM_KEY, "Seeded random input")] + [
        (key, sample_label(key)) for key in explorer.images.sample_keys
    ]
    default_sample = next((k for k, _ in samples if "chelsea" in k), RANDOM_KEY)
    app.layout = build_layout(
        models,
        default_model,
        samples,
        default_sample,
        config.max_upload_bytes,
        config.max_weights_bytes,
        config.allow_download,
    )
    register_callbacks(app, explorer)
    app.explorer = explorer  # for tests and the benchmark: caches and their stats
    log.info("ConvScope ready: default model %s, cache %d MB", default_model, config.cache_mb)
    return app
