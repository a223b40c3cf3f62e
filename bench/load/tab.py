"""One browser tab: its component values, and callbacks posted and applied like the renderer."""

from __future__ import annotations

import http.client
import json
import random
import time

import numpy as np

from bench.load.client import Connection
from bench.load.options import LoadOptions
from bench.load.oracle import ImageRef, Oracle
from bench.load.page import ENDPOINT, Page, is_patch, response_outputs
from bench.load.record import Recorder

GENERIC_ERROR = "Something went wrong on the server"


class Stop(Exception):
    """The run's time or request budget is spent: end the session."""


class Tab:
    """One browser tab: keeps its component values, fires callbacks like the renderer."""

    def __init__(
        self,
        index: int,
        page: Page,
        options: LoadOptions,
        port: int,
        deadline: float,
        recorder: Recorder,
        oracle: Oracle,
    ) -> None:
        self.index, self.page, self.options, self.deadline = index, page, options, deadline
        self.recorder, self.oracle = recorder, oracle
        # A browser keeps several connections per host and Dash fires independent callbacks
        # in parallel, so consecutive requests of one tab may reach different workers.
        self.conns = [
            Connection(port, options.client_timeout_s) for _ in range(options.connections)
        ]
        self.sent = 0
        self.rng = np.random.default_rng([options.seed, index])
        self.pick = random.Random(options.seed * 1000 + index)
        self.values: dict[str, object] = json.loads(json.dumps(page.initial))
        self.images: dict[str, ImageRef] = {}  # this tab's uploads, by their image key
        self.feature_cd: object = None  # the last full feature grid's customdata spec
        self.kernel_cd: object = None
        self.uploads = 0

    def v(self, name: str) -> object:
        return self.values.get(name)

    def fire(self, callback: str, changed: list[str], kind: str | None = None) -> dict | None:
        """POST one callback; apply its outputs to the page; None when the request failed.

        Raises:
            Stop: the run's deadline has passed or its request budget is spent.
        """
        kind = kind or callback
        if time.monotonic() >= self.deadline or not self.recorder.take_request():
            raise Stop
        body = self.page.body(callback, self.values, changed)
        start = time.perf_counter()
        try:
            self.sent += 1
            status, data = self.conns[self.sent % len(self.conns)].request("POST", ENDPOINT, body)
        except TimeoutError as exc:
            self.recorder.timing(kind, (time.perf_counter() - start) * 1000)
            self.recorder.error("timeouts", kind, repr(exc))
            return None
        except (OSError, http.client.HTTPException) as exc:
            self.recorder.error("connection", kind, repr(exc))
            return None
        self.recorder.timing(kind, (time.perf_counter() - start) * 1000)
        if status >= 500:
            self.recorder.error("5xx", kind, f"{status}: {data[:200]!r}")
            return None
        if status not in (200, 204):
            self.recorder.error("non_200", kind, f"{status}: {data[:200]!r}")
            return None
        outputs = response_outputs(data) if status == 200 else {}
        for name, value in outputs.items():
            if not name.endswith(".figure") and not is_patch(value):
                self.values[name] = value
        self._scan_messages(kind, outputs)
        return outputs

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
            elif name != "model-notice.children":  # notices: random weights, no download
                found["unexpected_messages"] = text
        for what, text in found.items():
            if what.startswith("evicted_"):
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
        for conn in self.conns:
            conn.close()
