"""The one Dash wire client, shared by the tests, the benchmark and the load tester.

It speaks to the app as the Dash renderer does, in-process through Flask's test client or
over real HTTP; ``bench`` imports it, it never imports ``bench``.

Modules, each importing only those above it:

- ``protocol``: request bodies from ``/_dash-dependencies``, answers (typed arrays and
  ``dash.Patch`` included) applied to a page's values, the ``/_dash-layout`` walker
- ``transport``: Flask's test client or keep-alive HTTP connections
- ``client``: ``DashClient`` (callbacks by first output, timed ``Reply``), ``Tab`` (one page
  load's values, updated from every answer)
- ``probes``: distinct images, encoded files, a forward-pass counter, the app's Explorer
- ``flows``: ``ExplorerTab``, a user's steps on the explorer page
- ``server``: the Procfile's ``web:`` command on loopback until ``/healthz``, or an app
  served in a thread
"""

from tests.wire.client import DashClient, Reply, Tab, WireError
from tests.wire.flows import ExplorerTab, initial_values
from tests.wire.probes import ForwardCounter, distinct_images, encoded, find_explorer
from tests.wire.protocol import (
    ENDPOINT,
    apply_outputs,
    apply_patch,
    cell_data,
    data_url,
    decode_typed,
    is_patch,
    layout_values,
    prop_key,
    request_body,
    response_outputs,
    split_outputs,
)
from tests.wire.server import (
    HEALTHZ_ERRORS,
    PROCFILE,
    ROOT,
    Server,
    free_port,
    healthz,
    procfile_command,
    serve_in_thread,
)
from tests.wire.transport import LOOPBACK, FlaskTransport, HTTPTransport, Transport

__all__ = [
    "ENDPOINT",
    "HEALTHZ_ERRORS",
    "LOOPBACK",
    "PROCFILE",
    "ROOT",
    "DashClient",
    "ExplorerTab",
    "FlaskTransport",
    "ForwardCounter",
    "HTTPTransport",
    "Reply",
    "Server",
    "Tab",
    "Transport",
    "WireError",
    "apply_outputs",
    "apply_patch",
    "cell_data",
    "data_url",
    "decode_typed",
    "distinct_images",
    "encoded",
    "find_explorer",
    "free_port",
    "healthz",
    "initial_values",
    "is_patch",
    "layout_values",
    "procfile_command",
    "prop_key",
    "request_body",
    "response_outputs",
    "serve_in_thread",
    "split_outputs",
]
