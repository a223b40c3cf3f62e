"""The app starts exactly as the Procfile says and serves the page and the health check."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import closing

import pytest

from tests.celery_worker import procfile_worker_command
from tests.wire import PROCFILE, ROOT, HTTPTransport, Server, procfile_command


def test_proc01_procfile_serves_page_and_health(tmp_path) -> None:
    with Server.from_procfile(tmp_path / "server.log") as server:
        health = server.wait_ready(timeout_s=60)
        assert health["status"] == "ok"
        with closing(HTTPTransport(server.port, timeout_s=30)) as http:
            status, page = http.request("GET", "/")
            assert status == 200 and b"<title>ConvScope</title>" in page
            status, layout = http.request("GET", "/_dash-layout")
        assert status == 200
        for component_id in ("model-select", "layer-select", "image-upload", "kernel-grid"):
            assert component_id.encode() in layout
        # debug off: no dev-tools bundle served
        assert b"dash_dev_tools" not in page.lower() and b"_dash-global-error" not in page


def test_proc02_the_procfile_listens_on_every_interface() -> None:
    """A PaaS routes to every interface; only the tests narrow it to loopback."""
    web = next(ln for ln in PROCFILE.read_text().splitlines() if ln.startswith("web:"))
    assert "0.0.0.0" in web and "$PORT" in web
    argv = procfile_command(8123)
    assert any("127.0.0.1" in arg for arg in argv) and any("8123" in arg for arg in argv)
    assert "0.0.0.0" not in " ".join(argv) and "$PORT" not in " ".join(argv)


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        (
            "web: gunicorn app:server --bind 0.0.0.0:$PORT --workers 1",
            ["app:server", "--bind", "127.0.0.1:8123", "--workers", "1"],
        ),
        (
            "web: waitress-serve --listen=0.0.0.0:${PORT} --threads=8 app:server",
            ["--listen=127.0.0.1:8123", "--threads=8", "app:server"],
        ),
        (
            "web: python -m dashboard --host 0.0.0.0 --port $PORT",
            ["-m", "dashboard", "--host", "127.0.0.1", "--port", "8123"],
        ),
    ],
)
def test_proc03_any_web_command_runs_on_loopback(tmp_path, line: str, argv: list[str]) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"worker: celery -A app worker\n{line}\n")
    command = procfile_command(8123, procfile)
    assert command[0].endswith(line.split()[1]) and command[1:] == argv


@pytest.mark.parametrize(
    "bind",
    ["--bind 10.0.0.5:$PORT", "--listen=*:$PORT", "--bind :$PORT", "-b [::]:$PORT", "--port $PORT"],
)
def test_proc04_binding_elsewhere_is_refused(tmp_path, bind: str) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"web: server app:server {bind}\n")
    with pytest.raises(ValueError, match=r"only target 127\.0\.0\.1:8000"):
        procfile_command(8000, procfile)
    procfile.write_text("worker: celery -A app worker\n")
    with pytest.raises(ValueError, match="no 'web:' line"):
        procfile_command(8000, procfile)


def test_proc05_the_worker_line_runs_the_apps_celery_app_one_job_at_a_time() -> None:
    """The tests' worker (tests/celery_worker.py) is started from this very line."""
    lines = [ln for ln in PROCFILE.read_text().splitlines() if ln.strip()]
    assert [ln.split(":", 1)[0] for ln in lines] == ["web", "worker"]
    argv = procfile_worker_command()
    assert argv[1:5] == ["-m", "celery", "-A", "dashboard.worker:celery_app"]
    assert "worker" in argv and "--concurrency=1" in argv


def test_proc06_the_worker_refuses_to_start_without_redis() -> None:
    env = {k: v for k, v in os.environ.items() if "REDIS_URL" not in k}
    done = subprocess.run(
        [sys.executable, "-c", "import dashboard.worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "The worker needs REDIS_URL" in done.stderr
