"""Feature visualisations on a real Celery worker, through the real Dash endpoint.

Each web app here is one web process on one Redis (``redis_server``); the worker is the
Procfile's worker line in its own process (``celery_worker``). A page presses "Visualise
this channel" by posting the background callback as the renderer does and following its
job until the answer (``DashClient.post``).
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from dashboard import i18n
from dashboard.app import create_app
from dashboard.celery_jobs import NOT_TAKEN, WORKER_LOST
from dashboard.config import Config
from dashboard.i18n import _
from tests.celery_worker import STALE_S, STEPS, WORKER_ENV, CeleryWorker
from tests.unit.test_shared_store import DOWN
from tests.wire import ENDPOINT, DashClient, ExplorerTab

FIGURE, STATUS = "featurevis-figure.figure", "featurevis-status.children"
START, PROGRESS = "featurevis-start.n_clicks", "featurevis-progress.value"
CANCEL, CANCEL_ID = "featurevis-cancel.n_clicks", "featurevis-cancel.id"
STORED_NOTE = "Computed earlier (stored)."


def worker_config(redis_url: str | None, tmp_path, steps: int = STEPS, **settings) -> Config:
    """A web process's settings matching the workers' jobs settings (``WORKER_ENV``)."""
    return Config(
        cache_mb=64,
        request_timeout_s=120,
        redis_url=redis_url,
        featurevis_steps=steps,
        jobs_stale_s=STALE_S,
        jobs_dir=str(tmp_path / "jobs"),
        **settings,
    )


def web(redis_url: str | None, tmp_path, steps: int = STEPS, **settings) -> DashClient:
    """One web process with the workers' jobs settings."""
    return DashClient(create_app(worker_config(redis_url, tmp_path, steps, **settings)))


def page(client: DashClient, layer: str = "block2.0") -> ExplorerTab:
    tab = ExplorerTab(client)
    tab.open_model("tinyvgg")
    tab.switch_layer(layer)
    tab.set({"channel-store.data": 3})
    return tab


def press(tab: ExplorerTab):
    """One press of the start button: the job sent, followed until its answer."""
    tab.set({START: int(tab.values.get(START) or 0) + 1})
    reply = tab.post(FIGURE, [START])
    reply.raise_for_status()
    return reply


def visualised(reply) -> dict:
    assert reply.outputs[STATUS] == f"{STEPS} steps, " + reply.outputs[STATUS].split(", ")[1]
    assert reply.outputs[STATUS].endswith(" s to compute.")
    figure = reply.outputs[FIGURE]
    assert figure["data"][0]["type"] == "image"
    return figure


def test_cw01_a_worker_computes_it_with_progress_as_the_web_process_would(
    redis_server, celery_worker, tmp_path
) -> None:
    on_worker = press(page(web(redis_server.url, tmp_path / "a")))
    figure = visualised(on_worker)
    assert 0 < int(on_worker.outputs[PROGRESS]) <= STEPS  # progress reached the page
    assert "succeeded" in celery_worker.log()  # it ran there, not here
    forked = press(page(web(None, tmp_path / "b")))  # the embedded path: a forked child
    assert visualised(forked) == figure
    second = page(web(redis_server.url, tmp_path / "c"))  # another process, its own memory
    name = second.client.named(FIGURE, "layer-select.value")
    stored = second.post(name, ["layer-select.value"]).outputs
    assert stored[STATUS] == STORED_NOTE and stored[FIGURE] == figure
    alone = page(web(None, tmp_path / "d"))  # the control: no Redis, nothing stored
    assert alone.post(name, ["layer-select.value"]).outputs[STATUS] == ""


