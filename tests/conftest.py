"""Shared fixtures: a fresh app per browser test, Chromium options for a closed network."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import hypothesis  # noqa: F401
import pytest
import torch

torch.set_num_threads(2)
# hypothesis is imported above, at a shallow stack: its pytest plugin otherwise imports it
# in the terminal summary, where a browser-only run hit CPython 3.11.7's "AST constructor
# recursion depth mismatch" (gh-106905, fixed in 3.11.8) while pytest rewrote it.
# Tests never touch the network nor the developer's own hub cache.
os.environ["CONVSCOPE_ALLOW_DOWNLOAD"] = "0"
os.environ["TORCH_HOME"] = tempfile.mkdtemp(prefix="convscope-torch-home-")
atexit.register(shutil.rmtree, os.environ["TORCH_HOME"], ignore_errors=True)


def pytest_setup_options():
    """Chromium flags for dash_duo: no background networking on a closed network."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in (
        "--window-size=1366,900",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
    ):
        options.add_argument(flag)
    return options


@pytest.fixture
def config(tmp_path):
    from dashboard.config import Config

    return Config(cache_mb=256, request_timeout_s=60)


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on a free loopback port (empty, no persistence), stopped after.

    Skipped only where the binary is missing, and never in CI (``.ci/run`` installs it).
    """
    from tests.redis_server import RedisServer, binary

    if binary() is None:
        reason = "redis-server is not installed (apt-get install redis-server; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    server = RedisServer(tmp_path / "redis.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def models():
    """One model registry for the whole run, so VGG16 and friends are built once."""
    from dashboard.models import ModelRegistry

    return ModelRegistry(cache_size=8)


@pytest.fixture
def celery_worker(redis_server, tmp_path):
    """A real Celery worker on ``redis_server`` (the Procfile's worker line), stopped after.

    Its jobs settings come from ``CeleryWorker(..., env=...)``; this one uses the defaults
    the flow tests share (``WORKER_ENV`` in tests/celery_worker.py).
    """
    from tests.celery_worker import WORKER_ENV, CeleryWorker

    worker = CeleryWorker(tmp_path / "worker.log", redis_server.url, WORKER_ENV)
    try:
        yield worker.start()
    finally:
        worker.stop()
