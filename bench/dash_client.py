"""Drive the real Dash endpoint like the browser does, through Flask's test client.

The renderer POSTs ``/_dash-update-component`` with ``output``/``outputs``/``inputs``/
``state``/``changedPropIds`` built from ``/_dash-dependencies``; this module builds the same
bodies from the same dependency list, so routing, the callback wrapper and the JSON
serialisation are all in the measured time. ``Session`` keeps the page's component values
and applies each response to them, as the renderer would.
"""

from __future__ import annotations

import base64
import io
import json
import time
from dataclasses import dataclass, field

from dash import Dash
from PIL import Image

from bench.load.page import ENDPOINT, prop_key, request_body, response_outputs, split_outputs


@dataclass
class Response:
    """One callback round trip: server wall time, bytes on the wire, decoded outputs."""

    output: str
    ms: float
    nbytes: int
    status: int
    outputs: dict[str, object]  # "component-id.prop" -> value (no_update omitted)
    # CPU time of the calling thread, which runs the whole request (the test client calls
    # the app in-thread): unlike ms, barely affected by other processes on a busy machine.
    cpu_ms: float = 0.0
    process_cpu_ms: float = 0.0  # every thread of the process (the forward pass's pool too)


class DashEndpoint:
    """Callbacks of one app, addressed by their first output (e.g. ``"kernel-grid.figure"``)."""

    def __init__(self, app: Dash) -> None:
        self.client = app.server.test_client()
        reply = self.client.get("/_dash-dependencies")
        if reply.status_code != 200:
            raise RuntimeError(f"GET /_dash-dependencies answered {reply.status_code}")
        self.deps: dict[str, dict] = {}
        for dep in reply.get_json():
            self.deps[prop_key(split_outputs(dep["output"])[0])] = dep

    def body(self, callback: str, values: dict[str, object], changed: list[str]) -> dict:
        """The JSON body the renderer would send for ``callback`` given the page's values."""
        return request_body(self.deps[callback], values, changed)

    def call(self, callback: str, values: dict[str, object], changed: list[str]) -> Response:
        """POST one callback; the time is the whole request (routing + callback + JSON)."""
        payload = json.dumps(self.body(callback, values, changed))
        cpu, process_cpu = time.thread_time(), time.process_time()
        start = time.perf_counter()
        reply = self.client.post(ENDPOINT, data=payload, content_type="application/json")
        data = reply.get_data()
        ms = (time.perf_counter() - start) * 1000.0
        cpu = (time.thread_time() - cpu) * 1000.0
        process_cpu = (time.process_time() - process_cpu) * 1000.0
        if reply.status_code not in (200, 204):
            raise RuntimeError(f"{callback}: HTTP {reply.status_code}: {data[:300]!r}")
        outputs = response_outputs(data) if reply.status_code == 200 else {}
        return Response(callback, ms, len(data), reply.status_code, outputs, cpu, process_cpu)


def png_data_url(image: Image.Image) -> str:
    """What dcc.Upload hands the server: a base64 data URL of the file."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@dataclass
class Session:
    """One browser tab's component values, updated from every response like the renderer."""

    endpoint: DashEndpoint
    values: dict[str, object] = field(default_factory=dict)

    def fire(self, callback: str, changed: list[str]) -> Response:
        response = self.endpoint.call(callback, self.values, changed)
        self.values.update(response.outputs)
        return response

    def set(self, **values: object) -> list[str]:
        """Set component values ("layer_select__value" style keys); returns their prop ids."""
        changed = []
        for name, value in values.items():
            component, prop = name.split("__")
            key = f"{component.replace('_', '-')}.{prop}"
            self.values[key] = value
            changed.append(key)
        return changed

    def open_model(self, model: str) -> list[Response]:
        """Choose a model: its layer list, then the first layer's views."""
        changed = self.set(model_select__value=model)
        first = self.fire("layer-select.options", changed)
        return [first, *self.switch_layer(str(self.values["layer-select.value"]))]

    def switch_layer(self, layer: str) -> list[Response]:
        """on_kernels and on_features (both on the new layer), then on_detail."""
        changed = self.set(layer_select__value=layer)
        kernels = self.fire("kernel-grid.figure", changed)
        features = self.fire("feature-grid.figure", changed)
        detail = self.fire("feature-detail.figure", [*changed, "channel-store.data"])
        return [kernels, features, detail]

    def upload(self, image: Image.Image, filename: str) -> Response:
        """on_image with an upload: the image lands in the server's store under a digest key."""
        self.values["image-upload.filename"] = filename
        changed = self.set(image_upload__contents=png_data_url(image))
        response = self.fire("image-store.data", changed)
        if "image-store.data" not in response.outputs:
            raise RuntimeError(f"upload refused: {response.outputs.get('upload-status.children')}")
        return response

    def new_image(self) -> list[Response]:
        """The callbacks that fire after the image changed: on_features, then on_detail."""
        changed = ["image-store.data"]
        features = self.fire("feature-grid.figure", changed)
        detail = self.fire("feature-detail.figure", [*changed, "channel-store.data"])
        return [features, detail]


def layout_values(layout: object, values: dict[str, object] | None = None) -> dict:
    """Every ``"id.prop" -> value`` of the components of a ``/_dash-layout`` tree."""
    values = {} if values is None else values
    if isinstance(layout, list):
        for child in layout:
            layout_values(child, values)
    elif isinstance(layout, dict) and "props" in layout:
        props = layout["props"]
        component = props.get("id")
        for prop, value in props.items():
            if isinstance(component, str) and prop != "id":
                values[f"{component}.{prop}"] = value
            layout_values(value, values)
    return values


def initial_values(endpoint: DashEndpoint, model: str, image: str) -> dict[str, object]:
    """The page's values before any callback ran (read from the served layout), with
    ``model`` and ``image`` chosen."""
    reply = endpoint.client.get("/_dash-layout")
    if reply.status_code != 200:
        raise RuntimeError(f"GET /_dash-layout answered {reply.status_code}")
    values = layout_values(reply.get_json())
    values.update(
        {
            "model-select.value": model,
            "layer-select.value": None,
            "sample-select.value": image,
            "image-store.data": image,
        }
    )
    return values


def check_figure(response: Response, key: str) -> None:
    """Raise when a figure output is an error message instead of a grid."""
    figure = response.outputs.get(key)
    status = response.outputs.get("status.children")
    if status:
        raise RuntimeError(f"{response.output}: the page says {status!r}")
    if not isinstance(figure, dict) or not figure.get("data"):
        layout = (figure or {}).get("layout", {}) if isinstance(figure, dict) else {}
        notes = [a.get("text") for a in layout.get("annotations", [])]
        raise RuntimeError(f"{response.output}: no figure data ({notes})")
