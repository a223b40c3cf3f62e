"""``python -m bench.network``: ConvScope in headless Chromium over an emulated real link.

The Procfile's ``web:`` command (waitress, as deployed) serves the app on loopback, one
server with compression and one without (``CONVSCOPE_COMPRESS``), both started first so
they run the same code. Per server and link, a fresh Chromium with DevTools network
emulation and its cache off: cold first loads (TinyVGG, until both grids are drawn),
VGG16 opened on the cat, a switch into each chosen conv layer (on the server's first link
once first, reported as cold, then again), tile clicks, and an upload of a 1000x700 photo.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from bench.network_probe import FAST, SLOW, Link, summarise, upload_ms

log = logging.getLogger("bench.network")

MODEL = "vgg16"
IMAGE = "sample:chelsea.png"  # the page's default sample: the app picks the cat
VGG16_LAYERS = tuple(f"features.{i}" for i in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28))
QUICK_LAYERS = ("features.0", "features.10", "features.28")
MODES = {"compressed": True, "uncompressed": False}
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "network.json"
TIMEOUT_S = 120.0
OPEN_TIMEOUT_S = 300.0  # the first VGG16 view builds the model and runs its forward pass


def _switch(driver, layer: str, current: str, timeout_s: float) -> dict:
    from bench.network_page import switch_layer

    if layer == current:  # choosing the layer shown changes nothing: go away first
        switch_layer(driver, VGG16_LAYERS[-1 if layer == VGG16_LAYERS[0] else 0], timeout_s)
    return switch_layer(driver, layer, timeout_s)


@dataclass(frozen=True)
class Plan:
    """What one run measures (``quick``: 3 layers, the slow link, one load, one click)."""

    layers: tuple[str, ...] = VGG16_LAYERS
    links: tuple[Link, ...] = (SLOW, FAST)
    modes: tuple[str, ...] = tuple(MODES)
    loads: int = 2  # cold first loads per link; the median is judged
    clicks: int = 3
    upload: bool = True


QUICK = Plan(layers=QUICK_LAYERS, links=(SLOW,), loads=1, clicks=1)


def measure_link(url: str, link: Link, plan: Plan, cold: bool, upload: Path | None) -> dict:
    """Every measure on ``link`` in one fresh browser; ``cold``: the server's first visit."""
    from bench import network_page as page

    out: dict = {"link": link.name}
    with page.chromium(link) as driver:
        out["chromium"] = driver.capabilities.get("browserVersion")
        out["first_load"] = page.first_loads(driver, url, plan.loads, TIMEOUT_S)
        wanted = {g: page.grid_of(VGG16_LAYERS[0]) for g in page.GRIDS}
        out["open"] = page.choose(driver, "model-select", MODEL, wanted, OPEN_TIMEOUT_S)
        out["open"]["cold"] = cold
        current = VGG16_LAYERS[0]
        order = [x for x in plan.layers if x != current] + [x for x in plan.layers if x == current]
        for name in ("cold", "switches") if cold else ("switches",):
            out[name] = {}
            for layer in order:
                out[name][layer] = _switch(driver, layer, current, TIMEOUT_S)
                current = layer
                log.info("%s %s %s: %s", link.name, name, layer, out[name][layer])
        out["click_layer"] = current
        out["clicks"] = []
        for channel in range(1, plan.clicks + 1):
            if not _attempt(out, "clicks", lambda c=channel: page.click_tile(driver, c, TIMEOUT_S)):
                break
        if upload is not None and _attempt(
            out, "upload", lambda: page.upload(driver, upload, TIMEOUT_S)
        ):
            out["upload"]["modelled_upload_ms"] = round(upload_ms(out["upload"]["bytes_up"], link))
            out["upload"]["layer"] = current
    out["summary"] = summarise(out)
    return out


def _attempt(out: dict, key: str, measure: Callable[[], dict]) -> bool:
    """Store ``measure()`` under ``key`` (appended when a list is there); on failure, the
    error under ``key + "_error"``, so the other measures still run."""
    try:
        value = measure()
    except Exception as exc:  # a lost click must not lose the upload after it
        log.warning("%s failed: %s", key, exc)
        out[f"{key}_error"] = f"{type(exc).__name__}: {exc}"
        return False
    if isinstance(out.get(key), list):
        out[key].append(value)
    else:
        out[key] = value
    return True


def _loopback_load(url: str, count: int) -> dict:
    from bench.network_page import chromium, first_loads

    with chromium(None) as driver:
        return first_loads(driver, url, count, TIMEOUT_S)


