"""Slow clients hold no worker thread: the Procfile's server buffers whole requests first.

The outside attack held all 8 gunicorn threads with 8 connections sending a body one byte
every 5 s. Here 3 × 8 such connections stay open while ordinary requests are answered.
"""

from __future__ import annotations

import socket
import threading

import pytest

from tests.wire import LOOPBACK, Server, healthz

SLOW = 24  # three times the server's threads
HEAD = (
    b"POST /_dash-update-component HTTP/1.1\r\nHost: localhost\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
)


def test_slow01_trickling_bodies_do_not_block_other_visitors(tmp_path) -> None:
    with Server.from_procfile(tmp_path / "server.log") as server:
        server.wait_ready(180)
        stop = threading.Event()
        sockets = [
            socket.create_connection((LOOPBACK, server.port), timeout=5) for _ in range(SLOW)
        ]
        for sock in sockets:
            sock.sendall(HEAD)

        def trickle() -> None:  # one more byte per connection each second, as the attack did
            while not stop.wait(1.0):
                for sock in sockets:
                    sock.sendall(b" ")

        feeder = threading.Thread(target=trickle, daemon=True)
        feeder.start()
        try:
            for _ in range(5):  # with the slow bodies still arriving, others are served
                assert healthz(server.port, timeout_s=30)["status"] == "ok"
            for sock in sockets:  # and the slow ones are still open, still unanswered
                sock.setblocking(False)
                with pytest.raises(BlockingIOError):
                    sock.recv(1)
        finally:
            stop.set()
            feeder.join(5)
            for sock in sockets:
                sock.close()
