"""Real servers on loopback: the Procfile's ``web:`` command as a process, or an app in a thread.

``Server.from_procfile`` runs whatever the Procfile's ``web:`` line says (gunicorn,
waitress, ...) with ``$PORT`` substituted and its all-interfaces address narrowed to
127.0.0.1, waits for ``/healthz`` and always stops it, workers included.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from dash import Dash
from werkzeug.serving import make_server

from tests.wire.transport import LOOPBACK, HTTPTransport

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "Procfile"
# What a /healthz poll raises while the server is starting, busy or gone.
HEALTHZ_ERRORS = (OSError, http.client.HTTPException, ValueError)
# host:port addresses: IPv4, "*" (waitress: every interface), "[::]", or none (":8000")
_ADDRESS = re.compile(r"(?:^|[=\s])(\d{1,3}(?:\.\d{1,3}){3}|\*|\[[0-9a-fA-F:]*\]|)(?=:\d+$)")


def procfile_command(port: int, procfile: Path = PROCFILE) -> list[str]:
    """argv of the Procfile's ``web:`` line, ``$PORT`` substituted, bound to loopback only.

    Every ``0.0.0.0`` becomes 127.0.0.1; the executable is taken from this interpreter's
    environment when it has one of that name.

    Raises:
        ValueError: no ``web:`` line, or it would listen elsewhere than 127.0.0.1:``port``
            (e.g. ``10.0.0.5:$PORT``, ``*:$PORT``, or an address it leaves to a default).
    """
    line = next(
        (ln for ln in procfile.read_text().splitlines() if ln.strip().startswith("web:")), None
    )
    if line is None:
        raise ValueError(f"{procfile} has no 'web:' line.")
    text = line.split(":", 1)[1].replace("${PORT}", str(port)).replace("$PORT", str(port))
    argv = [re.sub(r"(?<![\w.])0\.0\.0\.0(?![\w.])", LOOPBACK, arg) for arg in shlex.split(text)]
    found = {a or "every interface" for arg in argv for a in _ADDRESS.findall(arg)}
    elsewhere = sorted(found - {LOOPBACK})
    named = any(LOOPBACK in arg for arg in argv) and any(str(port) in arg for arg in argv)
    if elsewhere or not named:
        raise ValueError(
            f"The Procfile's web line listens on {elsewhere or 'an address it does not name'};"
            f" the tests only target {LOOPBACK}:{port}."
        )
    local = shutil.which(argv[0], path=str(Path(sys.executable).parent))
    return [local or argv[0], *argv[1:]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def healthz(port: int, timeout_s: float = 30.0) -> dict:
    """The server's /healthz JSON; ValueError when it does not answer 200."""
    transport = HTTPTransport(port, timeout_s)
    try:
        status, body = transport.request("GET", "/healthz")
    finally:
        transport.close()
    if status != 200:
        raise ValueError(f"/healthz answered {status}")
    return json.loads(body)


class Server:
    """A server process we started on ``port`` and its workers; ``stop()`` always cleans up.

    Its output (stdout and stderr) goes to ``log_path``.
    """

    def __init__(
        self, argv: list[str], port: int, log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.argv, self.port, self.log_path = argv, port, log_path
        self._log = log_path.open("wb")
        env = {**(os.environ if env is None else env), "PORT": str(port)}
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.master = psutil.Process(self.proc.pid)
        self._known: dict[int, psutil.Process] = {}

    @classmethod
    def from_procfile(
        cls,
        log_path: Path,
        port: int = 0,
        env: dict[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
        procfile: Path = PROCFILE,
    ) -> Server:
        """Start the Procfile's ``web:`` command (see ``procfile_command``) on ``port``
        (0: a free one), ``extra_args`` appended (experiments only)."""
        port = port or free_port()
        return cls([*procfile_command(port, procfile), *extra_args], port, log_path, env)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def workers(self) -> list[psutil.Process]:
        """The processes that serve: the master's children (gunicorn workers), or the
        master itself when it has none (a single-process server such as waitress)."""
        try:
            children = self.master.children(recursive=True)
        except psutil.Error:
            return []
        for child in children:
            self._known.setdefault(child.pid, child)
        return children or [self.master]

    def log_tail(self, lines: int = 15) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, timeout_s: float) -> dict:
        """Poll /healthz until it answers 200; its JSON.

        Raises:
            RuntimeError: the process exited first (the end of its log is in the message),
                or ``timeout_s`` passed.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.argv[0]} exited with {self.proc.returncode} before /healthz; the "
                    f"end of its log ({self.log_path}):\n{self.log_tail()}"
                )
            try:
                return healthz(self.port, timeout_s=5.0)
            except HEALTHZ_ERRORS:
                time.sleep(0.25)
        raise RuntimeError(f"/healthz did not answer within {timeout_s:g} s")

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM the master (graceful), SIGKILL what is left after ``timeout_s``."""
        self.workers()
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            for child in self._known.values():
                try:
                    child.wait(timeout=5)
                except psutil.TimeoutExpired:
                    child.kill()
                except psutil.Error:
                    pass
        finally:
            self._log.close()
        return self.proc.returncode


@contextmanager
def serve_in_thread(app: Dash) -> Iterator[int]:
    """Serve ``app`` with werkzeug on 127.0.0.1 (an ephemeral port) in a thread; its port."""
    server = make_server(LOOPBACK, 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="wire-server", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
