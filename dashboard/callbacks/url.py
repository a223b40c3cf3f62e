"""The shareable URL: the view lives in the query string of a ``dcc.Location``.

No callback cycle: ``on_url`` (address bar -> page) sets the controls with ``set_props``,
which draws no edge in Dash's callback graph; ``on_view`` (page -> address bar) writes the
query string it wants to URL_WRITE, and a clientside callback pushes it (after a gesture:
back returns to the view before it) or replaces the current entry (the page settling by
itself). Each round converges: the URL a write produces asks for the view already shown,
so ``on_url`` sets nothing. See ``assets/url_history.js``.
"""

from __future__ import annotations

import dataclasses
import secrets

import plotly.graph_objects as go
from dash import Dash, Input, Output, Patch, State, ctx, no_update, set_props
from dash.exceptions import PreventUpdate

from dashboard import edge, ids, urlstate
from dashboard.callbacks.common import guarded, typed_arrays, view_of
from dashboard.explorer import Explorer
from dashboard.modes import Look
from dashboard.urlstate import UrlState
from dashboard.urlview import resolve
from dashboard.views import View

# A gesture since the last write pushes a new history entry, else the entry is replaced;
# a push also clears the previous link's sentence. A write computed from the URL before a
# back/forward is dropped (assets/url_history.js).
WRITE_URL = """
function(write) {
    const skip = window.dash_clientside.no_update;
    if (!write || typeof write.search !== 'string') { return [skip, skip]; }
    const how = window.convscopeUrl ? window.convscopeUrl.howToWrite(write.from) : 'push';
    if (how === 'drop') { return [skip, skip]; }
    if (how === 'push') { return [write.search, '']; }
    const here = window.location;
    window.history.replaceState(window.history.state, '', here.pathname + write.search + here.hash);
    return [write.search, skip];
}
"""

KERNEL_VIEW_PROP = f"{ids.KERNEL_VIEW}.value"
# the controls a link sets, in the order on_view reads them
CONTROLS = (
    (ids.MODEL_SELECT, "value"),
    (ids.LAYER_SELECT, "value"),
    (ids.IMAGE_STORE, "data"),
    (ids.SCALE_SELECT, "value"),
    (ids.KERNEL_VIEW, "value"),
    (ids.KERNEL_SCALE, "value"),
    (ids.LOOK, "value"),
    (ids.SORT_SELECT, "value"),
    (ids.CHANNEL_STORE, "data"),
)


def look_value(look: Look) -> list[str]:
    return [Look.TUTORIAL.value] if look == Look.TUTORIAL else []


def zoom_update(explorer: Explorer, view: View, zoom) -> tuple[dict | None, bool]:
    """What replaces the grid's mosaic for ``zoom`` (x0, x1, y0, y1; None: all of it), or
    None when nothing does, and whether it is the window's real pixels (FEATURE_ZOOM)."""
    window = "reset" if zoom is None else ((zoom[0], zoom[1]), (zoom[2], zoom[3]))
    shown = explorer.feature_zoom(view, window)
    full = zoom is not None and shown is not None
    # real pixels: one map pixel per cell (the overview's cells are block means)
    return shown, full and (shown.get("meta") or {}).get("cells", {}).get("step") == 1


def zoomed_figure(figure: go.Figure, explorer: Explorer, view: View, zoom) -> bool:
    """A fresh feature grid showing ``zoom``; True when at its real pixels (FEATURE_ZOOM).
    A new uirevision makes plotly take the ranges over any zoom the visitor made."""
    shown, full = zoom_update(explorer, view, zoom)
    if shown is not None:
        figure.data[0].update(shown)
    if zoom is not None:
        figure.layout.xaxis.range = [zoom[0], zoom[1]]
        figure.layout.yaxis.range = [zoom[2], zoom[3]]
    figure.layout.uirevision = f"{figure.layout.uirevision}:url:{secrets.token_hex(4)}"
    return full


