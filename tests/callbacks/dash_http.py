"""Call an app's callbacks through the real Dash endpoint with Flask's test client."""

from __future__ import annotations

from typing import Any

from dash import Dash

from bench.dash_client import DashEndpoint


class DashHTTP:
    """Posts what the browser posts to ``/_dash-update-component`` and decodes the answer."""

    def __init__(self, app: Dash) -> None:
        self.app = app
        self.endpoint = DashEndpoint(app)
        self.client = self.endpoint.client
        self.last_bytes = 0

    def call(self, first_output: str, values: dict[str, Any], changed: list[str]) -> dict:
        """Fire the callback whose first output is ``first_output`` ("id.prop").

        ``values`` maps "id.prop" of its inputs and states to their values (missing: None).
        Returns {"id.prop": new value} for the outputs it updated.
        """
        response = self.endpoint.call(first_output, values, changed)
        self.last_bytes = response.nbytes
        return response.outputs
