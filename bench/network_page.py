"""One Chromium tab on an emulated link: load the page, act as a user, wait until it settles.

Every time is read from the page's own clock (``performance.now()``, 0 at navigation
start), so selenium's round trips never count. An action starts when the page saw it:
``set_props`` called, a ``mousedown`` on the grid, a file chosen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import median

from bench.browser import CHROMEDRIVER, CHROMIUM, FLAGS
from bench.network_probe import (
    RECORDER,
    RESOURCES,
    STATE,
    Link,
    exchange,
    idle_ms,
    resource_totals,
)
from bench.network_probe import settled_at as _settled_at
from tests.wire import ROOT

WINDOW = "--window-size=1366,768"
GRIDS = ("kernel-grid", "feature-grid")
# A page with no request in flight that draws nothing for this long will not settle: the
# action was lost (or answered with nothing to draw).
GIVE_UP_IDLE_MS = 15_000.0

# The first heatmap cell of the feature grid showing ``channel`` (customdata[1]), in
# viewport pixels: the approach of tests/browser/helpers.py's find_cell.
FIND_TILE = """
const [graphId, channel] = arguments;
const holder = document.getElementById(graphId);
const gd = holder && holder.querySelector('.js-plotly-plot');
if (!gd || !gd._fullData) return null;
holder.scrollIntoView({block: 'start'});
const trace = gd._fullData.find(t => t.type === 'heatmap' && t.customdata);
if (!trace) return null;
const cd = trace.customdata;
for (let r = 0; r < cd.length; r++) {
  for (let c = 0; c < cd[r].length; c++) {
    if (cd[r][c][1] !== channel) continue;
    const xa = gd._fullLayout[trace.xaxis === 'x' ? 'xaxis' : 'xaxis' + trace.xaxis.slice(1)];
    const ya = gd._fullLayout[trace.yaxis === 'y' ? 'yaxis' : 'yaxis' + trace.yaxis.slice(1)];
    const x = trace.x ? trace.x[c] : (trace.x0 || 0) + c * (trace.dx || 1);
    const y = trace.y ? trace.y[r] : (trace.y0 || 0) + r * (trace.dy || 1);
    const box = gd.getBoundingClientRect();
    return {x: box.left + xa._offset + xa.l2p(x), y: box.top + ya._offset + ya.l2p(y)};
  }
}
return null;
"""

SET_PROPS = """
const t = performance.now();
window.dash_clientside.set_props(arguments[0], {value: arguments[1]});
return t;
"""

CLICK_DATA = """
const t = performance.now();
window.dash_clientside.set_props(arguments[0], {clickData: arguments[1]});
return t;
"""

VISIBLE_GRAPH = """
const el = document.getElementById(arguments[0]);
return !!(el && el.offsetParent !== null && el.querySelector('.js-plotly-plot'));
"""


@contextmanager
def chromium(link: Link | None) -> Iterator[object]:
    """Headless Chromium, its cache off, every request through ``link`` (None: loopback
    as it is)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*(f for f in FLAGS if not f.startswith("--window-size")), WINDOW):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
        driver.execute_cdp_cmd("Network.enable", {})
        if link is not None:
            driver.execute_cdp_cmd("Network.emulateNetworkConditions", link.cdp())
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        yield driver
    finally:
        driver.quit()


def grid_of(layer: str | None = None) -> Callable[[dict], bool]:
    """Accepts a draw of a real grid (not a placeholder), of ``layer`` when given."""
    return lambda p: p["grid"] and (layer is None or p["title"].startswith(layer + " "))


def titled(text: str) -> Callable[[dict], bool]:
    return lambda p: text in p["title"] + " "


