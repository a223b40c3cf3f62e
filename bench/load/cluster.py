"""The processes a run starts: N Procfile web processes, and with ``--redis`` a private
``redis-server`` and one Procfile ``worker:`` that they share; and a transport that sends
each request of a tab to any of the web processes (no sticky sessions).
"""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import psutil

from bench.load.options import LoadOptions
from tests.celery_worker import CeleryWorker
from tests.redis_server import RedisServer
from tests.wire import Server
from tests.wire.transport import HTTPTransport


class Cluster:
    """What one run starts, in order; ``stop()`` stops whatever started, web first."""

    def __init__(self, options: LoadOptions, env: dict[str, str], log_path: Path) -> None:
        self.options, self.env, self.log_path = options, dict(env), log_path
        self.redis: RedisServer | None = None
        self.worker: CeleryWorker | None = None
        self.servers: list[Server] = []

    def start(self) -> Cluster:
        """Redis and the worker (with ``--redis``), then the web processes, each on its own
        port (``--port`` for the first), all with the same environment."""
        if self.options.redis:
            # Assigned before they start, so that stop() ends one interrupted while starting.
            self.redis = RedisServer(self.log_path.with_suffix(".redis.log"))
            self.redis.start()
            self.env["REDIS_URL"] = self.redis.url
            worker_log = self.log_path.with_suffix(".worker.log")
            self.worker = CeleryWorker(worker_log, self.redis.url, self.env)
            self.worker.start()
        for i in range(self.options.processes):
            log = self.log_path if i == 0 else self.log_path.with_suffix(f".web{i}.log")
            port = self.options.port if i == 0 else 0
            self.servers.append(Server.from_procfile(log, port, self.env, self.options.server_args))
        return self

    def worker_process(self) -> psutil.Process | None:
        """The Celery worker's main process (its pool children are counted with it)."""
        if self.worker is None or self.worker.proc is None:
            return None
        with contextlib.suppress(psutil.Error):
            return psutil.Process(self.worker.proc.pid)
        return None

    def log_paths(self) -> list[Path]:
        return [s.log_path for s in self.servers]

    def stop(self) -> int | None:
        """Stop everything started; the first web process's return code."""
        codes = [s.stop() for s in self.servers]
        if self.worker is not None:
            self.worker.stop()
        if self.redis is not None:
            self.redis.stop()
        return codes[0] if codes else None


class SpreadTransport:
    """Keep-alive connections to every web process; each request goes to one picked at
    random (seeded), as a router without sticky sessions would send it."""

    def __init__(self, ports: list[int], options: LoadOptions, seed: int) -> None:
        self._targets = [
            HTTPTransport(p, options.client_timeout_s, options.connections) for p in ports
        ]
        self._pick = random.Random(seed)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        return self._pick.choice(self._targets).request(method, path, body)

    def close(self) -> None:
        for target in self._targets:
            target.close()
