"""Call an app's callbacks through the real Dash endpoint with Flask's test client."""

from __future__ import annotations

import json
from typing import Any

from dash import Dash


class DashHTTP:
    """Posts what the browser posts to ``/_dash-update-component`` and decodes the answer."""

    def __init__(self, app: Dash) -> None:
        self.app = app
        self.client = app.server.test_client()
        self.last_bytes = 0

    def _entry(self, first_output: str) -> tuple[str, dict]:
        for key, entry in self.app.callback_map.items():
            outputs = entry["output"] if isinstance(entry["output"], list) else [entry["output"]]
            if str(outputs[0]).split("@")[0] == first_output:
                return key, entry
        raise KeyError(f"no callback whose first output is {first_output}")

    def call(self, first_output: str, values: dict[str, Any], changed: list[str]) -> dict:
        """Fire the callback whose first output is ``first_output`` ("id.prop").

        ``values`` maps "id.prop" of its inputs and states to their values (missing: None).
        Returns {"id.prop": new value} for the outputs it updated.
        """
        key, entry = self._entry(first_output)
        outputs = entry["output"] if isinstance(entry["output"], list) else [entry["output"]]
        out_specs = [{"id": o.component_id, "property": o.component_property} for o in outputs]

        def spec(item: dict) -> dict:
            name = f"{item['id']}.{item['property']}"
            return {**item, "value": values.get(name)}

        payload = {
            "output": key,
            "outputs": out_specs if isinstance(entry["output"], list) else out_specs[0],
            "inputs": [spec(i) for i in entry["inputs"]],
            "state": [spec(s) for s in entry["state"]],
            "changedPropIds": changed,
        }
        response = self.client.post("/_dash-update-component", json=payload)
        self.last_bytes = len(response.data)
        if response.status_code == 204:
            return {}
        assert response.status_code == 200, response.data[:500]
        body = json.loads(response.data)["response"]
        return {
            f"{cid}.{prop.split('@')[0]}": value
            for cid, props in body.items()
            for prop, value in props.items()
        }
