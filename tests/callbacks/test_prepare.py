"""A big model's first pass on a real Celery worker, through the real Dash endpoint.

The web apps here count every model as big (``worker_model_mb=0``) so that TinyVGG, a few
milliseconds a pass, stands in for VGG16: the web process must not run it; the worker
(the Procfile's worker line, ``celery_worker``) runs it into Redis, and the web process
serves the panels from there with no forward pass of its own.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from dashboard.app import create_app
from dashboard.celery_jobs import WORKER_LOST
from dashboard.config import Config
from dashboard.models.zoo import ON_WORKER
from dashboard.preparing import _marker, weight_bytes
from dashboard.shared import KEY_PREFIX
from tests.callbacks.reference import conv_output
from tests.callbacks.test_sessions import check_feature_grid
from tests.celery_worker import STALE_S, WORKER_ENV, CeleryWorker
from tests.wire import DashClient, ExplorerTab

FEATURES, STATUS, PREDICTIONS = "feature-grid.figure", "status.children", "predictions.children"
REQUEST, BOX = "prepare-request.data", "prepare-box.hidden"
PREPARED, STAGE = "prepared.data", "prepare-stage.children"
PREPARE_STATUS = "prepare-status.children"
START = "prepare-start.n_clicks"
IMAGE = "sample:chelsea.png"
WAITING = "runs on a worker for this image first; the maps fill in when it is done."


def web(redis_url: str, **settings) -> DashClient:
    """One web process on ``redis_url``; its Explorer is ``client.explorer``."""
    config = Config(
        cache_mb=64, request_timeout_s=120, redis_url=redis_url, jobs_stale_s=STALE_S, **settings
    )
    app = create_app(config)
    client = DashClient(app)
    client.explorer = app.explorer
    return client


def opened(client: DashClient, model: str = "tinyvgg") -> ExplorerTab:
    """A page on ``model`` and the cat photo: its layer list, then whether it needs a worker."""
    tab = ExplorerTab(client)
    tab.set({"image-store.data": IMAGE, "sample-select.value": IMAGE})
    changed = tab.set({"model-select.value": model})
    tab.fire("layer-select.options", changed)
    tab.fire(BOX, changed)
    return tab


def run_job(tab: ExplorerTab):
    """The job a press of the start button (by on_need, or the visitor) starts, followed
    until its answer."""
    reply = tab.post(PREPARED, [START])
    reply.raise_for_status()
    tab.apply(reply)
    return reply


def test_pw01_the_worker_runs_the_first_pass_and_the_web_process_runs_none(
    redis_server, celery_worker
) -> None:
    client = web(redis_server.url, worker_model_mb=0)
    tab = opened(client)
    assert tab.values[BOX] is False
    assert tab.values[REQUEST]["model"] == "tinyvgg" and tab.values[REQUEST]["image"] == IMAGE
    assert tab.values[START] == 1  # pressed for the visitor
    waiting = tab.post(FEATURES, ["layer-select.value"]).outputs
    note = waiting[FEATURES]["layout"]["annotations"][0]["text"]
    assert note == "TinyVGG " + WAITING and waiting[STATUS] == ""  # quiet: not an error
    predictions = str(tab.post(PREDICTIONS, ["model-select.value"]).outputs[PREDICTIONS])
    assert "The top classes appear when the worker is done." in predictions

    done = run_job(tab)
    assert done.outputs[PREPARED]["key"] == "tinyvgg:shipped"
    assert "ran on a worker in" in done.outputs[PREPARE_STATUS]
    assert "Running TinyVGG on this image" in done.outputs[STAGE]  # progress reached the page
    assert "succeeded" in celery_worker.log()

    explorer = client.explorer
    model = explorer.model("tinyvgg")
    reply = tab.post(FEATURES, ["image-store.data"])
    assert reply.outputs[STATUS] == ""
    x = model.preprocess(explorer.images.get(IMAGE))
    check_feature_grid(reply.outputs[FEATURES], conv_output(model.module, "block1.0", x))
    predictions = str(tab.post(PREDICTIONS, ["image-store.data"]).outputs[PREDICTIONS])
    assert "Top 5 classes" in predictions or "classes" in predictions
    assert explorer.forward_passes == 0  # read from Redis, not run here
    assert explorer.health()["prediction_passes"] == 0
    # the request is not sent again for what is done; the box stays with its sentence
    again = tab.post(BOX, ["image-store.data"]).outputs
    assert REQUEST not in again and again[BOX] is False


def test_pw02_small_models_and_no_redis_never_wait_for_a_worker(redis_server) -> None:
    client = web(redis_server.url)  # the default threshold: TinyVGG is far below it
    assert weight_bytes(client.explorer.model("tinyvgg")) < 50 * 1024 * 1024
    tab = opened(client)
    assert tab.values[BOX] is True and tab.values[REQUEST] is None
    assert tab.post(FEATURES, ["layer-select.value"]).outputs[STATUS] == ""
    alone = DashClient(create_app(Config(cache_mb=64, worker_model_mb=0)))
    assert BOX not in alone.deps  # the embedded default has no worker to send to
    features = ExplorerTab(alone)
    features.set({"model-select.value": "tinyvgg", "layer-select.value": "block1.0"})
    assert features.post(FEATURES, ["layer-select.value"]).outputs[STATUS] == ""


def test_pw03_a_killed_worker_is_a_sentence_and_the_button_runs_it_again(
    redis_server, tmp_path
) -> None:
    worker = CeleryWorker(tmp_path / "worker.log", redis_server.url, WORKER_ENV).start()
    client = web(redis_server.url, worker_model_mb=0)
    tab = opened(client, "vgg16")  # random weights here: long enough to be killed mid-pass
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(run_job, tab)
            redis = redis_server.client()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if any(redis.get(k) == b"running" for k in redis.keys("convscope:job:*")):
                    break
                time.sleep(0.05)
            else:
                raise AssertionError(worker.log())
            worker.kill()
            reply = pending.result(timeout=60)
        assert reply.outputs[PREPARE_STATUS] == WORKER_LOST
        assert PREPARED not in reply.outputs
    finally:
        worker.kill()
    restarted = CeleryWorker(tmp_path / "worker.log", redis_server.url, WORKER_ENV).start()
    try:
        tab.set({START: tab.values[START] + 1})  # the visitor presses it again
        done = run_job(tab)
        assert done.outputs[PREPARED]["model"] == "vgg16"
    finally:
        restarted.stop()
    reply = tab.post(FEATURES, ["image-store.data"])
    assert reply.outputs[STATUS] == ""
    assert client.explorer.forward_passes == 0


def test_pw04_a_web_process_whose_model_differs_computes_it_itself_once_the_worker_is_done(
    redis_server, celery_worker
) -> None:
    client = web(redis_server.url, worker_model_mb=0)
    tab = opened(client)
    run_job(tab)
    explorer = client.explorer
    redis_server.client().delete(*redis_server.client().keys("convscope:act*"))  # evicted
    reply = tab.post(FEATURES, ["image-store.data"])
    assert reply.outputs[STATUS] == ""  # not "runs on a worker" forever
    assert explorer.forward_passes == 1


def test_pw05_the_web_process_never_downloads_with_workers(redis_server) -> None:
    config = Config(redis_url=redis_server.url, allow_download=True)
    assert create_app(config).explorer.models.allow_download == ON_WORKER
    worker = create_app(config, on_worker=True)
    assert worker.explorer.models.allow_download is True


def test_pw06_a_job_that_fails_on_the_worker_says_why_and_the_panels_stop_waiting(
    redis_server, celery_worker
) -> None:
    client = web(redis_server.url, worker_model_mb=0)
    gone = "upload:" + "0" * 64  # an upload no process holds (expired everywhere)
    tab = opened(client)
    model = client.explorer.model("tinyvgg")
    assert client.explorer.preparer.claim(model, gone)
    redis, pending = redis_server.client(), KEY_PREFIX + _marker("preparing", "tinyvgg", gone)
    assert redis.exists(pending)
    tab.set({REQUEST: {"model": "tinyvgg", "image": gone, "weights": None}})
    tab.set({START: tab.values[START] + 1})
    reply = run_job(tab)
    assert "no longer held" in reply.outputs[PREPARE_STATUS] and PREPARED not in reply.outputs
    assert not redis.exists(pending)  # released: nothing waits for it


FORGED = [
    "x",
    5,
    None,
    [1, 2],
    {"model": 5},
    {"model": "tinyvgg", "image": {"a": 1}},
    {"model": "nope", "image": IMAGE},
    {"model": "tinyvgg", "image": "../../etc/passwd"},
    {"model": "tinyvgg", "image": IMAGE, "weights": {"model": "tinyvgg", "key": "x" * 9999}},
]


def test_pw07_forged_requests_and_markers_are_sentences_never_500s(
    redis_server, celery_worker
) -> None:
    client = web(redis_server.url, worker_model_mb=0)
    tab = opened(client)
    for value in FORGED:
        tab.set({REQUEST: value, START: tab.values[START] + 1})
        reply = tab.post(PREPARED, [START])
        assert reply.status == 200, reply.head
        status = str(reply.outputs.get(PREPARE_STATUS))
        assert PREPARED not in reply.outputs and status.endswith("."), (value, status)
        assert "went wrong" not in status, (value, status)  # a sentence about it, no crash
        for forged in (value, {"model": "tinyvgg", "image": value}):
            tab.set({PREPARED: forged, "image-store.data": value})
            answer = tab.post(BOX, ["image-store.data"])
            assert answer.status in (200, 204), answer.head
