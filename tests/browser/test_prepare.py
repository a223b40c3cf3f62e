"""A big model's first pass on a real Celery worker, as a visitor sees it in a browser.

Every model counts as big here (``worker_model_mb=0``): the page opens on TinyVGG, says the
worker is running it, and fills in when the worker is done; VGG16 (random weights, seconds
to build on the worker) leaves time to cancel and run it again.
"""

from __future__ import annotations

from dashboard import ids
from tests.browser.helpers import (
    FEATURE,
    choose,
    figure_state,
    start,
    wait_for,
    wait_for_grids,
)


def _text(dash_duo, element_id: str) -> str:
    return dash_duo.find_element(f"#{element_id}").text


def _note(dash_duo, graph_id: str) -> str:
    """The sentence a message figure shows ('' for a drawn grid)."""
    return dash_duo.driver.execute_script(
        """
        const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
        const notes = (gd && gd.layout && gd.layout.annotations) || [];
        return notes.length ? notes[0].text : '';
        """,
        graph_id,
    )


def test_pb01_the_page_fills_in_once_the_worker_ran_the_model(
    dash_duo, redis_server, celery_worker
) -> None:
    start(dash_duo, redis_url=redis_server.url, worker_model_mb=0)  # waits for the grids
    assert "ran on a worker in" in _text(dash_duo, ids.PREPARE_STATUS)
    assert dash_duo.find_element(f"#{ids.PREPARE_BOX}").is_displayed()
    assert "succeeded" in celery_worker.log()
    assert figure_state(dash_duo, FEATURE)["meta"]["channels"] == 16  # TinyVGG block1.0
    assert dash_duo.get_logs() == []


def test_pb02_cancel_then_run_it_again(dash_duo, redis_server, celery_worker) -> None:
    start(dash_duo, redis_url=redis_server.url, worker_model_mb=0)
    choose(dash_duo, ids.MODEL_SELECT, "VGG16")
    button = dash_duo.find_element(f"#{ids.PREPARE_START}")
    cancel = dash_duo.find_element(f"#{ids.PREPARE_CANCEL}")
    wait_for(lambda: not cancel.get_attribute("disabled"), 30, "the job running")
    assert button.get_attribute("disabled")
    # "Waiting for a free worker…" until it reports, then "Loading VGG16…", "Running …"
    wait_for(lambda: "VGG16" in _text(dash_duo, ids.PREPARE_STAGE), 30, "the job's stage")
    waiting = "VGG16 runs on a worker for this image first"
    wait_for(lambda: waiting in _note(dash_duo, FEATURE), 30, "the maps' waiting note")
    assert _text(dash_duo, ids.STATUS) == ""  # not an error: no red line
    assert "The top classes appear when the worker is done." in _text(dash_duo, ids.PREDICTIONS)
    cancel.click()
    wait_for(lambda: "Cancelled" in _text(dash_duo, ids.PREPARE_STATUS), 20, "the cancel note")
    wait_for(lambda: not button.get_attribute("disabled"), 20, "the start button back")
    assert waiting in _note(dash_duo, FEATURE)  # nothing was computed here
    button.click()
    wait_for(
        lambda: "ran on a worker in" in _text(dash_duo, ids.PREPARE_STATUS),
        180,
        "the worker to finish VGG16",
    )
    wait_for_grids(dash_duo)
    wait_for(lambda: figure_state(dash_duo, FEATURE)["meta"]["channels"] == 64, 60, "VGG16's maps")
    assert _text(dash_duo, ids.STATUS) == ""
    assert dash_duo.get_logs() == []
