"""The Dash wire format as data, no I/O: request bodies, answers, layout values, patches.

What the renderer posts to ``/_dash-update-component`` is built from one
``/_dash-dependencies`` entry and the page's component values; its answer is read back as
``{"id.prop": value}`` and applied to those values the way the renderer applies it
(``dash.Patch`` updates included).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import numpy as np

__all__ = [
    "ENDPOINT",
    "apply_outputs",
    "apply_patch",
    "cell_data",
    "data_url",
    "decode_typed",
    "is_patch",
    "layout_values",
    "prop_key",
    "request_body",
    "response_outputs",
    "split_outputs",
]

ENDPOINT = "/_dash-update-component"


def split_outputs(output: str) -> list[dict]:
    """``..a.x...b.y@h..`` -> [{id: a, property: x}, {id: b, property: y@h}] (as the renderer)."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]


def prop_key(spec: dict) -> str:
    """``{id, property}`` -> ``"id.prop"`` (without the "@hash" of duplicate outputs)."""
    return f"{spec['id']}.{spec['property'].split('@')[0]}"


def request_body(dep: dict, values: dict[str, object], changed: list[str]) -> dict:
    """What the renderer posts for one /_dash-dependencies entry, given the page's values.

    Outputs keep their "@hash"; an input or state the page does not hold is sent as None.
    """
    outputs = split_outputs(dep["output"])

    def fill(specs: list[dict]) -> list[dict]:
        return [
            {"id": s["id"], "property": s["property"], "value": values.get(prop_key(s))}
            for s in specs
        ]

    payload: dict[str, object] = {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": fill(dep["inputs"]),
        "changedPropIds": changed,
        "parsedChangedPropsIds": changed,
    }
    if dep["state"]:
        payload["state"] = fill(dep["state"])
    return payload


def response_outputs(data: bytes) -> dict[str, object]:
    """A 200 answer's outputs as {"component.prop": value} (no "@hash"; no_update omitted),
    with the props the callback set by ``set_props`` (its "sideUpdate"), as the renderer
    applies them."""
    answer = json.loads(data)
    outputs: dict[str, object] = {}
    for component, props in answer.get("sideUpdate", {}).items():
        for prop, value in props.items():
            outputs[f"{component}.{prop}"] = value
    for component, props in answer["response"].items():
        for prop, value in props.items():
            outputs[f"{component}.{prop.split('@')[0]}"] = value
    return outputs


def layout_values(layout: object, values: dict[str, object] | None = None) -> dict:
    """Every ``"id.prop" -> value`` of the components of a ``/_dash-layout`` tree.

    Components nested in any prop (not only ``children``) are found; components whose id
    is not a string (pattern-matching ids) are walked but not recorded.
    """
    values = {} if values is None else values
    if isinstance(layout, list):
        for child in layout:
            layout_values(child, values)
    elif isinstance(layout, dict) and isinstance(layout.get("props"), dict):
        props = layout["props"]
        component = props.get("id")
        for prop, value in props.items():
            if isinstance(component, str) and prop != "id":
                values[f"{component}.{prop}"] = value
            layout_values(value, values)
    return values


def is_patch(value: object) -> bool:
    return isinstance(value, dict) and "__dash_patch_update" in value


def _get(value: object, path: list) -> object:
    for key in path:
        value = value[key]
    return value


def _assoc(value: object, path: list, new: object) -> object:
    """``value`` with ``new`` at ``path``, copying only the containers on the way."""
    if not path:
        return new
    key, rest = path[0], path[1:]
    if isinstance(value, list):
        copy = list(value)
        copy[key] = _assoc(copy[key], rest, new)
        return copy
    copy = dict(value) if isinstance(value, dict) else {}
    copy[key] = _assoc(copy.get(key), rest, new)
    return copy


def _delete(value: object, path: list) -> object:
    parent = _get(value, path[:-1])
    if isinstance(parent, list):
        smaller: object = [v for i, v in enumerate(parent) if i != path[-1]]
    else:
        smaller = {k: v for k, v in parent.items() if k != path[-1]}
    return _assoc(value, path[:-1], smaller)