def settle(
    driver,
    since: float,
    wanted: dict,
    timeout_s: float,
    what: str,
    give_up_idle_ms: float = GIVE_UP_IDLE_MS,
) -> dict:
    """Wait until the page settled after ``since``; elapsed ms and the exchange's bytes."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = driver.execute_script(STATE, since)
        if (end := _settled_at(state, since, wanted)) is not None:
            # the last answer's body arrived (its resource entry: the wrapper's own read of a
            # clone resolves only after the renderer has handled the answer)
            answered = max((t["end"] for t in state["timing"]), default=since)
            return {
                "ms": round(end - since, 1),
                "answered_ms": round(answered - since, 1),
                **exchange(state),
            }
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: the page did not settle within {timeout_s:.0f} s")
        if (idle := idle_ms(state, since)) > give_up_idle_ms:
            raise RuntimeError(f"{what}: nothing pending and nothing drawn for {idle:.0f} ms")
        time.sleep(0.05)


def first_load(driver, url: str, timeout_s: float) -> dict:
    """Navigate to ``url`` (cold) until both grids are drawn, then until the page settles."""
    driver.get(url)
    wanted = {g: grid_of() for g in GRIDS}
    settled = settle(driver, 0.0, wanted, timeout_s, "first load")
    plots = driver.execute_script("return window.__net.plots;")
    drawn = max(min(p["painted"] for p in plots if p["graph"] == g and p["grid"]) for g in GRIDS)
    nav = driver.execute_script(
        "const e = performance.getEntriesByType('navigation')[0];"
        "return {dcl: e.domContentLoadedEventEnd, load: e.loadEventEnd};"
    )
    return {
        "drawn_ms": round(drawn, 1),
        "settled_ms": settled["ms"],
        "dom_content_loaded_ms": round(nav["dcl"], 1),
        "load_event_ms": round(nav["load"], 1),
        "update": settled,
        **resource_totals(driver.execute_script(RESOURCES)),
    }


def first_loads(driver, url: str, count: int, timeout_s: float) -> dict:
    """The first of ``count`` cold loads, its grids-drawn time replaced by their median."""
    loads = [first_load(driver, url, timeout_s) for _ in range(max(1, count))]
    drawn = [load["drawn_ms"] for load in loads]
    return {**loads[0], "drawn_ms_runs": drawn, "drawn_ms": median(drawn)}


def choose(driver, component: str, value: str, wanted: dict, timeout_s: float) -> dict:
    """Set ``component``'s value as its dropdown does and wait until the page settled."""
    since = driver.execute_script(SET_PROPS, component, value)
    return settle(driver, since, wanted, timeout_s, f"{component}={value}")


def switch_layer(driver, layer: str, timeout_s: float) -> dict:
    wanted = {"kernel-grid": grid_of(layer), "feature-grid": grid_of(layer)}
    for graph in ("feature-detail", "channel-kernels"):
        if driver.execute_script(VISIBLE_GRAPH, graph):
            wanted[graph] = titled(layer + " ")
    return choose(driver, "layer-select", layer, wanted, timeout_s)


def _started(driver, kind: str, since: float) -> float | None:
    times = driver.execute_script(f"return window.__net.{kind};")
    return next((t for t in times if t >= since), None)


def click_tile(driver, channel: int, timeout_s: float) -> dict:
    """Really click the feature-grid tile of ``channel``; until the detail shows it.

    When the click selects nothing (the page sent no channel), the clickData a working
    click sends is dispatched instead, and the result says so (``via``).
    """
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    cell = driver.execute_script(FIND_TILE, "feature-grid", channel)
    wanted = {"feature-detail": titled(f"channel {channel} ")}
    if cell is not None:
        since = driver.execute_script("return performance.now();")
        actions = ActionBuilder(driver)
        actions.pointer_action.move_to_location(round(cell["x"]), round(cell["y"]))
        actions.pointer_action.click()
        actions.perform()
        start = _started(driver, "clicks", since) or since
        try:
            measured = settle(driver, start, wanted, 30, "click", give_up_idle_ms=3000)
            return {"channel": channel, "via": "click", **measured}
        except RuntimeError as exc:
            lost = str(exc)
    else:
        lost = "no tile of that channel found"
    click = {"points": [{"curveNumber": 0, "customdata": [0, channel, 0, 0]}]}
    since = driver.execute_script(CLICK_DATA, "feature-grid", click)
    measured = settle(driver, since, wanted, timeout_s, "clickData")
    return {"channel": channel, "via": f"set_props clickData ({lost})", **measured}


def upload(driver, path: Path, timeout_s: float) -> dict:
    """Choose ``path`` in the image upload; until the feature grid and detail redrew."""
    since = driver.execute_script("return performance.now();")
    driver.find_element("css selector", "#image-upload input[type=file]").send_keys(str(path))
    deadline = time.monotonic() + 10
    while (start := _started(driver, "files", since)) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    wanted = {"feature-grid": grid_of(), "feature-detail": lambda p: True}
    return settle(driver, start or since, wanted, timeout_s, "upload")


def photo(folder: Path) -> Path:
    """A 1000x700 JPEG (quality 92): the app's 600x400 coffee sample, upscaled and cropped."""
    from PIL import Image

    with Image.open(ROOT / "assets" / "samples" / "coffee.png") as source:
        image = source.convert("RGB").resize((1050, 700), Image.Resampling.LANCZOS)
    path = folder / "coffee-1000x700.jpg"
    image.crop((25, 0, 1025, 700)).save(path, quality=92)
    return path
