"""The app factory: ``create_app(config) -> Dash`` with its callbacks registered."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from pathlib import Path

import torch
from dash import Dash
from flask import Flask
from flask_compress import Compress
from werkzeug.exceptions import HTTPException

from dashboard import i18n
from dashboard.callbacks import register_callbacks
from dashboard.capture.predict import class_vector
from dashboard.config import Config
from dashboard.errors import ModelError, page_message
from dashboard.explaining import Explainer
from dashboard.explorer import Explorer
from dashboard.jobs import Jobs
from dashboard.layout import build_layout
from dashboard.models import LoadedModel, ModelRegistry, load_user_model
from dashboard.models.classes import read_class_names
from dashboard.models.zoo import ON_WORKER
from dashboard.preparing import Preparer
from dashboard.samples import ImageStore
from dashboard.shared import SharedStore
from dashboard.signing import install_signing_secret

ASSETS = Path(__file__).resolve().parent.parent / "assets"
# plotly.js's official cartesian bundle (heatmap, image, scatter: all our figures draw):
# 1.5 MB against the full bundle's 4.8 MB. Loaded before dcc, which then uses it instead
# of fetching its own plotly.min.js. Served as a component suite: compressed, fingerprinted.
PLOTLY_BUNDLE = {
    "relative_package_path": "static/plotly-cartesian.min.js",
    "namespace": "dashboard",
}
# plotly.js's own words (modebar tooltips) in Chinese, registered after the bundle; a
# graph uses it when its config says locale "zh-CN" (dashboard/layout.py graph_config).
PLOTLY_LOCALES = {
    "relative_package_path": "static/plotly-locale-zh-cn.js",
    "namespace": "dashboard",
}
log = logging.getLogger(__name__)


def load_user_config(config: Config) -> LoadedModel:
    """The user's own model named by ``--model`` / CONVSCOPE_USER_MODEL.

    Raises:
        ModelError: with a sentence saying what is wrong.
    """
    model = _load_user_model(config)
    return with_class_names(model, config.classes) if config.classes else model


def with_class_names(model: LoadedModel, path: str) -> LoadedModel:
    """``model`` naming its outputs from ``path``, checked against what it outputs.

    Raises:
        ModelError: the file cannot be read, the output is not a class vector, or the
            counts differ.
    """
    names = read_class_names(path)
    with torch.inference_mode():
        scores = class_vector(model.module(model.default_input()))
    if scores is None:
        raise ModelError(
            "--classes names classes, but {model}'s output is not a vector.", model=model.label
        )
    if scores.numel() != len(names):
        raise ModelError(
            "--classes {file} names {n} classes, but {model} outputs {values} values.",
            file=Path(path).name,
            n=len(names),
            model=model.label,
            values=scores.numel(),
        )
    return dataclasses.replace(model, classes=names)


def _load_user_model(config: Config) -> LoadedModel:
    return load_user_model(
        config.user_model,
        config.user_weights,
        input_size=config.input_size,
        mean=config.mean,
        std=config.std,
        value_range=config.value_range,
    )


def unhandled(exc: Exception):
    """A request Dash itself cannot dispatch (a forged body naming no callback, say): logged
    with a reference id, answered 400 with one sentence, never a trace."""
    if isinstance(exc, HTTPException):
        return exc
    return page_message(exc), 400, {"Content-Type": "text/plain; charset=utf-8"}


COMPRESSED_TYPES = [
    "application/json",  # callback answers and the layout
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",  # plotly.min.js and the component bundles
]


def compress(server: Flask) -> None:
    """Brotli (or gzip) for every answer the client accepts it for, except tiny ones.

    Brotli level 4 compresses a 1.7 MB figure in tens of milliseconds; answers under
    1 KB go out as they are (the headers would cost more than they save).
    """
    server.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=4,
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=1024,
        COMPRESS_MIMETYPES=COMPRESSED_TYPES,
        # streamed files (our few KB of /assets) stay as they are: compressing a stream
        # leaves its file open until garbage collection
        COMPRESS_STREAMS=False,
    )
    Compress(server)


def build_registry(
    config: Config, shared: SharedStore | None = None, on_worker: bool = False
) -> ModelRegistry:
    """The app's models, as ``config`` says (with the user's model when one is named).

    With a shared store only workers download pretrained weights (``preparing.py``).
    """
    here = shared is None or on_worker
    return ModelRegistry(
        allow_download=(config.allow_download if here else config.allow_download and ON_WORKER),
        cache_size=config.model_cache,
        max_weights_bytes=config.max_weights_bytes,
        user_model=load_user_config(config) if config.user_model else None,
        shared=shared,
    )


def health_check(explorer: Explorer, shared: SharedStore | None):
    """/healthz: the Explorer's report plus whether the shared store (Redis) answers.

    A Redis that is down leaves the process healthy (restarting it would not help): the
    report says so, and the pages that need Redis say it to their visitors.
    """

    def healthz() -> dict:
        report = explorer.health()
        if shared is None:
            report["redis"] = "off"
        else:
            report["redis"] = "ok" if shared.ping() else "not answering"
        return report

    return healthz


def create_app(
    config: Config | None = None, *, models: ModelRegistry | None = None, on_worker: bool = False
) -> Dash:
    """Build the Dash app for ``config``; nothing heavy happens until the first request.

    ``models`` lets tests share one registry (built models) between apps. With
    ``config.redis_url``, uploads are also kept in Redis (``shared.py``) for every process,
    and big models' first passes run on workers (``on_worker``: this is one of them).
    """
    config = config or Config()
    # One process's threads share the cores: torch must not oversubscribe them.
    torch.set_num_threads(max(1, config.torch_threads))
    shared = SharedStore.from_config(config)
    explorer = Explorer(
        config,
        models or build_registry(config, shared, on_worker),
        ImageStore(budget_bytes=config.image_store_bytes, shared=shared),
        shared,
    )
    preparer = None
    if shared is not None:
        pending_s = config.jobs_queue_s + config.jobs_stale_s  # a job asked, then lost
        preparer = Preparer(explorer, shared, config.worker_model_mb, on_worker, pending_s)
        explorer.preparer = preparer
    jobs = Jobs(config, shared)  # Celery workers on Redis when shared, else forked children
    app = Dash(
        __name__,
        background_callback_manager=jobs.manager,
        title="ConvScope",
        assets_folder=str(ASSETS),
        update_title=None,
        serve_locally=True,
    )
    app.scripts.append_script(PLOTLY_BUNDLE)
    app.scripts.append_script(PLOTLY_LOCALES)
    server = app.server
    # the same in every process, so a job started through one is polled through another
    install_signing_secret(server, config, shared)
    if config.compress:
        compress(server)
    # Refuse oversized requests before Flask reads them.
    server.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    i18n.install(server)
    server.add_url_rule("/healthz", "healthz", health_check(explorer, shared))
    server.register_error_handler(Exception, unhandled)

    default_model, default_sample = explorer.first_view()

    def layout():
        return build_layout(
            explorer.models.available(),  # labels in the visitor's language
            default_model,
            explorer.sample_choices(),  # labels in the visitor's language
            default_sample,
            config.max_upload_bytes,
            config.max_weights_bytes,
            config.allow_download and shared is None,  # else a worker downloads
            session_id=secrets.token_hex(16),
        )

    app.layout = layout
    # <html lang="zh">: screen readers and the browser's CJK font choice follow the page
    index = app.interpolate_index
    app.interpolate_index = lambda **parts: index(**parts).replace(
        "<html>", f'<html lang="{i18n.current_language()}">', 1
    )
    register_callbacks(app, Explainer(explorer, jobs), preparer)
    app.explorer = explorer  # for tests and the benchmark: caches and their stats
    app.jobs = jobs  # dashboard/worker.py runs this app's jobs on its Celery app
    app.first_view = (default_model, default_sample)  # what a new page shows first
    log.info(
        "ConvScope ready: default model %s, cache %d MB, uploads in %s, jobs on %s",
        default_model,
        config.cache_mb,
        "Redis" if shared else "this process",
        "Celery workers" if shared else "forked children",
    )
    return app