def _insert(old: list, params: dict) -> list:
    index = params["index"] if params["index"] >= 0 else len(old) + params["index"]
    return [*old[:index], params["value"], *old[index:]]


# operation -> new value at the location, from the old one there and the params
_AT_LOCATION: dict[str, Callable[[object, dict], object]] = {
    "Assign": lambda old, p: p["value"],
    "Merge": lambda old, p: {**old, **p["value"]},
    "Extend": lambda old, p: [*old, *p["value"]],
    "Insert": _insert,
    "Append": lambda old, p: [*old, p["value"]],
    "Prepend": lambda old, p: [p["value"], *old],
    "Add": lambda old, p: old + p["value"],
    "Sub": lambda old, p: old - p["value"],
    "Mul": lambda old, p: old * p["value"],
    "Div": lambda old, p: old / p["value"],
    "Clear": lambda old, p: type(old)(),
    "Reverse": lambda old, p: old[::-1],
    "Remove": lambda old, p: [v for v in old if v != p["value"]],
}


def apply_patch(value: object, patch: dict) -> object:
    """``value`` after a ``dash.Patch`` answer's operations (the renderer's ``handlePatch``).

    Raises:
        ValueError: the value is None (the renderer cannot patch undefined) or an
            operation is unknown.
    """
    if value is None:
        raise ValueError("cannot patch a value the page does not hold")
    for op in patch["operations"]:
        name, params = op["operation"], op.get("params", {})
        path: list = []
        for key in op["location"]:  # negative list indices count from the end
            negative = isinstance(key, int) and key < 0
            path.append(key + len(_get(value, path)) if negative else key)
        if name == "Delete":
            value = _delete(value, path)
        elif name in _AT_LOCATION:
            old = _get(value, path) if name != "Assign" else None
            value = _assoc(value, path, _AT_LOCATION[name](old, params))
        else:
            raise ValueError(f"unknown patch operation {name!r}")
    return value


def apply_outputs(values: dict[str, object], outputs: dict[str, object]) -> None:
    """Apply a response's outputs to the page's values as the renderer does (Patch included)."""
    for name, value in outputs.items():
        values[name] = apply_patch(values.get(name), value) if is_patch(value) else value


def data_url(payload: bytes, mime: str) -> str:
    """What dcc.Upload hands the server: a base64 data URL of the file."""
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def decode_typed(spec: object) -> np.ndarray:
    """A plotly typed array {dtype, bdata, shape} (base64, little-endian) or a list, as numpy."""
    if not isinstance(spec, dict):
        return np.asarray(spec)
    flat = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype("<" + spec["dtype"]))
    shape = spec.get("shape")
    return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat


def cell_data(trace: dict) -> np.ndarray:
    """A heatmap trace's customdata as plotly holds it in the browser.

    A trace with ``meta.cells`` (dashboard/figures/cells.py) carries only its cells' raw
    values; assets/cells.js derives [value, channel, row, col] from their positions before
    plotly draws. This is that derivation, so tests read what the hover and click read.
    """
    values = decode_typed(trace["customdata"])
    cells = (trace.get("meta") or {}).get("cells")
    if not cells:
        return values
    rows, cols = values.shape
    big_y = cells["origin"][0] + np.arange(rows)[:, None]
    big_x = cells["origin"][1] + np.arange(cols)[None, :]
    tile_row, y = np.divmod(big_y, cells["pitch"][0])
    tile_col, x = np.divmod(big_x, cells["pitch"][1])
    position = tile_row * cells["ncols"] + tile_col
    real = (position < cells["channels"]) & (y < cells["size"][0]) & (x < cells["size"][1])
    order = cells.get("order")  # a sorted grid: the channel drawn at each tile position
    channel = np.asarray(order)[np.where(real, position, 0)] if order is not None else position
    out = np.empty((rows, cols, 4), dtype=values.dtype)
    out[..., 0] = values
    out[..., 1] = np.where(real, channel, -1)
    out[..., 2] = np.where(real, y * cells["step"], -1)
    out[..., 3] = np.where(real, x * cells["step"], -1)
    return out
