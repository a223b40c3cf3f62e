"""The shareable URL in Chromium: a link opens its view, a change writes the address bar,
back/forward step through views, an upload link says why it shows a sample."""

from __future__ import annotations

import os
import tempfile
import time
from urllib.parse import parse_qs, urlsplit

from selenium.webdriver.common.actions.action_builder import ActionBuilder

from dashboard import ids
from dashboard.app import create_app
from dashboard.config import Config
from tests.browser.helpers import (
    FEATURE,
    MODELS,
    choose,
    detail_title,
    find_cell,
    pointer,
    start,
    wait_for,
    wait_for_grids,
)

LINK = (
    "?model=tinyvgg&layer=block2.0&channel=5&image=coffee.png&scale=shared&kernels=norms"
    "&kscale=layer&look=tutorial&sort=maximum&zoom=2,20,18,1&lang=zh"
)


def query(dash_duo) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(dash_duo.driver.current_url).query).items()}


def open_link(dash_duo, search: str) -> None:
    dash_duo.driver.get(dash_duo.server_url + "/" + search)
    wait_for_grids(dash_duo)


def checked(dash_duo, radio: str) -> list[str]:
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#' + arguments[0] + ' input:checked')]"
        ".map(i => i.value);",
        radio,
    )


def grid_range(dash_duo) -> list:
    return dash_duo.driver.execute_script(
        "const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');"
        "return gd && gd._fullLayout.xaxis ? "
        "[gd._fullLayout.xaxis.range.slice(), gd._fullLayout.yaxis.range.slice()] : null;",
        FEATURE,
    )


def shows(dash_duo, zoom: tuple[float, float, float, float]) -> bool:
    """The grid shows the window ``zoom``: plotly widens one axis to keep cells square, so
    the window is inside the visible ranges and centred in them."""
    ranges = grid_range(dash_duo)
    if ranges is None:
        return False
    for (lo, hi), (want_lo, want_hi) in zip(ranges, (zoom[:2], zoom[2:]), strict=True):
        inside = (  # the link keeps 4 decimals
            min(lo, hi) <= min(want_lo, want_hi) + 1e-3
            and max(lo, hi) >= max(want_lo, want_hi) - 1e-3
        )
        if not inside or abs((lo + hi) - (want_lo + want_hi)) > 1e-3:
            return False
    return True


def drag_zoom(dash_duo, start: float, stop: float) -> None:
    """Drag a zoom box across the grid with the real mouse, from ``start`` to ``stop`` (in
    fractions of the plot area)."""
    x, y, w, h = dash_duo.driver.execute_script(
        "const e = document.querySelector('#' + arguments[0] + ' .nsewdrag');"
        "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
        "return [r.left, r.top, r.width, r.height];",
        FEATURE,
    )
    actions = ActionBuilder(dash_duo.driver)
    mouse = actions.pointer_action
    mouse.move_to_location(round(x + w * start), round(y + h * start)).pointer_down()
    for k in range(1, 7):
        at = start + (stop - start) * k / 6
        mouse.move_to_location(round(x + w * at), round(y + h * at))
    mouse.pointer_up()
    actions.perform()


def text(dash_duo, element_id: str) -> str:
    return dash_duo.find_element(f"#{element_id}").get_attribute("textContent")


def test_bur01_a_link_opens_its_whole_view(dash_duo) -> None:
    start(dash_duo)
    open_link(dash_duo, LINK)
    # the link says lang=zh: the page answers in Chinese
    wait_for(lambda: "通道 5 " in detail_title(dash_duo) + " ", 30, "the detail of channel 5")
    assert "block2.0" in text(dash_duo, ids.LAYER_SELECT)
    assert "咖啡" in text(dash_duo, ids.SAMPLE_SELECT)  # coffee.png
    assert "最大值" in text(dash_duo, ids.SORT_SELECT)  # sort=maximum
    assert checked(dash_duo, ids.SCALE_SELECT) == ["shared"]
    assert checked(dash_duo, ids.KERNEL_VIEW) == ["norms"]
    assert checked(dash_duo, ids.KERNEL_SCALE) == ["layer"]
    assert checked(dash_duo, ids.LOOK) == ["tutorial"]
    wait_for(lambda: shows(dash_duo, (2, 20, 18, 1)), 20, "the link's zoom")
    assert dash_duo.driver.execute_script("return document.documentElement.lang") == "zh"
    assert text(dash_duo, ids.URL_STATUS) == ""
    assert query(dash_duo)["layer"] == "block2.0"  # the link stays as it was
    assert dash_duo.get_logs() == []


