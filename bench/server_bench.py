"""Server time of the real callbacks: layer switch, first view after a new image, forward.

Everything goes through ``/_dash-update-component`` (see tests.wire). Per layer and
round: switch away and back to the layer (timed: its activations are cached), upload a new
image, then time the bare ``model(x)`` and the first view of that image side by side (the
order alternates between rounds, so neither always runs second on a warm CPU).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import torch
from PIL import Image

from bench.timing import median, ratio, summary, timed
from dashboard.explorer import Explorer
from tests.wire import ExplorerTab, ForwardCounter, Reply

log = logging.getLogger(__name__)


def check_figure(reply: Reply, key: str) -> None:
    """Raise when a figure output is an error message instead of a grid."""
    figure = reply.outputs.get(key)
    status = reply.outputs.get("status.children")
    if status:
        raise RuntimeError(f"{reply.output}: the page says {status!r}")
    if not isinstance(figure, dict) or not figure.get("data"):
        layout = (figure or {}).get("layout", {}) if isinstance(figure, dict) else {}
        notes = [a.get("text") for a in layout.get("annotations", [])]
        raise RuntimeError(f"{reply.output}: no figure data ({notes})")


def bare_forward_ms(module: torch.nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """The whole model on one input, as a plain script would run it: (wall, process CPU) ms."""

    def run() -> None:
        with torch.inference_mode():
            module(x)

    cpu = time.process_time()
    wall = timed(run)[1]
    return wall, (time.process_time() - cpu) * 1000.0


def bench_server_layer(
    session: ExplorerTab,
    explorer: Explorer,
    model_name: str,
    layer: str,
    away: str,
    images: Iterator[Image.Image],
    repeats: int,
) -> dict:
    """Switch and first-view timings for one layer, with forward-pass accounting."""
    loaded = explorer.model(model_name)
    counter = ForwardCounter(loaded.module)
    stats = explorer.activations.stats
    switch: dict[str, list[float]] = {"kernels": [], "features": [], "detail": [], "total": []}
    switch_cpu: list[float] = []
    first_cpu: list[float] = []
    first_idle: list[float] = []
    forward_idle: list[float] = []
    forward_cpu: list[float] = []
    first: dict[str, list[float]] = {"features": [], "detail": [], "total": []}
    forward_ms: list[float] = []
    upload_ms: list[float] = []
    pair_ratios: list[float] = []
    sizes: dict[str, int] = {}
    passes = {"switch": 0, "new_image": 0, "hooked_switch": 0, "hooked_new_image": 0}
    try:
        for index in range(repeats):
            session.switch_layer(away)
            before, hooked = stats.forward_passes, counter.calls
            kernels, features, detail = session.switch_layer(layer)
            passes["switch"] += stats.forward_passes - before
            passes["hooked_switch"] += counter.calls - hooked
            check_figure(features, "feature-grid.figure")
            trio = (kernels, features, detail)
            for name, response in zip(("kernels", "features", "detail"), trio, strict=True):
                switch[name].append(response.ms)
                sizes[name] = max(sizes.get(name, 0), response.nbytes)
            switch["total"].append(kernels.ms + features.ms + detail.ms)
            switch_cpu.append(sum(r.cpu_ms for r in trio))

            image = next(images)
            upload_ms.append(session.upload(image, f"bench-{layer}-{index}.png").ms)
            x = loaded.preprocess(image)
            if index % 2:
                bare, bare_cpu = bare_forward_ms(loaded.module, x)
            before, hooked = stats.forward_passes, counter.calls
            features, detail = session.new_image()
            passes["new_image"] += stats.forward_passes - before
            passes["hooked_new_image"] += counter.calls - hooked
            if not index % 2:
                bare, bare_cpu = bare_forward_ms(loaded.module, x)
            check_figure(features, "feature-grid.figure")
            forward_ms.append(bare)
            forward_cpu.append(bare_cpu)
            first_cpu.append(features.process_cpu_ms + detail.process_cpu_ms)
            # What an idle 2-core machine would show: the request thread's own work runs
            # serially, the rest (the forward pass on 2 torch threads) splits over 2 cores.
            own = features.cpu_ms + detail.cpu_ms
            first_idle.append(own + max(0.0, first_cpu[-1] - own) / 2)
            forward_idle.append(bare_cpu / 2)
            first["features"].append(features.ms)
            first["detail"].append(detail.ms)
            first["total"].append(features.ms + detail.ms)
            pair_ratios.append((features.ms + detail.ms) / bare)
            sizes["first_view_features"] = max(sizes.get("first_view_features", 0), features.nbytes)
            sizes["first_view_detail"] = max(sizes.get("first_view_detail", 0), detail.nbytes)
            log.info(
                "%s round %d: switch %.0f ms, first view %.0f ms, forward %.0f ms",
                layer,
                index,
                switch["total"][-1],
                first["total"][-1],
                bare,
            )
    finally:
        counter.remove()
    first_median = median(first["total"])
    forward_median = median(forward_ms)
    return {
        "switch_ms": {name: summary(values) for name, values in switch.items()},
        "switch_thread_cpu_ms": summary(switch_cpu),
        "first_view_ms": {name: summary(values) for name, values in first.items()},
        "forward_ms": summary(forward_ms),
        "upload_ms": summary(upload_ms),
        "first_view_over_forward": ratio(first_median, forward_median),
        "first_view_over_forward_paired_median": median(pair_ratios),
        "first_view_process_cpu_ms": summary(first_cpu),
        "forward_process_cpu_ms": summary(forward_cpu),
        "first_view_over_forward_process_cpu": ratio(median(first_cpu), median(forward_cpu)),
        "first_view_idle_estimate_ms": summary(first_idle),
        "forward_idle_estimate_ms": summary(forward_idle),
        "first_view_over_forward_idle_estimate": ratio(median(first_idle), median(forward_idle)),
        "response_bytes": sizes,
        "max_response_bytes": max(sizes.values()),
        "forward_passes": {**passes, "images": repeats, "switches": repeats},
    }
