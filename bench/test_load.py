"""The load tester (bench.load): its checkers, its callback list, and a short real run.

These live beside the load tester because they test it; tests/ never imports bench.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.load.cluster import SpreadTransport
from bench.load.options import LoadOptions
from bench.load.oracle import feature_mismatch, kernel_mismatch
from bench.load.run import check_options, run
from bench.load.tab import CALLBACKS, check_callbacks
from dashboard.figures import feature_grid, kernel_grid
from tests.unit.test_wire import tiny_app
from tests.wire import DashClient, serve_in_thread

RNG = np.random.default_rng(7)


def test_lt04_checkers_catch_wrong_values_channels_and_weights() -> None:
    maps = RNG.standard_normal((5, 6, 7)).astype(np.float32)
    figure = json.loads(feature_grid(maps).to_json())
    assert feature_mismatch(figure, maps) is None
    assert "differ" in feature_mismatch(figure, maps + 1e-3)
    assert feature_mismatch(figure, maps[[1, 0, 2, 3, 4]]) is not None
    big = RNG.standard_normal((4, 300, 300)).astype(np.float32)  # block means
    assert feature_mismatch(json.loads(feature_grid(big).to_json()), big) is None
    weight = RNG.standard_normal((4, 2, 3, 3)).astype(np.float32)
    kernels = json.loads(kernel_grid(weight).to_json())
    assert kernel_mismatch(kernels, weight) is None
    assert kernel_mismatch(kernels, weight[::-1].copy()) == "kernel weights differ"


def test_lt06_the_sessions_callbacks_must_exist() -> None:
    with pytest.raises(RuntimeError, match="no callbacks for"):
        check_callbacks(DashClient(tiny_app()))
    assert set(CALLBACKS) >= {"on_model", "on_kernels", "on_features", "on_detail"}


def test_lt05_short_load_run_on_small_models(tmp_path) -> None:
    out = tmp_path / "load.json"
    options = LoadOptions(sessions=8, seconds=15, models=("tinyvgg", "custom"), out=out)
    report = run(options)
    assert json.loads(out.read_text())["requests"] == report["requests"]
    errors = report["errors"]
    assert errors["5xx"] == errors["non_200"] == errors["timeouts"] == 0, report["error_samples"]
    assert report["wrong_activations"] == errors["wrong_kernels"] == 0, report["error_samples"]
    assert report["ok"], report["error_samples"]
    assert report["checks"]["feature_grids"] > 8 and report["checks"]["details"] > 8
    health = report["healthz"]
    assert health["forward_hooks_end"] == 0
    assert health["activation_cache_bytes_max"] <= health["activation_cache_budget"]
    assert health["forward_passes"] >= 8  # every session uploaded or chose its own images
    assert report["worker_restarts"] == 0 and report["server_returncode"] is not None


def test_lt07_requests_spread_over_web_processes_without_stickiness() -> None:
    apps, served = [tiny_app(), tiny_app()], [0, 0]
    for i, app in enumerate(apps):
        app.server.before_request(lambda i=i: served.__setitem__(i, served[i] + 1))
    with serve_in_thread(apps[0]) as first, serve_in_thread(apps[1]) as second:
        transport = SpreadTransport([first, second], LoadOptions(), seed=3)
        try:
            statuses = [transport.request("GET", "/_dash-layout")[0] for _ in range(40)]
        finally:
            transport.close()
    assert statuses == [200] * 40
    assert sum(served) == 40 and min(served) >= 5, served
    with pytest.raises(ValueError, match="processes"):
        check_options(LoadOptions(processes=0))
