"""A feature visualisation on a real Celery worker, in the browser: progress, cancel (the
worker's task terminated, the worker free for the next) and a worker killed mid-job.

The app runs in Redis mode (``redis_server``) and its jobs on the Procfile's worker line
(``CeleryWorker``), with the same steps as the app: a worker refuses jobs of callbacks it
does not know.
"""

from __future__ import annotations

import time

import pytest

from dashboard import ids
from dashboard.callbacks.featurevis import CANCELLED
from dashboard.celery_jobs import WORKER_LOST
from tests.browser.helpers import detail_title, figure_state, start, wait_for
from tests.celery_worker import STALE_S, WORKER_ENV, CeleryWorker

# TinyVGG takes a few ms a step on the worker's one torch thread: seconds to see progress
# move and to cancel, and a finished run well within the waits below.
STEPS = 3000


@pytest.fixture
def worker(redis_server, tmp_path):
    env = {**WORKER_ENV, "CONVSCOPE_FEATUREVIS_STEPS": str(STEPS)}
    started = CeleryWorker(tmp_path / "worker.log", redis_server.url, env).start()
    try:
        yield started
    finally:
        started.stop()


def _progress(dash_duo) -> float:
    value = dash_duo.find_element(f"#{ids.FEATUREVIS_PROGRESS}").get_attribute("value")
    return float(value or 0)


def _status(dash_duo) -> str:
    return dash_duo.find_element(f"#{ids.FEATUREVIS_STATUS}").text


def _shows_image(dash_duo) -> bool:
    return "image" in (figure_state(dash_duo, ids.FEATUREVIS_FIGURE) or {}).get("types", [])


def _start_and_see_progress_move(dash_duo):
    """Open the page, press "Visualise this channel" and wait until the bar has moved twice;
    the start and cancel buttons."""
    wait_for(lambda: "channel 0" in detail_title(dash_duo), message="detail of channel 0")
    button = dash_duo.find_element(f"#{ids.FEATUREVIS_START}")
    cancel = dash_duo.find_element(f"#{ids.FEATUREVIS_CANCEL}")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    first = wait_for(lambda: _progress(dash_duo), 90, "progress above 0")
    wait_for(lambda: _progress(dash_duo) > first, 30, "progress moving on")
    assert _progress(dash_duo) < STEPS
    assert button.get_attribute("disabled") and not cancel.get_attribute("disabled")
    return button, cancel


def _active_tasks(app) -> list:
    """The tasks the worker runs now, as it answers a broadcast (None: it did not answer)."""
    replies = app.jobs.celery_app.control.inspect(timeout=2.0).active()
    return None if replies is None else [task for tasks in replies.values() for task in tasks]


def _finishes_with_a_figure(dash_duo, button) -> None:
    button.click()
    wait_for(lambda: _shows_image(dash_duo), 180, "the finished visualisation")
    assert f"{STEPS} steps" in _status(dash_duo), _status(dash_duo)
    assert not button.get_attribute("disabled")


def test_expc01_cancel_terminates_the_workers_task_and_the_worker_takes_the_next(
    dash_duo, redis_server, worker
) -> None:
    app = start(dash_duo, redis_url=redis_server.url, featurevis_steps=STEPS, jobs_stale_s=STALE_S)
    button, cancel = _start_and_see_progress_move(dash_duo)
    assert "succeeded" not in worker.log()
    cancel.click()
    wait_for(lambda: _status(dash_duo) == CANCELLED, 20, "the cancel sentence")
    wait_for(lambda: not button.get_attribute("disabled"), 20, "the start button back")
    assert cancel.get_attribute("disabled")
    assert not _shows_image(dash_duo)
    wait_for(lambda: "Terminating" in worker.log(), 20, "the worker terminating the task")
    wait_for(lambda: _active_tasks(app) == [], 20, "the worker free")
    time.sleep(STALE_S + 1)  # a poll after the cancel would now say the worker was lost
    assert _status(dash_duo) == CANCELLED
    _finishes_with_a_figure(dash_duo, button)  # on the same worker, not queued behind
    assert dash_duo.get_logs() == []


def test_expc02_a_worker_killed_mid_job_is_a_sentence_and_the_button_works_again(
    dash_duo, redis_server, worker, tmp_path
) -> None:
    start(dash_duo, redis_url=redis_server.url, featurevis_steps=STEPS, jobs_stale_s=STALE_S)
    button, _cancel = _start_and_see_progress_move(dash_duo)
    worker.kill()
    killed_at = time.monotonic()
    wait_for(lambda: _status(dash_duo) == WORKER_LOST, STALE_S + 15, "the worker-lost sentence")
    assert time.monotonic() - killed_at < STALE_S + 15
    wait_for(lambda: not button.get_attribute("disabled"), 10, "the start button back")
    worker.start()
    _finishes_with_a_figure(dash_duo, button)
    assert dash_duo.get_logs() == []
