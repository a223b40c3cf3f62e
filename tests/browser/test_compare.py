"""Compare mode in the browser: a second detail map for the selected channel that follows
channel clicks, with one colour range on both maps when asked."""

from __future__ import annotations

from dashboard import ids
from tests.browser.helpers import (
    DETAIL,
    FEATURE,
    choose,
    detail_title,
    figure_state,
    select_channel,
    start,
    wait_for,
)

COMPARE = ids.COMPARE_DETAIL

# (zmin, zmax) of a graph's first trace, as plotly drew it.
_RANGE = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
if (!gd || !gd.data || !gd.data.length) return null;
return [gd.data[0].zmin, gd.data[0].zmax];
"""


def compare_title(dash_duo) -> str:
    return (figure_state(dash_duo, COMPARE) or {}).get("title", "")


def colour_range(dash_duo, graph: str) -> list | None:
    return dash_duo.driver.execute_script(_RANGE, graph)


def test_bcmp01_compare_follows_the_channel_with_one_colour_scale(dash_duo) -> None:
    start(dash_duo)
    wait_for(lambda: "channel 0 " in detail_title(dash_duo) + " ", message="detail of channel 0")
    assert not dash_duo.find_element(f"#{COMPARE}").is_displayed()  # off by default
    choose(dash_duo, ids.COMPARE_SELECT, "mirror of this image")
    wait_for(
        lambda: (
            "Compared: mirror of this image" in compare_title(dash_duo)
            and "channel 0 " in compare_title(dash_duo)
        ),
        message="the compare map of channel 0",
    )
    assert dash_duo.find_element(f"#{COMPARE}").is_displayed()
    own, theirs = colour_range(dash_duo, DETAIL), colour_range(dash_duo, COMPARE)
    assert own != theirs  # each map on its own range

    dash_duo.find_element(f"#{ids.COMPARE_SCALE} input").click()
    union = [min(own[0], theirs[0]), max(own[1], theirs[1])]
    wait_for(
        lambda: colour_range(dash_duo, DETAIL) == colour_range(dash_duo, COMPARE) == union,
        message="one colour range on both maps",
    )

    select_channel(dash_duo, FEATURE, [None, 4, None, None], 4)
    wait_for(
        lambda: "channel 4 " in compare_title(dash_duo) + " ",
        message="the compare map to follow to channel 4",
    )
    # the first map was redrawn with its own range by the click, then shares it again
    wait_for(
        lambda: colour_range(dash_duo, DETAIL) == colour_range(dash_duo, COMPARE),
        message="one colour range after the click",
    )
    assert dash_duo.get_logs() == []
