"""The server's memory and ``/healthz``, sampled in a thread while the load runs."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import psutil

from bench.load.options import MIB
from tests.wire import HEALTHZ_ERRORS, Server, healthz

log = logging.getLogger(__name__)


def tree_rss(process: psutil.Process) -> int:
    """RSS of ``process`` and its children (a Celery worker and its pool), in bytes."""
    total = 0
    with contextlib.suppress(psutil.Error):
        for p in (process, *process.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
    return total


class Monitor(threading.Thread):
    """Samples the workers' RSS every 0.25 s and /healthz every 2 s while the load runs.

    With several web processes the worker and tree figures are their sums, ``peaks`` has
    each one's (``web0``, ``web1``, ..., and ``celery`` for the job worker); /healthz is the
    first one's.
    """

    def __init__(self, servers: list[Server], celery: psutil.Process | None = None) -> None:
        super().__init__(name="load-monitor", daemon=True)
        self.servers, self.celery = servers, celery
        self.port = servers[0].port
        self.stopping = threading.Event()
        self.worker_peak = self.tree_peak = 0
        self.peaks: dict[str, int] = {}
        self.worker_pids: set[int] = set()
        self.initial_workers = sum(len(s.workers()) for s in servers)
        self.health: list[dict] = []
        self.timeline: list[dict] = []  # every healthz poll: RSS and cache, to see growth
        self._t0 = time.monotonic()

    def sample(self) -> tuple[int, int]:
        """(workers' RSS, whole tree's RSS) in bytes; a single-process server is its own
        worker, counted once in the tree."""
        worker_sum = tree_sum = 0
        for i, server in enumerate(self.servers):
            workers = server.workers()
            self.worker_pids.update(w.pid for w in workers)
            rss: dict[int, int] = {}
            for process in (server.master, *workers):
                with contextlib.suppress(psutil.Error):
                    rss[process.pid] = process.memory_info().rss
            worker_rss = sum(rss.get(w.pid, 0) for w in workers)
            self._peak(f"web{i}", worker_rss)
            worker_sum += worker_rss
            tree_sum += sum(rss.values())
        if self.celery is not None:
            self._peak("celery", tree_rss(self.celery))
        self.worker_peak = max(self.worker_peak, worker_sum)
        self.tree_peak = max(self.tree_peak, tree_sum)
        return worker_sum, tree_sum

    def _peak(self, name: str, rss: int) -> None:
        self.peaks[name] = max(self.peaks.get(name, 0), rss)

    def each(self) -> dict[str, int]:
        """Each web process's RSS now (``web0``, ...) and the Celery worker's, in bytes."""
        now = {}
        for i, server in enumerate(self.servers):
            with contextlib.suppress(psutil.Error):
                now[f"web{i}"] = sum(w.memory_info().rss for w in server.workers())
        if self.celery is not None:
            now["celery"] = tree_rss(self.celery)
        return now

    def run(self) -> None:
        last = 0.0
        while not self.stopping.wait(0.25):
            self.sample()
            if time.monotonic() - last >= 2.0:
                last = time.monotonic()
                try:
                    health = healthz(self.port, timeout_s=30.0)
                except HEALTHZ_ERRORS as exc:
                    log.warning("healthz during load: %r", exc)
                    continue
                self.health.append(health)
                worker_rss, _ = self.sample()
                self.timeline.append(
                    {
                        "t_s": round(last - self._t0, 1),
                        "worker_rss_mb": round(worker_rss / MIB, 1),
                        "cache_mb": round(health["activation_cache_bytes"] / MIB, 1),
                        "models_cached": health["models_cached"],
                        "forward_hooks": health["forward_hooks"],
                    }
                )
