"""Long jobs (feature visualisation) as Dash background callbacks, and where their results live.

The embedded default is Dash's ``DiskcacheManager``: each job runs in a child process forked
from the web process (so it starts with the web process's models in memory), reports its
progress through a diskcache folder, and is killed by the page's cancel button. Finished
results are kept in the same diskcache, keyed by what determines them (model weights,
layer, channel, steps), so a second visitor asking for the same channel gets it at once.

With ``REDIS_URL`` (a shared store), jobs run on Celery workers instead (``celery_jobs.py``,
the Procfile's worker line) and finished results live in Redis with the store's TTL, so any
web process serves what any worker computed. Results go there as ``.npz`` of their fields,
never pickled: whatever can write to Redis cannot make a web process run code.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Hashable
from typing import TypeVar

import diskcache
import torch
from dash import DiskcacheManager

from dashboard.celery_jobs import Heartbeats, WatchedCeleryManager, celery_app_for
from dashboard.config import Config
from dashboard.records import record_bytes, record_from
from dashboard.shared import SharedStore

log = logging.getLogger(__name__)
T = TypeVar("T")
RESULT_DAYS = 7  # a feature visualisation is reused for a week, then computed again


def jobs_folder(config: Config) -> str:
    """The diskcache folder: the configured one, or one per user in the temp dir."""
    if config.jobs_dir:
        return config.jobs_dir
    return os.path.join(tempfile.gettempdir(), f"convscope-jobs-{os.getuid()}")


class Jobs:
    """The background-callback manager and the results of finished jobs: on one disk cache,
    or with a shared store on Celery workers and Redis."""

    def __init__(self, config: Config, shared: SharedStore | None = None) -> None:
        self.shared = shared
        self.celery_app = None
        if shared is None:
            self.cache = diskcache.Cache(
                jobs_folder(config), size_limit=config.jobs_cache_mb * 1024 * 1024
            )
            self.manager = DiskcacheManager(self.cache)
            return
        self.celery_app = celery_app_for(config)
        heartbeats = Heartbeats(shared, config.jobs_stale_s, config.jobs_queue_s)
        self.manager = WatchedCeleryManager(self.celery_app, heartbeats)

    def result(self, key: Hashable, compute: Callable[[], T], kind: type[T]) -> T:
        """The stored result for ``key``, else ``compute()``'s, stored for the next visitor.

        ``kind`` is the result's dataclass (of arrays, numbers and strings), read back from
        Redis by its fields.

        Raises:
            SharedStoreError: Redis does not answer.
        """
        found = self.stored(key, kind)
        if found is not None:
            return found
        value = compute()
        if self.shared is None:
            self.cache.set(_result_key(key), value, expire=RESULT_DAYS * 86400)
            return value
        data = record_bytes(value)
        if self.shared.fits(len(data)):
            self.shared.put(_shared_key(key), data)
        return value

    def stored(self, key: Hashable, kind: type[T]) -> T | None:
        """The stored result for ``key`` without computing (None if there is none).

        Raises:
            SharedStoreError: Redis does not answer.
        """
        if self.shared is None:
            return self.cache.get(_result_key(key))
        data = self.shared.get(_shared_key(key))
        return None if data is None else record_from(kind, data)


def _result_key(key: Hashable) -> tuple:
    """Results live beside the manager's own entries, under keys of their own."""
    return ("result", *key) if isinstance(key, tuple) else ("result", key)


def _shared_key(key: Hashable) -> str:
    return "result:" + hashlib.sha256(repr(key).encode()).hexdigest()


def in_job_process() -> None:
    """Make torch safe in a job's forked child: the parent's OpenMP threads do not survive
    a fork, and a parallel op there would wait for them forever."""
    torch.set_num_threads(1)
