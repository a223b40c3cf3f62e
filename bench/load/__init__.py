"""Load test: gunicorn exactly as the Procfile runs it, many browser-like sessions, loopback only.

``python -m bench.loadtest [--sessions 8] [--seconds 180] [--port N] [--out FILE]``
(or ``python -m bench.load``)

Starts the Procfile's ``web:`` command (``$PORT`` substituted, bound to 127.0.0.1 instead of
0.0.0.0), waits for ``/healthz``, reads ``/_dash-layout`` and ``/_dash-dependencies`` once,
then runs N sessions in threads. Each session keeps its page's component values and posts
what the Dash renderer posts to ``/_dash-update-component``: model and layer switches,
samples, uploads of images it generated (distinct per session), clicks on the grids
(customdata as Dash 4 delivers it), kernel paging, weights uploads, and bad uploads.

Feature grids, details and kernel grids of the small models (TinyVGG, the custom conv) are
checked against plain torch in this process (the same model built with ``get_model``, the
same image through ``model.preprocess``, a plain forward hook). Latency per callback kind,
errors by kind, the worker's RSS (psutil) and ``/healthz`` (activation cache bytes against
its budget, forward hooks left) are reported as a table and as JSON. Bounded: at most
``--sessions`` threads, ``--seconds`` of load and ``--max-requests`` requests; gunicorn is
stopped (terminate, then kill after a timeout) whatever happens.

Modules, in the order data flows (each imports only those above it):

- ``options``: paths, mixes and ``LoadOptions``
- ``server``: start/stop gunicorn from the Procfile, ``/healthz``, its log
- ``client``: one keep-alive HTTP connection
- ``page``: ``/_dash-dependencies`` and ``/_dash-layout`` as callback payloads
- ``oracle``: typed-array decoding and the direct-torch correctness checks
- ``uploads``: generated images, bad files and weights a session uploads
- ``record``: thread-safe latencies, errors and checks
- ``tab``: one tab's page state and its POSTs; ``views``: the checked views after a change;
  ``session``: one simulated user's actions
- ``monitor``: RSS and ``/healthz`` sampled during the load
- ``report``: stats, the table, the JSON report; ``run``: one bounded run; ``__main__``: CLI
"""
