"""Thin glue: validate component values at the edge, ask the Explorer, fill the page.

Every callback runs inside ``guarded``: a UserError becomes its sentence in the page, any
other exception is logged with a reference id and the page says so (never a 500, never
Python's own words).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import replace

from dash import Dash, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard import edge, figures, ids
from dashboard.errors import page_message
from dashboard.explorer import Explorer
from dashboard.images import decode_data_url, decode_upload
from dashboard.layout import kernel_view_options
from dashboard.modes import KernelMode
from dashboard.views import ANONYMOUS, View

log = logging.getLogger(__name__)
# customdata column holding the output channel, per grid
CLICK_CHANNEL = {"kernel": 2, "feature": 1, KernelMode.RGB: 3}


def guarded(on_error: Callable[[str], object]):
    """Run a callback; on any exception return ``on_error(sentence)`` instead of a 500."""

    def wrap(callback):
        @functools.wraps(callback)
        def run(*args):
            try:
                return callback(*args)
            except PreventUpdate:
                raise
            except Exception as exc:
                return on_error(page_message(exc))

        return run

    return wrap


def _view(
    explorer: Explorer, model, layer, image, channel, weights, session, size=None, **modes
) -> View:
    """A View from raw component values, each checked at the edge."""
    return View(
        feature_px=edge.plot_size(size, "feature"),
        kernel_px=edge.plot_size(size, "kernel"),
        model=edge.model(model, explorer.models.names),
        layer=edge.name(layer, "layer choice"),
        image=edge.key(image, "image choice") if image is not None else "",
        channel=edge.channel(channel),
        weights=edge.weights_ref(weights),
        session=edge.session(session) or ANONYMOUS,
        **modes,
    )


def layer_options(explorer: Explorer, model_name: str, weights: dict | None):
    """Layer dropdown options, the first layer, the model's notice and whether to hide it."""
    model = explorer.model(model_name, weights)
    options = [{"label": layer.label, "value": layer.name} for layer in model.conv_layers]
    notice = model.notice or ""
    return options, model.conv_layers[0].name, notice, not notice


def shapes_patch(shapes: list[dict]) -> Patch:
    patch = Patch()
    patch["layout"]["shapes"] = shapes
    return patch


