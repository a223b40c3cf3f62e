"""One signing secret for every web process (dashboard/signing.py), on a real Redis.

Dash signs a background job's handles; a process that signs with a secret of its own
ignores the polls of a job another process started (the page spins for ever). A
``create_app`` here is one web process, for what its ``server.secret_key`` is; whether a job
started through one process is answered through another is asked of two real processes
(the Procfile's command): in one Python process, Dash finds "the" app through a context
variable that the last app to serve a request in that thread leaves set, so two apps there
would share one secret whatever they hold.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import ExitStack, closing

import pytest

from dashboard import signing
from dashboard.app import create_app
from tests.callbacks.test_workers import FIGURE, START, STATUS, page, worker_config
from tests.celery_worker import STEPS, WORKER_ENV, CeleryWorker
from tests.wire import ENDPOINT, DashClient, HTTPTransport, Server
from tests.wire.protocol import response_outputs
from tests.wire.transport import Transport

SHARED_KEY = b"convscope:" + signing.SECRET_KEY.encode()


def process(redis_url: str | None, tmp_path, **settings):
    """One web process (its app) with the workers' jobs settings."""
    return create_app(worker_config(redis_url, tmp_path, **settings))


def first_page(app) -> None:
    """A visitor's first page: Dash signs its page-load token then."""
    reply = app.server.test_client().get("/")
    assert reply.status_code == 200


def test_sg01_a_process_whose_redis_was_down_at_its_first_page_signs_as_the_others(
    redis_server, tmp_path
) -> None:
    redis_server.stop()
    late = process(redis_server.url, tmp_path / "late")
    first_page(late)  # Dash would keep a secret of this process's own from here on
    redis_server.start()
    early = process(redis_server.url, tmp_path / "early")
    time.sleep(signing.RETRY_S)
    first_page(late)  # Redis answers again: the next request picks the shared secret
    assert late.server.secret_key and late.server.secret_key == early.server.secret_key
    assert redis_server.client().get(SHARED_KEY) == early.server.secret_key.encode()


def test_sg02_the_operators_secret_wins_and_without_redis_nothing_changes(
    redis_server, tmp_path
) -> None:
    shared = process(redis_server.url, tmp_path / "a")
    assert shared.server.secret_key  # created in Redis
    operators = process(redis_server.url, tmp_path / "b", secret_key="from-the-operator")
    assert operators.server.secret_key == "from-the-operator"
    first_page(operators)
    assert operators.server.secret_key == "from-the-operator"  # no request replaces it
    assert redis_server.client().get(SHARED_KEY) == shared.server.secret_key.encode()
    alone = process(None, tmp_path / "c")
    assert not alone.server.secret_key  # Dash's own fallback, on the job disk cache
    operator_alone = process(None, tmp_path / "d", secret_key="s")
    assert operator_alone.server.secret_key == "s"


def test_sg03_a_redis_restart_keeps_the_secret_the_running_processes_sign_with(
    redis_server, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signing, "RECHECK_S", 0.0)  # every request looks at Redis
    running = process(redis_server.url, tmp_path / "a")
    secret = running.server.secret_key
    assert secret
    redis_server.stop()
    redis_server.start()  # empty, as after a restart without persistence
    first_page(running)  # puts its secret back
    started_later = process(redis_server.url, tmp_path / "b")
    assert started_later.server.secret_key == running.server.secret_key == secret


def answered_elsewhere(client: DashClient, values: dict, here: Transport, there: Transport):
    """Press "Visualise" through ``here`` and poll the job only through ``there``; the
    outputs of the answer, or None when ``there`` gives none within a minute."""
    values[START] = int(values.get(START) or 0) + 1
    payload = json.dumps(client.body(FIGURE, values, [START])).encode()
    status, data = here.request("POST", ENDPOINT, payload)
    assert status == 200, data[:300]
    job = json.loads(data)
    query = f"cacheKey={job['cacheKey']}&job={job['job']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, data = there.request("POST", f"{ENDPOINT}?{query}", payload)
        assert status == 200, data[:300]
        if "response" in json.loads(data):
            return response_outputs(data)
        time.sleep(0.1)
    return None


@pytest.mark.skipif(os.name != "posix", reason="the Procfile's command is a POSIX shell line")
def test_sg04_a_job_started_through_one_process_is_answered_through_the_other(
    redis_server, tmp_path
) -> None:
    env = {**os.environ, "REDIS_URL": redis_server.url, **WORKER_ENV}
    redis_server.stop()
    with ExitStack() as stack:
        late = stack.enter_context(Server.from_procfile(tmp_path / "late.log", env=env))
        assert late.wait_ready(timeout_s=120)["redis"] == "not answering"
        to_late = stack.enter_context(closing(HTTPTransport(late.port, timeout_s=120)))
        assert to_late.request("GET", "/")[0] == 200  # its first page, Redis down
        redis_server.start()
        early = stack.enter_context(Server.from_procfile(tmp_path / "early.log", env=env))
        assert early.wait_ready(timeout_s=120)["redis"] == "ok"
        to_early = stack.enter_context(closing(HTTPTransport(early.port, timeout_s=120)))
        worker = CeleryWorker(tmp_path / "worker.log", redis_server.url, WORKER_ENV).start()
        stack.callback(worker.stop)
        time.sleep(signing.RETRY_S)
        client = DashClient(to_late)
        tab = page(client)  # requests to the late process: it now asks Redis again
        for here, there in [(to_early, to_late), (to_late, to_early)]:
            tab.set({"channel-store.data": int(tab.values["channel-store.data"]) + 1})
            outputs = answered_elsewhere(client, tab.values, here, there)
            assert outputs is not None, "the other process never answered the job"
            assert outputs[STATUS].startswith(f"{STEPS} steps, ")
            assert outputs[FIGURE]["data"][0]["type"] == "image"
        logs = "\n".join(s.log_tail(200) for s in (late, early))
        assert "Traceback" not in logs, logs
