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
from dashboard.models import available_models
from dashboard.samples import RANDOM_KEY, sample_label

ASSETS = Path(__file__).resolve().parent.parent / "assets"
log = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> Dash:
    """Build the Dash app for ``config``; nothing heavy happens until the first request."""
    config = config or Config()
    # One worker's threads share the cores: torch must not oversubscribe them.
    torch.set_num_threads(max(1, config.torch_threads))
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
    server.add_url_rule("/healthz", "healthz", lambda: {"status": "ok"})

    models = available_models()
    names = [name for name, _ in models]
    default_model = config.default_model if config.default_model in names else names[0]
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
    )
    register_callbacks(app, explorer)
    log.info("ConvScope ready: default model %s, cache %d MB", default_model, config.cache_mb)
    return app
