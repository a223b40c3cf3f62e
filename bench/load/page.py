"""The page as data: callbacks from ``/_dash-dependencies``, values from ``/_dash-layout``.

Builds the bodies the Dash renderer posts and reads its answers back, nothing else.
"""

from __future__ import annotations

import json

ENDPOINT = "/_dash-update-component"

# The callbacks, by their first output as /_dash-dependencies names it (without "@hash").
FIRST_OUTPUT = {
    "on_model": "layer-select.options",
    "on_weights": "weights-store.data",
    "on_image": "image-store.data",
    "on_kernels": "kernel-grid.figure",
    "on_features": "feature-grid.figure",
    "on_detail": "feature-detail.figure",
    "on_select": "channel-store.data",
}


def split_outputs(output: str) -> list[dict]:
    """``..a.x...b.y@h..`` -> [{id: a, property: x}, {id: b, property: y@h}] (as the renderer)."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]


def prop_key(spec: dict) -> str:
    return f"{spec['id']}.{spec['property'].split('@')[0]}"


class Page:
    """The app's callbacks from /_dash-dependencies and its initial values from /_dash-layout."""

    def __init__(self, dependencies: list[dict], layout: dict) -> None:
        self.deps = {prop_key(split_outputs(d["output"])[0]): d for d in dependencies}
        missing = [k for k, out in FIRST_OUTPUT.items() if out not in self.deps]
        if missing:
            raise RuntimeError(f"the app has no callbacks for {missing}")
        self.initial: dict[str, object] = {}
        self._walk(layout)

    def _walk(self, node: object) -> None:
        if isinstance(node, list):
            for item in node:
                self._walk(item)
        elif isinstance(node, dict) and isinstance(node.get("props"), dict):
            props = node["props"]
            if isinstance(props.get("id"), str):
                for name, value in props.items():
                    if name not in ("id", "children"):
                        self.initial[f"{props['id']}.{name}"] = value
            self._walk(props.get("children"))

    def body(self, callback: str, values: dict[str, object], changed: list[str]) -> bytes:
        """The JSON the renderer posts for ``callback`` (outputs keep their "@hash")."""
        dep = self.deps[FIRST_OUTPUT[callback]]
        return json.dumps(request_body(dep, values, changed)).encode()


def request_body(dep: dict, values: dict[str, object], changed: list[str]) -> dict:
    """What the renderer posts for one /_dash-dependencies entry, given the page's values."""
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
    """A 200 answer's outputs as {"component.prop": value} (no "@hash"; no_update omitted)."""
    outputs: dict[str, object] = {}
    for component, props in json.loads(data)["response"].items():
        for prop, value in props.items():
            outputs[f"{component}.{prop.split('@')[0]}"] = value
    return outputs


def is_patch(value: object) -> bool:
    return isinstance(value, dict) and "__dash_patch_update" in value


def figure_title(figure: object) -> str:
    if not isinstance(figure, dict):
        return ""
    title = figure.get("layout", {}).get("title", "")
    return str(title.get("text", "") if isinstance(title, dict) else title)
