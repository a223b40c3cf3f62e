"""The app starts exactly as the Procfile says and serves the page and the health check."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_command(port: int) -> list[str]:
    line = (ROOT / "Procfile").read_text().strip()
    assert line.startswith("web: gunicorn ")
    command = line.removeprefix("web: ").replace("$PORT", str(port))
    assert "0.0.0.0:" in command  # a PaaS routes to every interface
    # Same command; only the address is narrowed to loopback for the test.
    return shlex.split(command.replace("0.0.0.0:", "127.0.0.1:"))


def fetch(url: str, timeout: float = 5) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def test_proc01_gunicorn_serves_page_and_health() -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    proc = subprocess.Popen(
        procfile_command(port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = fetch(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = proc.stdout.read() if proc.poll() is not None else "(still running)"
                    raise AssertionError(f"gunicorn did not start:\n{log}") from exc
                time.sleep(0.3)
        assert status == 200 and '"ok"' in body
        status, page = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200 and "<title>ConvScope</title>" in page
        status, layout = fetch(f"http://127.0.0.1:{port}/_dash-layout")
        for component_id in ("model-select", "layer-select", "image-upload", "kernel-grid"):
            assert component_id in layout
        # debug off: no dev-tools bundle served
        assert "dash_dev_tools" not in page.lower() and "_dash-global-error" not in page
    finally:
        proc.terminate()
        proc.communicate(timeout=20)  # also closes the pipe