def _server_env(compress: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVSCOPE_")}
    env.update(
        CONVSCOPE_COMPRESS="1" if compress else "0",
        CONVSCOPE_CACHE_MB="1024",
        CONVSCOPE_REQUEST_TIMEOUT_S=str(int(OPEN_TIMEOUT_S)),
    )
    return env


def _describe() -> str:
    """The commit measured, "-dirty" when the tree has changes (git describe)."""
    git = ["git", "describe", "--always", "--dirty"]
    done = subprocess.run(git, capture_output=True, text=True, check=False, cwd=DEFAULT_OUT.parent)
    return done.stdout.strip() or "unknown"


def run_network(plan: Plan = Plan()) -> dict:
    """Per compression mode and link, the measures of ``measure_link``; never raises for
    one link's failure (its entry says what went wrong)."""
    from bench import network_page as page
    from tests.wire import LOOPBACK, Server

    started = time.perf_counter()
    results: dict = {
        "model": MODEL,
        "image": IMAGE,
        "layers": list(plan.layers),
        "links": [
            {"key": x.key, "name": x.name, "mbit": x.mbit, "rtt_ms": x.rtt_ms} for x in plan.links
        ],
        "code": _describe(),
        "loadavg_at_start": list(os.getloadavg()),
        "runs": {},
        "loopback": {},  # per mode: the first load without emulation, what the CPU costs
    }
    with tempfile.TemporaryDirectory(prefix="convscope-network-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        photo_path = page.photo(folder) if plan.upload else None
        if photo_path is not None:
            results["upload_file"] = {"name": photo_path.name, "bytes": photo_path.stat().st_size}
        # Every server starts now, so all import the same code even if the tree changes later.
        servers = {
            mode: stack.enter_context(
                Server.from_procfile(folder / f"{mode}.log", env=_server_env(MODES[mode]))
            )
            for mode in plan.modes
        }
        for mode, server in servers.items():
            server.wait_ready(60)
            url = f"http://{LOOPBACK}:{server.port}/"
            _attempt(results["loopback"], mode, lambda u=url: _loopback_load(u, plan.loads))
            results["runs"][mode] = runs = {}
            for index, link in enumerate(plan.links):
                log.info("network: %s, %s", mode, link.name)
                try:
                    runs[link.key] = measure_link(url, link, plan, index == 0, photo_path)
                except Exception as exc:  # one link's failure must not lose the others
                    log.exception("network run %s %s failed", mode, link.name)
                    runs[link.key] = {"error": f"{type(exc).__name__}: {exc}"}
                    runs[link.key]["server_log"] = server.log_tail()
    chromium = [r.get("chromium") for m in results["runs"].values() for r in m.values()]
    results["chromium"] = next((c for c in chromium if c), None)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["loadavg_at_end"] = list(os.getloadavg())
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.network", description=__doc__)
    parser.add_argument("--layers", help="comma-separated VGG16 conv layers (default: all 13)")
    parser.add_argument("--quick", action="store_true", help="3 layers, 10 Mbit only, 1 click")
    parser.add_argument("--modes", help="compression modes (default compressed,uncompressed)")
    parser.add_argument("--loads", type=int, help="cold first loads per link (default 2)")
    parser.add_argument("--clicks", type=int, help="tile clicks per link (default 3)")
    parser.add_argument("--no-upload", dest="upload", action="store_false")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    return parser.parse_args(argv)


def plan_for(
    layers: str | None, quick: bool, modes: str | None = None, **counts: int | bool | None
) -> Plan:
    """The plan the options ask for; SystemExit naming an unknown layer or mode.

    ``counts``: ``loads``, ``clicks``, ``upload`` (None: the default).
    """
    base = QUICK if quick else Plan()
    names = tuple(n.strip() for n in (layers or "").split(",") if n.strip()) or base.layers
    if unknown := [n for n in names if n not in VGG16_LAYERS]:
        raise SystemExit(f"unknown layer(s) {', '.join(unknown)}; {MODEL} has {VGG16_LAYERS}")
    chosen = tuple(m.strip() for m in (modes or "").split(",") if m.strip()) or base.modes
    if unknown := [m for m in chosen if m not in MODES]:
        raise SystemExit(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
    given = {k: v for k, v in counts.items() if v is not None}
    return replace(base, layers=names, modes=chosen, **given)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    os.environ.setdefault("TORCH_HOME", tempfile.mkdtemp(prefix="convscope-bench-torch-"))
    args = parse_args(argv)
    from bench import targets
    from bench.network_report import network_table

    plan = plan_for(
        args.layers,
        args.quick,
        args.modes,
        loads=args.loads,
        clicks=args.clicks,
        upload=args.upload,
    )
    network = run_network(plan)
    verdicts = targets.network_verdicts(network)
    network["verdicts"] = [v.__dict__ for v in verdicts]
    network["table"] = network_table(network)
    print()
    print(network["table"])
    print()
    for verdict in verdicts:
        print(verdict.line())
    print(f"\n{network['seconds']:.0f} s; results in {args.out}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    tmp.write_text(json.dumps({"network": network}, indent=1) + "\n")
    tmp.replace(args.out)
    return 0 if all(v.passed is not False for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
