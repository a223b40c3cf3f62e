"""Real values on screen: deep zoom to raw pixels, and 1×1 kernels coloured by value."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from dashboard import ids
from dashboard.samples import list_samples
from tests.browser.helpers import (
    FEATURE,
    KERNEL,
    MODELS,
    choose,
    figure_state,
    find_cell,
    pointer,
    start,
    wait_for,
)
from tests.wire import decode_typed


def trace0(dash_duo, graph: str, key: str):
    return dash_duo.driver.execute_script(
        "const gd=document.querySelector('#'+arguments[0]+' .js-plotly-plot');"
        "const t=gd && gd.data && gd.data[0]; return t ? t[arguments[1]] : null;",
        graph,
        key,
    )


def zoom(dash_duo, graph: str, x_range: tuple, y_range: tuple) -> None:
    """Zoom as the modebar's zoom box does: plotly relayouts the axes, Dash gets the event."""
    dash_duo.driver.execute_script(
        "const gd=document.querySelector('#'+arguments[0]+' .js-plotly-plot');"
        "Plotly.relayout(gd, {'xaxis.range[0]': arguments[1], 'xaxis.range[1]': arguments[2],"
        " 'yaxis.range[0]': arguments[3], 'yaxis.range[1]': arguments[4]});",
        graph,
        *x_range,
        *y_range,
    )


def hover_text(dash_duo, graph: str) -> str:
    return wait_for(
        lambda: dash_duo.driver.execute_script(
            "const t=document.querySelector('#'+arguments[0]+' .hoverlayer .hovertext');"
            "return t ? t.textContent : '';",
            graph,
        ),
        message="a hover label",
    )


def test_val01_zooming_into_vgg16_features0_shows_raw_pixels(dash_duo) -> None:
    start(dash_duo, default_model="vgg16")
    wait_for(lambda: "features.0" in figure_state(dash_duo, FEATURE)["title"], 60, "features.0")
    meta = figure_state(dash_duo, FEATURE)["meta"]
    assert meta["factor"] > 1
    # a box over the first 7×5 overview cells of map 0: block means, then real pixels
    zoom(dash_duo, FEATURE, (-0.5, 6.5), (4.5, -0.5))
    wait_for(lambda: (trace0(dash_duo, FEATURE, "dx") or 1) < 1, 30, "the real pixels")
    assert "mean of" not in trace0(dash_duo, FEATURE, "hovertemplate")
    cell = find_cell(dash_duo, FEATURE, [None, 0, 3, 5])
    pointer(dash_duo, cell["x"], cell["y"], click=False)
    text = hover_text(dash_duo, FEATURE)
    model = MODELS.get("vgg16")
    with Image.open(list_samples()["sample:chelsea.png"]) as image:
        x = model.preprocess(image.convert("RGB"))
    conv = model.module.features[0]
    with torch.inference_mode():
        want = float(F.conv2d(x, conv.weight, conv.bias, padding=1)[0, 0, 3, 5])
    assert "row 3, col 5" in text and "channel 0" in text, text
    assert f"{want:.4g}" in text, (text, want)
    assert dash_duo.get_logs() == []


def test_val02_resnet18_1x1_downsample_kernels_show_more_than_two_colours(dash_duo) -> None:
    start(dash_duo, default_model="resnet18")
    labels = {layer.name: layer.label for layer in MODELS.get("resnet18").conv_layers}
    choose(dash_duo, ids.LAYER_SELECT, labels["layer2.0.downsample.0"])
    wait_for(
        lambda: "layer2.0.downsample.0" in figure_state(dash_duo, FEATURE)["title"], 60, "layer"
    )
    dash_duo.find_element(f"#{ids.KERNEL_VIEW} input[value='grid']").click()
    wait_for(lambda: figure_state(dash_duo, KERNEL)["meta"]["grid"] == "kernel", 60, "every kernel")
    wait_for(
        lambda: "layer2.0.downsample.0" in figure_state(dash_duo, KERNEL)["title"], 60, "kernels"
    )
    z = dash_duo.driver.execute_script(
        "const gd=document.querySelector('#kernel-grid .js-plotly-plot');"
        "const z=gd._fullData[0].z; return z.map(row => Array.from(row));"
    )
    colours = np.unique(np.asarray(z))
    assert len(colours) > 2, colours
    drill = decode_typed(
        dash_duo.driver.execute_script(
            "const gd=document.querySelector('#channel-kernels .js-plotly-plot');"
            "return gd._fullData[0].z.map(row => Array.from(row));"
        )
    )
    assert len(np.unique(drill[np.isfinite(drill)])) > 2
    assert dash_duo.get_logs() == []
