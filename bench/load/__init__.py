"""Load test: the server exactly as the Procfile runs it, many browser-like sessions, on loopback.

``python -m bench.loadtest [--sessions 8] [--seconds 180] [--port N] [--out FILE]
[--processes N] [--redis]`` (or ``python -m bench.load``)

``--redis`` first starts a private ``redis-server`` on a free loopback port and one Celery
worker as the Procfile's ``worker:`` line says, ``REDIS_URL`` set for all; ``--processes N``
starts N web processes (each on its own port) and sends every request of every session to
one of them at random, as a router without sticky sessions does.

Starts the Procfile's ``web:`` command (``$PORT`` substituted, bound to 127.0.0.1 instead of
0.0.0.0), waits for ``/healthz``, reads ``/_dash-dependencies`` once, then runs N sessions in
threads. Each session loads its own page (``/_dash-layout``), keeps its component values
and posts what the Dash renderer posts to ``/_dash-update-component``: model and layer
switches, samples, uploads of images it generated (distinct per session), clicks on the
grids (customdata as Dash 4 delivers it), kernel paging, weights uploads, and bad uploads.

Feature grids, details and kernel grids of the small models (TinyVGG, the custom conv) are
checked against plain torch in this process (the same model built by a ``ModelRegistry`` of
its own, the same image through ``model.preprocess``, a plain forward hook). Latency per
callback kind, errors by kind, the worker's RSS (psutil) and ``/healthz`` (activation cache
bytes against its budget, forward hooks left) are reported as a table and as JSON. Bounded:
at most ``--sessions`` threads, ``--seconds`` of load and ``--max-requests`` requests;
the server is stopped (terminate, then kill after a timeout) whatever happens.

Modules, in the order data flows (each imports only those above it). Starting the server
and speaking Dash's wire protocol are ``tests.wire``'s (``Server``, ``DashClient``, ``Tab``),
shared with the tests and the benchmark:

- ``options``: paths, mixes and ``LoadOptions``
- ``server``: the server's environment and what its log says went wrong
- ``cluster``: the web processes, Redis and worker a run starts; the spreading transport
- ``oracle``: the direct-torch correctness checks of the figures
- ``uploads``: generated images, bad files and weights a session uploads
- ``record``: thread-safe latencies, errors and checks
- ``tab``: one tab's requests, recorded; ``views``: the checked views after a change;
  ``session``: one simulated user's actions
- ``monitor``: RSS and ``/healthz`` sampled during the load
- ``report``: stats, the table, the JSON report; ``run``: one bounded run; ``__main__``: CLI
"""
