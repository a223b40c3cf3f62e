"""Can one visitor starve another? Floods and slow bodies against the Procfile's server.

``python -m bench.attack`` starts the server as the Procfile says (loopback only) and, for
each scenario, measures what a benign visitor waits for while attackers run:

- ``flood N×S``: N connections loop fresh tiny images (a new forward pass each) from S
  sessions (1: one page's session on every connection; N: a freshly loaded page each);
- ``slow N``: N connections send a request body one byte a second.

The benign visitor, once a second, uploads a new image and waits until its feature grid is
shown (retrying after a "busy" sentence, as a person would), and switches layer on a cached
image. Bounded in time, loopback only; the JSON goes to bench/results/attack-latest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tests.wire import LOOPBACK, DashClient, HTTPTransport, Server, Tab, data_url, encoded

OUT = Path(__file__).resolve().parent / "results" / "attack-latest.json"
BUSY = ("Still working on your previous image", "The server is busy")
SLOW_HEAD = (
    b"POST /_dash-update-component HTTP/1.1\r\nHost: localhost\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
)


def fresh_image(rng: np.random.Generator, side: int = 32) -> str:
    pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    return data_url(encoded(Image.fromarray(pixels), "PNG"), "image/png")


def show_new_image(tab: Tab, rng: np.random.Generator, deadline: float) -> tuple[float, int]:
    """Upload a fresh image and wait until its feature grid is shown; (seconds, busy answers)."""
    start, busy = time.perf_counter(), 0
    tab.set({"image-upload.contents": fresh_image(rng), "image-upload.filename": "x.png"})
    tab.fire("image-store.data", ["image-upload.contents"])
    while time.perf_counter() < deadline:
        status = tab.fire("feature-grid.figure", ["image-store.data"]).outputs["status.children"]
        if not status:
            return time.perf_counter() - start, busy
        if not status.startswith(BUSY):
            raise RuntimeError(f"unexpected answer: {status}")
        busy += 1
        time.sleep(0.5)
    return float("nan"), busy


def page(port: int, deps: list[dict], session_from: Tab | None = None) -> Tab:
    client = DashClient(HTTPTransport(port, timeout_s=120), deps)
    tab = Tab(client)
    if session_from is not None:
        tab.values["session-store.data"] = session_from.values["session-store.data"]
    tab.set({"model-select.value": "tinyvgg", "layer-select.value": "block2.2"})
    return tab


def flood(port: int, deps: list[dict], connections: int, sessions: int, stop: threading.Event):
    counts = {"served": 0, "refused": 0}
    lock = threading.Lock()
    first = page(port, deps)

    def attacker(index: int) -> None:
        tab = page(port, deps, None if sessions > 1 else first)
        rng = np.random.default_rng(1000 + index)
        while not stop.is_set():
            try:
                tab.set({"image-upload.contents": fresh_image(rng)})
                tab.fire("image-store.data", ["image-upload.contents"])
                status = tab.fire("feature-grid.figure", ["image-store.data"])
                key = "refused" if status.outputs["status.children"] else "served"
            except (OSError, RuntimeError):
                key = "refused"
            with lock:
                counts[key] += 1

    threads = [
        threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(connections)
    ]
    for thread in threads:
        thread.start()
    return threads, counts


def slow_bodies(port: int, connections: int, stop: threading.Event):
    sockets = [socket.create_connection((LOOPBACK, port), timeout=5) for _ in range(connections)]
    for sock in sockets:
        sock.sendall(SLOW_HEAD)

    def trickle() -> None:
        while not stop.wait(1.0):
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.sendall(b" ")
        for sock in sockets:
            sock.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    return [thread], {"connections": connections}


def benign(port: int, deps: list[dict], seconds: float) -> dict:
    tab = page(port, deps)
    tab.fire("feature-grid.figure", ["layer-select.value"])
    rng = np.random.default_rng(7)
    waits, busy, switches = [], 0, []
    end = time.perf_counter() + seconds
    layers = ["block1.0", "block2.2"]
    while time.perf_counter() < end:
        wait, refused = show_new_image(tab, rng, end + 60)
        waits.append(wait)
        busy += refused
        tab.set({"layer-select.value": layers[len(switches) % 2]})
        start = time.perf_counter()
        tab.fire("feature-grid.figure", ["layer-select.value"])
        switches.append(time.perf_counter() - start)
        time.sleep(max(0.0, 1.0 - wait))
    return {
        "new_image_s": summary(waits),
        "busy_answers": busy,
        "cached_switch_s": summary(switches),
    }


def summary(values: list[float]) -> dict:
    values = sorted(v for v in values if v == v)
    if not values:
        return {"n": 0}
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    return {"n": len(values), "p50": statistics.median(values), "p95": p95, "max": values[-1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.attack", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="per scenario")
    parser.add_argument("--floods", default="0,8,48,128", help="attacking connections")
    parser.add_argument("--slow", default="8,64", help="slow-body connections")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    scenarios = [("flood", int(n), s) for n in args.floods.split(",") for s in ("one", "own")]
    scenarios = [(k, n, s) for k, n, s in scenarios if n or s == "one"]
    scenarios += [("slow", int(n), "-") for n in args.slow.split(",") if n]
    results = []
    with tempfile.TemporaryDirectory() as tmp, Server.from_procfile(Path(tmp) / "log") as server:
        server.wait_ready(180)
        deps = DashClient(HTTPTransport(server.port)).get_json("/_dash-dependencies")
        for kind, n, sessions in scenarios:
            stop = threading.Event()
            if kind == "slow":
                threads, counts = slow_bodies(server.port, n, stop)
            else:
                threads, counts = flood(server.port, deps, n, n if sessions == "own" else 1, stop)
            try:
                row = benign(server.port, deps, args.seconds)
            finally:
                stop.set()
                for thread in threads:
                    thread.join(60)
            row.update(kind=kind, connections=n, sessions=sessions, attackers=counts)
            results.append(row)
            print(table_row(row), flush=True)
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "rows": results}, indent=2))
    return 0


def table_row(row: dict) -> str:
    new, sw, nan = row["new_image_s"], row["cached_switch_s"], float("nan")
    who = f"{row['kind']} {row['connections']}"
    if row["kind"] == "flood":
        who += f"×{row['sessions']}"
    return (
        f"{who:>16}  new image p50 {new.get('p50', nan):6.2f} s  p95 {new.get('p95', nan):6.2f} s"
        f"  max {new.get('max', nan):6.2f} s  busy {row['busy_answers']:3d}"
        f"  cached switch p50 {sw.get('p50', nan):5.2f} s  max {sw.get('max', nan):5.2f} s"
        f"  attackers {row['attackers']}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
