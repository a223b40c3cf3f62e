"""How requests reach the app: Flask's test client in-process, or real HTTP on loopback.

Both answer ``request(method, path, body) -> (status, body bytes)``; the test client runs
the whole request in the calling thread, the HTTP one keeps connections alive like a
browser tab (several per host, used in turn).
"""

from __future__ import annotations

import http.client
from typing import Protocol

from dash import Dash

LOOPBACK = "127.0.0.1"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class Transport(Protocol):
    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """(status, body) of one request."""
        ...

    def close(self) -> None: ...


class FlaskTransport:
    """Requests through Flask's test client: routing, callback wrapper and JSON, no socket."""

    def __init__(self, app: Dash) -> None:
        self.client = app.server.test_client()

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        reply = self.client.open(path, method=method, data=body, headers=HEADERS)
        return reply.status_code, reply.get_data()

    def close(self) -> None:
        pass


class _Connection:
    """One keep-alive HTTP/1.1 connection; a stale socket is retried once on a new one."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        for attempt in (0, 1):
            reused = self._conn is not None
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout_s
                )
            try:
                self._conn.request(method, path, body=body, headers=HEADERS)
                reply = self._conn.getresponse()
                data = reply.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 0 and reused:
                    continue
                raise
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            if reply.will_close:
                self.close()
            return reply.status, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class HTTPTransport:
    """Real HTTP to ``host:port`` over ``connections`` keep-alive connections, used in turn.

    A browser keeps several connections per host and Dash fires independent callbacks in
    parallel, so consecutive requests of one tab may reach different server threads or
    workers. Raises what ``http.client`` raises (``TimeoutError``, ``OSError``,
    ``http.client.HTTPException``).
    """

    def __init__(
        self, port: int, timeout_s: float = 30.0, connections: int = 1, host: str = LOOPBACK
    ) -> None:
        self._conns = [_Connection(host, port, timeout_s) for _ in range(connections)]
        self._sent = 0

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self._sent += 1
        return self._conns[self._sent % len(self._conns)].request(method, path, body)

    def close(self) -> None:
        for conn in self._conns:
            conn.close()
