"""One keep-alive HTTP/1.1 connection to the server under load, like one browser tab's."""

from __future__ import annotations

import http.client
import json

from bench.load.options import LOOPBACK


class Connection:
    """One keep-alive HTTP/1.1 connection to the server, like one browser tab's."""

    def __init__(self, port: int, timeout_s: float) -> None:
        self.port, self.timeout_s = port, timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """(status, body); a stale keep-alive socket is retried once on a new one."""
        for attempt in (0, 1):
            reused = self._conn is not None
            if self._conn is None:
                self._conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=self.timeout_s)
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            try:
                self._conn.request(method, path, body=body, headers=headers)
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

    def get_json(self, path: str) -> object:
        status, data = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        return json.loads(data)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
