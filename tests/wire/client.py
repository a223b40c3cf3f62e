"""The Dash wire client: callbacks posted like the renderer, and one browser tab's page.

``DashClient`` addresses an app's callbacks by their first output (``"kernel-grid.figure"``),
as ``/_dash-dependencies`` lists them, and times each round trip; ``Tab`` is one page load:
its component values from its own ``GET /_dash-layout``, updated from every answer.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass, field

from dash import Dash

from tests.wire.protocol import (
    ENDPOINT,
    apply_outputs,
    layout_values,
    prop_key,
    request_body,
    response_outputs,
    split_outputs,
)
from tests.wire.transport import FlaskTransport, Transport


class WireError(RuntimeError):
    """The app answered a request with an unexpected HTTP status."""


@dataclass
class Reply:
    """One callback round trip: server wall time, bytes on the wire, decoded outputs."""

    output: str  # the callback's first output, "id.prop"
    ms: float  # the request alone: building the body and decoding the answer are not in it
    nbytes: int
    status: int
    outputs: dict[str, object]  # "component-id.prop" -> value (no_update omitted)
    # CPU time of the calling thread, which runs the whole request when the transport is
    # Flask's test client: unlike ms, barely affected by other processes on a busy machine.
    cpu_ms: float = 0.0
    process_cpu_ms: float = 0.0  # every thread of the process (the forward pass's pool too)
    head: bytes = field(default=b"", repr=False)  # the answer's start, for error messages

    def raise_for_status(self) -> None:
        if self.status not in (200, 204):
            raise WireError(f"{self.output}: HTTP {self.status}: {self.head!r}")


class DashClient:
    """An app's callbacks, posted through ``target``: a Dash app (Flask's test client) or a
    transport (e.g. ``HTTPTransport`` to a real server).

    ``dependencies`` (the ``/_dash-dependencies`` list) is fetched when not given, so that
    many clients of one server can share one fetch.
    """

    def __init__(self, target: Dash | Transport, dependencies: list[dict] | None = None) -> None:
        self.transport: Transport = FlaskTransport(target) if isinstance(target, Dash) else target
        if dependencies is None:
            dependencies = self.get_json("/_dash-dependencies")
        self.dependencies = dependencies
        # By first output: "id.prop" for a plain output, "id.prop@hash" for a duplicate one,
        # which "id.prop" also names when no other callback has that first output.
        exact: dict[str, dict] = {}
        aliases: dict[str, list[dict]] = {}
        for dep in dependencies:
            first = split_outputs(dep["output"])[0]
            exact[f"{first['id']}.{first['property']}"] = dep
            aliases.setdefault(prop_key(first), []).append(dep)
        self.deps = {
            **{name: deps[0] for name, deps in aliases.items() if len(deps) == 1},
            **exact,
        }

    def named(self, output: str, trigger: str) -> str:
        """The name of the callback with first output ``output`` ("id.prop", any "@hash")
        that ``trigger`` ("id.prop") fires: for outputs several callbacks share.

        Raises:
            KeyError: no such callback.
        """
        for name, dep in self.deps.items():
            if (name.split("@")[0] == output and "@" in name) or name == output:
                inputs = {f"{d['id']}.{d['property']}" for d in dep["inputs"]}
                if trigger in inputs:
                    return name
        raise KeyError(f"no callback with first output {output!r} fired by {trigger!r}")

    def get_json(self, path: str) -> list | dict:
        status, data = self.transport.request("GET", path)
        if status != 200:
            raise WireError(f"GET {path} answered {status}")
        return json.loads(data)

    def layout_values(self) -> dict[str, object]:
        """One page load: ``GET /_dash-layout`` and every component's ``"id.prop"`` value."""
        return layout_values(self.get_json("/_dash-layout"))

    def body(self, output: str, values: dict[str, object], changed: list[str]) -> dict:
        """The JSON body the renderer would send for the callback whose first output is
        ``output``, given the page's values.

        Raises:
            KeyError: no callback, or more than one, has that first output.
        """
        if output not in self.deps:
            raise KeyError(f"no single callback has the first output {output!r}")
        return request_body(self.deps[output], values, changed)

    def post(self, output: str, values: dict[str, object], changed: list[str]) -> Reply:
        """POST one callback; any status is returned (see ``Reply.raise_for_status``).

        Raises:
            KeyError: no callback, or more than one, has the first output ``output``.
            OSError, http.client.HTTPException: from an HTTP transport (timeouts included).
        """
        payload = json.dumps(self.body(output, values, changed)).encode()
        cpu, process_cpu = time.thread_time(), time.process_time()
        start = time.perf_counter()
        status, data = self.transport.request("POST", ENDPOINT, payload)
        nbytes, progress = len(data), {}
        if status == 200 and "cacheKey" in (job := json.loads(data)):
            status, data, progress = self._follow(payload, job)
            nbytes += len(data)
        ms = (time.perf_counter() - start) * 1000.0
        cpu = (time.thread_time() - cpu) * 1000.0
        process_cpu = (time.process_time() - process_cpu) * 1000.0
        outputs = {**progress, **response_outputs(data)} if status == 200 else {}
        return Reply(output, ms, nbytes, status, outputs, cpu, process_cpu, data[:300])

    def _follow(
        self, payload: bytes, job: dict, timeout_s: float = 120.0
    ) -> tuple[int, bytes, dict]:
        """Poll a background callback's job as the renderer does, until its answer.

        The progress outputs seen on the way are returned too (``"id.prop" -> value``),
        so that what a page shows while the job runs can be checked like any answer.

        Raises:
            WireError: no answer within ``timeout_s``.
        """
        query = urllib.parse.urlencode({"cacheKey": job["cacheKey"], "job": job["job"]})
        progress: dict[str, object] = {}
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status, data = self.transport.request("POST", f"{ENDPOINT}?{query}", payload)
            answer = json.loads(data) if status == 200 else {}
            for spec, value in answer.get("progress", {}).items():
                progress[prop_key(split_outputs(spec)[0])] = value
            if status != 200 or "response" in answer:
                return status, data, progress
            time.sleep(0.05)
        raise WireError(f"background job {job['job']} gave no answer in {timeout_s:.0f} s")

    def close(self) -> None:
        self.transport.close()


class Tab:
    """One browser tab: its page's component values, updated from every answer.

    Without ``values``, the tab loads its page itself (one ``GET /_dash-layout``), so every
    tab gets what the layout gives each page load (e.g. its own session id).
    """

    def __init__(self, client: DashClient, values: dict[str, object] | None = None) -> None:
        self.client = client
        self.values: dict[str, object] = client.layout_values() if values is None else values

    def set(self, changes: dict[str, object]) -> list[str]:
        """Set component values (``"id.prop"`` keys) as a user would; their prop ids."""
        self.values.update(changes)
        return list(changes)

    def post(self, output: str, changed: list[str]) -> Reply:
        """POST one callback with the page's values; the answer is not applied."""
        return self.client.post(output, self.values, changed)

    def apply(self, reply: Reply) -> None:
        apply_outputs(self.values, reply.outputs)

    def fire(self, output: str, changed: list[str]) -> Reply:
        """POST one callback and apply its outputs, like the renderer.

        Raises:
            WireError: the app answered neither 200 nor 204.
        """
        reply = self.post(output, changed)
        reply.raise_for_status()
        self.apply(reply)
        return reply
