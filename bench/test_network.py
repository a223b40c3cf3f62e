"""The NETWORK section's pure parts: links, rounds, settling, byte totals, verdicts, table.

No browser and no timing: every input is a made-up recording as the page's recorder
returns it.
"""

from __future__ import annotations

import pytest

from bench.network import QUICK, VGG16_LAYERS, plan_for
from bench.network_probe import (
    Link,
    exchange,
    idle_ms,
    resource_totals,
    rounds,
    settled_at,
    short_name,
    summarise,
    upload_ms,
)
from bench.network_report import network_table
from bench.targets import network_verdicts


def _request(start: float, end: float | None, up: int = 100, encoding: str = "br") -> dict:
    return {"start": start, "end": end, "up": up, "encoding": encoding, "output": "x.figure"}


def _plot(graph: str, t: float, title: str = "", grid: bool = True) -> dict:
    return {"graph": graph, "t": t, "painted": t + 16, "title": title, "grid": grid}


def _state(now: float, requests: list[dict], plots: list[dict], transfer: int = 1000) -> dict:
    timing = [
        {"start": r["start"], "end": r["end"], "transfer": transfer, "body": 900, "decoded": 2000}
        for r in requests
        if r["end"] is not None
    ]
    return {"now": now, "requests": requests, "plots": plots, "timing": timing}


def test_nw01_link_speaks_bytes_per_second_to_devtools() -> None:
    link = Link(10, 40)
    assert link.cdp() == {
        "offline": False,
        "latency": 40,
        "downloadThroughput": 1_250_000,
        "uploadThroughput": 1_250_000,
    }
    assert (link.name, link.key) == ("10 Mbit/40 ms", "10mbit_40ms")
    assert upload_ms(250_000, link) == 200.0


def test_nw02_rounds_count_requests_that_waited_for_an_answer() -> None:
    assert rounds([]) == 0
    assert rounds([(0, 100), (1, 120), (2, 90)]) == 1  # sent together
    assert rounds([(0, 100), (1, 120), (121, 200)]) == 2  # the third waited for both
    assert rounds([(0, 100), (101, 150), (151, 300), (160, 170)]) == 3
    assert rounds([(50, 60), (0, 40)]) == 2  # order of the list does not matter


def test_nw03_settled_needs_answers_wanted_draws_and_quiet() -> None:
    wanted = {"kernel-grid": lambda p: p["title"].startswith("features.2 ")}
    requests = [_request(10, 200), _request(12, 260)]
    drawn = [_plot("kernel-grid", 300, "features.2 · 128 kernels")]
    assert settled_at(_state(1000, requests, drawn), 5, wanted) == 316  # the last paint
    assert settled_at(_state(500, requests, drawn), 5, wanted) is None  # not quiet yet
    pending = [_request(10, 200), _request(12, None)]
    assert settled_at(_state(5000, pending, drawn), 5, wanted) is None
    old = [_plot("kernel-grid", 300, "features.0 · 64 kernels")]
    assert settled_at(_state(5000, requests, old), 5, wanted) is None  # not the wanted draw
    unpainted = [{**drawn[0], "painted": None}]
    assert settled_at(_state(5000, requests, unpainted), 5, wanted) is None
    no_entry = {**_state(5000, requests, drawn), "timing": []}
    assert settled_at(no_entry, 5, wanted) is None  # resource entries lag the answers


def test_nw04_idle_is_zero_while_an_answer_is_awaited() -> None:
    assert idle_ms(_state(900, [_request(10, None)], []), 0) == 0.0
    assert idle_ms(_state(900, [_request(10, 200)], [_plot("x", 300)]), 0) == 584.0
    assert idle_ms(_state(900, [], []), 100) == 800.0


def test_nw05_exchange_sums_the_update_requests() -> None:
    state = _state(0, [_request(0, 10, up=300, encoding="br"), _request(20, 30, encoding="")], [])
    assert exchange(state) == {
        "requests": 2,
        "rounds": 2,
        "bytes_down": 2000,
        "body_bytes": 1800,
        "decoded_bytes": 4000,
        "bytes_up": 400,
        "encodings": ["br", "identity"],
    }


