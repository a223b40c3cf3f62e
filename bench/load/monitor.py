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


class Monitor(threading.Thread):
    """Samples the workers' RSS every 0.25 s and /healthz every 2 s while the load runs."""

    def __init__(self, server: Server) -> None:
        super().__init__(name="load-monitor", daemon=True)
        self.server, self.port = server, server.port
        self.stopping = threading.Event()
        self.worker_peak = self.tree_peak = 0
        self.worker_pids: set[int] = set()
        self.initial_workers = len(server.workers())
        self.health: list[dict] = []
        self.timeline: list[dict] = []  # every healthz poll: RSS and cache, to see growth
        self._t0 = time.monotonic()

    def sample(self) -> tuple[int, int]:
        """(workers' RSS, whole tree's RSS) in bytes; a single-process server is its own
        worker, counted once in the tree."""
        workers = self.server.workers()
        self.worker_pids.update(w.pid for w in workers)
        rss: dict[int, int] = {}
        for process in (self.server.master, *workers):
            with contextlib.suppress(psutil.Error):
                rss[process.pid] = process.memory_info().rss
        worker_rss = sum(rss.get(w.pid, 0) for w in workers)
        tree_rss = sum(rss.values())
        self.worker_peak = max(self.worker_peak, worker_rss)
        self.tree_peak = max(self.tree_peak, tree_rss)
        return worker_rss, tree_rss

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
