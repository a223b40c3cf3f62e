"""A real Celery worker, started with the Procfile's worker line, for the tests that need one."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.wire.server import PROCFILE, ROOT

READY = " ready."  # Celery's "celery@host ready." once it consumes
STEPS = 24  # a feature visualisation of a few hundred ms on TinyVGG
STALE_S = 2.0  # a killed worker's job is declared lost after this
# The flow tests' jobs settings; their web apps use the same (tests/callbacks/test_workers.py).
WORKER_ENV = {
    "CONVSCOPE_FEATUREVIS_STEPS": str(STEPS),
    "CONVSCOPE_JOBS_STALE_S": str(STALE_S),
    "CONVSCOPE_CACHE_MB": "64",
}


def procfile_worker_command(procfile: Path = PROCFILE) -> list[str]:
    """The Procfile's ``worker:`` line, with this interpreter's celery.

    Raises:
        ValueError: the Procfile has no worker line, or it does not start ``celery``.
    """
    line = next((ln for ln in procfile.read_text().splitlines() if ln.startswith("worker:")), "")
    argv = shlex.split(line.split(":", 1)[1]) if line else []
    if not argv or argv[0] != "celery":
        raise ValueError(f"{procfile} has no 'worker: celery ...' line")
    return [sys.executable, "-m", "celery", *argv[1:]]


class CeleryWorker:
    """``celery -A dashboard.worker:celery_app worker`` on ``redis_url``, in its own process
    group: ``kill()`` is a SIGKILL of the main process and its pool children, as when a
    machine dies; ``stop()`` a warm shutdown."""

    def __init__(self, log_path: Path, redis_url: str, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self.env = {**os.environ, "REDIS_URL": redis_url, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self._log_start = 0

    def start(self, timeout_s: float = 90.0) -> CeleryWorker:
        """Start it and wait until its log says it is ready.

        Raises:
            RuntimeError: it exited or was not ready in time (its log is in the message).
        """
        argv = procfile_worker_command()
        argv += ["--pool=prefork", "--without-gossip", "--without-mingle"]
        argv += ["--hostname", f"test{os.getpid()}@%h"]  # one of its own per test session
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.proc.poll() is None:
            if READY in self.log():
                return self
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the Celery worker did not start:\n{self.log()}")

    def log(self) -> str:
        """What this start of the worker has logged so far."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool's children (they share its process group)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=20)
        self.kill()