def test_nw06_resource_totals_rank_the_largest() -> None:
    entries = [
        {"name": "http://127.0.0.1:5/", "type": "navigation", "transfer": 3000},
        {
            "name": "http://127.0.0.1:5/_dash-component-suites/plotly/p.v1_2m3.min.js?v=1",
            "type": "script",
            "transfer": 500_000,
        },
        {"name": "http://127.0.0.1:5/_dash-update-component", "type": "fetch", "transfer": 9},
    ]
    for entry in entries:
        entry.update(body=entry["transfer"] - 300, decoded=2 * entry["transfer"], start=0, end=1)
    totals = resource_totals(entries, biggest=2)
    assert totals["bytes"] == 503_009 and totals["resources"] == 3
    assert [b["name"] for b in totals["biggest"]] == ["p.v1_2m3.min.js", "/"]  # the page itself
    assert totals["biggest"][0] == {
        "name": "p.v1_2m3.min.js",
        "type": "script",
        "bytes": 500_000,
        "decoded": 1_000_000,
    }
    assert short_name("http://h:1/_dash-update-component") == "_dash-update-component"


def _switch(ms: float, down: int) -> dict:
    return {
        "ms": ms,
        "answered_ms": ms - 300,
        "requests": 4,
        "rounds": 2,
        "bytes_down": down,
        "encodings": ["br"],
    }


def _network(first_ms: float, switch_ms: list[float], switch_bytes: list[int]) -> dict:
    layers = [f"features.{i}" for i in range(len(switch_ms))]
    run = {
        "first_load": {
            "drawn_ms": first_ms,
            "settled_ms": first_ms + 400,
            "dom_content_loaded_ms": 1000,
            "drawn_ms_runs": [first_ms - 100, first_ms + 100],
            "bytes": 1_200_000,
            "decoded_bytes": 3_300_000,
            "resources": 27,
            "biggest": [{"name": "plotly.min.js", "bytes": 500_000, "decoded": 1_500_000}],
        },
        "open": {"ms": 7000, "cold": True},
        "switches": {
            n: _switch(m, b) for n, m, b in zip(layers, switch_ms, switch_bytes, strict=True)
        },
        "cold": {layers[0]: _switch(2000, 1)},
        "clicks": [{"ms": 300, "bytes_down": 9000, "via": "click"}],
        "upload": {
            "ms": 2500,
            "bytes_up": 228_000,
            "bytes_down": 670_000,
            "modelled_upload_ms": 182,
        },
    }
    run["summary"] = summarise(run)
    return {
        "chromium": "156",
        "layers": layers,
        "links": [{"key": "10mbit_40ms", "name": "10 Mbit/40 ms", "mbit": 10, "rtt_ms": 40}],
        "runs": {
            "compressed": {"10mbit_40ms": run},
            "uncompressed": {"10mbit_40ms": {"error": "X"}},
        },
        "loopback": {"compressed": {"drawn_ms": 2000, "bytes": 3_300_000}},
    }


def test_nw07_summary_and_verdicts_judge_the_slow_compressed_run() -> None:
    good = _network(2900, [900, 1000, 1400], [500_000, 600_000, 100])
    summary = good["runs"]["compressed"]["10mbit_40ms"]["summary"]
    assert summary["switch_ms"]["median"] == 1000 and summary["worst_ms_layer"] == "features.2"
    assert summary["worst_bytes_layer"] == "features.1" and summary["switch_rounds_max"] == 2
    assert [v.passed for v in network_verdicts(good)] == [True, True, True]
    bad = _network(3100, [900, 1100, 1600], [500_000, 600_001, 100])
    assert [v.passed for v in network_verdicts(bad)] == [False, False, False]
    worst_only = _network(1000, [100, 200, 1501], [1, 1, 1])
    assert [v.passed for v in network_verdicts(worst_only)] == [True, False, True]
    missing = {"runs": {}, "links": []}
    assert [v.passed for v in network_verdicts(missing)] == [None, None, None]


def test_nw08_table_shows_every_run_and_its_errors() -> None:
    text = network_table(_network(2900, [900, 1000, 1400], [500_000, 600_000, 100]))
    assert "10M/40ms comp" in text and "10M/40ms plain" in text
    assert "  features.2" in text and "1,400 (0)" in text  # ms (KB) per layer
    assert "10M/40ms plain: error: X" in text
    assert "7,000*" in text  # the cold open is marked
    assert "plotly.min.js 500 (1,500)" in text


def test_nw09_plan_for_the_options() -> None:
    assert plan_for(None, quick=True) == QUICK
    full = plan_for(None, quick=False)
    assert full.layers == VGG16_LAYERS and len(full.layers) == 13 and len(full.links) == 2
    mine = plan_for(" features.2,features.0 ", False, "compressed", loads=1, clicks=None)
    assert (mine.layers, mine.modes, mine.loads, mine.clicks) == (
        ("features.2", "features.0"),
        ("compressed",),
        1,
        3,
    )
    for bad in ({"layers": "features.1"}, {"layers": None, "modes": "gzip"}):
        with pytest.raises(SystemExit):
            plan_for(quick=False, **bad)
