"""One secret for every web process, to sign background-job handles with.

Dash signs the handles of a background job (its result key and task id) that the page
polls and cancels with ``server.secret_key``; without one it asks the job manager for a
secret kept in the result store, and when that store does not answer it falls back, for
good, to a random one of the process's own. A process whose first page came while Redis was
down would then reject every job another process started, and its own would be refused
elsewhere: the spinner would never end.

So the secret is always ``server.secret_key``: the operator's (``CONVSCOPE_SECRET_KEY`` or
``SECRET_KEY``) when set, else, with Redis, one created there once (``SET NX``) and read by
every process. While Redis does not answer, each request (at most every ``RETRY_S``) asks
again, and the process signs with the shared secret from the first answer on. Without
either, nothing changes: Dash's own fallback (the job disk cache) serves one machine.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time

from flask import Flask

from dashboard.config import Config
from dashboard.errors import SharedStoreError
from dashboard.shared import SharedStore

log = logging.getLogger(__name__)

# No TTL, unlike every other key of ours: a secret that expired would be created anew while
# running processes still sign with the old one; and volatile-lru never evicts a key without
# a TTL, so memory pressure cannot take it either.
SECRET_KEY = "signing-secret"
RETRY_S = 1.0  # while Redis is down: ask again at most this often
RECHECK_S = 10.0  # once known: see this often that Redis still holds it (a restart forgets)


class SharedSecret:
    """``server.secret_key`` kept equal to the one secret in Redis.

    Args:
        server: the Flask server whose ``secret_key`` Dash signs with.
        store: the shared store (Redis) holding the secret.
    """

    def __init__(self, server: Flask, store: SharedStore) -> None:
        self.server = server
        self.store = store
        self._lock = threading.Lock()
        self._next_check = 0.0

    def refresh(self) -> None:
        """Read the shared secret (creating it if Redis holds none) into ``secret_key``, if
        due; a Redis that does not answer is logged and asked again ``RETRY_S`` later."""
        if time.monotonic() < self._next_check or not self._lock.acquire(blocking=False):
            return  # not due, or another thread is asking right now
        try:
            mine = self.server.secret_key or secrets.token_hex(32)
            try:
                # After a Redis restart the first process to ask puts back the secret the
                # running processes already sign with; a new one adopts it.
                shared = self.store.put_once(SECRET_KEY, str(mine).encode()).decode()
            except SharedStoreError:
                self._next_check = time.monotonic() + RETRY_S
                return
            if shared != self.server.secret_key:
                if self.server.secret_key:
                    log.warning("the shared signing secret changed in Redis; using the new one")
                self.server.secret_key = shared
            self._next_check = time.monotonic() + RECHECK_S
        finally:
            self._lock.release()


def install_signing_secret(server: Flask, config: Config, store: SharedStore | None) -> None:
    """Give ``server`` the secret every process signs with (see the module docstring)."""
    if config.secret_key:
        server.secret_key = config.secret_key
        return
    if store is None:
        return
    shared = SharedSecret(server, store)
    shared.refresh()
    server.before_request(shared.refresh)
