"""The page-side recorder of the network benchmark and the pure arithmetic on what it records.

``RECORDER`` runs before the page's own scripts. It wraps ``fetch`` to log every
``/_dash-update-component`` request (start, end of its body, bytes sent, content
encoding), hooks ``plotly_afterplot`` on every graph (time, title, whether it is a
grid) and notes the time of each click and file choice. Everything else here is pure:
links, rounds, settling and resource totals, tested without a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.timing import summary

QUIET_MS = 400.0  # nothing sent, received or drawn for this long: the page has settled

RECORDER = """
window.__net = {requests: [], plots: [], clicks: [], files: []};
try { performance.setResourceTimingBufferSize(100000); } catch (e) {}
const realFetch = window.fetch;
window.fetch = function (input, init) {
  const url = typeof input === 'string' ? input : (input && input.url) || '';
  if (!url.includes('_dash-update-component')) return realFetch.apply(this, arguments);
  const body = init && typeof init.body === 'string' ? init.body : '';
  let output = '';
  try { output = JSON.parse(body).output; } catch (e) {}
  const entry = {output, up: new TextEncoder().encode(body).length, start: performance.now(),
                 end: null, status: null, encoding: '', bytes: null};
  window.__net.requests.push(entry);
  const promise = realFetch.apply(this, arguments);
  promise.then(res => {
    entry.status = res.status;
    entry.encoding = res.headers.get('content-encoding') || '';
    return res.clone().arrayBuffer();
  }).then(buf => { entry.bytes = buf.byteLength; }, () => {})
    .finally(() => { entry.end = performance.now(); });
  return promise;
};
document.addEventListener('mousedown', () => window.__net.clicks.push(performance.now()), true);
document.addEventListener('change', e => {
  if (e.target && e.target.type === 'file') window.__net.files.push(performance.now());
}, true);
function hook() {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (gd.__netHooked || typeof gd.on !== 'function') continue;
    gd.__netHooked = true;
    const holder = gd.closest('[id]');
    const graph = holder ? holder.id : '';
    gd.on('plotly_afterplot', () => {
      const title = gd.layout && gd.layout.title;
      const meta = gd.layout && gd.layout.meta;
      const entry = {graph, t: performance.now(), painted: null,
                     title: typeof title === 'string' ? title : (title && title.text) || '',
                     grid: !!(meta && meta.grid) && (gd.data || []).length > 0};
      window.__net.plots.push(entry);
      requestAnimationFrame(() => requestAnimationFrame(() => {
        entry.painted = performance.now();
      }));
    });
  }
}
setInterval(hook, 20);
"""

STATE = """
const n = window.__net;
const since = arguments[0];
const requests = n.requests.filter(r => r.start >= since);
const timing = performance.getEntriesByType('resource').filter(
  e => e.name.includes('_dash-update-component') && e.startTime >= since - 1);
return {now: performance.now(), requests, plots: n.plots.filter(p => p.t >= since),
        timing: timing.map(e => ({start: e.startTime, end: e.responseEnd,
                                  transfer: e.transferSize, body: e.encodedBodySize,
                                  decoded: e.decodedBodySize}))};
"""

RESOURCES = """
const nav = performance.getEntriesByType('navigation').map(e => ({
  name: e.name, type: 'navigation', transfer: e.transferSize, body: e.encodedBodySize,
  decoded: e.decodedBodySize, start: e.startTime, end: e.responseEnd}));
const rest = performance.getEntriesByType('resource').map(e => ({
  name: e.name, type: e.initiatorType, transfer: e.transferSize, body: e.encodedBodySize,
  decoded: e.decodedBodySize, start: e.startTime, end: e.responseEnd}));
return nav.concat(rest);
"""


@dataclass(frozen=True)
class Link:
    """An emulated link: symmetric bandwidth and a round trip added to every request."""

    mbit: float
    rtt_ms: float

    @property
    def name(self) -> str:
        return f"{self.mbit:g} Mbit/{self.rtt_ms:g} ms"

    @property
    def key(self) -> str:
        return f"{self.mbit:g}mbit_{self.rtt_ms:g}ms"

    @property
    def bytes_per_s(self) -> float:
        return self.mbit * 1e6 / 8

    def cdp(self) -> dict:
        """Parameters of ``Network.emulateNetworkConditions`` (throughputs in bytes/s)."""
        rate = self.bytes_per_s
        return {
            "offline": False,
            "latency": self.rtt_ms,
            "downloadThroughput": rate,
            "uploadThroughput": rate,
        }


SLOW, FAST = Link(10, 40), Link(50, 20)


def rounds(spans: list[tuple[float, float]]) -> int:
    """Sequential rounds among requests given as (start, end): the longest chain of
    requests each starting after the previous one's answer arrived."""
    depth: list[int] = []
    ordered = sorted(spans)
    for start, _end in ordered:
        before = [d for (_s, e), d in zip(ordered, depth, strict=False) if e <= start]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)


