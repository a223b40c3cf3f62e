"""Background jobs on Celery workers, with Redis as broker and result store (``REDIS_URL``).

Dash's ``CeleryManager`` sends each job to a worker and polls Redis for its progress and
result. Celery alone leaves a job PENDING or STARTED forever when its worker is killed, so
the page would spin forever; here each job also keeps a heartbeat key alive in Redis while
it runs (written at submission with the longer queue allowance, then every third of
``jobs_stale_s`` by the worker). A poll that finds neither a result nor a heartbeat, or a
job Celery marked failed, ends the job with a sentence (:class:`JobLostError`) through the
callback's ``on_error``; the renderer then re-enables the start button. A Redis that does
not answer is :class:`SharedStoreError`'s sentence, never a hang or a 500.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import kombu.exceptions
import redis
from celery import Celery, current_task
from dash import CeleryManager

from dashboard.config import Config
from dashboard.errors import JobLostError, SharedStoreError
from dashboard.i18n import N_
from dashboard.shared import CONNECT_TIMEOUT_S, SOCKET_TIMEOUT_S, SharedStore

log = logging.getLogger(__name__)

WORKER_LOST = N_(
    "The worker computing this stopped before it finished; press the button to try again."
)
NOT_TAKEN = N_("No worker took this job within {seconds} s; press the button to try again.")
_ONE_QUICK_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# What the broker and the result backend raise when Redis is down or unreachable.
_DOWN = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def celery_app_for(config: Config) -> Celery:
    """The Celery app on ``config.redis_url``: the web processes send, the workers run."""
    app = Celery("convscope", broker=config.redis_url, backend=config.redis_url)
    app.conf.update(
        # Acknowledged as it starts: a job whose worker dies is not run again unasked (the
        # page says so and offers the button); nothing is lost but that one computation.
        task_acks_late=False,
        task_track_started=True,  # PENDING (never taken) and STARTED say different things
        worker_prefetch_multiplier=1,  # a busy worker holds no queued job back from another
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=config.redis_ttl_s,  # every key carries a TTL (volatile-lru)
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=CONNECT_TIMEOUT_S,
        broker_transport_options={
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
            "socket_timeout": SOCKET_TIMEOUT_S,
        },
        redis_socket_connect_timeout=CONNECT_TIMEOUT_S,
        redis_socket_timeout=SOCKET_TIMEOUT_S,
        # A Redis down is answered within seconds (the page says so), not after Celery's
        # default 20 retries.
        result_backend_transport_options={"retry_policy": _ONE_QUICK_RETRY},
        task_publish_retry_policy=_ONE_QUICK_RETRY,
        worker_hijack_root_logger=False,
    )
    return app


@contextmanager
def _answering() -> Iterator[None]:
    """Redis down inside Celery or Dash's manager: the store's sentence."""
    try:
        yield
    except _DOWN as exc:
        log.warning("job broker (Redis) not answering: %s", exc)
        raise SharedStoreError(
            "The server's shared store (Redis) is not answering; please try again in a moment."
        ) from None


class Heartbeats:
    """One key per job in Redis that lives while the job is alive.

    Args:
        store: the shared store (Redis) the keys live in.
        stale_s: a running job's key expires this long after its last beat.
        queue_s: a submitted job's key lives this long before a worker takes it.
    """

    def __init__(self, store: SharedStore, stale_s: float, queue_s: float) -> None:
        self.store = store
        self.stale_s = stale_s
        self.queue_s = queue_s

    @staticmethod
    def _key(job: str) -> str:
        return f"job:{job}"

    def queued(self, job: str) -> None:
        self.store.put(self._key(job), b"queued", ttl_s=self.queue_s)

    def alive(self, job: str) -> bool:
        return self.store.exists(self._key(job))

    @contextmanager
    def beating(self, job: str) -> Iterator[None]:
        """Keep ``job``'s key alive from a thread while the block runs; it then expires by
        itself, after Dash has written the result."""
        stop = threading.Event()

        def beat() -> None:
            while True:
                # a Redis down is logged by the store; the next beat tries again
                with suppress(SharedStoreError):
                    self.store.put(self._key(job), b"running", ttl_s=self.stale_s)
                if stop.wait(self.stale_s / 3):
                    return

        thread = threading.Thread(target=beat, name=f"heartbeat-{job}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=SOCKET_TIMEOUT_S)

    def wrap(self, fn: Callable) -> Callable:
        """``fn`` as a Celery task body that beats while it runs."""

        @functools.wraps(fn)
        def beating_fn(*args, **kwargs):
            with self.beating(current_task.request.id):
                return fn(*args, **kwargs)

        return beating_fn


class WatchedCeleryManager(CeleryManager):
    """Dash's ``CeleryManager`` that ends a job whose worker died, and says Redis is down."""

    def __init__(self, celery_app: Celery, heartbeats: Heartbeats) -> None:
        self.heartbeats = heartbeats  # before the base class registers earlier callbacks
        super().__init__(celery_app)

    def make_job_fn(self, fn, progress, key=None):
        return super().make_job_fn(self.heartbeats.wrap(fn), progress, key)

    def call_job_fn(self, key, job_fn, args, context):
        job = uuid.uuid4().hex  # the heartbeat exists before any worker can take the job
        with _answering():
            self.heartbeats.queued(job)
            job_fn.apply_async((key, self._make_progress_key(key), args, context), task_id=job)
        return job

    def get_result(self, key, job):
        """The job's answer, UNDEFINED while it runs or once it was cancelled.

        A revoked job was cancelled (the page's cancel button, through ``terminate_job``):
        UNDEFINED then, as Dash's own managers answer, so that Dash ends it on the page
        without an answer and the page keeps its "Cancelled" sentence; a poll already on
        its way when the cancel arrived must not call it lost.

        Raises:
            JobLostError: its worker died, or no worker took it within ``queue_s``.
            SharedStoreError: Redis does not answer.
        """
        with _answering():
            result = super().get_result(key, job)
            if result is not self.UNDEFINED or not job:
                return result
            state = self.get_task(job).state
            if state == "REVOKED" or (state != "FAILURE" and self.heartbeats.alive(job)):
                return result
        log.warning("background job %s lost (Celery state %s, no heartbeat)", job, state)
        self.terminate_job(job)  # a queued one is then never run
        if state == "PENDING":
            raise JobLostError(NOT_TAKEN, seconds=round(self.heartbeats.queue_s))
        raise JobLostError(WORKER_LOST)

    def terminate_job(self, job):
        try:
            super().terminate_job(job)
        except _DOWN as exc:  # cancelling is best effort; the job's own end still comes
            log.warning("could not revoke job %s, Redis not answering: %s", job, exc)

    def job_running(self, job):
        with _answering():
            return super().job_running(job)

    def get_progress(self, key):
        with _answering():
            return super().get_progress(key)

    def result_ready(self, key):
        with _answering():
            return super().result_ready(key)

    def get_updated_props(self, key):
        with _answering():
            return super().get_updated_props(key)
