"""The issue's targets, judged from a run's results: one PASS/FAIL/SKIP line each."""

from __future__ import annotations

from dataclasses import dataclass

SWITCH_MS = 100.0
FIRST_VIEW_RATIO = 1.3
MAX_RESPONSE_BYTES = 2_000_000
BROWSER_MS = 1000.0
SPEEDUP = 20.0
WIDE_LAYER_MAPS = 512
# issue 10, on the slow link (10 Mbit/s, 40 ms), as deployed (compressed)
NET_LINK = "10mbit_40ms"
NET_FIRST_LOAD_MS = 3000.0
NET_SWITCH_MEDIAN_MS = 1000.0
NET_SWITCH_WORST_MS = 1500.0
NET_SWITCH_BYTES = 600_000  # KB = 1000 bytes, all answers of one switch, headers included


@dataclass(frozen=True)
class Verdict:
    target: str
    passed: bool | None  # None: not measured in this run
    detail: str

    def line(self) -> str:
        word = {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]
        return f"{word}  {self.target}: {self.detail}"


def _worst(rows: dict[str, float | None], larger_is_worse: bool = True) -> tuple[str, float]:
    known = {k: v for k, v in rows.items() if v is not None}
    pick = max if larger_is_worse else min
    layer = pick(known, key=known.__getitem__)
    return layer, known[layer]


def verdicts(results: dict) -> list[Verdict]:
    layers: dict[str, dict] = results["layers"]
    out: list[Verdict] = []

    switch = {n: r["server"]["switch_ms"]["total"]["median"] for n, r in layers.items()}
    layer, worst = _worst(switch)
    cpu = {n: r["server"]["switch_thread_cpu_ms"]["median"] for n, r in layers.items()}
    cpu_layer, cpu_worst = _worst(cpu)
    out.append(
        Verdict(
            f"layer switch server time, median <= {SWITCH_MS:g} ms on every layer",
            worst <= SWITCH_MS,
            f"worst {layer} {worst:.0f} ms wall ({cpu[layer]:.0f} ms CPU); CPU time, what an "
            f"idle machine would show, {cpu_worst:.0f} ms at worst ({cpu_layer}); kernels + "
            "features + detail callbacks",
        )
    )
    ratios = {n: r["server"]["first_view_over_forward_paired_median"] for n, r in layers.items()}
    layer, worst = _worst(ratios)
    row = layers[layer]["server"]
    idle = {n: r["server"]["first_view_over_forward_idle_estimate"] for n, r in layers.items()}
    out.append(
        Verdict(
            f"first view after a new image <= {FIRST_VIEW_RATIO:g} x bare forward pass",
            worst <= FIRST_VIEW_RATIO,
            f"worst {layer}: median of back-to-back pairs {worst:.2f}x (medians "
            f"{row['first_view_ms']['total']['median']:.0f} ms vs forward "
            f"{row['forward_ms']['median']:.0f} ms; from CPU times, an idle machine: "
            f"{_worst(idle)[1]:.2f}x at worst; forward passes per new image "
            f"{_passes_per_image(layers)}, per layer switch {_passes_per_switch(layers)})",
        )
    )
    sizes = {n: r["server"]["max_response_bytes"] for n, r in layers.items()}
    for name, run in results.get("browser", {}).get("layers", {}).items():
        sizes[name] = max(sizes.get(name, 0), *run["bytes"].values())
    layer, worst = _worst(sizes)
    out.append(
        Verdict(
            f"any single callback response <= {MAX_RESPONSE_BYTES:,} bytes",
            worst <= MAX_RESPONSE_BYTES,
            f"largest {worst:,} bytes ({layer})",
        )
    )
    browser = results.get("browser")
    if browser and browser.get("layers"):
        render = {n: r["render_ms"]["median"] for n, r in browser["layers"].items()}
        layer, worst = _worst(render)
        out.append(
            Verdict(
                f"browser: response arrived -> grids drawn <= {BROWSER_MS:g} ms",
                worst <= BROWSER_MS,
                f"worst {layer} {worst:.0f} ms (median of {browser['repeats']} switches, "
                f"headless Chromium {browser.get('chromium')})",
            )
        )
    else:
        out.append(Verdict("browser: response arrived -> grids drawn", None, "not run"))
    mpl = {n: r["figures"]["speedup_matplotlib"] for n, r in layers.items()}
    layer, worst = _worst(mpl, larger_is_worse=False)
    out.append(
        Verdict(
            f"vs the source script's matplotlib grid >= {SPEEDUP:g}x faster",
            worst >= SPEEDUP,
            f"smallest {worst:.0f}x ({layer}; ConvScope time = feature grid + kernel page "
            "build + JSON)",
        )
    )
    wide = {
        n: r["figures"]["speedup_subplots"]
        for n, r in layers.items()
        if r["figures"]["maps_shape"][0] >= WIDE_LAYER_MAPS
    }
    if wide:
        layer, worst = _worst(wide, larger_is_worse=False)
        out.append(
            Verdict(
                f"vs one-subplot-per-channel make_subplots >= {SPEEDUP:g}x on 512-map layers",
                worst >= SPEEDUP,
                f"smallest {worst:.0f}x ({layer})",
            )
        )
    else:
        out.append(Verdict("vs make_subplots on 512-map layers", None, "no 512-map layer run"))
    memory = results.get("memory")
    if memory and "rss_after_images_mib" in memory:
        out.append(
            Verdict(
                "resident memory after many images <= model + cache budget + margin",
                memory["rss_after_images_mib"] <= memory["bound_mib"],
                f"{memory['images']} images: RSS {memory['rss_after_images_mib']:.0f} MiB <= "
                f"{memory['rss_model_loaded_mib']:.0f} (model loaded) + "
                f"{memory['cache_budget_bytes'] / 2**20:.0f} (budget) + "
                f"{memory['margin_mib']:.0f} (margin) = {memory['bound_mib']:.0f} MiB; cache "
                f"holds {memory['cache_used_bytes'] / 2**20:.0f} MiB; after malloc_trim "
                f"{memory.get('rss_after_malloc_trim_mib') or 0:.0f} MiB; "
                f"{memory['forward_passes']} forward passes",
            )
        )
    else:
        detail = (memory or {}).get("error", "not run")
        out.append(Verdict("resident memory after many images", None, detail))
    if "network" in results:
        out += network_verdicts(results["network"])
    return out


