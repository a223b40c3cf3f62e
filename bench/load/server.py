"""The server under load: the settings a run gives it, and what its log says went wrong.

Starting and stopping it from the Procfile is ``tests.wire.Server``'s job.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from bench.load.options import LoadOptions


def server_env(options: LoadOptions) -> dict[str, str]:
    """This process's environment plus the settings the run gives the server."""
    env = dict(os.environ)
    env.update(
        CONVSCOPE_CACHE_MB=str(options.cache_mb),
        CONVSCOPE_MODEL_CACHE=str(options.model_cache),
        CONVSCOPE_ALLOW_DOWNLOAD="0",  # loopback only: never fetch weights
        PYTHONUNBUFFERED="1",
    )
    env.update(options.extra_env)
    return env


def scan_log(path: Path) -> dict[str, int]:
    """Counts of what went wrong, as the server's log tells it (tracebacks, waitress's
    "Exception while serving", gunicorn's worker timeouts and boots, an access log's 5xx)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return {
        "tracebacks": text.count("Traceback (most recent call last)"),
        "exceptions_serving": text.count("Exception while serving"),
        "worker_timeouts": text.count("WORKER TIMEOUT"),
        "worker_boots": text.count("Booting worker"),
        "access_5xx": len(re.findall(r'" 5\d\d ', text)),
        "errors_logged": len(re.findall(r"\bERROR\b", text)),
    }
