"""The NETWORK section's tables: one column per (compression, link), fixed width."""

from __future__ import annotations

from collections.abc import Callable

LABEL, CELL = 30, 16
MODE_SHORT = {"compressed": "comp", "uncompressed": "plain"}


def _num(value: float | None, scale: float = 1.0) -> str:
    return "-" if value is None else f"{value / scale:,.0f}"


def _kb(value: float | None) -> str:
    return _num(value, 1000.0)


def _columns(network: dict) -> list[tuple[str, str, dict]]:
    """(mode, heading, run) for every run measured, errors included."""
    out = []
    for mode, runs in network.get("runs", {}).items():
        for link in network.get("links", []):
            if link["key"] in runs:
                heading = f"{link['mbit']:g}M/{link['rtt_ms']:g}ms {MODE_SHORT.get(mode, mode)}"
                out.append((mode, heading, runs[link["key"]]))
    return out


def _upload(run: dict, key: str) -> float | None:
    return (run.get("upload") or {}).get(key)


ROWS: tuple[tuple[str, Callable[[dict], str]], ...] = (
    ("first load: DOMContentLoaded ms", lambda r: _num(r["first_load"]["dom_content_loaded_ms"])),
    ("first load: grids drawn ms", lambda r: _num(r["first_load"]["drawn_ms"])),
    ("  (each load)", lambda r: " ".join(_num(x) for x in r["first_load"]["drawn_ms_runs"])),
    ("first load: settled ms", lambda r: _num(r["first_load"]["settled_ms"])),
    ("first load: KB on the wire", lambda r: _kb(r["first_load"]["bytes"])),
    ("first load: KB decoded", lambda r: _kb(r["first_load"]["decoded_bytes"])),
    (
        "open VGG16 ms (* cold)",
        lambda r: _num(r["open"]["ms"]) + ("*" if r["open"]["cold"] else ""),
    ),
    ("switch ms median", lambda r: _num(r["summary"]["switch_ms"]["median"])),
    ("  of which answers arrived", lambda r: _num(r["summary"]["switch_answered_ms"]["median"])),
    ("switch ms worst", lambda r: _num(r["summary"]["switch_ms"]["max"])),
    ("switch KB median", lambda r: _kb(r["summary"]["switch_bytes"]["median"])),
    ("switch KB worst", lambda r: _kb(r["summary"]["switch_bytes"]["max"])),
    (
        "switch requests / rounds",
        lambda r: f"{r['summary']['switch_requests_max']} / {r['summary']['switch_rounds_max']}",
    ),
    ("cold switch ms median", lambda r: _num(r["summary"]["cold_ms"]["median"])),
    ("click ms median", lambda r: _num(r["summary"]["click_ms"]["median"])),
    ("click KB median", lambda r: _kb(r["summary"]["click_bytes"]["median"])),
    ("upload ms", lambda r: _num(_upload(r, "ms"))),
    ("  + sending it (not emulated)", lambda r: _num(_upload(r, "modelled_upload_ms"))),
    (
        "upload KB up / down",
        lambda r: f"{_kb(_upload(r, 'bytes_up'))} / {_kb(_upload(r, 'bytes_down'))}",
    ),
    ("answers encoded", lambda r: ",".join(r["summary"].get("encodings", [])) or "-"),
)


def _line(label: str, cells: list[str]) -> str:
    return label.ljust(LABEL) + "".join(c.rjust(CELL) for c in cells)


def _cell(fill: Callable[[dict], str], run: dict) -> str:
    if "error" in run:
        return "error"
    try:
        return fill(run)
    except (KeyError, TypeError):
        return "-"


def network_table(network: dict) -> str:
    """The summary, per-layer switches, the first load's largest resources and errors."""
    columns = _columns(network)
    head = f"NETWORK ({network.get('code', '?')}): headless Chromium {network.get('chromium')}, "
    head += "DevTools emulation, waitress (Procfile), cache off; KB = 1000 bytes on the wire"
    lines = [head, _line("", [h for _, h, _ in columns])]
    lines += [_line(label, [_cell(fill, run) for _, _, run in columns]) for label, fill in ROWS]
    lines += ["", _line("switch ms (KB) per layer", [h for _, h, _ in columns])]
    for layer in network.get("layers", []):
        cells = []
        for _, _, run in columns:
            row = run.get("switches", {}).get(layer)
            cells.append("-" if row is None else f"{row['ms']:,.0f} ({_kb(row['bytes_down'])})")
        lines.append(_line(f"  {layer}", cells))
    lines.append("")
    for mode, first in network.get("loopback", {}).items():
        if isinstance(first, dict):
            lines.append(
                f"first load without emulation ({mode}): grids drawn at {_num(first['drawn_ms'])}"
                f" ms (median of {len(first.get('drawn_ms_runs', [1]))}), {_kb(first['bytes'])} KB"
            )
    shown: set[str] = set()
    for mode, heading, run in columns:
        if mode not in shown and "first_load" in run:
            shown.add(mode)
            biggest = ", ".join(
                f"{b['name']} {_kb(b['bytes'])} ({_kb(b['decoded'])})"
                for b in run["first_load"]["biggest"]
            )
            lines.append(f"largest in the first load, KB (decoded), {heading}: {biggest}")
    upload = network.get("upload_file")
    if upload:
        lines.append(f"uploaded {upload['name']}, {_kb(upload['bytes'])} KB")
    for _, heading, run in columns:
        for key in ("error", "clicks_error", "upload_error"):
            if key in run:
                lines.append(f"{heading}: {key}: {run[key]}")
        via = {c.get("via", "click") for c in run.get("clicks", [])} - {"click"}
        if via:
            lines.append(f"{heading}: clicks measured via {', '.join(sorted(via))}")
    return "\n".join(lines)
