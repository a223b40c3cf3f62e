"""Where a layer switch's server time goes: each step of the three callbacks, timed alone.

Steps are what the callbacks do, called directly (no Dash): build each figure, serialise it
as Dash does, and the detail's input-image work (decode, preprocess, un-normalise), which
is redone on every call. Both wall and thread-CPU medians, so that a busy machine can be
told apart from slow code.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from plotly.io.json import to_json_plotly

from dashboard import figures
from dashboard.explorer import Explorer
from dashboard.views import View


def _measure(fn: Callable[[], object], repeats: int) -> tuple[object, dict]:
    walls, cpus, value = [], [], None
    for _ in range(repeats):
        cpu, start = time.thread_time(), time.perf_counter()
        value = fn()
        walls.append((time.perf_counter() - start) * 1000.0)
        cpus.append((time.thread_time() - cpu) * 1000.0)
    return value, {
        "wall_ms": round(statistics.median(walls), 2),
        "cpu_ms": round(statistics.median(cpus), 2),
    }


def switch_breakdown(explorer: Explorer, view: View, repeats: int = 7) -> dict:
    """Median wall and CPU ms of each step of a layer switch to ``view.layer``."""
    model = explorer.model(view.model)
    layer = explorer.layer(model, view.layer)
    maps = explorer.layer_outputs(model, view.image)[layer.name]
    steps: dict[str, dict] = {}

    kernel, steps["kernels.build"] = _measure(lambda: explorer.kernel_view(view).figure, repeats)
    _, steps["kernels.json"] = _measure(lambda: to_json_plotly(kernel), repeats)

    grid, steps["features.build"] = _measure(
        lambda: figures.feature_grid(maps, scale=view.scale, selected=0, layer=layer.name),
        repeats,
    )
    _, steps["features.json"] = _measure(lambda: to_json_plotly(grid), repeats)

    _, steps["detail.decode_image"] = _measure(lambda: explorer.images.get(view.image), repeats)
    x, steps["detail.preprocess"] = _measure(
        lambda: explorer.input_tensor(model, view.image), repeats
    )
    shown, steps["detail.to_display"] = _measure(lambda: model.to_display(x), repeats)
    detail, steps["detail.build"] = _measure(
        lambda: figures.feature_detail(maps[0], channel=0, layer=layer.name, image=shown),
        repeats,
    )
    _, steps["detail.json"] = _measure(lambda: to_json_plotly(detail), repeats)
    steps["detail.input_image_bytes"] = len(
        to_json_plotly(detail.data[1]) if len(detail.data) > 1 else ""
    )
    timed_steps = {k: v for k, v in steps.items() if isinstance(v, dict)}
    del timed_steps["detail.decode_image"]  # detail.preprocess includes the decode
    for unit in ("wall_ms", "cpu_ms"):
        steps[f"total.{unit}"] = round(sum(v[unit] for v in timed_steps.values()), 1)
    return steps
