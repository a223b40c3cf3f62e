"""Several web processes on one Redis: any of them serves any request of one session.

Each ``create_app`` here is one web process (its own models, caches and image store); one
page's values (one session id) are posted to them in turn through the real Dash endpoint,
as a PaaS router without sticky sessions would. The last test starts real processes with
the Procfile's command.
"""

from __future__ import annotations

import os
from contextlib import ExitStack, closing

import numpy as np
import pytest
from PIL import Image

from dashboard.app import create_app
from dashboard.config import Config
from dashboard.images import MAX_SIDE
from dashboard.models import ModelRegistry
from tests.callbacks.test_sessions import Plan, Reference, check_feature_grid
from tests.unit.figure_helpers import decode
from tests.unit.test_shared_store import DOWN, custom_weights
from tests.wire import (
    DashClient,
    ExplorerTab,
    HTTPTransport,
    Server,
    cell_data,
    distinct_images,
    encoded,
)
from tests.wire.protocol import data_url

FEATURES, DETAIL, KERNELS = "feature-grid.figure", "feature-detail.figure", "kernel-grid.figure"
IMAGE, STATUS, WEIGHTS = "image-store.data", "status.children", "weights-store.data"
NOT_HELD = "no longer held"


def process(redis_url: str | None) -> DashClient:
    """One web process, as the Procfile starts it, but in this test process."""
    return DashClient(create_app(Config(cache_mb=64, request_timeout_s=120, redis_url=redis_url)))


def tab_on(client: DashClient, page: ExplorerTab) -> ExplorerTab:
    """``page`` (its values, its session id) as seen by another process."""
    return ExplorerTab(client, values=page.values)


def features(tab: ExplorerTab) -> tuple[np.ndarray, dict]:
    """The feature grid's raw cells after an image change, and the figure."""
    reply = tab.post(FEATURES, ["image-store.data"])
    reply.raise_for_status()
    assert reply.outputs[STATUS] == "", reply.outputs[STATUS]
    figure = reply.outputs[FEATURES]
    return cell_data(figure["data"][0]), figure


def upload_image(tab: ExplorerTab, seed: int) -> Image.Image:
    image = next(distinct_images(seed, size=160))
    assert max(image.size) <= MAX_SIDE  # decoded as it is: the reference sees these pixels
    tab.upload(image, f"photo{seed}.png")
    return image


def test_cr01_two_processes_serve_one_session_alternately_and_a_restart_loses_nothing(
    redis_server,
) -> None:
    a, b = process(redis_server.url), process(redis_server.url)
    on_a = ExplorerTab(a)
    on_b = tab_on(b, on_a)
    on_a.open_model("tinyvgg")
    on_b.switch_layer("block2.0")  # layer switches and uploads go to either process
    image = upload_image(on_a, 1)
    key = on_a.values[IMAGE]
    assert str(key).startswith("upload:")
    cells_b, figure_b = features(on_b)  # B never saw the upload
    cells_a, _ = features(on_a)
    assert np.array_equal(cells_a, cells_b)
    reference = Reference(Plan("tinyvgg", "block2.0", 0), ModelRegistry().get("tinyvgg"), None)
    check_feature_grid(figure_b, reference.maps(image))
    on_a.set({"channel-store.data": 5})
    detail_a = on_a.post(DETAIL, ["channel-store.data"]).outputs[DETAIL]
    detail_b = on_b.post(DETAIL, ["channel-store.data"]).outputs[DETAIL]
    assert np.array_equal(decode(detail_a["data"][0]["z"]), decode(detail_b["data"][0]["z"]))

    on_b.upload(next(distinct_images(2, size=120)), "second.png")  # uploaded on B this time
    second_on_a, _ = features(on_a)
    assert np.array_equal(second_on_a, features(on_b)[0])

    restarted = tab_on(process(redis_server.url), on_a)  # a fresh process, same session
    on_a.set({IMAGE: key})
    assert np.array_equal(features(restarted)[0], cells_a)

    # the control: a process without Redis does not hold the upload (the old behaviour)
    alone = tab_on(process(None), on_a).post(FEATURES, ["image-store.data"])
    assert NOT_HELD in alone.outputs[STATUS]


