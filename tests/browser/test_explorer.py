"""The page in headless Chromium: load, switch layers, hover, click-link, upload, bad input."""

from __future__ import annotations

import pytest
from PIL import Image

from dashboard import ids
from dashboard.figures.style import fmt
from tests.browser.helpers import (
    FEATURE,
    KERNEL,
    MODELS,
    choose,
    detail_title,
    figure_state,
    find_cell,
    pointer,
    select_channel,
    start,
    wait_for,
    wait_for_grids,
)


def test_br01_default_page_loads_without_console_errors(dash_duo) -> None:
    start(dash_duo)
    assert figure_state(dash_duo, KERNEL)["types"][0] == "heatmap"
    assert figure_state(dash_duo, FEATURE)["types"][0] == "heatmap"
    wait_for(lambda: "channel 0" in detail_title(dash_duo), message="detail of channel 0")
    assert dash_duo.find_element(f"#{ids.LAYER_INFO}").text.startswith("TinyVGG")
    # the first load takes plotly.js's cartesian bundle, never dcc's full 4.8 MB one, and
    # assets/cells.js has hooked it (the feature cells' channel/row/col are derived there)
    fetched = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert any("plotly-cartesian" in url for url in fetched)
    assert not any("plotly.min.js" in url or "async-plotlyjs" in url for url in fetched)
    assert dash_duo.driver.execute_script("return window.Plotly.convscopeCells === true")
    assert dash_duo.get_logs() == []


def test_br02_kernel_hover_shows_raw_weight(dash_duo) -> None:
    start(dash_duo)
    weight = MODELS.get("tinyvgg").module.get_submodule("block1.0").weight
    # customdata = [weight, in, out, kernel row, kernel col]
    cell = find_cell(dash_duo, KERNEL, [None, 2, 5, 1, 2])
    pointer(dash_duo, cell["x"], cell["y"], click=False)
    hover = wait_for(
        lambda: dash_duo.driver.execute_script(
            "const t = document.querySelector('#kernel-grid .hovertext');"
            "return t ? t.textContent : '';"
        ),
        message="a hover label",
    )
    raw = float(weight[5, 2, 1, 2])
    assert fmt(raw) in hover or f"{raw:.4g}" in hover, hover
    assert "out 5" in hover and "in 2" in hover
    assert dash_duo.get_logs() == []


def test_br03_clicking_a_kernel_selects_its_feature_map(dash_duo) -> None:
    start(dash_duo)
    select_channel(dash_duo, KERNEL, [None, 0, 7, 1, 1], 7)
    # the feature map 7 is outlined in its grid, the kernel column 7 in the kernel grid
    wait_for(lambda: figure_state(dash_duo, FEATURE)["shapes"], message="feature outline")
    feature = figure_state(dash_duo, FEATURE)
    kernel = figure_state(dash_duo, KERNEL)
    assert feature["shapes"] and kernel["shapes"]
    assert dash_duo.get_logs() == []


def test_br04_clicking_a_feature_map_outlines_its_kernel_column(dash_duo) -> None:
    start(dash_duo)
    select_channel(dash_duo, FEATURE, [None, 3, None, None], 3)
    shapes = wait_for(lambda: figure_state(dash_duo, KERNEL)["shapes"], message="kernel outline")
    # the outline spans output column 3: it contains the centre of kernel (in 0, out 3)
    centre = find_cell(dash_duo, KERNEL, [None, 0, 3, 1, 1])
    gd_x = dash_duo.driver.execute_script(
        "const gd=document.querySelector('#kernel-grid .js-plotly-plot');"
        "return gd._fullLayout.xaxis.p2l(arguments[0] - gd.getBoundingClientRect().left"
        " - gd._fullLayout.xaxis._offset);",
        centre["x"],
    )
    assert any(min(s["x0"], s["x1"]) < gd_x < max(s["x0"], s["x1"]) for s in shapes)
    assert dash_duo.get_logs() == []


