"""A real ``redis-server`` on loopback for the tests that need one, always stopped after."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.wire.server import free_port

BINARY = "redis-server"


def binary() -> str | None:
    return shutil.which(BINARY)


class RedisServer:
    """``redis-server`` on 127.0.0.1:``port`` without persistence; ``stop()``/``start()``
    take it down and bring it back on the same port (an empty Redis, as after a restart)."""

    def __init__(self, log_path: Path, port: int = 0, extra_args: tuple[str, ...] = ()) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def start(self, timeout_s: float = 10.0) -> RedisServer:
        """Start it and wait until it answers PING.

        Raises:
            RuntimeError: it exited or did not answer in time (its log is in the message).
        """
        argv = [binary() or BINARY, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", *self.extra_args]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        client = self.client()
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    if client.ping():
                        return self
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
