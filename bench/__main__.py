"""``python -m bench``: ConvScope vs matplotlib vs make_subplots on VGG16, in one run.

Per conv layer of VGG16 (random weights, 224x224, 2 torch threads): the source script's
matplotlib grid, a naive one-subplot-per-channel plotly figure, ConvScope's own figures
and the real Dash callbacks (layer switch; first view after a new image vs the bare
forward pass; response sizes); headless Chromium for the largest layers; resident memory
after many images in a fresh process; the page over emulated 10 and 50 Mbit/s links, with
and without compression (``bench.network``). Prints a table and PASS/FAIL per target, and
writes everything as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

# Offline and reproducible: never look at (or fill) the developer's own hub cache, so
# VGG16 always has its seeded random weights.
os.environ.setdefault("TORCH_HOME", tempfile.mkdtemp(prefix="convscope-bench-torch-"))

log = logging.getLogger("bench")

MODEL = "vgg16"
DESCRIPTION = "ConvScope vs matplotlib vs make_subplots on VGG16, in one run."
QUICK_LAYERS = ("features.0", "features.10", "features.28")
BROWSER_LAYERS = ("features.0", "features.10", "features.17", "features.28")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=DESCRIPTION)
    parser.add_argument("--layers", help="comma-separated conv layers (default: all 13)")
    parser.add_argument("--repeats", type=int, help="rounds per layer (default 5, quick 3)")
    parser.add_argument(
        "--baseline-repeats", type=int, help="rounds of the baselines (default 3, quick 1)"
    )
    parser.add_argument(
        "--mpl-wide-repeats",
        type=int,
        default=1,
        help="matplotlib rounds on layers of more than 128 maps (slow: default 1)",
    )
    parser.add_argument("--quick", action="store_true", help="3 layers, fewer rounds (~2 min)")
    parser.add_argument(
        "--browser", action=argparse.BooleanOptionalAction, default=True, help="headless Chromium"
    )
    parser.add_argument("--browser-layers", help=f"default {','.join(BROWSER_LAYERS)}")
    parser.add_argument("--browser-repeats", type=int, help="switches per layer (default 3)")
    parser.add_argument(
        "--memory", action=argparse.BooleanOptionalAction, default=True, help="RSS run"
    )
    parser.add_argument("--memory-images", type=int, help="images (default 50, quick 12)")
    parser.add_argument("--cache-mb", type=int, default=256, help="cache budget of the RSS run")
    parser.add_argument(
        "--margin-mb",
        type=int,
        default=192,
        help="RSS allowed beyond model + budget (default 192): the activation set being "
        "computed while the cache is full (52 MiB for VGG16), the forward pass's "
        "intermediates and the figures being built, and the freed heap glibc keeps",
    )
    parser.add_argument(
        "--network",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Chromium over emulated 10 and 50 Mbit/s links (python -m bench.network alone)",
    )
    parser.add_argument("--network-layers", help="VGG16 layers switched to (default: all 13)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args(argv)
    quick = args.quick
    args.repeats = args.repeats or (3 if quick else 5)
    args.baseline_repeats = args.baseline_repeats or (1 if quick else 3)
    args.browser_repeats = args.browser_repeats or (2 if quick else 3)
    args.memory_images = args.memory_images or (12 if quick else 50)
    if args.network:  # unknown layers stop the run here, not after the rest of it
        from bench.network import plan_for

        args.network_layers = ",".join(plan_for(args.network_layers, quick).layers)
    return args


def run(args: argparse.Namespace) -> dict:
    import torch

    torch.set_num_threads(2)
    from bench import report, targets
    from bench.breakdown import switch_breakdown
    from bench.figure_bench import Repeats, bench_layer
    from bench.memory import run_memory
    from bench.server_bench import bench_server_layer
    from dashboard.app import create_app
    from dashboard.config import Config
    from dashboard.views import View
    from tests.wire import DashClient, ExplorerTab, distinct_images, find_explorer, initial_values

    started = time.perf_counter()
    results: dict = {"machine": report.machine(), "args": _jsonable(vars(args))}
    config = Config(cache_mb=1024, default_model=MODEL, request_timeout_s=300)
    app = create_app(config)
    explorer = find_explorer(app)
    image = next((k for k in explorer.images.sample_keys if "chelsea" in k), "random")
    client = DashClient(app)
    session = ExplorerTab(client, initial_values(client, MODEL, image))
    opened = session.open_model(MODEL)  # builds VGG16 and runs its first forward pass
    loaded = explorer.model(MODEL)
    all_layers = [layer.name for layer in loaded.conv_layers]
    layers = _chosen(args.layers, QUICK_LAYERS if args.quick else all_layers, all_layers)
    results["model"] = {"key": loaded.key, "weights": loaded.weights, "image": image}
    results["model"]["open_ms"] = [round(r.ms, 1) for r in opened]
    repeats = Repeats(args.repeats, args.baseline_repeats, args.mpl_wide_repeats)
    images = distinct_images(args.seed)
    results["layers"] = {}
    for index, layer in enumerate(layers):
        log.info("layer %s (%d/%d)", layer, index + 1, len(layers))
        figures = report.add_speedups(bench_layer(explorer, MODEL, layer, image, repeats))
        steps = switch_breakdown(explorer, View(MODEL, layer, image), args.repeats)
        away = all_layers[0] if layer != all_layers[0] else all_layers[-1]
        server = bench_server_layer(session, explorer, MODEL, layer, away, images, args.repeats)
        results["layers"][layer] = {"figures": figures, "server": server, "steps": steps}
    stats = explorer.activations.stats
    results["forward_passes_total"] = {"misses": stats.misses, "hits": stats.hits}

    if args.browser:
        results["browser"] = _browser(args, config, layers, all_layers)
    if args.memory:
        results["memory"] = run_memory(
            MODEL, args.memory_images, args.cache_mb, args.margin_mb, args.seed + 1
        )
    if args.network:
        results["network"] = _network(args)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    results["verdicts"] = [v.__dict__ for v in targets.verdicts(results)]
    results["table"] = report.table(results)
    results["steps_table"] = report.steps_table(results)
    return results


def _browser(args: argparse.Namespace, config, layers: list[str], all_layers: list[str]) -> dict:
    from bench.browser import bench_browser
    from dashboard.app import create_app

    chosen = _chosen(args.browser_layers, [x for x in BROWSER_LAYERS if x in layers], all_layers)
    if not chosen:
        return {"error": "no browser layer among the measured layers", "layers": {}}
    away = next((x for x in reversed(all_layers) if x not in chosen), chosen[-1])
    try:
        result = bench_browser(create_app(config), chosen, away, args.browser_repeats)
    except Exception as exc:  # a missing browser must not lose the rest of the run
        log.exception("browser run failed")
        return {"error": f"{type(exc).__name__}: {exc}", "layers": {}}
    return {**result, "repeats": args.browser_repeats}


def _network(args: argparse.Namespace) -> dict:
    """The NETWORK section (``bench.network``); --quick: compressed only, the slow link."""
    from bench.network import plan_for, run_network
    from bench.network_report import network_table

    plan = plan_for(args.network_layers, args.quick, "compressed" if args.quick else None)
    try:
        network = run_network(plan)
    except Exception as exc:  # a missing browser must not lose the rest of the run
        log.exception("network run failed")
        return {"error": f"{type(exc).__name__}: {exc}"}
    network["table"] = network_table(network)
    return network


def _chosen(raw: str | None, default: list[str] | tuple[str, ...], known: list[str]) -> list[str]:
    names = [n.strip() for n in raw.split(",") if n.strip()] if raw else list(default)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown layer(s) {', '.join(unknown)}; {MODEL} has {', '.join(known)}")
    return names


def _jsonable(values: dict) -> dict:
    return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    args = parse_args(argv)
    results = run(args)
    from bench.targets import Verdict

    print()
    print(results["table"])
    print("\nCPU ms of each step of a layer switch (d image = decode + preprocess the input):")
    print(results["steps_table"])
    if "table" in results.get("network", {}):
        print()
        print(results["network"]["table"])
    print()
    for verdict in results["verdicts"]:
        print(Verdict(**verdict).line())
    load = results["machine"]
    print(
        f"\n{results['seconds']:.0f} s; load average {load['loadavg_at_start'][0]:.1f} at the "
        f"start, {load['loadavg_at_end'][0]:.1f} at the end ({load['nproc']} cores); "
        f"results in {args.out}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(args.out)
    return 0 if all(v["passed"] is not False for v in results["verdicts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