def test_cw02_a_killed_worker_is_a_sentence_and_the_button_works_again(
    redis_server, tmp_path
) -> None:
    # long enough to be killed mid-job: TinyVGG takes a few ms a step
    slow = {**WORKER_ENV, "CONVSCOPE_FEATUREVIS_STEPS": "100000"}
    worker = CeleryWorker(tmp_path / "worker.log", redis_server.url, slow).start()
    tab = page(web(redis_server.url, tmp_path))
    running = threading.Event()
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(press, tab)
            deadline = time.monotonic() + 60
            client = redis_server.client()
            while time.monotonic() < deadline and not running.is_set():
                if any(client.get(k) == b"running" for k in client.keys("convscope:job:*")):
                    running.set()
                time.sleep(0.1)
            assert running.is_set(), worker.log()
            time.sleep(0.5)  # mid-job
            worker.kill()
            killed_at = time.monotonic()
            reply = pending.result(timeout=60)
        assert reply.outputs[STATUS] == WORKER_LOST
        assert time.monotonic() - killed_at < STALE_S + 5  # bounded: no endless spinner
        assert reply.outputs[FIGURE]["layout"]["annotations"][0]["text"] == WORKER_LOST
    finally:
        worker.kill()
    restarted = CeleryWorker(tmp_path / "worker.log", redis_server.url, WORKER_ENV).start()
    try:
        visualised(press(tab))  # the same button, pressed again, on the new worker
    finally:
        restarted.stop()


def test_cw03_redis_down_is_a_sentence_not_a_500(redis_server, tmp_path) -> None:
    tab = page(web(redis_server.url, tmp_path))
    redis_server.stop()
    started = time.monotonic()
    reply = press(tab)
    assert reply.status == 200 and reply.outputs[STATUS] == DOWN
    assert time.monotonic() - started < 15


def test_cw04_no_worker_is_a_sentence_after_the_queue_allowance(redis_server, tmp_path) -> None:
    tab = page(web(redis_server.url, tmp_path, jobs_queue_s=2.0))
    started = time.monotonic()
    reply = press(tab)
    assert reply.outputs[STATUS] == NOT_TAKEN.format(seconds=2)
    assert 2.0 <= time.monotonic() - started < 10
    tab.set({"lang-select.value": "zh"})  # the sentence in the page's language
    with i18n.using("zh"):
        chinese = _(NOT_TAKEN).format(seconds=2)
    assert press(tab).outputs[STATUS] == chinese != NOT_TAKEN.format(seconds=2)


def test_cw05_a_cancelled_job_ends_without_an_answer_not_as_a_lost_worker(
    redis_server, tmp_path
) -> None:
    """The renderer polls once more after the cancel: that poll must end the job without an
    answer (the page keeps "Cancelled"), not call the revoked job's worker lost."""
    slow = {**WORKER_ENV, "CONVSCOPE_FEATUREVIS_STEPS": "100000"}
    worker = CeleryWorker(tmp_path / "worker.log", redis_server.url, slow).start()
    try:
        tab = page(web(redis_server.url, tmp_path))
        transport, values = tab.client.transport, {**tab.values, START: 1}
        payload = json.dumps(tab.client.body(FIGURE, values, [START])).encode()
        job = json.loads(transport.request("POST", ENDPOINT, payload)[1])
        poll = f"{ENDPOINT}?cacheKey={job['cacheKey']}&job={job['job']}"

        def answer() -> tuple[int, dict]:
            status, data = transport.request("POST", poll, payload)
            return status, json.loads(data) if status == 200 else {}

        deadline = time.monotonic() + 60
        while "progress" not in answer()[1]:  # running on the worker
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.1)
        cancel = json.dumps(tab.client.body(CANCEL_ID, {**values, CANCEL: 1}, [CANCEL]))
        status, _ = transport.request("POST", f"{ENDPOINT}?cancelJob={job['job']}", cancel.encode())
        assert status in (200, 204)
        deadline = time.monotonic() + 20
        while (polled := answer())[0] == 200:
            assert "response" not in polled[1], polled[1]  # no answer, above all no "lost"
            assert time.monotonic() < deadline, "the cancelled job never ended"
            time.sleep(0.1)
        assert polled[0] == 204  # ended without an answer, as on Dash's own managers
        while "Terminating" not in worker.log():  # the task's process ended, not left running
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.1)
    finally:
        worker.stop()
