"""Deep zoom round trip: a zoom box on a cached image, posted over loopback HTTP.

``python -m bench.zoom`` serves the app in a thread (werkzeug, loopback), opens VGG16 and
ResNet-50 on the cat photo, then posts zoom windows of several sizes to the feature grid
(and to the kernel-norm overview) as the browser does after a zoom, and reports the
median server round trip and the answer's size. Target: ≤ 300 ms, ≤ 2 MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from dashboard.app import create_app
from dashboard.config import Config
from tests.wire import DashClient, HTTPTransport, Tab, serve_in_thread

OUT = Path(__file__).resolve().parent / "results" / "zoom-latest.json"
SIZE = {"feature": [640, 400], "kernel": [640, 400]}
CASES = [  # model, layer, grid, window as a fraction of the mosaic's side
    ("vgg16", "features.0", "feature", 0.05),
    ("vgg16", "features.0", "feature", 0.12),
    ("vgg16", "features.28", "feature", 0.3),
    ("resnet50", "layer4.2.conv3", "feature", 0.3),
    ("vgg16", "features.28", "kernel", 0.2),
    ("resnet50", "layer4.2.conv3", "kernel", 0.1),
]


def relayout(extent: tuple[float, float], fraction: float, shift: float) -> dict:
    width, height = extent
    x0, y0 = shift * width * (1 - fraction), shift * height * (1 - fraction)
    return {
        "xaxis.range[0]": x0 - 0.5,
        "xaxis.range[1]": x0 + fraction * width - 0.5,
        "yaxis.range[0]": y0 + fraction * height - 0.5,
        "yaxis.range[1]": y0 - 0.5,
    }


def run_case(tab: Tab, model: str, layer: str, grid: str, fraction: float, repeats: int) -> dict:
    tab.set({"model-select.value": model, "layer-select.value": layer, "grid-size.data": SIZE})
    figure_prop = f"{grid}-grid.figure"
    first = "kernel-grid.figure" if grid == "kernel" else "feature-grid.figure"
    shown = tab.fire(first, ["layer-select.value"]).outputs[figure_prop]
    ranges = shown["layout"]["xaxis"]["range"], shown["layout"]["yaxis"]["range"]
    extent = (ranges[0][1] - ranges[0][0], abs(ranges[1][0] - ranges[1][1]))
    callback = tab.client.named(figure_prop, f"{grid}-grid.relayoutData")
    times, sizes, full = [], [], 0
    for index in range(repeats):
        tab.set({f"{grid}-grid.relayoutData": relayout(extent, fraction, index / repeats)})
        reply = tab.post(callback, [f"{grid}-grid.relayoutData"])
        reply.raise_for_status()
        times.append(reply.ms)
        sizes.append(reply.nbytes)
        full += reply.status == 200 and bool(reply.outputs)
    return {
        "model": model,
        "layer": layer,
        "grid": grid,
        "window": fraction,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "max_bytes": max(sizes),
        "answered": full,
        "n": repeats,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.zoom", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    app = create_app(Config(cache_mb=512, request_timeout_s=120))
    rows = []
    with serve_in_thread(app) as port:
        client = DashClient(HTTPTransport(port, timeout_s=120))
        tab = Tab(client)
        tab.set({"image-store.data": "sample:chelsea.png"})
        for case in CASES:
            row = run_case(tab, *case, args.repeats)
            rows.append(row)
            print(
                f"{row['model']:>9} {row['layer']:>15} {row['grid']:>7} window {row['window']:.2f}:"
                f" median {row['median_ms']:6.1f} ms, max {row['max_ms']:6.1f} ms,"
                f" {row['max_bytes'] / 1e6:.2f} MB, {row['answered']}/{row['n']} answered",
                flush=True,
            )
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
