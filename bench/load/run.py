"""One bounded load run against a gunicorn it starts and always stops; the report."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

import torch

from bench.load.client import Connection
from bench.load.monitor import Monitor
from bench.load.options import MODEL_MIX, LoadOptions
from bench.load.oracle import Oracle
from bench.load.page import Page
from bench.load.record import Recorder
from bench.load.report import build_report
from bench.load.server import Server, free_port, healthz, procfile_command, scan_log, server_env
from bench.load.session import Session
from dashboard.models import get_model
from dashboard.models.zoo import ZOO_LABELS, architecture


def model_bytes(names: tuple[str, ...]) -> dict[str, int]:
    """Parameter + buffer bytes of each model (zoo models built on the meta device)."""
    sizes = {}
    for name in names:
        if name in ZOO_LABELS:
            with torch.device("meta"):
                module = architecture(name)
        else:
            module = get_model(name).module
        tensors = [*module.parameters(), *module.buffers()]
        sizes[name] = int(sum(t.numel() * t.element_size() for t in tensors))
    return sizes


def check_options(options: LoadOptions) -> None:
    """Raises ValueError when ``options`` would not make a bounded run."""
    if not 1 <= options.sessions <= 64:
        raise ValueError(f"sessions must be 1..64, got {options.sessions}.")
    if not 0 < options.seconds <= 3600:
        raise ValueError(f"seconds must be in (0, 3600], got {options.seconds}.")
    if not 1 <= options.connections <= 6:  # what a browser opens per host
        raise ValueError(f"connections must be 1..6, got {options.connections}.")
    unknown = [m for m in options.models if m not in MODEL_MIX]
    if unknown:
        raise ValueError(f"models must be among {list(MODEL_MIX)}, got {unknown}.")


def run(options: LoadOptions) -> dict:
    """One bounded load test against a gunicorn we start and always stop; the report."""
    check_options(options)
    port = options.port or free_port()
    argv = procfile_command(port) + list(options.gunicorn_args)
    fd, name = tempfile.mkstemp(prefix="convscope-load-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(1)  # the oracle must not take the server's cores
    recorder = Recorder(options.max_requests)
    load_start = os.getloadavg()
    phases = {"launched": time.monotonic()}
    server = Server(argv, server_env(options, port), log_path)
    try:
        health_start = server.wait_ready(port, options.startup_timeout_s)
        phases["ready"] = time.monotonic()
        monitor = Monitor(server, port)
        rss_before = monitor.sample()
        setup = Connection(port, options.client_timeout_s)
        try:
            page = Page(setup.get_json("/_dash-dependencies"), setup.get_json("/_dash-layout"))
        finally:
            setup.close()
        oracle = Oracle()
        sizes = model_bytes(options.models)
        started = time.monotonic()
        deadline = started + options.seconds
        sessions = [
            Session(i, page, options, port, deadline, recorder, oracle)
            for i in range(options.sessions)
        ]
        threads = [
            threading.Thread(target=s.run, name=f"load-session-{s.index}", daemon=True)
            for s in sessions
        ]
        monitor.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, deadline - time.monotonic()) + options.client_timeout_s + 30)
        elapsed = time.monotonic() - started
        stuck = [t.name for t in threads if t.is_alive()]
        monitor.stopping.set()
        monitor.join(30)
        health_end = healthz(port)
        rss_after = monitor.sample()
    finally:
        phases["stopping"] = time.monotonic()
        returncode = server.stop()
        phases["stopped"] = time.monotonic()
        torch.set_num_threads(threads_before)
    report = build_report(
        options,
        argv,
        recorder,
        elapsed,
        monitor,
        (rss_before, rss_after),
        (health_start, health_end),
        sizes,
        scan_log(log_path),
    )
    report["stuck_sessions"] = stuck
    report["phases_s"] = {
        "startup": round(phases["ready"] - phases["launched"], 1),
        "shutdown": round(phases["stopped"] - phases["stopping"], 1),
    }
    report["gunicorn_returncode"] = returncode
    report["machine"] = {
        "cpus": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }
    report["ok"] = report["ok"] and not stuck
    if options.keep_log or not report["ok"]:
        report["server_log_path"] = str(log_path)
    else:
        log_path.unlink(missing_ok=True)
    if options.out is not None:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(report, indent=2) + "\n")
    return report