def settled_at(
    state: dict, since: float, wanted: dict[str, Callable[[dict], bool]], quiet_ms: float = QUIET_MS
) -> float | None:
    """The moment the page settled after ``since``, or None while it has not.

    Settled: every update request started since has its answer, each graph in ``wanted``
    has been painted after ``since`` by a draw its predicate accepts, and nothing was sent,
    received or painted for ``quiet_ms``. The moment is the last answer or paint.
    """
    requests, plots = state["requests"], state["plots"]
    if any(r["end"] is None for r in requests) or any(p["painted"] is None for p in plots):
        return None
    if len(state["timing"]) < len(requests):  # an answer's resource entry is not there yet
        return None
    for graph, accept in wanted.items():
        if not any(p["graph"] == graph and accept(p) for p in plots):
            return None
    events = [r["start"] for r in requests] + [r["end"] for r in requests]
    events += [p["painted"] for p in plots]
    last = max(events, default=since)
    return last if state["now"] - last >= quiet_ms else None


def idle_ms(state: dict, since: float) -> float:
    """How long nothing has been in flight, sent, received or painted (0 while a request
    waits for its answer)."""
    requests = state["requests"]
    if any(r["end"] is None for r in requests):
        return 0.0
    events = [since] + [r["end"] for r in requests]
    events += [p["painted"] if p["painted"] is not None else p["t"] for p in state["plots"]]
    return state["now"] - max(events)


def exchange(state: dict) -> dict:
    """Bytes and requests of the update requests in ``state`` (from ``STATE``)."""
    timing = state["timing"]
    return {
        "requests": len(state["requests"]),
        "rounds": rounds([(t["start"], t["end"]) for t in timing]),
        "bytes_down": sum(t["transfer"] for t in timing),
        "body_bytes": sum(t["body"] for t in timing),
        "decoded_bytes": sum(t["decoded"] for t in timing),
        "bytes_up": sum(r["up"] for r in state["requests"]),
        "encodings": sorted({r["encoding"] or "identity" for r in state["requests"]}),
    }


def short_name(url: str) -> str:
    """A resource's path without host and version query (``?v=...``)."""
    path = urlsplit(url).path
    return path.rsplit("/", 1)[-1] or path or url


def resource_totals(entries: list[dict], biggest: int = 6) -> dict:
    """Total bytes of a page load's resources (navigation included) and the largest ones."""
    ranked = sorted(entries, key=lambda e: e["transfer"], reverse=True)
    return {
        "bytes": sum(e["transfer"] for e in entries),
        "body_bytes": sum(e["body"] for e in entries),
        "decoded_bytes": sum(e["decoded"] for e in entries),
        "resources": len(entries),
        "biggest": [
            {
                "name": short_name(e["name"]),
                "type": e["type"],
                "bytes": e["transfer"],
                "decoded": e["decoded"],
            }
            for e in ranked[:biggest]
        ],
    }


def upload_ms(bytes_up: int, link: Link) -> float:
    """What sending ``bytes_up`` takes on ``link`` (Chrome's emulation does not throttle
    request bodies, so this is added to the report, not measured)."""
    return bytes_up / link.bytes_per_s * 1000.0


def _worst(values: dict[str, float]) -> str | None:
    return max(values, key=values.__getitem__) if values else None


def summarise(run: dict) -> dict:
    """Medians and worsts of one link's measures (as ``bench.network.measure_link`` returns)."""
    switches: dict[str, dict] = run.get("switches", {})
    ms = {k: v["ms"] for k, v in switches.items()}
    down = {k: v["bytes_down"] for k, v in switches.items()}
    clicks = run.get("clicks", [])
    return {
        "switch_ms": summary(list(ms.values())),
        "switch_answered_ms": summary([v["answered_ms"] for v in switches.values()]),
        "switch_bytes": summary(list(down.values())),
        "worst_ms_layer": _worst(ms),
        "worst_bytes_layer": _worst(down),
        "switch_requests_max": max((v["requests"] for v in switches.values()), default=None),
        "switch_rounds_max": max((v["rounds"] for v in switches.values()), default=None),
        "cold_ms": summary([v["ms"] for v in run.get("cold", {}).values()]),
        "click_ms": summary([c["ms"] for c in clicks]),
        "click_bytes": summary([c["bytes_down"] for c in clicks]),
        "encodings": sorted({e for v in switches.values() for e in v["encodings"]}),
    }