def network_verdicts(network: dict) -> list[Verdict]:
    """Issue 10's targets on the 10 Mbit/40 ms link with compression on (as deployed)."""
    run = network.get("runs", {}).get("compressed", {}).get(NET_LINK)
    where = "10 Mbit/40 ms, compressed"
    names = (
        f"network: first load <= {NET_FIRST_LOAD_MS / 1000:g} s ({where})",
        f"network: layer switch median <= {NET_SWITCH_MEDIAN_MS / 1000:g} s, worst <= "
        f"{NET_SWITCH_WORST_MS / 1000:g} s ({where})",
        f"network: <= {NET_SWITCH_BYTES / 1000:,.0f} KB on the wire per layer switch",
    )
    if run is None or "error" in run:
        reason = (run or {}).get("error") or network.get("error") or "not run"
        return [Verdict(name, None, reason) for name in names]
    load, summary = run["first_load"], run["summary"]
    loopback = network.get("loopback", {}).get("compressed", {}).get("drawn_ms")
    out = [
        Verdict(
            names[0],
            load["drawn_ms"] <= NET_FIRST_LOAD_MS,
            f"both grids drawn at {load['drawn_ms']:,.0f} ms, {load['bytes'] / 1000:,.0f} KB "
            f"in {load['resources']} resources (the same load without emulation: "
            f"{_or_dash(loopback)} ms)",
        )
    ]
    ms, size = summary["switch_ms"], summary["switch_bytes"]
    if not ms["n"]:
        return [*out, *(Verdict(name, None, "no layer switch measured") for name in names[1:])]
    out.append(
        Verdict(
            names[1],
            ms["median"] <= NET_SWITCH_MEDIAN_MS and ms["max"] <= NET_SWITCH_WORST_MS,
            f"median {ms['median']:,.0f} ms, worst {ms['max']:,.0f} ms "
            f"({summary['worst_ms_layer']}) over {ms['n']} warm switches",
        )
    )
    out.append(
        Verdict(
            names[2],
            size["max"] <= NET_SWITCH_BYTES,
            f"worst {size['max'] / 1000:,.0f} KB ({summary['worst_bytes_layer']}), median "
            f"{size['median'] / 1000:,.0f} KB, in at most {summary['switch_requests_max']} "
            f"requests, {summary['switch_rounds_max']} sequential round(s)",
        )
    )
    return out


def _or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _passes_per_image(layers: dict[str, dict]) -> str:
    runs = [r["server"]["forward_passes"] for r in layers.values()]
    images = sum(p["images"] for p in runs)
    return f"{sum(p['new_image'] for p in runs)}/{images}"


def _passes_per_switch(layers: dict[str, dict]) -> str:
    runs = [r["server"]["forward_passes"] for r in layers.values()]
    return f"{sum(p['switch'] for p in runs)}/{sum(p['switches'] for p in runs)}"