@pytest.mark.slow
def test_br05_every_vgg16_layer_renders_both_grids(dash_duo) -> None:
    start(dash_duo, default_model="vgg16")
    notice = dash_duo.find_element(f"#{ids.MODEL_NOTICE}").text
    assert "random weights" in notice
    for layer in MODELS.get("vgg16").conv_layers:
        choose(dash_duo, ids.LAYER_SELECT, layer.label)
        wait_for(
            lambda name=layer.name: (
                name in dash_duo.find_element(f"#{ids.LAYER_INFO}").text
                and all((figure_state(dash_duo, g) or {}).get("meta") for g in (KERNEL, FEATURE))
                and name in figure_state(dash_duo, FEATURE)["title"]
            ),
            timeout=60,
            message=f"grids of {layer.name}",
        )
    assert dash_duo.get_logs() == []


def test_br06_uploading_an_image_rerenders(dash_duo, tmp_path) -> None:
    start(dash_duo)
    before = figure_state(dash_duo, FEATURE)["title"]
    path = tmp_path / "stripes.png"
    image = Image.new("RGB", (80, 60), "white")
    for x in range(0, 80, 8):
        image.paste((200, 30, 30), (x, 0, x + 4, 60))
    image.save(path)
    dash_duo.find_element(f"#{ids.IMAGE_UPLOAD} input[type=file]").send_keys(str(path))
    wait_for(
        lambda: "stripes.png" in dash_duo.find_element(f"#{ids.SAMPLE_SELECT}").text,
        message="the upload to be selected",
    )
    wait_for_grids(dash_duo)
    assert dash_duo.find_element(f"#{ids.STATUS}").text == ""
    assert dash_duo.find_element(f"#{ids.UPLOAD_STATUS}").text == ""
    assert figure_state(dash_duo, FEATURE)["title"] == before  # same layer, new maps
    assert dash_duo.get_logs() == []


def test_br07_bad_upload_gives_a_sentence_and_the_page_keeps_working(dash_duo, tmp_path) -> None:
    start(dash_duo)
    path = tmp_path / "notes.png"
    path.write_text("this is not an image")
    dash_duo.find_element(f"#{ids.IMAGE_UPLOAD} input[type=file]").send_keys(str(path))
    message = wait_for(
        lambda: dash_duo.find_element(f"#{ids.UPLOAD_STATUS}").text, message="an upload error"
    )
    assert "not an image" in message.lower() or "can read" in message.lower()
    select_channel(dash_duo, FEATURE, [None, 2, None, None], 2)
    assert dash_duo.get_logs() == []


def test_br08_file_over_the_limit_is_refused_in_the_browser_with_a_sentence(
    dash_duo, tmp_path
) -> None:
    start(dash_duo, max_upload_mb=0.01)
    path = tmp_path / "big.png"
    Image.effect_noise((200, 200), 64).convert("RGB").save(path)  # ~120 kB of noise
    dash_duo.find_element(f"#{ids.IMAGE_UPLOAD} input[type=file]").send_keys(str(path))
    message = wait_for(
        lambda: dash_duo.find_element(f"#{ids.UPLOAD_STATUS}").text, message="a size message"
    )
    assert message == "The file is larger than the 0.01 MB limit."
    assert "big.png" not in dash_duo.find_element(f"#{ids.SAMPLE_SELECT}").text
    assert dash_duo.get_logs() == []


_FIRST_CLASS = """
const li = document.querySelector('#' + arguments[0] + ' li');
return li ? li.firstChild.textContent : null;
"""


def test_br_pred01_tinyvgg_names_the_shape_it_is_shown(dash_duo) -> None:
    start(dash_duo)
    first = lambda: dash_duo.driver.execute_script(_FIRST_CLASS, ids.PREDICTIONS)  # noqa: E731
    wait_for(first, message="the default image's predictions")
    for shape in ("circle", "stripes"):
        choose(dash_duo, ids.SAMPLE_SELECT, f"shape: {shape}")
        wait_for(lambda s=shape: first() == s, timeout=30, message=f"{shape} ranked first")
    panel = dash_duo.find_element(f"#{ids.PREDICTIONS}")
    assert "Top 5 classes:" in panel.text and "Random weights" not in panel.text
    # seen without scrolling: above the grids, inside the first screen
    grid = dash_duo.find_element(f"#{KERNEL}")
    assert panel.location["y"] + panel.size["height"] <= grid.location["y"]
    assert dash_duo.get_logs() == []