def test_bur02_changes_write_the_url_and_back_forward_step_through_them(dash_duo) -> None:
    start(dash_duo)
    history = dash_duo.driver.execute_script("return history.length")
    choose(dash_duo, ids.LAYER_SELECT, next(o for o in layer_labels(dash_duo) if "block2.0" in o))
    wait_for(lambda: query(dash_duo).get("layer") == "block2.0", 30, "layer=block2.0 in the URL")
    second = dash_duo.driver.current_url
    dash_duo.find_element(f"#{ids.SCALE_SELECT} input[value='shared']").click()
    wait_for(lambda: query(dash_duo).get("scale") == "shared", 30, "scale=shared in the URL")
    cell = find_cell(dash_duo, FEATURE, [None, 3, None, None])
    pointer(dash_duo, cell["x"], cell["y"], click=True)
    wait_for(lambda: query(dash_duo).get("channel") == "3", 30, "channel=3 in the URL")
    # one entry per gesture: the kernel view and channel settling replaced, never pushed
    assert dash_duo.driver.execute_script("return history.length") == history + 3
    assert query(dash_duo)["layer"] == "block2.0" and query(dash_duo)["scale"] == "shared"

    dash_duo.driver.back()
    wait_for(lambda: "channel 3 " not in detail_title(dash_duo) + " ", 30, "channel 3 left")
    assert query(dash_duo).get("channel") != "3"
    dash_duo.driver.back()
    wait_for(lambda: checked(dash_duo, ids.SCALE_SELECT) == ["tile"], 30, "scale back to tile")
    assert dash_duo.driver.current_url == second
    wait_for_grids(dash_duo)  # as a person would: look at the view before stepping back
    time.sleep(1)
    dash_duo.driver.back()
    wait_for(lambda: "block1.0" in text(dash_duo, ids.LAYER_SELECT), 30, "layer back to block1.0")
    # the first entry: the bare address, or the same view written out when the page
    # settled on it (a replace)
    assert query(dash_duo).get("layer", "block1.0") == "block1.0"
    dash_duo.driver.forward()
    wait_for(lambda: "block2.0" in text(dash_duo, ids.LAYER_SELECT), 30, "forward to block2.0")
    dash_duo.driver.forward()
    wait_for(lambda: checked(dash_duo, ids.SCALE_SELECT) == ["shared"], 30, "forward to shared")
    wait_for_grids(dash_duo)
    # the controls following the URL wrote nothing: no new entries, the URL is the same
    assert dash_duo.driver.execute_script("return history.length") == history + 3
    assert query(dash_duo)["scale"] == "shared" and query(dash_duo)["layer"] == "block2.0"
    assert dash_duo.get_logs() == []


def layer_labels(dash_duo) -> list[str]:
    button = dash_duo.find_element(f"#{ids.LAYER_SELECT}")
    button.click()
    labels = wait_for(
        lambda: [
            o.get_attribute("textContent").strip()
            for o in dash_duo.driver.find_elements("css selector", ".dash-dropdown-option")
        ],
        10,
        "layer options",
    )
    button.click()
    return labels


def test_bur03_zoom_and_back(dash_duo) -> None:
    start(dash_duo)
    open_link(dash_duo, "?layer=block1.0&zoom=0,30,30,0")
    wait_for(lambda: shows(dash_duo, (0, 30, 30, 0)), 20, "the first zoom")
    dash_duo.driver.get(dash_duo.server_url + "/?layer=block1.0")  # a second link, same grid
    wait_for_grids(dash_duo)
    drag_zoom(dash_duo, 0.2, 0.5)
    zoomed = wait_for(lambda: query(dash_duo).get("zoom"), 20, "the zoom in the URL")
    window = tuple(float(v) for v in zoomed.split(","))
    assert shows(dash_duo, window), (grid_range(dash_duo), window)
    dash_duo.driver.back()
    wait_for(lambda: "zoom" not in query(dash_duo), 20, "back to the unzoomed link")
    wait_for(lambda: not shows(dash_duo, window), 20, "the zoom undone")
    dash_duo.driver.forward()
    wait_for(lambda: shows(dash_duo, window), 20, "the zoom again")
    assert dash_duo.get_logs() == []


def test_bur04_an_upload_link_shows_the_sample_and_says_why(dash_duo) -> None:
    start(dash_duo)
    open_link(dash_duo, "?layer=block1.2&image=upload")
    note = wait_for(lambda: text(dash_duo, ids.URL_STATUS), 20, "the upload note")
    assert note == (
        "This link was made with an uploaded image, which links cannot carry; showing the "
        "sample chelsea instead. Upload the image to see it."
    )
    assert "chelsea" in text(dash_duo, ids.SAMPLE_SELECT).lower()
    assert "block1.2" in text(dash_duo, ids.LAYER_SELECT)
    assert dash_duo.get_logs() == []


def test_bur05_garbage_links_get_sentences_and_the_default_view(dash_duo) -> None:
    start(dash_duo)
    open_link(dash_duo, "?model=%3Cscript%3E&channel=-1&scale=" + "z" * 5000)
    note = wait_for(lambda: text(dash_duo, ids.URL_STATUS), 20, "a sentence")
    assert "too long" in note
    open_link(dash_duo, "?model=nope&kernels=3d&zoom=nan")
    note = wait_for(lambda: "nope" in text(dash_duo, ids.URL_STATUS), 20, "the model sentence")
    note = text(dash_duo, ids.URL_STATUS)
    assert "model “nope”" in note and "kernel view “3d”" in note and "zoom window" in note
    assert "block1.0" in text(dash_duo, ids.LAYER_SELECT)
    assert dash_duo.get_logs() == []


def test_bur06_no_callback_cycle_in_debug_mode(dash_duo) -> None:
    """Dash's dev tools check the callback graph for cycles: URL <-> controls has none."""
    jobs = tempfile.mkdtemp(prefix="convscope-jobs-")
    app = create_app(Config(cache_mb=256, request_timeout_s=120, jobs_dir=jobs), models=MODELS)
    dash_duo.start_server(
        app,
        port=int(os.environ.get("CONVSCOPE_TEST_PORT", "8050")),
        debug=True,
        use_reloader=False,
        dev_tools_hot_reload=False,
    )
    open_link(dash_duo, "?layer=block2.2&channel=4")
    wait_for(lambda: "channel 4 " in detail_title(dash_duo) + " ", 30, "the detail of channel 4")
    errors = dash_duo.driver.find_elements("css selector", ".dash-fe-error__title")
    assert [e.get_attribute("textContent") for e in errors] == []
    assert dash_duo.get_logs() == []
