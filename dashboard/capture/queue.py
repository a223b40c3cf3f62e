"""A fair, bounded queue of forward passes: one pass runs at a time, using every core.

Fairness: a session has at most one pass of its own queued or running; asking for a
different one meanwhile answers "still working on your previous image" at once, so a
visitor who fires fresh images in a loop cannot push everyone else's work back. The
queue holds at most ``max_pending`` passes in all; beyond that requests are refused at
once rather than left to wait. Requests for a pass that is already queued join it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from dashboard.errors import BusyError

log = logging.getLogger(__name__)
T = TypeVar("T")


def _previous_pending() -> BusyError:
    return BusyError(
        "Still working on your previous image; this one will be shown once that pass is done. "
        "Please try again in a moment."
    )


def _queue_full() -> BusyError:
    return BusyError(
        "The server is busy with other visitors' images; please try again in a few seconds."
    )


# The English sentences, for tests and callers that compare.
MSG_PREVIOUS = _previous_pending().message
MSG_FULL = _queue_full().message


class InferenceQueue:
    """Runs passes on one worker thread; per-session and total limits on what may wait."""

    def __init__(self, max_pending: int, timeout_s: float) -> None:
        self.max_pending = max(1, max_pending)
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="convscope-infer")
        self._lock = threading.RLock()  # a done callback may run inside run()
        self._pending: dict[Hashable, Future] = {}
        self._owner: dict[str, Hashable] = {}  # session -> the pass it queued
        self.refused = 0

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def run(self, session: str, key: Hashable, compute: Callable[[], T], what: str) -> T:
        """``compute()`` on the inference thread, or join the queued pass for ``key``.

        Args:
            session: who asks (an opaque id); one own pass at a time.
            key: identifies the pass, so requests for the same result share it.
            compute: the work.
            what: a few words for the timeout sentence ("Running TinyVGG on this image"),
                already in the request's language.

        Raises:
            BusyError: the session already has another pass waiting, the queue is full,
                or the pass took longer than ``timeout_s`` (it still finishes, for the
                next try).
        """
        with self._lock:
            future = self._pending.get(key)
            if future is None:
                mine = self._owner.get(session)
                if mine is not None and mine in self._pending:
                    self.refused += 1
                    raise _previous_pending()
                if len(self._pending) >= self.max_pending:
                    self.refused += 1
                    raise _queue_full()
                future = self._pool.submit(compute)
                self._pending[key] = future
                self._owner[session] = key
                future.add_done_callback(
                    lambda _f, key=key, session=session: self._done(key, session)
                )
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            seconds = f"{self.timeout_s:g}"
            raise BusyError(
                "{what} took longer than {seconds} s; try again in a moment.",
                what=what,
                seconds=seconds,
            ) from None

    def _done(self, key: Hashable, session: str) -> None:
        with self._lock:
            self._pending.pop(key, None)
            if self._owner.get(session) == key:
                del self._owner[session]
