"""Every answer is compressed when the client accepts it, except tiny ones (issue 10)."""

from __future__ import annotations

import gzip
import json
import re

import brotli
import pytest

from dashboard.app import create_app
from dashboard.config import Config
from tests.wire import DashClient, Tab

BR = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture(scope="module")
def app(models):
    return create_app(Config(cache_mb=64), models=models)


def plain_and_packed(client, method: str, path: str, **kwargs) -> tuple[bytes, object]:
    plain = getattr(client, method)(path, **kwargs)
    packed = getattr(client, method)(path, headers=BR, **kwargs)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers  # no Accept-Encoding: as is
    return plain.data, packed


def test_cmp01_page_and_component_bundle_are_brotli(app) -> None:
    client = app.server.test_client()
    html, packed = plain_and_packed(client, "get", "/")
    assert packed.headers["Content-Encoding"] == "br"
    assert b"_dash-config" in brotli.decompress(packed.data)
    script = re.search(r"src=\"([^\"]*dash_core_components\.v[^\"]*)\"", html.decode()).group(1)
    raw, packed = plain_and_packed(client, "get", script)
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(packed.data) == raw
    assert len(packed.data) < 0.35 * len(raw), (len(packed.data), len(raw))


def test_cmp02_callback_answers_are_compressed_and_identical(app) -> None:
    wire = DashClient(app)
    tab = Tab(wire)
    tab.set({"model-select.value": "tinyvgg", "layer-select.value": "block1.0"})
    body = json.dumps(wire.body("feature-grid.figure", tab.values, ["layer-select.value"]))
    client = app.server.test_client()
    kwargs = {"data": body, "content_type": "application/json"}
    raw, packed = plain_and_packed(client, "post", "/_dash-update-component", **kwargs)
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(packed.data) == raw
    # float32 values (base64) are most of it: they compress least
    assert len(packed.data) < 0.85 * len(raw), (len(packed.data), len(raw))
    gz = client.post("/_dash-update-component", headers={"Accept-Encoding": "gzip"}, **kwargs)
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == raw


def test_cmp03_tiny_answers_are_not_compressed(app) -> None:
    client = app.server.test_client()
    reply = client.get("/healthz", headers=BR)
    assert len(reply.data) < 1024 and "Content-Encoding" not in reply.headers
