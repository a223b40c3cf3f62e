"""The wire client (tests.wire): payloads, the layout walker, patches, and the same page over
Flask's test client and over real HTTP."""

from __future__ import annotations

from contextlib import closing

import numpy as np
import pytest
from dash import Dash, Input, Output, Patch, State, dcc, html

from tests.wire import (
    DashClient,
    HTTPTransport,
    Tab,
    WireError,
    apply_patch,
    decode_typed,
    layout_values,
    request_body,
    serve_in_thread,
    split_outputs,
)

RNG = np.random.default_rng(7)


def test_wire01_payload_keeps_the_hash_of_duplicate_outputs() -> None:
    dep = {
        "output": "..channel-store.data@ab12...status.children@ab12..",
        "inputs": [{"id": "feature-grid", "property": "clickData"}],
        "state": [{"id": "model-select", "property": "value"}],
    }
    values = {"model-select.value": "vgg16", "feature-grid.clickData": {"points": []}}
    body = request_body(dep, values, ["feature-grid.clickData"])
    assert body["output"] == dep["output"]
    assert body["outputs"][0] == {"id": "channel-store", "property": "data@ab12"}
    assert body["inputs"][0]["value"] == {"points": []}
    assert body["state"] == [{"id": "model-select", "property": "value", "value": "vgg16"}]
    assert body["changedPropIds"] == ["feature-grid.clickData"]
    single = {"output": "feature-detail.figure", "inputs": dep["inputs"], "state": []}
    assert request_body(single, {}, [])["outputs"] == {"id": "feature-detail", "property": "figure"}
    assert "state" not in request_body(single, {}, [])
    assert split_outputs("feature-detail.figure") == [
        {"id": "feature-detail", "property": "figure"}
    ]
    # Callbacks by first output: the plain name is the plain callback, its allow_duplicate
    # twin is named with its "@hash"; two duplicate twins alone leave the plain name to none.
    twice = {**single, "output": "..feature-detail.figure@ff...status.children@ff.."}
    client = DashClient(tiny_app(), [dep, single, twice])
    assert client.body("channel-store.data", values, [])["output"] == dep["output"]
    assert client.body("feature-detail.figure@ff", {}, [])["output"] == twice["output"]
    assert client.body("feature-detail.figure", {}, [])["output"] == single["output"]
    thrice = {**single, "output": "..feature-detail.figure@ee...status.children@ee.."}
    client = DashClient(tiny_app(), [dep, twice, thrice])
    with pytest.raises(KeyError, match="no single callback"):
        client.body("feature-detail.figure", {}, [])


def test_wire02_layout_walker_finds_every_component_value() -> None:
    layout = {
        "props": {
            "children": [
                {"props": {"id": "model-select", "value": "custom"}, "type": "Dropdown"},
                {
                    "props": {
                        "id": "pager",
                        "hidden": True,
                        "children": {"props": {"id": "next", "n_clicks": 0}, "type": "Button"},
                    },
                    "type": "Div",
                },
                {"props": {"id": {"type": "cell", "index": 1}, "value": 3}, "type": "Input"},
                {"props": {"summary": {"props": {"id": "in-a-prop", "value": 1}}}},
            ]
        }
    }
    values = layout_values(layout)
    assert values["model-select.value"] == "custom" and values["pager.hidden"] is True
    assert values["next.n_clicks"] == 0 and values["in-a-prop.value"] == 1
    assert values["pager.children"]["props"]["id"] == "next"  # what the renderer would send
    assert not any(key.startswith("{") for key in values)  # pattern-matching ids: not kept


def test_wire03_patches_apply_like_the_renderer() -> None:
    patch = Patch()
    patch["layout"]["shapes"] = [{"type": "rect"}]
    patch["layout"]["title"].update({"text": "b"})
    patch["data"].append(3)
    patch["data"][-1] += 1
    patch["data"].insert(0, 0)
    del patch["layout"]["gone"]
    before = {"data": [1, 2], "layout": {"title": {"text": "a", "x": 0}, "gone": 1}}
    after = apply_patch(before, patch.to_plotly_json())
    assert after == {
        "data": [0, 1, 2, 4],
        "layout": {"title": {"text": "b", "x": 0}, "shapes": [{"type": "rect"}]},
    }
    assert before["data"] == [1, 2] and "gone" in before["layout"]  # copied, not mutated
    with pytest.raises(ValueError, match="does not hold"):
        apply_patch(None, patch.to_plotly_json())


def tiny_app() -> Dash:
    """Two callbacks: a typed array, a Patch and a state read from the page."""
    app = Dash(__name__)
    app.layout = html.Div(
        [
            dcc.Input(id="n", value=2),
            dcc.Store(id="session-store", data="abc"),
            dcc.Graph(id="grid", figure={"data": [], "layout": {"title": {"text": "t"}}}),
            html.Button(id="mark", n_clicks=0),
            html.Div(id="marked"),
        ]
    )

    @app.callback(Output("grid", "figure"), Input("n", "value"), State("session-store", "data"))
    def grid(n: int, session: str) -> dict:
        z = np.arange(int(n) * 3, dtype=np.float32).reshape(int(n), 3)
        return {"data": [{"type": "heatmap", "z": z}], "layout": {"title": {"text": session}}}

    @app.callback(
        Output("marked", "children"),
        Output("grid", "figure", allow_duplicate=True),
        Input("mark", "n_clicks"),
        prevent_initial_call=True,
    )
    def mark(clicks: int) -> tuple[str, Patch]:
        patch = Patch()
        patch["layout"]["shapes"] = [{"type": "rect", "x0": clicks}]
        return f"{clicks} marked", patch

    return app


def drive(client: DashClient) -> dict[str, object]:
    tab = Tab(client)  # its own GET /_dash-layout
    assert tab.values["session-store.data"] == "abc"
    reply = tab.fire("grid.figure", tab.set({"n.value": 3}))
    assert reply.status == 200 and reply.nbytes > 100 and reply.ms > 0
    z = decode_typed(tab.values["grid.figure"]["data"][0]["z"])
    assert z.shape == (3, 3) and z[2, 2] == 8
    tab.fire("marked.children", tab.set({"mark.n_clicks": 1}))
    with pytest.raises(WireError, match="HTTP 500"):
        tab.fire("grid.figure", tab.set({"n.value": "not a number"}))
    return tab.values


def test_wire04_the_same_page_over_the_test_client_and_over_http() -> None:
    app = tiny_app()
    in_process = drive(DashClient(app))
    with serve_in_thread(app) as port, closing(DashClient(HTTPTransport(port, 10, 2))) as client:
        over_http = drive(client)
    assert over_http == in_process
    figure = in_process["grid.figure"]
    assert figure["layout"] == {"title": {"text": "abc"}, "shapes": [{"type": "rect", "x0": 1}]}
    assert in_process["marked.children"] == "1 marked"
