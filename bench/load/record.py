"""The run's record: latencies per callback kind and counters of errors and checks."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

ERROR_KINDS = (
    "5xx",
    "non_200",
    "timeouts",
    "connection",
    "wrong_activations",
    "wrong_kernels",
    "wrong_channel",
    "unexpected_messages",
    "unclear_refusals",
    "app_timeouts",
    "client_exceptions",
)


class Recorder:
    """Thread-safe latencies per callback kind and counters of errors and checks."""

    def __init__(self, max_requests: int) -> None:
        self._lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter({k: 0 for k in ERROR_KINDS})
        self.errors_by_callback: Counter[str] = Counter()
        self.expected: Counter[str] = Counter()
        self.checks: Counter[str] = Counter()
        self.samples: list[str] = []  # first few error descriptions
        self.requests = 0
        self.max_requests = max_requests

    def take_request(self) -> bool:
        """Count one more request; False once the run's request budget is spent."""
        with self._lock:
            if self.requests >= self.max_requests:
                return False
            self.requests += 1
            return True

    def timing(self, kind: str, ms: float) -> None:
        with self._lock:
            self.latency[kind].append(ms)

    def error(self, kind: str, callback: str, detail: str) -> None:
        with self._lock:
            self.errors[kind] += 1
            self.errors_by_callback[f"{callback}:{kind}"] += 1
            if len(self.samples) < 30:
                self.samples.append(f"{callback}: {kind}: {detail[:300]}")

    def note(self, counter: str, name: str) -> None:
        """One more ``name`` in the "expected" messages or (any other counter) the checks."""
        with self._lock:
            (self.expected if counter == "expected" else self.checks)[name] += 1
