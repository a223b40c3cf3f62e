"""Export in the browser: a download button delivers its file; the plots' camera saves
under the model, layer and channel; no console errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from dashboard import ids
from tests.browser.helpers import DETAIL, detail_title, start, wait_for

_CAMERA = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return gd && gd._context && gd._context.toImageButtonOptions || null;
"""


def test_bex01_map_download_arrives_and_camera_names_plots(dash_duo, tmp_path: Path) -> None:
    dash_duo.driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    start(dash_duo)
    wait_for(lambda: "channel 0" in detail_title(dash_duo), message="detail of channel 0")
    layer = dash_duo.find_element(f"#{ids.LAYER_SELECT}").text.split()[0]
    # nothing is explained yet: no explanation download to offer
    row = dash_duo.find_element(f"#{ids.EXPORT_EXPLANATION_ROW}")
    assert row.get_attribute("hidden") is not None
    dash_duo.find_element(f"#{ids.EXPORT_MAP}").click()
    want = tmp_path / f"tinyvgg_{layer}_ch0_map.csv"
    wait_for(lambda: want.exists() and want.stat().st_size > 0, message=f"{want.name}")
    feature_map = np.loadtxt(io.BytesIO(want.read_bytes()), delimiter=",", ndmin=2)
    assert feature_map.shape[0] > 1 and feature_map.shape[1] > 1
    # the camera of the detail map saves under the model, layer and channel, in SVG if asked
    options = wait_for(lambda: dash_duo.driver.execute_script(_CAMERA, DETAIL), message="camera")
    assert options["filename"] == f"tinyvgg_{layer}_ch0_map" and options["format"] == "png"
    dash_duo.find_element(f"#{ids.IMAGE_FORMAT} input[value='svg']").click()
    wait_for(
        lambda: (dash_duo.driver.execute_script(_CAMERA, DETAIL) or {}).get("format") == "svg",
        message="the SVG format",
    )
    assert dash_duo.get_logs() == []
