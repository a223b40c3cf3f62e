"""One bounded load run against the Procfile's server, which it starts and always stops."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

import torch

from bench.load.cluster import Cluster, SpreadTransport
from bench.load.monitor import Monitor
from bench.load.options import MIB, MODEL_MIX, LoadOptions
from bench.load.oracle import Oracle
from bench.load.record import Recorder
from bench.load.report import build_report
from bench.load.server import scan_log, server_env
from bench.load.session import Session
from bench.load.tab import check_callbacks
from dashboard.models import ModelRegistry
from dashboard.models.zoo import ZOO_LABELS, architecture
from tests.wire import DashClient, HTTPTransport, healthz


def model_bytes(names: tuple[str, ...], models: ModelRegistry) -> dict[str, int]:
    """Parameter + buffer bytes of each model (zoo models built on the meta device)."""
    sizes = {}
    for name in names:
        if name in ZOO_LABELS:
            with torch.device("meta"):
                module = architecture(name)
        else:
            module = models.get(name).module
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
    if not 1 <= options.processes <= 8:
        raise ValueError(f"processes must be 1..8, got {options.processes}.")
    unknown = [m for m in options.models if m not in MODEL_MIX]
    if unknown:
        raise ValueError(f"models must be among {list(MODEL_MIX)}, got {unknown}.")


def tab_client(
    ports: list[int], options: LoadOptions, dependencies: list[dict], index: int
) -> DashClient:
    """One tab's client: its own keep-alive connections (to every web process, each request
    to any of them), the run's one dependency list."""
    if len(ports) == 1:
        transport = HTTPTransport(ports[0], options.client_timeout_s, options.connections)
    else:
        transport = SpreadTransport(ports, options, seed=options.seed * 1000 + index)
    return DashClient(transport, dependencies)


def megabytes(rss: dict[str, int]) -> dict[str, float]:
    return {name: round(value / MIB, 1) for name, value in rss.items()}


def run(options: LoadOptions) -> dict:
    """One bounded load test against the Procfile's server, started and always stopped."""
    check_options(options)
    fd, name = tempfile.mkstemp(prefix="convscope-load-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(1)  # the oracle must not take the server's cores
    recorder = Recorder(options.max_requests)
    load_start = os.getloadavg()
    phases = {"launched": time.monotonic()}
    cluster = Cluster(options, server_env(options), log_path)
    try:
        servers = cluster.start().servers
        ports = [s.port for s in servers]
        health_start, *_ = [s.wait_ready(options.startup_timeout_s) for s in servers]
        phases["ready"] = time.monotonic()
        monitor = Monitor(servers, cluster.worker_process())
        rss_before = monitor.sample()
        each_before = monitor.each()
        setup = DashClient(HTTPTransport(ports[0], options.client_timeout_s))
        setup.close()  # its dependency list is all the sessions share
        check_callbacks(setup)
        oracle = Oracle()
        sizes = model_bytes(options.models, oracle.models)
        clients = [
            tab_client(ports, options, setup.dependencies, i) for i in range(options.sessions)
        ]
        # Each session loads its own page (GET /_dash-layout) before the load starts.
        sessions = [
            Session(i, client, options, recorder, oracle) for i, client in enumerate(clients)
        ]
        started = time.monotonic()
        deadline = started + options.seconds
        threads = [
            threading.Thread(
                target=s.run, args=(deadline,), name=f"load-session-{s.index}", daemon=True
            )
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
        health_each = [healthz(port) for port in ports]
        health_end = health_each[0]
        rss_after = monitor.sample()
        each_after = monitor.each()
    finally:
        phases["stopping"] = time.monotonic()
        returncode = cluster.stop()
        phases["stopped"] = time.monotonic()
        torch.set_num_threads(threads_before)
    logs = [scan_log(path) for path in cluster.log_paths()]
    report = build_report(
        options,
        cluster.servers[0].argv,
        recorder,
        elapsed,
        monitor,
        (rss_before, rss_after),
        (health_start, health_end),
        sizes,
        {key: sum(log[key] for log in logs) for key in logs[0]},
    )
    report["processes"] = {
        "web": options.processes,
        "redis": options.redis,
        "rss_before_mb": megabytes(each_before),
        "rss_after_mb": megabytes(each_after),
        "rss_peak_mb": megabytes(monitor.peaks),
        "forward_passes_total": sum(int(h["forward_passes"]) for h in health_each),
        "forward_hooks_end": [int(h["forward_hooks"]) for h in health_each],
        "redis_health": [h.get("redis") for h in health_each],
    }
    report["stuck_sessions"] = stuck
    report["phases_s"] = {
        "startup": round(phases["ready"] - phases["launched"], 1),
        "shutdown": round(phases["stopped"] - phases["stopping"], 1),
    }
    report["server_returncode"] = returncode
    report["machine"] = {
        "cpus": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }
    report["ok"] = report["ok"] and not stuck and not any(report["processes"]["forward_hooks_end"])
    if options.keep_log or not report["ok"]:
        report["server_log_path"] = str(log_path)
    else:
        for path in cluster.log_paths():
            path.unlink(missing_ok=True)
    if options.out is not None:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(report, indent=2) + "\n")
    return report
