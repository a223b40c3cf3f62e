"""Resident memory after many different images, in a fresh process.

``python -m bench.memory --images 50 --cache-mb 256`` prints one JSON object. Each image
goes through the real upload path and the first-view callbacks (a new forward pass each),
so the activation cache fills, evicts, and the process shows what a long-running worker
keeps. Run in its own process so that nothing measured before (matplotlib, the browser,
other apps' caches) is counted.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

MIB = 1024 * 1024
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)


def rss() -> int:
    return psutil.Process().memory_info().rss


def malloc_trim() -> bool:
    """Ask glibc to return free heap memory to the OS; False where there is no glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


def set_mmap_threshold(nbytes: int) -> None:
    """Fix glibc's mmap threshold (and so stop its dynamic growth): freed arrays of at least
    ``nbytes`` go back to the OS at once instead of staying in the heap."""
    if not ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, nbytes):
        raise RuntimeError(f"mallopt(M_MMAP_THRESHOLD, {nbytes}) failed")


def measure(
    model: str, layer: str, images: int, cache_mb: int, seed: int, mmap_threshold: int | None
) -> dict:
    import torch

    from bench.server_bench import check_figure
    from dashboard.app import create_app
    from dashboard.config import Config
    from tests.wire import DashClient, ExplorerTab, distinct_images, find_explorer, initial_values

    torch.set_num_threads(2)
    rss_start = rss()
    app = create_app(Config(cache_mb=cache_mb, default_model=model, request_timeout_s=300))
    explorer = find_explorer(app)
    explorer.model(model)  # builds it (random weights offline)
    gc.collect()
    rss_model = rss()
    client = DashClient(app)
    session = ExplorerTab(client, initial_values(client, model, "random"))
    session.open_model(model)
    session.switch_layer(layer)
    rss_first = rss()
    stream = distinct_images(seed)
    trajectory = []
    before = explorer.activations.stats.forward_passes
    for index in range(images):
        session.upload(next(stream), f"memory-{index}.png")
        features, _detail = session.new_image()
        check_figure(features, "feature-grid.figure")
        trajectory.append(round(rss() / MIB, 1))
    passes = explorer.activations.stats.forward_passes - before
    rss_end = rss()
    gc.collect()
    rss_end_gc = rss()
    trimmed = malloc_trim()
    rss_end_trim = rss()
    cache = explorer.activations
    half = trajectory[len(trajectory) // 2 - 1] if len(trajectory) > 1 else trajectory[-1]
    return {
        "model": model,
        "layer": layer,
        "images": images,
        "forward_passes": passes,
        "cache_budget_bytes": cache.budget,
        "cache_used_bytes": cache.used,
        "rss_start_mib": round(rss_start / MIB, 1),
        "rss_model_loaded_mib": round(rss_model / MIB, 1),
        "rss_first_view_mib": round(rss_first / MIB, 1),
        "rss_after_images_mib": round(rss_end / MIB, 1),
        "rss_after_images_gc_mib": round(rss_end_gc / MIB, 1),
        # glibc keeps freed heap pages; what malloc_trim gives back was free, not live
        "rss_after_malloc_trim_mib": round(rss_end_trim / MIB, 1) if trimmed else None,
        "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},
        "mmap_threshold": mmap_threshold,
        "rss_growth_second_half_mib": round(trajectory[-1] - half, 1),
        "rss_trajectory_mib": trajectory,
    }


def run_memory(model: str, images: int, cache_mb: int, margin_mb: int, seed: int) -> dict:
    """Run ``measure`` in a fresh interpreter; adds the bound it is judged against."""
    command = [sys.executable, "-m", "bench.memory", "--model", model, "--images", str(images)]
    command += ["--cache-mb", str(cache_mb), "--seed", str(seed)]
    root = Path(__file__).resolve().parent.parent
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH", "")]))
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=root, env=env, timeout=1800, check=False
    )
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-2000:]}"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["margin_mib"] = margin_mb
    result["bound_mib"] = result["rss_model_loaded_mib"] + cache_mb + margin_mb
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--model", default="vgg16")
    parser.add_argument("--layer", default="features.0")
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--cache-mb", type=int, default=256)
    parser.add_argument("--seed", type=int, default=50)
    parser.add_argument(
        "--mmap-threshold",
        type=int,
        help="first call mallopt(M_MMAP_THRESHOLD, N), e.g. 1048576: the allocator fix to try",
    )
    args = parser.parse_args(argv)
    if args.mmap_threshold:
        set_mmap_threshold(args.mmap_threshold)
    os.environ.setdefault("TORCH_HOME", tempfile.mkdtemp(prefix="convscope-bench-torch-"))
    result = measure(
        args.model, args.layer, args.images, args.cache_mb, args.seed, args.mmap_threshold
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
