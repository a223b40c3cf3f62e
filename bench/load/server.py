"""The server under load: gunicorn started from the Procfile on loopback, ``/healthz``, its log."""

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
import time
from pathlib import Path

import psutil

from bench.load.options import LOOPBACK, PROCFILE, ROOT, LoadOptions

# What a /healthz poll raises while the server is starting, busy or gone.
HEALTHZ_ERRORS = (OSError, http.client.HTTPException, ValueError)


def procfile_command(port: int, procfile: Path = PROCFILE) -> list[str]:
    """argv of the Procfile's ``web:`` line with $PORT substituted and bound to loopback.

    Raises:
        ValueError: no ``web:`` line, or it binds an address other than 0.0.0.0/127.0.0.1.
    """
    line = next(
        (ln for ln in procfile.read_text().splitlines() if ln.strip().startswith("web:")), None
    )
    if line is None:
        raise ValueError(f"{procfile} has no 'web:' line.")
    text = line.split(":", 1)[1].replace("${PORT}", str(port)).replace("$PORT", str(port))
    argv = shlex.split(text)
    for i, arg in enumerate(argv):
        if arg in ("--bind", "-b") and i + 1 < len(argv):
            argv[i + 1] = argv[i + 1].replace("0.0.0.0", LOOPBACK)
        elif arg.startswith("--bind="):
            argv[i] = arg.replace("0.0.0.0", LOOPBACK)
    binds = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--bind", "-b")]
    binds += [a.split("=", 1)[1] for a in argv if a.startswith("--bind=")]
    if binds != [f"{LOOPBACK}:{port}"]:
        raise ValueError(f"The Procfile binds {binds}; the load test only targets {LOOPBACK}.")
    if argv[0] == "gunicorn":  # the gunicorn of this interpreter's environment
        argv[0] = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    return argv


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def server_env(options: LoadOptions, port: int) -> dict[str, str]:
    """This process's environment plus the settings the run gives the server."""
    env = dict(os.environ)
    env.update(
        PORT=str(port),
        CONVSCOPE_CACHE_MB=str(options.cache_mb),
        CONVSCOPE_MODEL_CACHE=str(options.model_cache),
        CONVSCOPE_ALLOW_DOWNLOAD="0",  # loopback only: never fetch weights
        PYTHONUNBUFFERED="1",
    )
    env.update(options.extra_env)
    return env


def healthz(port: int, timeout_s: float = 30.0) -> dict:
    """The server's /healthz JSON; ValueError when it does not answer 200."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout_s)
    try:
        conn.request("GET", "/healthz")
        reply = conn.getresponse()
        body = reply.read()
        if reply.status != 200:
            raise ValueError(f"/healthz answered {reply.status}")
        return json.loads(body)
    finally:
        conn.close()


class Server:
    """The gunicorn master we started and its workers; ``stop()`` always cleans up."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.master = psutil.Process(self.proc.pid)
        self._known: dict[int, psutil.Process] = {}

    def workers(self) -> list[psutil.Process]:
        """The master's child processes (gunicorn workers), remembered for the final kill."""
        try:
            children = self.master.children(recursive=True)
        except psutil.Error:
            return []
        for child in children:
            self._known.setdefault(child.pid, child)
        return children

    def log_tail(self, lines: int = 15) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, port: int, timeout_s: float) -> dict:
        """Poll /healthz until it answers 200; its JSON."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.proc.returncode} before /healthz; the end of "
                    f"its log ({self.log_path}):\n{self.log_tail()}"
                )
            try:
                return healthz(port, timeout_s=5.0)
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


def scan_log(path: Path) -> dict[str, int]:
    """Counts of what went wrong, as gunicorn's log (access log included) tells it."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return {
        "tracebacks": text.count("Traceback (most recent call last)"),
        "worker_timeouts": text.count("WORKER TIMEOUT"),
        "worker_boots": text.count("Booting worker"),
        "access_5xx": len(re.findall(r'" 5\d\d ', text)),
        "errors_logged": len(re.findall(r"\bERROR\b", text)),
    }
