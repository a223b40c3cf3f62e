"""One browser tab under load: the wire ``Tab`` with every request timed, checked and recorded."""

from __future__ import annotations

import http.client
import random
import time

import numpy as np

from bench.load.options import LoadOptions
from bench.load.oracle import ImageRef, Oracle
from bench.load.record import Recorder
from tests.wire import DashClient, Tab, is_patch

GENERIC_ERROR = "Something went wrong on the server"

# The callbacks the sessions fire, by the name they are reported under -> their first output.
CALLBACKS = {
    "on_model": "layer-select.options",
    "on_weights": "weights-store.data",
    "on_image": "image-store.data",
    "on_kernels": "kernel-grid.figure",
    "on_features": "feature-grid.figure",
    "on_detail": "feature-detail.figure",
    "on_select": "channel-store.data",
}
# With REDIS_URL only: a big model's first pass on a worker (dashboard/callbacks/prepare.py).
WORKER_CALLBACKS = {"on_need": "prepare-box.hidden", "on_prepare": "prepared.data"}


def check_callbacks(client: DashClient) -> None:
    """Raises RuntimeError when the app lacks a callback the sessions fire."""
    missing = [name for name, output in CALLBACKS.items() if output not in client.deps]
    if missing:
        raise RuntimeError(f"the app has no callbacks for {missing}")


class Stop(Exception):
    """The run's time or request budget is spent: end the session."""


class LoadTab(Tab):
    """One browser tab: its own page load, callbacks fired and recorded like the renderer's.

    ``deadline`` (a ``time.monotonic()`` value) is set by ``run`` when the load starts.
    """

    def __init__(
        self,
        index: int,
        client: DashClient,
        options: LoadOptions,
        recorder: Recorder,
        oracle: Oracle,
    ) -> None:
        super().__init__(client)  # this tab's own GET /_dash-layout, before the load starts
        self.index, self.options = index, options
        self.recorder, self.oracle = recorder, oracle
        self.deadline = 0.0
        self.rng = np.random.default_rng([options.seed, index])
        self.pick = random.Random(options.seed * 1000 + index)
        self.images: dict[str, ImageRef] = {}  # this tab's uploads, by their image key
        self.feature_cd: dict | None = None  # the last full feature grid's heatmap trace
        self.kernel_cd: dict | None = None  # the kernel grid's, when it has customdata
        self.uploads = 0

    def v(self, name: str) -> object:
        return self.values.get(name)

    def call(self, callback: str, changed: list[str], kind: str | None = None) -> dict | None:
        """POST the callback named ``callback`` (a ``CALLBACKS`` key); apply its outputs to
        the page; its outputs, or None when the request failed (recorded under ``kind``).

        Raises:
            Stop: the run's deadline has passed or its request budget is spent.
        """
        kind = kind or callback
        if time.monotonic() >= self.deadline or not self.recorder.take_request():
            raise Stop
        start = time.perf_counter()
        try:
            reply = self.post({**CALLBACKS, **WORKER_CALLBACKS}[callback], changed)
        except TimeoutError as exc:
            self.recorder.timing(kind, (time.perf_counter() - start) * 1000)
            self.recorder.error("timeouts", kind, repr(exc))
            return None
        except (OSError, http.client.HTTPException) as exc:
            self.recorder.error("connection", kind, repr(exc))
            return None
        self.recorder.timing(kind, reply.ms)
        if reply.status >= 500:
            self.recorder.error("5xx", kind, f"{reply.status}: {reply.head[:200]!r}")
            return None
        if reply.status not in (200, 204):
            self.recorder.error("non_200", kind, f"{reply.status}: {reply.head[:200]!r}")
            return None
        self.apply(reply)
        self._scan_messages(kind, reply.outputs)
        return reply.outputs

    def _scan_messages(self, kind: str, outputs: dict) -> None:
        """Classify the sentences a response shows (status line, notices, message figures)."""
        texts = {name: outputs.get(name) for name in ("status.children", "model-notice.children")}
        for name, value in outputs.items():
            if not name.endswith(".figure") or not isinstance(value, dict) or is_patch(value):
                continue
            if not value.get("data"):  # a message figure: its sentence is an annotation
                notes = value.get("layout", {}).get("annotations") or []
                texts[name] = " ".join(str(a.get("text", "")) for a in notes)
        found: dict[str, str] = {}  # one count per response, however many places show it
        for name, text in texts.items():
            if not isinstance(text, str) or not text:
                continue
            if GENERIC_ERROR in text:
                found["unexpected_messages"] = text
            elif "took longer than" in text:
                found["app_timeouts"] = text
            elif "no longer held" in text:
                found["evicted_weights" if "weights" in text else "evicted_image"] = text
            elif "runs on a worker for this image first" in text:
                found["waiting_for_worker"] = text  # another tab's job for it still runs
            elif name != "model-notice.children":  # notices: random weights, no download
                found["unexpected_messages"] = text
        for what, text in found.items():
            if what.startswith("evicted_") or what == "waiting_for_worker":
                self.recorder.note("expected", f"{what}:{kind}")
            else:
                self.recorder.error(what, kind, text)

    def where(self) -> str:
        """The tab's view, for error reports."""
        names = ("model-select", "layer-select", "image-store", "channel-store", "weights-store")
        values = [self.v(f"{n}.{'value' if 'select' in n else 'data'}") for n in names]
        return f"session {self.index} " + " ".join(str(v)[:40] for v in values)

    def weights_key(self) -> str | None:
        """The key of the uploaded weights the page shows, if it shows any."""
        stored = self.v("weights-store.data")
        model = self.v("model-select.value")
        if isinstance(stored, dict) and stored.get("model") == model:
            return str(stored.get("key"))
        return None

    def close(self) -> None:
        self.client.close()
