"""Activation maximisation time: one channel of every conv layer, at the model's input size.

``python -m bench.featurevis [--steps N] [--models tinyvgg,vgg16]`` builds the models
through the ModelRegistry without downloads (random weights unless the hub cache holds
the real ones: the time does not depend on them), runs ``feature_visualisation`` for
channel 0 of each conv layer as the page's job does (one torch thread, the image at most
128 px on its longer side) and writes the table to bench/results/featurevis.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import torch

from bench.report import machine
from dashboard.analysis import DEFAULT_STEPS, feature_visualisation
from dashboard.analysis.image_param import optimisation_shape
from dashboard.analysis.maximise import MAX_SIDE
from dashboard.jobs import in_job_process
from dashboard.models import ModelRegistry

OUT = Path(__file__).resolve().parent / "results" / "featurevis.json"


def time_model(registry: ModelRegistry, name: str, steps: int) -> list[dict]:
    """One row per conv layer of model ``name``."""
    loaded = registry.get(name)

    def run(layer: str, n: int) -> float:
        return feature_visualisation(
            loaded.module,
            layer,
            0,
            input_shape=loaded.input_shape,
            mean=loaded.mean,
            std=loaded.std,
            pixel_max=loaded.pixel_max,
            steps=n,
        ).seconds

    run(loaded.conv_layers[0].name, 2)  # warm-up: first-call allocations and kernels
    rows = []
    for conv in loaded.conv_layers:
        seconds = run(conv.name, steps)
        row = {
            "model": name,
            "weights": loaded.weights,
            "layer": conv.name,
            "input": "×".join(str(s) for s in loaded.input_shape),
            "optimised": "×".join(str(s) for s in optimisation_shape(loaded.input_shape, MAX_SIDE)),
            "steps": steps,
            "seconds": round(seconds, 3),
            "seconds_per_step": round(seconds / steps, 5),
        }
        rows.append(row)
        print(
            f"{name:>8} {conv.name:>12} {row['optimised']:>9} {steps:>5} "
            f"{seconds:8.2f} s {1000 * seconds / steps:8.1f} ms/step",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.featurevis", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--models", default="tinyvgg,vgg16", help="comma-separated names")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    in_job_process()  # the job's own torch settings (one thread: see dashboard/jobs.py)
    registry = ModelRegistry(allow_download=False, cache_size=2)
    facts = {**machine(), "platform": platform.platform(), "cpu_count": os.cpu_count()}
    print(f"{'model':>8} {'layer':>12} {'input':>9} {'steps':>5} {'seconds':>10} {'per step':>16}")
    rows = []
    for name in args.models.split(","):
        rows += time_model(registry, name.strip(), args.steps)
    facts["loadavg_at_end"] = list(os.getloadavg())
    facts["torch_threads"] = torch.get_num_threads()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"date": facts["date"], "machine": facts, "rows": rows}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
