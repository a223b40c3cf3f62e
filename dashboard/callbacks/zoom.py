"""Deep zoom on both grids and the measurement of their pixel size."""

from __future__ import annotations

from dash import Dash, Input, Output, Patch, State, no_update

from dashboard import edge, ids
from dashboard.callbacks.common import guarded, typed_arrays, view_of
from dashboard.explorer import Explorer
from dashboard.modes import KernelMode


def register_zoom(app: Dash, explorer: Explorer) -> None:
    """Register deep zoom on both grids and the measurement of their pixel size."""

    @app.callback(
        Output(ids.KERNEL_GRID, "figure", allow_duplicate=True),
        Input(ids.KERNEL_GRID, "relayoutData"),
        State(ids.MODEL_SELECT, "value"),
        State(ids.LAYER_SELECT, "value"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.KERNEL_VIEW, "value"),
        State(ids.WEIGHTS_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        State(ids.GRID_SIZE, "data"),
        State(ids.IMAGE_STORE, "data"),
        State(ids.SORT_SELECT, "value"),
        prevent_initial_call=True,
    )
    @guarded(lambda _text: no_update)
    def on_kernel_zoom(relayout, model, layer, channel, mode, weights, session, size, image, sort):
        """Zoom into the norm overview: the window's real weights replace the norms."""
        window = edge.zoom_window(relayout)
        if window is None or layer is None or edge.kernel_mode(mode) != KernelMode.NORMS:
            return no_update
        view = view_of(
            explorer,
            model,
            layer,
            image,
            channel,
            weights,
            session,
            size,
            kernel_view=KernelMode.NORMS,
            sort=edge.sort_key(sort),
        )
        shown = explorer.kernel_zoom(view, window)
        if shown is None:
            return no_update
        patch = Patch()
        patch["data"][0] = typed_arrays(shown)
        return patch

    @app.callback(
        Output(ids.FEATURE_GRID, "figure", allow_duplicate=True),
        Output(ids.FEATURE_ZOOM, "data", allow_duplicate=True),
        Input(ids.FEATURE_GRID, "relayoutData"),
        State(ids.MODEL_SELECT, "value"),
        State(ids.LAYER_SELECT, "value"),
        State(ids.IMAGE_STORE, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.SCALE_SELECT, "value"),
        State(ids.WEIGHTS_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        State(ids.GRID_SIZE, "data"),
        State(ids.FEATURE_ZOOM, "data"),
        State(ids.SORT_SELECT, "value"),
        prevent_initial_call=True,
    )
    @guarded(lambda _text: (no_update, no_update))
    def on_feature_zoom(
        relayout, model, layer, image, channel, scale, weights, session, size, zoomed, sort
    ):
        """Zoom or pan: the window's real pixels replace the overview's block means."""
        window = edge.zoom_window(relayout)
        if window is None or layer is None or (window == "reset" and zoomed is not True):
            return no_update, no_update
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
        shown = explorer.feature_zoom(view, window)
        if shown is None:
            return no_update, no_update
        # real pixels: one map pixel per cell (the overview's cells are block means)
        full = (shown.get("meta") or {}).get("cells", {}).get("step") == 1
        patch = Patch()
        for key, value in typed_arrays(shown).items():
            patch["data"][0][key] = value
        return patch, full

    # The grids' real pixel size, measured once the page is laid out: the overview uses it.
    app.clientside_callback(
        """
        function(session) {
            const size = {};
            for (const [name, id] of [['feature', '"""
        + ids.FEATURE_GRID
        + """'],
                                      ['kernel', '"""
        + ids.KERNEL_GRID
        + """']]) {
                const el = document.getElementById(id);
                if (el) { size[name] = [Math.round(el.clientWidth), Math.round(el.clientHeight)]; }
            }
            return size;
        }
        """,
        Output(ids.GRID_SIZE, "data"),
        Input(ids.SESSION_STORE, "data"),
    )
