"""The per-layer tables and the machine's facts, for the console and the JSON."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess

from bench.timing import ratio


def machine() -> dict:
    """uname, cores, memory and library versions, for the JSON."""
    import dash
    import numpy
    import plotly
    import torch

    try:
        import psutil

        memory = psutil.virtual_memory().total
    except ImportError:
        memory = None
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=False)
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "uname": uname.stdout.strip() or platform.platform(),
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_bytes": memory,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "plotly": plotly.__version__,
        "dash": dash.__version__,
        "numpy": numpy.__version__,
        # plotly serialises with orjson when it is importable (requirements.txt has none)
        "plotly_json_engine": _json_engine(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def _json_engine() -> str:
    from plotly.io.json import config

    try:
        import orjson
    except ImportError:
        return "json (stdlib)"
    engine = config.default_engine
    return f"orjson {orjson.__version__}" if engine in ("auto", "orjson") else engine


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}x"


COLUMNS = (
    ("layer", 11),
    ("maps", 12),
    ("mpl ms (n)", 12),
    ("subplots ms", 11),
    ("convscope ms", 12),
    ("x mpl", 6),
    ("x subpl", 7),
    ("switch ms", 9),
    ("(cpu)", 5),
    ("1st view ms", 11),
    ("fwd ms", 7),
    ("ratio", 5),
    ("max KB", 7),
    ("browser ms", 10),
)


def table(results: dict) -> str:
    """Per-layer medians, one row each, fixed width.

    "(cpu)" is the switch's CPU time on the request thread; "ratio" is the median of
    back-to-back (first view / forward) pairs.
    """
    browser = results.get("browser", {}).get("layers", {})
    lines = ["  ".join(title.rjust(width) for title, width in COLUMNS)]
    for name, row in results["layers"].items():
        fig, server = row["figures"], row["server"]
        mpl = fig["matplotlib_ms"]
        first = server["first_view_ms"]["total"]["median"]
        cells = (
            name,
            "x".join(str(d) for d in fig["maps_shape"]),
            f"{_ms(mpl['median'])} ({mpl['n']})",
            _ms(fig["subplots_ms"]["median"]),
            _ms(fig["convscope_ms"]["median"]),
            _x(fig["speedup_matplotlib"]),
            _x(fig["speedup_subplots"]),
            _ms(server["switch_ms"]["total"]["median"]),
            _ms(server["switch_thread_cpu_ms"]["median"]),
            _ms(first),
            _ms(server["forward_ms"]["median"]),
            f"{server['first_view_over_forward_paired_median']:.2f}",
            f"{server['max_response_bytes'] / 1000:,.0f}",
            _ms(browser[name]["render_ms"]["median"]) if name in browser else "-",
        )
        lines.append("  ".join(c.rjust(w) for c, (_, w) in zip(cells, COLUMNS, strict=True)))
    return "\n".join(lines)


def add_speedups(figures: dict) -> dict:
    own = figures["convscope_ms"]["median"]
    figures["speedup_matplotlib"] = ratio(figures["matplotlib_ms"]["median"], own)
    figures["speedup_subplots"] = ratio(figures["subplots_ms"]["median"], own)
    return figures


STEP_COLUMNS = (
    ("kernels.build", "k build"),
    ("kernels.json", "k json"),
    ("features.build", "f build"),
    ("features.json", "f json"),
    ("detail.preprocess", "d image"),
    ("detail.to_display", "d show"),
    ("detail.build", "d build"),
    ("detail.json", "d json"),
)


def steps_table(results: dict) -> str:
    """Per layer: CPU ms of each step of a layer switch (wall in the JSON)."""
    width = 8
    head = ["layer".rjust(11)] + [title.rjust(width) for _, title in STEP_COLUMNS]
    lines = ["  ".join([*head, "sum".rjust(width), "endpoint".rjust(width)])]
    for name, row in results["layers"].items():
        steps = row.get("steps")
        if not steps:
            continue
        cells = [name.rjust(11)]
        cells += [f"{steps[key]['cpu_ms']:.1f}".rjust(width) for key, _ in STEP_COLUMNS]
        cells.append(f"{steps['total.cpu_ms']:.1f}".rjust(width))
        cells.append(f"{row['server']['switch_thread_cpu_ms']['median']:.1f}".rjust(width))
        lines.append("  ".join(cells))
    return "\n".join(lines)
