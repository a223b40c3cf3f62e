"""Call an app's callbacks through the real Dash endpoint with Flask's test client."""

from __future__ import annotations

from typing import Any

from dash import Dash

from tests.wire import DashClient, Tab


class DashHTTP:
    """Posts what the browser posts to ``/_dash-update-component`` and decodes the answer.

    One page load (its own ``GET /_dash-layout``, so its own session id); each call sends
    the ``values`` given over that page's initial values, and keeps nothing of the answer.
    """

    def __init__(self, app: Dash) -> None:
        self.app = app
        self.wire = DashClient(app)
        self.client = self.wire.transport.client  # Flask's test client, for raw requests
        self.page = Tab(self.wire)
        self.last_bytes = 0

    def call(self, first_output: str, values: dict[str, Any], changed: list[str]) -> dict:
        """Fire the callback whose first output is ``first_output`` ("id.prop").

        ``values`` maps "id.prop" of its inputs and states to their values; the others are
        the page's initial ones. Returns {"id.prop": new value} for the outputs it updated.

        Raises:
            tests.wire.WireError: the app answered neither 200 nor 204.
        """
        reply = self.wire.post(first_output, {**self.page.values, **values}, changed)
        reply.raise_for_status()
        self.last_bytes = reply.nbytes
        return reply.outputs
