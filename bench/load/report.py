"""The run's numbers: latency stats per callback kind, the JSON report and its text table."""

from __future__ import annotations

import math
import shlex
from dataclasses import asdict
from pathlib import Path

from bench.load.monitor import Monitor
from bench.load.options import MIB, LoadOptions
from bench.load.record import Recorder

IMAGE_STORE_BYTES = 64 * MIB  # dashboard.samples.ImageStore's default upload budget


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def latency_table(recorder: Recorder, seconds: float) -> dict[str, dict[str, float]]:
    table = {}
    for kind in sorted(recorder.latency):
        ms = recorder.latency[kind]
        table[kind] = {
            "n": len(ms),
            "per_s": round(len(ms) / seconds, 3),
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "max_ms": round(max(ms), 1),
        }
    return table


def build_report(
    options: LoadOptions,
    argv: list[str],
    recorder: Recorder,
    elapsed: float,
    monitor: Monitor,
    rss: tuple[tuple[int, int], tuple[int, int]],
    health: tuple[dict, dict],
    sizes: dict[str, int],
    server_log: dict[str, int],
) -> dict:
    """The JSON report; ``ok`` is no error, no hook left, cache within budget, no restart."""
    (worker_before, tree_before), (worker_after, tree_after) = rss
    health_start, health_end = health
    budget = int(health_end["activation_cache_budget"])
    cache_seen = [int(h["activation_cache_bytes"]) for h in (*monitor.health, health_end)]
    # Worst case the model LRU holds the largest `model_cache` models at once.
    held = sum(sorted(sizes.values(), reverse=True)[: options.model_cache])
    bound = worker_before + options.processes * (held + budget + IMAGE_STORE_BYTES)
    errors = dict(recorder.errors)
    requests = sum(len(v) for v in recorder.latency.values())
    restarts = len(monitor.worker_pids) - monitor.initial_workers
    worker_restarts = max(0, restarts) + server_log["worker_timeouts"]
    ok = (
        all(n == 0 for n in errors.values())
        and int(health_end["forward_hooks"]) == 0
        and max(cache_seen) <= budget
        and worker_restarts == 0
        and server_log["tracebacks"] == 0
    )
    return {
        "ok": ok,
        "memory_ok": monitor.worker_peak <= bound,
        "command": shlex.join(argv),
        "env": {
            "CONVSCOPE_CACHE_MB": options.cache_mb,
            "CONVSCOPE_MODEL_CACHE": options.model_cache,
            "CONVSCOPE_ALLOW_DOWNLOAD": 0,
            **dict(options.extra_env),
        },
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()},
        "sessions": options.sessions,
        "workers": monitor.initial_workers,  # with more than one, /healthz is one worker's
        "seconds": round(elapsed, 1),
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 2),
        "latency_ms": latency_table(recorder, elapsed),
        "errors": errors,
        "errors_by_callback": dict(recorder.errors_by_callback),
        "error_samples": recorder.samples,
        "wrong_activations": errors["wrong_activations"],
        "checks": dict(recorder.checks),
        "expected_messages": dict(recorder.expected),
        "memory": {
            "worker_rss_before_mb": round(worker_before / MIB, 1),
            "worker_rss_after_mb": round(worker_after / MIB, 1),
            "worker_rss_peak_mb": round(monitor.worker_peak / MIB, 1),
            "tree_rss_before_mb": round(tree_before / MIB, 1),
            "tree_rss_after_mb": round(tree_after / MIB, 1),
            "tree_rss_peak_mb": round(monitor.tree_peak / MIB, 1),
            "model_mb": {k: round(v / MIB, 1) for k, v in sizes.items()},
            "bound_mb": round(bound / MIB, 1),
            "bound_formula": "worker RSS before + largest MODEL_CACHE models + cache budget"
            " + image store budget",
            "peak_within_bound": monitor.worker_peak <= bound,
            "timeline": monitor.timeline,
        },
        "healthz": {
            "start": health_start,
            "end": health_end,
            "activation_cache_budget": budget,
            "activation_cache_bytes_max": max(cache_seen),
            "activation_cache_within_budget": max(cache_seen) <= budget,
            "models_cached_max": max(
                int(h["models_cached"]) for h in (*monitor.health, health_end)
            ),
            "forward_hooks_end": int(health_end["forward_hooks"]),
            "forward_passes": int(health_end["forward_passes"])
            - int(health_start["forward_passes"]),
            "polls": len(monitor.health),
        },
        "worker_restarts": worker_restarts,
        "server_log": server_log,
    }


def processes_lines(report: dict) -> list[str]:
    """Each process's RSS, when the run had several or a Redis and a worker."""
    procs = report.get("processes")
    if not procs or (procs["web"] == 1 and not procs["redis"]):
        return []
    peaks = ", ".join(f"{k} {v} MB" for k, v in procs["rss_peak_mb"].items())
    after = ", ".join(f"{k} {v} MB" for k, v in procs["rss_after_mb"].items())
    return [
        f"{procs['web']} web processes, redis {'on' if procs['redis'] else 'off'}: "
        f"RSS peak {peaks}; after {after}; forward passes {procs['forward_passes_total']}",
    ]


def summary(report: dict) -> str:
    """The report as a plain-text table."""
    lines = [
        f"server: {report['command']}",
        f"{report['sessions']} sessions, {report['seconds']} s, {report['requests']} requests, "
        f"{report['requests_per_s']} req/s",
        "",
        f"{'callback':<20}{'n':>7}{'req/s':>8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}",
    ]
    for kind, row in report["latency_ms"].items():
        lines.append(
            f"{kind:<20}{row['n']:>7}{row['per_s']:>8.2f}{row['p50_ms']:>10.1f}"
            f"{row['p95_ms']:>10.1f}{row['max_ms']:>10.1f}"
        )
    errors = ", ".join(f"{k} {v}" for k, v in report["errors"].items())
    mem, health = report["memory"], report["healthz"]
    lines += [
        "",
        f"errors: {errors}",
        f"checks: {report['checks']}; expected messages: {report['expected_messages']}",
        f"worker RSS: before {mem['worker_rss_before_mb']} MB, after {mem['worker_rss_after_mb']}"
        f" MB, peak {mem['worker_rss_peak_mb']} MB (bound {mem['bound_mb']} MB: "
        f"{'within' if mem['peak_within_bound'] else 'ABOVE'})",
        f"activation cache: max {health['activation_cache_bytes_max'] / MIB:.1f} MB of "
        f"{health['activation_cache_budget'] / MIB:.0f} MB; forward passes "
        f"{health['forward_passes']}; models cached max {health['models_cached_max']}; "
        f"forward hooks at the end {health['forward_hooks_end']}",
        f"worker restarts {report['worker_restarts']}; server log {report['server_log']}",
        *processes_lines(report),
        f"RESULT: {'OK' if report['ok'] else 'PROBLEMS'}"
        f"{'' if report['memory_ok'] else ' (worker RSS peak above the bound)'}",
    ]
    return "\n".join(lines)
