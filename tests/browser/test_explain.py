"""Explaining what is shown, in the browser: a clicked pixel's decomposition adds up to the
value its hover shows; a feature visualisation shows progress, cancels and completes."""

from __future__ import annotations

import re

from dashboard import ids
from tests.browser.helpers import (
    DETAIL,
    detail_title,
    figure_state,
    pixel_spot,
    pointer,
    start,
    wait_for,
)


def _hover_text(dash_duo, graph: str) -> str:
    return dash_duo.driver.execute_script(
        "const t=document.querySelector('#'+arguments[0]+' .hoverlayer .hovertext');"
        "return t ? t.textContent : '';",
        graph,
    )


def test_exp01_clicked_pixel_terms_add_up_to_the_hover_value(dash_duo) -> None:
    start(dash_duo)
    wait_for(lambda: "channel 0" in detail_title(dash_duo), message="detail of channel 0")
    row, col = 0, 5  # a border pixel: part of its patch lies in the zero padding
    dash_duo.driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: 'center'});", DETAIL
    )
    spot = pixel_spot(dash_duo, DETAIL, row, col)
    pointer(dash_duo, spot["x"], spot["y"], click=False)
    hover = wait_for(lambda: _hover_text(dash_duo, DETAIL), message="the detail hover")
    assert f"row {row}, col {col}" in hover, hover
    shown = float(re.search(r"activation\s*(\S+)", hover).group(1).replace("−", "-"))
    pointer(dash_duo, spot["x"], spot["y"], click=True)
    text = wait_for(
        lambda: "make" in (t := dash_duo.find_element(f"#{ids.EXPLAIN_TEXT}").text) and t,
        60,
        "the explanation",
    )
    total = float(re.search(r"make (\S+?);", text).group(1))
    assert f"{total:.4g}" == f"{shown:.4g}", (text, hover)
    assert abs(total - shown) <= 1e-4 * max(1.0, abs(shown))
    meta = wait_for(
        lambda: (figure_state(dash_duo, ids.EXPLAIN_FIGURE) or {}).get("meta"),
        message="the explanation figure",
    )
    assert meta["explain"]["row"] == row and meta["explain"]["col"] == col
    assert abs(meta["explain"]["value"] - total) <= 1e-6 * max(1.0, abs(total))
    # the receptive field is boxed on the input image beside the map
    shapes = figure_state(dash_duo, DETAIL)["shapes"]
    assert any(s.get("xref") == "x2" for s in shapes), shapes
    # a 3×3 kernel at row 0: its top row of taps lies in the padding, 2×3 pixels are seen
    assert "Receptive field (red box on the input): 2×3 px of the 64×64 input" in text, text
    assert dash_duo.get_logs() == []


def _progress(dash_duo) -> float:
    value = dash_duo.find_element(f"#{ids.FEATUREVIS_PROGRESS}").get_attribute("value")
    return float(value or 0)


def test_exp02_feature_visualisation_progress_cancel_and_restart(dash_duo) -> None:
    # TinyVGG takes ~2.5 ms a step here: 4,000 steps leave seconds to see progress and cancel
    start(dash_duo, featurevis_steps=4000)
    wait_for(lambda: "channel 0" in detail_title(dash_duo), message="detail of channel 0")
    button = dash_duo.find_element(f"#{ids.FEATUREVIS_START}")
    cancel = dash_duo.find_element(f"#{ids.FEATUREVIS_CANCEL}")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    wait_for(lambda: _progress(dash_duo) > 0, 60, "progress above 0")
    assert _progress(dash_duo) < 4000
    assert button.get_attribute("disabled") and not cancel.get_attribute("disabled")
    cancel.click()
    wait_for(
        lambda: "Cancelled" in dash_duo.find_element(f"#{ids.FEATUREVIS_STATUS}").text,
        20,
        "the cancel note",
    )
    wait_for(lambda: not button.get_attribute("disabled"), 20, "the start button back")
    assert "image" not in figure_state(dash_duo, ids.FEATUREVIS_FIGURE)["types"]
    button.click()
    wait_for(
        lambda: "image" in figure_state(dash_duo, ids.FEATUREVIS_FIGURE)["types"],
        240,
        "the finished visualisation",
    )
    status = dash_duo.find_element(f"#{ids.FEATUREVIS_STATUS}").text
    assert "4000 steps" in status, status
    assert dash_duo.get_logs() == []