def register_url(app: Dash, explorer: Explorer) -> None:
    """Register the address bar -> page and page -> address bar callbacks."""

    @app.callback(
        Output(ids.URL_VIEW, "data"),
        Output(ids.URL_STATUS, "children"),
        Input(ids.URL, "search"),
        State(ids.URL_WRITE, "data"),
        State(ids.URL_VIEW, "data"),
        *(State(*control) for control in CONTROLS),
        State(ids.LANG_STORE, "data"),
        State(ids.WEIGHTS_STORE, "data"),
    )
    @guarded(lambda text: (no_update, text))
    def on_url(search, written, applied, *current):
        """A link opened, or back/forward: the controls take the link's view."""
        if search is None:
            raise PreventUpdate
        written = written if isinstance(written, dict) else {}
        count = _count(written.get("n"))
        seen = _count(applied.get("n")) if isinstance(applied, dict) else None
        kept = search if isinstance(search, str) and len(search) <= urlstate.MAX_QUERY else None
        if kept is not None and written.get("search") == kept and count != seen:
            # the page wrote this URL: it already shows that view
            canonical = urlstate.to_search(urlstate.parse(kept).state)
            return {"search": kept, "resolved": canonical, "n": count, "own": True}, no_update
        *controls, lang, weights = current
        image = controls[2] if isinstance(controls[2], str) else ""
        parsed = urlstate.parse(search)
        shown = resolve(parsed, explorer, image, edge.weights_ref(weights))
        before = applied.get("resolved") if isinstance(applied, dict) else None
        _apply(shown.state, shown.image, controls, lang, urlstate.parse(before).state.zoom)
        resolved = {"search": kept, "resolved": urlstate.to_search(shown.state), "n": count}
        return resolved, " ".join(shown.sentences)

    @app.callback(
        Output(ids.URL_WRITE, "data"),
        *(Input(*control) for control in CONTROLS),
        Input(ids.FEATURE_GRID, "relayoutData"),
        Input(ids.LANG_STORE, "data"),
        State(ids.URL, "search"),
        State(ids.URL_VIEW, "data"),
        State(ids.URL_WRITE, "data"),
        State(ids.WEIGHTS_STORE, "data"),
        prevent_initial_call=True,
    )
    @guarded(lambda _text: no_update)
    def on_view(*values):
        """The page's view changed: the query string that asks for it."""
        *controls, relayout, lang, search, applied, written, weights = values
        if applied is None or not isinstance(search, str):
            raise PreventUpdate  # the page has not read its own link yet
        state = _page_state(explorer, controls, weights, lang)
        if state is None:
            raise PreventUpdate  # between a model and its layers: the next round writes
        url = urlstate.parse(search).state
        window = edge.zoom_window(relayout)
        if f"{ids.FEATURE_GRID}.relayoutData" in ctx.triggered_prop_ids and window is not None:
            zoom = None if window == "reset" else (*window[0], *window[1])
        else:  # a zoom lasts while the grid keeps its shape: same model, same layer
            same = (url.model, url.layer) == (state.model, state.layer)
            zoom = url.zoom if same else None
        state = dataclasses.replace(state, zoom=zoom)
        if wanted_already(state, applied, search):
            raise PreventUpdate
        wanted = urlstate.to_search(state)
        if wanted == search:
            raise PreventUpdate
        count = _count(written.get("n")) if isinstance(written, dict) else None
        return {"search": wanted, "from": search, "n": (count or 0) + 1}

    # the page's language, for the browser and for anyone reading the page (no translation
    # here: the catalogues read LANG_STORE)
    app.clientside_callback(
        """function(lang) {
            if (typeof lang !== 'string') { return window.dash_clientside.no_update; }
            document.documentElement.lang = lang;
            return lang;
        }""",
        Output(ids.PAGE, "lang"),
        Input(ids.LANG_STORE, "data"),
    )

    app.clientside_callback(
        WRITE_URL,
        Output(ids.URL, "search"),
        Output(ids.URL_STATUS, "children", allow_duplicate=True),
        Input(ids.URL_WRITE, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.FEATURE_GRID, "figure", allow_duplicate=True),
        Output(ids.FEATURE_ZOOM, "data", allow_duplicate=True),
        Input(ids.URL_ZOOM, "data"),
        *(State(*control) for control in CONTROLS),
        State(ids.WEIGHTS_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        State(ids.GRID_SIZE, "data"),
        prevent_initial_call=True,
    )
    @guarded(lambda _text: (no_update, no_update))
    def on_url_zoom(zoom, model, layer, image, scale, _kv, _ks, _look, sort, channel, *rest):
        """Back/forward to a zoom of the grid already shown: its window, or all of it."""
        weights, session, size = rest
        view = view_of(
            explorer,
            model,
            layer,
            image,
            channel,
            weights,
            session,
            size,
            scale=edge.scale(scale),
            sort=edge.sort_key(sort),
        )
        window = urlstate.parse(f"zoom={zoom}").state.zoom if isinstance(zoom, str) else None
        whole = explorer.feature_view(view).figure.layout  # the ranges showing every map
        shown, full = zoom_update(explorer, view, window)
        patch = Patch()
        for key, value in typed_arrays(shown or {}).items():
            patch["data"][0][key] = value
        x_range, y_range = (
            (window[:2], window[2:]) if window else (whole.xaxis.range, whole.yaxis.range)
        )
        patch["layout"]["xaxis"]["range"] = list(x_range)
        patch["layout"]["yaxis"]["range"] = list(y_range)
        patch["layout"]["uirevision"] = f"{whole.uirevision}:url:{secrets.token_hex(4)}"
        return patch, full


def wanted_already(state: UrlState, applied: object, search: str) -> bool:
    """Whether the page shows what the link in the address bar resolved to: a partial or
    corrected link is then left as it is (no write, no history entry) until the visitor
    changes the view. A link without a kernel view leaves it to the layer's size."""
    if not isinstance(applied, dict) or applied.get("search") != search:
        return False
    resolved = urlstate.parse(applied.get("resolved")).state
    if resolved.kernels is None and KERNEL_VIEW_PROP not in ctx.triggered_prop_ids:
        resolved = dataclasses.replace(resolved, kernels=state.kernels)
    return resolved == state


def _count(value: object) -> int | None:
    """The page's count of URL writes, as the page keeps it (None: absent or forged)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 31:
        return value
    return None


def _page_state(explorer: Explorer, controls: list, weights, lang) -> UrlState | None:
    """The view the controls show, each value checked at the edge; None while they do not
    fit together yet (a new model's old layer, a channel the new layer lacks)."""
    model, layer, image, scale, kernels, kernel_scale, look, sort, channel = controls
    model = edge.model(model, explorer.models.names)
    if layer is None:
        return None
    loaded = explorer.model(model, edge.weights_ref(weights))
    found = next((x for x in loaded.conv_layers if x.name == layer), None)
    channel = edge.channel(channel)
    if found is None or channel >= found.out_channels:
        return None
    return UrlState(
        model=model,
        layer=found.name,
        channel=channel,
        image=urlstate.image_param(edge.key(image, "image choice")),
        scale=edge.scale(scale),
        kernels=edge.kernel_mode(kernels),
        kernel_scale=edge.kernel_scale(kernel_scale),
        look=edge.look(look),
        sort=edge.sort_key(sort),
        lang=urlstate.parse(f"lang={lang}").state.lang or None,
    )


def _apply(state: UrlState, image: str, controls: list, lang: object, shown_zoom) -> None:
    """Set the controls that differ from ``state``; the panels redraw from them.
    ``shown_zoom``: the zoom of the URL the page showed until now."""
    model, layer, current_image, scale, kernels, kernel_scale, look, sort, channel = controls
    redraw = False
    if state.model != model:  # on_model then takes the link's layer (url_wanted)
        set_props(ids.MODEL_SELECT, {"value": state.model})
        redraw = True
    elif state.layer != layer:
        set_props(ids.LAYER_SELECT, {"value": state.layer})
        redraw = True
    if image != current_image:
        set_props(ids.SAMPLE_SELECT, {"value": image})
        redraw = True
    simple = {
        ids.SCALE_SELECT: (scale, state.scale),
        ids.KERNEL_SCALE: (kernel_scale, state.kernel_scale),
        ids.SORT_SELECT: (sort, state.sort),
        ids.LOOK: (look, look_value(state.look)),
    }
    for component, (now, wanted) in simple.items():
        if now != wanted:
            set_props(component, {"value": wanted})
    redraw = redraw or scale != state.scale or sort != state.sort
    if state.kernels is not None and state.kernels != kernels:
        set_props(ids.KERNEL_VIEW, {"value": state.kernels})
    if state.channel != channel:
        # with a redraw the panels read the channel; on the same grid a selection moves it
        set_props(ids.CHANNEL_STORE, {"data": state.channel})
        if not redraw:
            set_props(ids.URL_CHANNEL, {"data": state.channel})
    # a link without lang keeps the language the server answered in (cookie, browser)
    if state.lang is not None and state.lang != lang:
        set_props(ids.LANG_STORE, {"data": state.lang})
    if not redraw and state.zoom != shown_zoom:
        zoom = urlstate.to_search(UrlState(zoom=state.zoom)).removeprefix("?zoom=")
        set_props(ids.URL_ZOOM, {"data": zoom})