def register_callbacks(app: Dash, explorer: Explorer) -> None:
    """Register every callback on ``app`` (never on the global dash.callback list)."""
    config = explorer.config

    @app.callback(
        Output(ids.LAYER_SELECT, "options"),
        Output(ids.LAYER_SELECT, "value"),
        Output(ids.MODEL_NOTICE, "children"),
        Output(ids.MODEL_NOTICE, "hidden"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.WEIGHTS_STORE, "data"),
    )
    @guarded(lambda text: ([], None, text, False))
    def on_model(model, weights):
        model = edge.model(model, explorer.models.names)
        return layer_options(explorer, model, edge.weights_ref(weights))

    @app.callback(
        Output(ids.WEIGHTS_STORE, "data"),
        Output(ids.WEIGHTS_STATUS, "children"),
        Input(ids.WEIGHTS_UPLOAD, "contents"),
        State(ids.WEIGHTS_UPLOAD, "filename"),
        State(ids.MODEL_SELECT, "value"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: (no_update, text))
    def on_weights(contents, filename, model):
        contents, filename = edge.upload(contents, filename)
        if not contents:
            return no_update, no_update
        model = edge.model(model, explorer.models.names)
        data = decode_data_url(contents, filename, max_bytes=config.max_weights_bytes)
        loaded = explorer.upload_weights(model, data, filename)
        stored = {"model": model, "key": loaded.key}
        return stored, f"Showing {loaded.label} with your weights from {filename}."

    @app.callback(
        Output(ids.DOWNLOAD_STATUS, "children"),
        Input(ids.DOWNLOAD_POLL, "n_intervals"),
        State(ids.MODEL_SELECT, "value"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: text)
    def on_download_poll(_n, model):
        return explorer.download_message(edge.model(model, explorer.models.names))

    @app.callback(
        Output(ids.IMAGE_STORE, "data"),
        Output(ids.SAMPLE_SELECT, "options"),
        Output(ids.SAMPLE_SELECT, "value"),
        Output(ids.UPLOAD_STATUS, "children"),
        Input(ids.SAMPLE_SELECT, "value"),
        Input(ids.IMAGE_UPLOAD, "contents"),
        State(ids.IMAGE_UPLOAD, "filename"),
        State(ids.SESSION_STORE, "data"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: (no_update, no_update, no_update, text))
    def on_image(sample, contents, filename, session):
        contents, filename = edge.upload(contents, filename)
        if ctx.triggered_id != ids.IMAGE_UPLOAD or not contents:
            return edge.key(sample, "image choice"), no_update, no_update, ""
        decoded = decode_upload(contents, filename, max_bytes=config.max_upload_bytes)
        key = explorer.add_upload(decoded.image, edge.session(session) or ANONYMOUS)
        width, height = decoded.original_size
        size = f"{width}×{height}"
        if decoded.was_downscaled:
            size += f", downscaled to {decoded.image.width}×{decoded.image.height}"
        option = {"label": f"Uploaded: {filename} ({size})", "value": key}
        return key, [option, *explorer.sample_options()], key, ""

    @app.callback(
        Output(ids.KERNEL_GRID, "figure"),
        Output(ids.KERNEL_VIEW, "options"),
        Output(ids.KERNEL_VIEW, "value"),
        Output(ids.KERNEL_PAGER, "hidden"),
        Output(ids.KERNEL_PAGE, "data"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.KERNEL_VIEW, "value"),
        Input(ids.WEIGHTS_STORE, "data"),
        Input(ids.KERNEL_SCALE, "value"),
        Input(ids.LOOK, "value"),
        Input(ids.GRID_SIZE, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
    )
    @guarded(lambda text: (figures.message_figure(text), no_update, no_update, True, None))
    def on_kernels(model, layer, mode, weights, scale, look, size, channel, session):
        if layer is None:
            return (no_update,) * 5
        mode = edge.kernel_mode(mode)
        chosen = ctx.triggered_id in (ids.KERNEL_VIEW, ids.KERNEL_SCALE, ids.LOOK)
        # a new layer gets the view that reads at its size; RGB stays where it can
        wanted = mode if chosen or mode == KernelMode.RGB else None
        view = _view(
            explorer,
            model,
            layer,
            None,
            channel,
            weights,
            session,
            size,
            kernel_view=wanted,
            kernel_scale=edge.kernel_scale(scale),
            look=edge.look(look),
        )
        shown = explorer.kernel_view(view)
        value = shown.mode if shown.mode != mode else no_update
        options = kernel_view_options(shown.rgb_available)
        return shown.figure, options, value, not shown.show_pager, shown.page

    @app.callback(
        Output(ids.CHANNEL_KERNELS, "figure"),
        Input(ids.CHANNEL_STORE, "data"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.WEIGHTS_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
    )
    @guarded(figures.message_figure)
    def on_channel_kernels(channel, model, layer, weights, session):
        if layer is None:
            return no_update
        view = _view(explorer, model, layer, None, channel, weights, session)
        return explorer.channel_kernels(view)

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
        prevent_initial_call=True,
    )
    @guarded(lambda _text: no_update)
    def on_kernel_zoom(relayout, model, layer, channel, mode, weights, session, size):
        """Zoom into the norm overview: the window's real weights replace the norms."""
        window = edge.zoom_window(relayout)
        if window is None or layer is None or edge.kernel_mode(mode) != KernelMode.NORMS:
            return no_update
        view = _view(
            explorer,
            model,
            layer,
            None,
            channel,
            weights,
            session,
            size,
            kernel_view=KernelMode.NORMS,
        )
        shown = explorer.kernel_zoom(view, window)
        if shown is None:
            return no_update
        patch = Patch()
        patch["data"][0] = shown
        return patch

    @app.callback(
        Output(ids.FEATURE_GRID, "figure"),
        Output(ids.CHANNEL_STORE, "data"),
        Output(ids.LAYER_INFO, "children"),
        Output(ids.STATUS, "children"),
        Output(ids.FEATURE_ZOOM, "data"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.SCALE_SELECT, "value"),
        Input(ids.WEIGHTS_STORE, "data"),
        Input(ids.GRID_SIZE, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
    )
    @guarded(lambda text: (figures.message_figure(text), no_update, "", text, False))
    def on_features(model, layer, image, scale, weights, size, channel, session):
        if layer is None:
            return (no_update,) * 5
        view = _view(
            explorer, model, layer, image, channel, weights, session, size, scale=edge.scale(scale)
        )
        shown = explorer.feature_view(view)
        return shown.figure, shown.channel, shown.info, "", False

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
        prevent_initial_call=True,
    )
    @guarded(lambda _text: (no_update, no_update))
    def on_feature_zoom(
        relayout, model, layer, image, channel, scale, weights, session, size, zoomed
    ):
        """Zoom or pan: the window's real pixels replace the overview's block means."""
        window = edge.zoom_window(relayout)
        if window is None or layer is None or (window == "reset" and zoomed is not True):
            return no_update, no_update
        view = _view(
            explorer, model, layer, image, channel, weights, session, size, scale=edge.scale(scale)
        )
        shown = explorer.feature_zoom(view, window)
        if shown is None:
            return no_update, no_update
        full = "hovertemplate" in shown and "mean of" not in str(shown["hovertemplate"])
        patch = Patch()
        for key, value in shown.items():
            patch["data"][0][key] = value
        return patch, full

    @app.callback(
        Output(ids.FEATURE_DETAIL, "figure"),
        Input(ids.CHANNEL_STORE, "data"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.WEIGHTS_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
    )
    @guarded(figures.message_figure)
    def on_detail(channel, model, layer, image, weights, session):
        if layer is None:
            return no_update
        return explorer.detail(_view(explorer, model, layer, image, channel, weights, session))

    @app.callback(
        Output(ids.CHANNEL_STORE, "data", allow_duplicate=True),
        Output(ids.KERNEL_GRID, "figure", allow_duplicate=True),
        Output(ids.FEATURE_GRID, "figure", allow_duplicate=True),
        Output(ids.KERNEL_PAGE, "data", allow_duplicate=True),
        Output(ids.STATUS, "children", allow_duplicate=True),
        Input(ids.KERNEL_GRID, "clickData"),
        Input(ids.FEATURE_GRID, "clickData"),
        State(ids.MODEL_SELECT, "value"),
        State(ids.LAYER_SELECT, "value"),
        State(ids.IMAGE_STORE, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.KERNEL_VIEW, "value"),
        State(ids.WEIGHTS_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        State(ids.KERNEL_PAGE, "data"),
        State(ids.GRID_SIZE, "data"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: (no_update, no_update, no_update, no_update, text))
    def on_select(kernel_click, feature_click, model, layer, image, old, mode, w, s, page, size):
        mode = edge.kernel_mode(mode)
        view = _view(explorer, model, layer, image, old, w, s, size, kernel_view=mode)
        view = replace(view, page=edge.optional_channel(page, "kernel page"))
        channel = _chosen_channel(explorer, view, kernel_click, feature_click)
        if channel is None:
            return (no_update,) * 5
        chosen = explorer.select(view, channel)
        kernel = chosen.kernel_figure
        if kernel is None:
            kernel = shapes_patch(chosen.kernel_shapes)
        return chosen.channel, kernel, shapes_patch(chosen.feature_shapes), chosen.page, ""

    @app.callback(
        Output(ids.KERNEL_GRID, "figure", allow_duplicate=True),
        Output(ids.KERNEL_PAGE, "data", allow_duplicate=True),
        Output(ids.STATUS, "children", allow_duplicate=True),
        Input(ids.PAGE_PREV, "n_clicks"),
        Input(ids.PAGE_NEXT, "n_clicks"),
        State(ids.MODEL_SELECT, "value"),
        State(ids.LAYER_SELECT, "value"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.WEIGHTS_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        State(ids.KERNEL_PAGE, "data"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: (no_update, no_update, text))
    def on_page(_prev, _next, model, layer, channel, weights, session, page):
        view = _view(explorer, model, layer, None, channel, weights, session)
        view = replace(view, page=edge.optional_channel(page, "kernel page"))
        shown = explorer.turn_page(view, -1 if ctx.triggered_id == ids.PAGE_PREV else 1)
        if shown is None:
            return no_update, no_update, ""
        return shown.figure, shown.page, ""

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

    # After a click, bring the detail panel into view (at 1366×768 it is below the grids).
    app.clientside_callback(
        """
        function(kernelClick, featureClick) {
            const panel = document.getElementById('"""
        + ids.DETAIL_PANEL
        + """');
            if (panel) { panel.scrollIntoView({block: 'nearest', behavior: 'smooth'}); }
            return window.dash_clientside.no_update;
        }
        """,
        Output(ids.SCROLL_SINK, "data"),
        Input(ids.KERNEL_GRID, "clickData"),
        Input(ids.FEATURE_GRID, "clickData"),
        prevent_initial_call=True,
    )


def _chosen_channel(explorer: Explorer, view: View, kernel_click, feature_click) -> int | None:
    if ctx.triggered_id == ids.KERNEL_GRID:
        grid = KernelMode.RGB if view.kernel_view == KernelMode.RGB else "kernel"
        channel = edge.clicked_channel(kernel_click, CLICK_CHANNEL[grid])
        if channel is None and view.kernel_view == KernelMode.NORMS:
            point = edge.clicked_point(kernel_click)  # the plain overview: x is the channel
            channel = None if point is None else explorer.norms_channel(view, *point)
        return channel
    if ctx.triggered_id == ids.FEATURE_GRID:
        return edge.clicked_channel(feature_click, CLICK_CHANNEL["feature"])
    return None
