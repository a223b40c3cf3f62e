"""The README's screenshots, taken at 1366×768 in English and in Chinese by walking the page
as a visitor does: they are retaken by every run of the suite, so they stay true."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dashboard import i18n, ids
from dashboard.i18n import _
from tests.browser.helpers import (
    DETAIL,
    FEATURE,
    choose,
    detail_title,
    find_cell,
    pointer,
    settled_pixel_spot,
    start,
    wait_for,
    wait_for_grids,
)

SHOTS = Path(__file__).resolve().parents[2] / "assets" / "screenshots"
LAPTOP = (1366, 768)


def _open(dash_duo, query: str) -> None:
    dash_duo.driver.get(f"{dash_duo.server_url}/?{query}")
    wait_for_grids(dash_duo, timeout=120)
    time.sleep(1)  # the last paint after the grids' data arrived


def _scroll_to(dash_duo, element_id: str, block: str = "start") -> None:
    dash_duo.driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: arguments[1]});",
        element_id,
        block,
    )
    time.sleep(0.5)


def _shoot(dash_duo, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    dash_duo.driver.save_screenshot(str(path))
    with Image.open(path) as image:  # a real picture of the page, not a blank one
        assert image.size == LAPTOP, image.size
        assert len(np.unique(np.asarray(image.convert("L").resize((64, 36))))) > 20, name
    return path


def _explain_a_pixel(dash_duo, lang: str) -> None:
    cell = find_cell(dash_duo, FEATURE, [None, 1, None, None])
    pointer(dash_duo, cell["x"], cell["y"], click=True)
    with i18n.using(lang):
        channel = _("channel {channel}").format(channel=1)  # as the detail's title says it
    wait_for(lambda: f"{channel} " in detail_title(dash_duo) + " ", 30, "the detail of channel 1")
    spot = settled_pixel_spot(dash_duo, DETAIL, 14, 20)
    pointer(dash_duo, spot["x"], spot["y"], click=True)
    wait_for(
        lambda: dash_duo.driver.execute_script(
            "const gd=document.querySelector('#' + arguments[0] + ' .js-plotly-plot');"
            "return gd && gd.data && gd.data.length > 1;",
            ids.EXPLAIN_FIGURE,
        ),
        60,
        "the explanation",
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shot01_readme_screenshots(dash_duo, lang) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    start(dash_duo)
    # the page's viewport itself 1366×768 (a window of that size leaves less to the page)
    width, height = LAPTOP
    dash_duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    _open(dash_duo, f"lang={lang}")
    _shoot(dash_duo, f"{lang}-main")
    _explain_a_pixel(dash_duo, lang)
    _scroll_to(dash_duo, ids.EXPLAIN_PANEL)
    _shoot(dash_duo, f"{lang}-explain")
    with i18n.using(lang):
        mirror = _("mirror of this image")
    choose(dash_duo, ids.COMPARE_SELECT, mirror)
    wait_for(
        lambda: dash_duo.driver.execute_script(
            "const gd=document.querySelector('#' + arguments[0] + ' .js-plotly-plot');"
            "return gd && gd.data && gd.data.length > 0;",
            ids.COMPARE_DETAIL,
        ),
        60,
        "the compare map",
    )
    _scroll_to(dash_duo, ids.DETAIL_PANEL)
    _shoot(dash_duo, f"{lang}-compare")
    _open(dash_duo, f"model=vgg16&layer=features.28&lang={lang}")
    _shoot(dash_duo, f"{lang}-vgg16-features28")
    _open(dash_duo, f"model=mobilenet_v2&layer=features.2.conv.1.0&channel=5&lang={lang}")
    _scroll_to(dash_duo, ids.DETAIL_PANEL)
    _shoot(dash_duo, f"{lang}-depthwise-detail")
    assert dash_duo.get_logs() == []
