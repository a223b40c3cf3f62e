"""The load tester: its payload and checking helpers, then a short run against gunicorn."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.load.options import LoadOptions
from bench.load.oracle import feature_mismatch, kernel_mismatch
from bench.load.page import FIRST_OUTPUT, Page, split_outputs
from bench.load.run import run
from bench.load.server import procfile_command
from dashboard.figures import feature_grid, kernel_grid

RNG = np.random.default_rng(7)


def test_lt01_procfile_command_is_the_procfile_on_loopback() -> None:
    argv = procfile_command(8123)
    assert argv[0].endswith("gunicorn") and argv[1] == "dashboard.wsgi:server"
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8123"
    assert "0.0.0.0" not in " ".join(argv) and "$PORT" not in " ".join(argv)


def test_lt02_procfile_binding_elsewhere_is_refused(tmp_path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("web: gunicorn app:server --bind 10.0.0.5:$PORT\n")
    with pytest.raises(ValueError, match=r"only targets 127\.0\.0\.1"):
        procfile_command(8000, procfile)


def test_lt03_payload_keeps_the_hash_of_duplicate_outputs() -> None:
    deps = [
        {"output": f"..{first}...status.children..", "inputs": [], "state": []}
        for name, first in FIRST_OUTPUT.items()
        if name != "on_select"
    ]
    deps.append(
        {
            "output": "..channel-store.data@ab12...status.children@ab12..",
            "inputs": [{"id": "feature-grid", "property": "clickData"}],
            "state": [{"id": "model-select", "property": "value"}],
        }
    )
    layout = {"props": {"children": [{"props": {"id": "model-select", "value": "custom"}}]}}
    page = Page(deps, layout)
    assert page.initial == {"model-select.value": "custom"}
    values = {"model-select.value": "vgg16", "feature-grid.clickData": {"points": []}}
    body = json.loads(page.body("on_select", values, ["feature-grid.clickData"]))
    assert body["output"] == deps[-1]["output"]
    assert body["outputs"][0] == {"id": "channel-store", "property": "data@ab12"}
    assert body["inputs"][0]["value"] == {"points": []}
    assert body["state"] == [{"id": "model-select", "property": "value", "value": "vgg16"}]
    assert split_outputs("feature-detail.figure") == [
        {"id": "feature-detail", "property": "figure"}
    ]
    with pytest.raises(RuntimeError, match="no callbacks"):
        Page(deps[:-1], layout)


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
    assert report["worker_restarts"] == 0 and report["gunicorn_returncode"] is not None
