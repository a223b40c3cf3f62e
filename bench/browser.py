"""Headless Chromium: time from a callback's response arriving to its grid being drawn.

The app is served on a loopback port by werkzeug in a thread. Before the page loads, a
script wraps ``fetch`` (recording each ``/_dash-update-component`` response's ``output``
and arrival) and hooks ``plotly_afterplot`` on every graph (recording the figure title).
A layer switch is triggered with ``dash_clientside.set_props`` (what a dropdown choice
dispatches); per grid, drawn time minus response arrival is the browser's share.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from dash import Dash

from bench.timing import summary
from tests.wire import LOOPBACK, serve_in_thread

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1366,900",
)
SETTLE_S = 0.5  # idle time after the detail view drew, before the next switch
GRIDS = {"kernel-grid": "kernel-grid.figure", "feature-grid": "feature-grid.figure"}

RECORDER = """
window.__bench = {responses: [], plots: []};
const realFetch = window.fetch;
window.fetch = function (input, init) {
  const url = typeof input === 'string' ? input : (input && input.url) || '';
  const before = performance.now();
  const promise = realFetch.apply(this, arguments);
  if (url.includes('_dash-update-component') && init && typeof init.body === 'string') {
    let outputs = [];
    try { outputs = JSON.parse(init.body).output.replace(/^\\.\\.|\\.\\.$/g, '').split('...'); }
    catch (e) {}
    const sent = performance.now();
    promise.then(res => res.clone().arrayBuffer().then(buf => {
      window.__bench.responses.push(
        {outputs, before, sent, arrived: performance.now(), bytes: buf.byteLength});
    })).catch(() => {});
  }
  return promise;
};
function hook() {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (gd.__benchHooked || typeof gd.on !== 'function') continue;
    gd.__benchHooked = true;
    const graph = gd.closest('[id]') ? gd.closest('[id]').id : '';
    gd.on('plotly_afterplot', () => {
      const t = performance.now();
      const title = gd.layout && gd.layout.title;
      const text = typeof title === 'string' ? title : (title && title.text) || '';
      const entry = {graph, t, title: text, painted: null};
      window.__bench.plots.push(entry);
      requestAnimationFrame(() => requestAnimationFrame(() => {
        entry.painted = performance.now();
      }));
    });
  }
}
setInterval(hook, 20);
"""

KERNEL_TITLES = """
return (window.__bench ? window.__bench.plots : [])
  .filter(p => p.graph === 'kernel-grid' && p.title.includes(' · ')).map(p => p.title);
"""

RESPONSE_END = """
return performance.getEntriesByType('resource')
  .filter(e => e.name.includes('_dash-update-component'))
  .map(e => ({start: e.startTime, end: e.responseEnd}));
"""


@contextmanager
def chromium() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
        yield driver
    finally:
        driver.quit()


def _drawn(driver, layer: str, since: float) -> dict | None:
    """Per grid: the response carrying ``layer``'s figure and the draw after it, or None."""
    state = driver.execute_script("return window.__bench;")
    ends = driver.execute_script(RESPONSE_END)
    found = {}
    for graph, output in GRIDS.items():
        response = next(
            (r for r in state["responses"] if r["sent"] >= since and output in r["outputs"]),
            None,
        )
        if response is None:
            return None
        # The body's arrival is the resource timing's responseEnd of the same request; the
        # clone's read resolves only after the renderer has handled (and drawn) the response.
        timing = [e for e in ends if response["before"] - 1 <= e["start"] <= response["sent"] + 1]
        if not timing:
            return None  # its entry is not there yet
        arrived = timing[0]["end"]
        plot = next(
            (
                p
                for p in state["plots"]
                if p["graph"] == graph and p["t"] >= arrived and p["title"].startswith(layer + " ")
            ),
            None,
        )
        if plot is None or plot["painted"] is None:
            return None
        found[graph] = {
            "arrived": arrived,
            "drawn": plot["t"],
            "painted": plot["painted"],
            "bytes": response["bytes"],
        }
    return found


def _first_kernel_title(driver, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while not (titles := driver.execute_script(KERNEL_TITLES)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the page drew no kernel grid within {timeout_s:.0f} s")
        time.sleep(0.1)
    return titles[0]


def _detail_drawn(driver, layer: str, since: float) -> bool:
    plots = driver.execute_script("return window.__bench.plots;")
    return any(
        p["graph"] == "feature-detail" and p["t"] >= since and p["title"].startswith(layer + " ")
        for p in plots
    )


def switch_and_wait(driver, layer: str, timeout_s: float = 120) -> dict:
    """Choose ``layer`` in the page and wait until both grids show it; timings in ms."""
    since = driver.execute_script(
        "const t = performance.now();"
        "window.dash_clientside.set_props('layer-select', {value: arguments[0]});"
        "return t;",
        layer,
    )
    deadline = time.monotonic() + timeout_s
    while (found := _drawn(driver, layer, since)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the page did not draw {layer} within {timeout_s:.0f} s")
        time.sleep(0.05)
    while not _detail_drawn(driver, layer, since):  # let the page go idle before the next one
        if time.monotonic() > deadline:
            raise RuntimeError(f"the page did not draw the detail of {layer}")
        time.sleep(0.05)
    time.sleep(SETTLE_S)
    per_grid = {g: v["drawn"] - v["arrived"] for g, v in found.items()}
    painted = {g: v["painted"] - v["arrived"] for g, v in found.items()}
    return {
        "render_ms": max(per_grid.values()),
        "painted_ms": max(painted.values()),
        "per_grid_ms": per_grid,
        "choice_to_drawn_ms": max(v["drawn"] for v in found.values()) - since,
        "bytes": {g: v["bytes"] for g, v in found.items()},
    }


def bench_browser(app: Dash, layers: list[str], away: str, repeats: int) -> dict:
    """Per layer: median browser time over ``repeats`` switches into it.

    The page opens on the model's first layer; before a switch into the layer already
    shown, the page first switches to ``away`` (not timed).
    """
    samples: dict[str, list[dict]] = {layer: [] for layer in layers}
    with serve_in_thread(app) as port, chromium() as driver:
        driver.get(f"http://{LOOPBACK}:{port}")
        # The first draw includes building the model and its first forward pass.
        current = _first_kernel_title(driver, timeout_s=300)
        deadline = time.monotonic() + 300
        while not _detail_drawn(driver, current.split(" ")[0], 0.0):
            if time.monotonic() > deadline:
                raise RuntimeError("the page drew no detail view within 300 s")
            time.sleep(0.1)
        time.sleep(SETTLE_S)
        for index in range(repeats):
            for layer in layers:
                if current.startswith(layer + " "):
                    switch_and_wait(driver, away)
                samples[layer].append(switch_and_wait(driver, layer))
                current = layer + " "
                log.info("browser %s round %d: %s", layer, index, samples[layer][-1])
        errors = [
            entry
            for entry in driver.get_log("browser")
            if entry.get("level") == "SEVERE" and "favicon" not in entry.get("message", "")
        ]
        version = driver.capabilities.get("browserVersion")
    results: dict[str, dict] = {}
    for layer, runs in samples.items():
        results[layer] = {
            "render_ms": summary([r["render_ms"] for r in runs]),
            "painted_ms": summary([r["painted_ms"] for r in runs]),
            "choice_to_drawn_ms": summary([r["choice_to_drawn_ms"] for r in runs]),
            "per_grid_ms": {g: summary([r["per_grid_ms"][g] for r in runs]) for g in GRIDS},
            "bytes": runs[-1]["bytes"],
        }
    return {"chromium": version, "layers": results, "console_errors": errors}