def test_cr02_uploaded_weights_on_one_process_are_used_by_another(redis_server) -> None:
    a, b = process(redis_server.url), process(redis_server.url)
    on_a = ExplorerTab(a)
    on_a.open_model("custom")
    state, payload = custom_weights(11)
    on_a.values["weights-upload.filename"] = "mine.safetensors"
    changed = on_a.set({"weights-upload.contents": data_url(payload, "application/octet-stream")})
    reply = on_a.fire(WEIGHTS, changed)
    assert "mine.safetensors" in reply.outputs["weights-status.children"]
    on_b = tab_on(b, on_a)
    options = on_b.fire("layer-select.options", ["weights-store.data"])
    assert NOT_HELD not in str(options.outputs)
    assert [o["value"] for o in options.outputs["layer-select.options"]] == ["0"]
    kernels = on_b.post(KERNELS, ["layer-select.value"]).outputs[KERNELS]
    cells = decode(kernels["data"][0]["customdata"]).reshape(-1, 5)
    weight = state["0.weight"].numpy()
    shown = cells[cells[:, 2] >= 0]
    assert len(shown) == weight.size
    for w, i, o, r, c in shown:
        assert w == weight[int(o), int(i), int(r), int(c)]
    upload_image(on_b, 3)
    assert np.array_equal(features(on_a)[0], features(on_b)[0])
    restarted = tab_on(process(redis_server.url), on_a)
    assert np.array_equal(features(restarted)[0], features(on_a)[0])
    alone = tab_on(process(None), on_a).post("layer-select.options", ["weights-store.data"])
    assert NOT_HELD in alone.outputs["model-notice.children"]


def test_cr03_redis_down_is_a_sentence_on_the_page_not_a_500(redis_server) -> None:
    a, b = process(redis_server.url), process(redis_server.url)
    on_a = ExplorerTab(a)
    on_a.open_model("tinyvgg")
    upload_image(on_a, 4)
    on_b = tab_on(b, on_a)
    redis_server.stop()
    reply = on_b.post(FEATURES, ["image-store.data"])
    assert reply.status == 200 and reply.outputs[STATUS] == DOWN
    assert features(on_a)[0].size  # what a process holds, it still serves
    on_a.values["image-upload.filename"] = "new.png"
    contents = data_url(encoded(next(distinct_images(5, size=64)), "PNG"), "image/png")
    refused = on_a.post(IMAGE, on_a.set({"image-upload.contents": contents}))
    assert refused.status == 200 and refused.outputs == {"upload-status.children": DOWN}
    assert a.get_json("/healthz")["redis"] == "not answering"
    redis_server.start()  # back, empty (no persistence): the page says what to do
    assert a.get_json("/healthz")["redis"] == "ok"
    again = on_b.post(FEATURES, ["image-store.data"])
    assert again.status == 200 and NOT_HELD in again.outputs[STATUS]


@pytest.mark.skipif(os.name != "posix", reason="the Procfile's command is a POSIX shell line")
def test_cr04_two_procfile_processes_alternate_on_one_session(redis_server, tmp_path) -> None:
    env = {**os.environ, "REDIS_URL": redis_server.url, "CONVSCOPE_CACHE_MB": "64"}
    with ExitStack() as stack:
        servers = [
            stack.enter_context(Server.from_procfile(tmp_path / f"web{i}.log", env=env))
            for i in range(2)
        ]
        for server in servers:
            assert server.wait_ready(timeout_s=120)["redis"] == "ok"
        first, second = (
            DashClient(stack.enter_context(closing(HTTPTransport(s.port, timeout_s=120))))
            for s in servers
        )
        on_1 = ExplorerTab(first)
        on_2 = tab_on(second, on_1)
        on_1.open_model("custom")
        _state, payload = custom_weights(12)
        on_2.values["weights-upload.filename"] = "w.safetensors"
        on_2.fire(WEIGHTS, on_2.set({"weights-upload.contents": data_url(payload, "x/y")}))
        on_1.fire("layer-select.options", ["weights-store.data"])
        grids = []
        for round_, (uploader, other) in enumerate([(on_1, on_2), (on_2, on_1)]):
            upload_image(uploader, 20 + round_)
            grids.append((features(other)[0], features(uploader)[0]))
        for served_elsewhere, served_here in grids:
            assert np.array_equal(served_elsewhere, served_here)
        assert not np.array_equal(grids[0][0], grids[1][0])
        logs = "\n".join(s.log_tail(200) for s in servers)
        assert "Traceback" not in logs and "ERROR" not in logs, logs
