"""Drive the grids like a person: find a tile's pixel on screen, then really hover or click it."""

from __future__ import annotations

import os
import tempfile
import time

from dash import Dash
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.keys import Keys

from dashboard import ids
from dashboard.app import create_app
from dashboard.config import Config
from dashboard.models import ModelRegistry

# Finds the first heatmap cell whose customdata matches `want` (null = any) and returns its
# viewport position. Works whatever the mosaic layout, since it reads the figure itself.
_FIND_CELL = """
const [graphId, want] = arguments;
const gd = document.querySelector('#' + graphId + ' .js-plotly-plot');
if (!gd || !gd._fullData) return null;
const trace = gd._fullData.find(t => t.type === 'heatmap' && t.customdata);
if (!trace) return null;
const cd = trace.customdata;
for (let r = 0; r < cd.length; r++) {
  for (let c = 0; c < cd[r].length; c++) {
    const v = cd[r][c];
    if (want.every((w, k) => w === null || v[k] === w)) {
      const xa = gd._fullLayout[trace.xaxis === 'x' ? 'xaxis' : 'xaxis' + trace.xaxis.slice(1)];
      const ya = gd._fullLayout[trace.yaxis === 'y' ? 'yaxis' : 'yaxis' + trace.yaxis.slice(1)];
      const x = trace.x ? trace.x[c] : (trace.x0 || 0) + c * (trace.dx || 1);
      const y = trace.y ? trace.y[r] : (trace.y0 || 0) + r * (trace.dy || 1);
      const box = gd.getBoundingClientRect();
      return {x: box.left + xa._offset + xa.l2p(x), y: box.top + ya._offset + ya.l2p(y),
              value: Array.from(v)};
    }
  }
}
return null;
"""


def find_cell(dash_duo, graph_id: str, want: list[float | None], timeout: float = 20) -> dict:
    """Viewport position and customdata of the first cell matching ``want``."""
    deadline = time.monotonic() + timeout
    while True:
        found = dash_duo.driver.execute_script(_FIND_CELL, graph_id, want)
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no cell {want} in #{graph_id}")
        time.sleep(0.2)


def pointer(dash_duo, x: float, y: float, click: bool) -> None:
    """Move the real mouse pointer to viewport (x, y), and click if asked."""
    actions = ActionBuilder(dash_duo.driver)
    actions.pointer_action.move_to_location(round(x), round(y))
    if click:
        actions.pointer_action.click()
    actions.perform()


def figure_state(dash_duo, graph_id: str) -> dict:
    """Title, shapes and meta of a rendered graph, read from the page."""
    return dash_duo.driver.execute_script(
        """
        const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
        if (!gd || !gd.layout) return null;
        const title = gd.layout.title;
        return {title: typeof title === 'string' ? title : (title && title.text) || '',
                shapes: gd.layout.shapes || [], meta: gd.layout.meta || null,
                types: (gd.data || []).map(t => t.type)};
        """,
        graph_id,
    )


def wait_for(predicate, timeout: float = 30, message: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.2)


def choose(dash_duo, dropdown_id: str, label: str) -> None:
    """Open a Dash 4 dropdown and click the option whose text is ``label``."""
    button = dash_duo.find_element(f"#{dropdown_id}")
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    option = wait_for(
        lambda: next(
            (
                o
                for o in dash_duo.driver.find_elements("css selector", ".dash-dropdown-option")
                if o.get_attribute("textContent").strip() == label
            ),
            None,
        ),
        timeout=10,
        message=f"option {label!r} of #{dropdown_id}",
    )
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'});", option)
    option.click()
    if button.get_attribute("aria-expanded") == "true":  # re-choosing the current value
        button.send_keys(Keys.ESCAPE)


KERNEL = ids.KERNEL_GRID
FEATURE = ids.FEATURE_GRID
DETAIL = ids.FEATURE_DETAIL


MODELS = ModelRegistry(cache_size=4)  # shared by every browser test's app: VGG16 is built once


def start(dash_duo, **settings) -> Dash:
    """A fresh app with ``settings``, served to ``dash_duo`` once its grids show; the app."""
    # each app its own jobs folder: no feature visualisation stored by an earlier run
    settings.setdefault("jobs_dir", tempfile.mkdtemp(prefix="convscope-jobs-"))
    app = create_app(Config(cache_mb=512, request_timeout_s=120, **settings), models=MODELS)
    # CONVSCOPE_TEST_PORT lets two suites run side by side on one machine
    dash_duo.start_server(app, port=int(os.environ.get("CONVSCOPE_TEST_PORT", "8050")))
    wait_for_grids(dash_duo)
    return app


def wait_for_grids(dash_duo, timeout: float = 60) -> None:
    for graph in (KERNEL, FEATURE):
        wait_for(
            lambda g=graph: (figure_state(dash_duo, g) or {}).get("meta"),
            timeout,
            f"#{graph} to draw a grid",
        )


def detail_title(dash_duo) -> str:
    return (figure_state(dash_duo, DETAIL) or {}).get("title", "")


def select_channel(dash_duo, graph: str, want: list[float | None], channel: int) -> None:
    """Click the first cell of ``graph`` matching ``want`` until the detail shows ``channel``.

    A click that lands while a grid is being redrawn is lost, as it would be for a person,
    who clicks again: so does this, at most three times, on a busy machine.
    """
    for attempt in range(3):
        cell = find_cell(dash_duo, graph, want)
        pointer(dash_duo, cell["x"], cell["y"], click=True)
        try:
            wait_for(lambda: f"channel {channel} " in detail_title(dash_duo) + " ", 20)
            return
        except AssertionError:
            if attempt == 2:
                raise AssertionError(f"timed out waiting for detail of channel {channel}") from None


# The viewport position of map pixel (row, col) of a graph's first trace.
_PIXEL = """
const [graphId, row, col] = arguments;
const gd = document.querySelector('#' + graphId + ' .js-plotly-plot');
if (!gd || !gd._fullData || !gd._fullData.length || !gd._fullLayout.xaxis) return null;
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
const box = gd.getBoundingClientRect();
return {x: box.left + xa._offset + xa.l2p(col), y: box.top + ya._offset + ya.l2p(row)};
"""


def pixel_spot(dash_duo, graph: str, row: int, col: int) -> dict:
    """Where pixel (row, col) of ``graph``'s map is on screen, once it is drawn."""
    return wait_for(
        lambda: dash_duo.driver.execute_script(_PIXEL, graph, row, col), message=f"#{graph}"
    )


def settled_pixel_spot(dash_duo, graph: str, row: int, col: int) -> dict:
    """``pixel_spot`` after scrolling ``graph`` to the middle of the viewport and letting the
    page settle (panels below may still be growing): the same spot twice, inside the view."""
    dash_duo.driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: 'center'});", graph
    )
    height = dash_duo.driver.execute_script("return window.innerHeight")

    def steady():
        first = pixel_spot(dash_duo, graph, row, col)
        time.sleep(0.3)
        second = pixel_spot(dash_duo, graph, row, col)
        inside = 0 <= second["y"] < height
        if not inside:
            dash_duo.driver.execute_script(
                "document.getElementById(arguments[0]).scrollIntoView({block: 'center'});", graph
            )
        return second if inside and first == second else None

    return wait_for(steady, 20, f"#{graph} to settle")
