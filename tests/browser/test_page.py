"""The page behaves at 1366×768: the wheel scrolls, a click brings the detail into view,
hover labels read, the modebar covers nothing, paging keeps the selection."""

from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

from dashboard import ids
from tests.browser.helpers import (
    DETAIL,
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
)

LAPTOP = (1366, 768)


def laptop(dash_duo) -> None:
    dash_duo.driver.set_window_size(*LAPTOP)


def axis_range(dash_duo, graph: str) -> list:
    return dash_duo.driver.execute_script(
        "const gd=document.querySelector('#'+arguments[0]+' .js-plotly-plot');"
        "return [gd._fullLayout.xaxis.range.slice(), gd._fullLayout.yaxis.range.slice()];",
        graph,
    )


def test_pg01_the_wheel_scrolls_the_page_not_the_plot(dash_duo) -> None:
    laptop(dash_duo)
    start(dash_duo)
    before = axis_range(dash_duo, FEATURE)
    grid = dash_duo.find_element(f"#{FEATURE}")
    ActionChains(dash_duo.driver).scroll_from_origin(
        ScrollOrigin.from_element(grid), 0, 300
    ).perform()
    wait_for(lambda: dash_duo.driver.execute_script("return window.scrollY") > 0, 10, "a scroll")
    assert axis_range(dash_duo, FEATURE) == before
    assert dash_duo.get_logs() == []


def _in_view(dash_duo, element_id: str) -> bool:
    return dash_duo.driver.execute_script(
        "const r=document.getElementById(arguments[0]).getBoundingClientRect();"
        "return r.top >= -1 && r.bottom <= window.innerHeight + 1;",
        element_id,
    )


def test_pg02_a_click_brings_the_detail_into_view(dash_duo) -> None:
    laptop(dash_duo)
    start(dash_duo)
    assert not _in_view(dash_duo, ids.DETAIL_PANEL)  # below the grids at 1366×768
    select_channel(dash_duo, FEATURE, [None, 4, None, None], 4)
    wait_for(lambda: _in_view(dash_duo, ids.DETAIL_PANEL), 10, "the detail panel in view")
    assert dash_duo.get_logs() == []


def _luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _colour(css: str) -> list[float]:
    return [float(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]


def test_pg03_hover_labels_have_at_least_4_5_to_1_contrast(dash_duo) -> None:
    start(dash_duo)

    def hover_colours():
        # a redraw (e.g. once the grid's size is measured) drops the label: hover again
        cell = find_cell(dash_duo, FEATURE, [None, 1, None, None])
        pointer(dash_duo, cell["x"] + 1, cell["y"], click=False)
        pointer(dash_duo, cell["x"], cell["y"], click=False)
        return dash_duo.driver.execute_script(
            "const g=document.querySelector('#feature-grid .hoverlayer .hovertext');"
            "if(!g) return null; const t=g.querySelector('text'), p=g.querySelector('path');"
            "return [getComputedStyle(t).fill, getComputedStyle(p).fill];"
        )

    colours = wait_for(hover_colours, message="a hover label")
    text, background = (_luminance(_colour(c)) for c in colours)
    lighter, darker = max(text, background), min(text, background)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5, colours
    assert dash_duo.get_logs() == []


def test_pg04_the_modebar_covers_no_data_title_or_colour_bar(dash_duo) -> None:
    laptop(dash_duo)
    start(dash_duo, default_model="resnet18")
    for graph in (KERNEL, FEATURE, DETAIL):
        overlap = dash_duo.driver.execute_script(
            """
            const root = document.getElementById(arguments[0]);
            const bar = root.querySelector('.modebar');
            if (!bar) return 'no modebar';
            const b = bar.getBoundingClientRect();
            const parts = root.querySelectorAll('.nsewdrag, .gtitle, .colorbar');
            for (const el of parts) {
                const r = el.getBoundingClientRect();
                const apart = b.right <= r.left || r.right <= b.left
                    || b.bottom <= r.top || r.bottom <= b.top;
                if (r.width && !apart) return el.getAttribute('class');
            }
            return null;
            """,
            graph,
        )
        assert overlap is None, f"#{graph}: the modebar overlaps {overlap}"
    assert dash_duo.get_logs() == []


def test_pg05_paging_keeps_the_selected_channel(dash_duo) -> None:
    start(dash_duo, default_model="vgg16")
    labels = {layer.name: layer.label for layer in MODELS.get("vgg16").conv_layers}
    choose(dash_duo, ids.LAYER_SELECT, labels["features.28"])
    wait_for(lambda: "features.28" in figure_state(dash_duo, FEATURE)["title"], 60, "features.28")
    # 512×512 kernels lead with the norm overview; ask for every kernel, page by page
    wait_for(lambda: figure_state(dash_duo, KERNEL)["meta"]["grid"] == "kernel_norms", 60, "norms")
    dash_duo.find_element(f"#{ids.KERNEL_VIEW} input[value='grid']").click()
    wait_for(lambda: figure_state(dash_duo, KERNEL)["meta"]["grid"] == "kernel", 60, "the grid")
    select_channel(dash_duo, FEATURE, [None, 5, None, None], 5)
    first_page = figure_state(dash_duo, KERNEL)["title"]
    dash_duo.find_element(f"#{ids.PAGE_NEXT}").click()
    wait_for(lambda: figure_state(dash_duo, KERNEL)["title"] != first_page, 30, "the next page")
    assert "channel 5" in detail_title(dash_duo)
    assert "(page 2/" in figure_state(dash_duo, KERNEL)["title"]
    assert figure_state(dash_duo, KERNEL)["shapes"] == []  # channel 5 is not on page 2
    dash_duo.find_element(f"#{ids.PAGE_PREV}").click()
    wait_for(lambda: figure_state(dash_duo, KERNEL)["shapes"], 30, "channel 5's outline again")
    assert "channel 5" in detail_title(dash_duo)
    assert dash_duo.get_logs() == []
