"""Long jobs (feature visualisation) as Dash background callbacks, and where their results live.

The embedded default is Dash's ``DiskcacheManager``: each job runs in a child process forked
from the web process (so it starts with the web process's models in memory), reports its
progress through a diskcache folder, and is killed by the page's cancel button. Finished
results are kept in the same diskcache, keyed by what determines them (model weights,
layer, channel, steps), so a second visitor asking for the same channel gets it at once.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Hashable
from typing import TypeVar

import diskcache
import torch
from dash import DiskcacheManager

from dashboard.config import Config

log = logging.getLogger(__name__)
T = TypeVar("T")
RESULT_DAYS = 7  # a feature visualisation is reused for a week, then computed again


def jobs_folder(config: Config) -> str:
    """The diskcache folder: the configured one, or one per user in the temp dir."""
    if config.jobs_dir:
        return config.jobs_dir
    return os.path.join(tempfile.gettempdir(), f"convscope-jobs-{os.getuid()}")


class Jobs:
    """The background-callback manager and the results of finished jobs, on one disk cache."""

    def __init__(self, config: Config) -> None:
        self.cache = diskcache.Cache(
            jobs_folder(config), size_limit=config.jobs_cache_mb * 1024 * 1024
        )
        self.manager = DiskcacheManager(self.cache)

    def result(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The stored result for ``key``, else ``compute()``'s, stored for the next visitor."""
        key = _result_key(key)
        found = self.cache.get(key)
        if found is not None:
            return found
        value = compute()
        self.cache.set(key, value, expire=RESULT_DAYS * 86400)
        return value

    def stored(self, key: Hashable) -> object | None:
        """The stored result for ``key`` without computing (None if there is none)."""
        return self.cache.get(_result_key(key))


def _result_key(key: Hashable) -> tuple:
    """Results live beside the manager's own entries, under keys of their own."""
    return ("result", *key) if isinstance(key, tuple) else ("result", key)


def in_job_process() -> None:
    """Make torch safe in a job's forked child: the parent's OpenMP threads do not survive
    a fork, and a parallel op there would wait for them forever."""
    torch.set_num_threads(1)
