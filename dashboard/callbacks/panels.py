"""The kernel, feature-map, channel-kernel and detail panels."""

from __future__ import annotations

from dash import Dash, Input, Output, State, ctx, no_update

from dashboard import edge, figures, ids
from dashboard.callbacks.common import detail_output, guarded, url_wanted, view_of
from dashboard.callbacks.url import zoomed_figure
from dashboard.explorer import Explorer
from dashboard.layout import kernel_view_options
from dashboard.modes import KernelMode, SortKey


def register_panels(app: Dash, explorer: Explorer) -> None:
    """Register the kernel, feature-map, channel-kernel and detail panels."""

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
        Input(ids.SORT_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        State(ids.URL_VIEW, "data"),
        State(ids.URL, "search"),
    )
    @guarded(lambda text: (figures.message_figure(text), no_update, no_update, True, None))
    def on_kernels(
        model, layer, mode, weights, scale, look, size, sort, image, channel, session, *url
    ):
        sort = edge.sort_key(sort)
        # the image only matters to kernels drawn in an order its statistics decide
        if layer is None or (ctx.triggered_id == ids.IMAGE_STORE and sort == SortKey.CHANNEL):
            return (no_update,) * 5
        mode = edge.kernel_mode(mode)
        chosen = ctx.triggered_id in (ids.KERNEL_VIEW, ids.KERNEL_SCALE, ids.LOOK)
        # a new layer gets the view that reads at its size; RGB stays where it can
        wanted = mode if chosen or mode == KernelMode.RGB else None
        link = None if chosen else url_wanted(*url)  # or the link being opened names it
        if link is not None and (link.model, link.layer) == (model, layer) and link.kernels:
            wanted = link.kernels
        view = view_of(
            explorer,
            model,
            layer,
            image,
            channel,
            weights,
            session,
            size,
            kernel_view=wanted,
            sort=sort,
            kernel_scale=edge.kernel_scale(scale),
            look=edge.look(look),
        )
        shown = explorer.kernel_view(view)
        value = shown.mode if shown.mode != mode else no_update
        options = kernel_view_options(shown.rgb_available)
        return shown.figure, options, value, not shown.show_pager, shown.page

    # The channel is a State in this and on_detail: a new layer or image redraws them in the
    # same round trip as the grids (the channel falls back to 0 where on_features' does),
    # and a click redraws them in on_select's answer.
    @app.callback(
        Output(ids.CHANNEL_KERNELS, "figure"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.WEIGHTS_STORE, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
    )
    @guarded(figures.message_figure)
    def on_channel_kernels(model, layer, weights, channel, session):
        if layer is None:
            return no_update
        view = view_of(explorer, model, layer, None, channel, weights, session)
        return explorer.channel_kernels(view)

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
        Input(ids.SORT_SELECT, "value"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        State(ids.URL_VIEW, "data"),
        State(ids.URL, "search"),
    )
    @guarded(
        lambda text: (figures.message_figure(text), no_update, "", text, False),
        waiting=lambda text: (figures.message_figure(text), no_update, "", "", False),
    )
    def on_features(model, layer, image, scale, weights, size, sort, channel, session, *url):
        if layer is None:
            return (no_update,) * 5
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
        shown = explorer.feature_view(view)
        link = url_wanted(*url)  # the link being opened zooms into this grid
        if link is not None and (link.model, link.layer) == (model, layer) and link.zoom:
            full = zoomed_figure(shown.figure, explorer, view, link.zoom)
            return shown.figure, shown.channel, shown.info, "", full
        return shown.figure, shown.channel, shown.info, "", False

    @app.callback(
        Output(ids.FEATURE_DETAIL, "figure"),
        Output(ids.DETAIL_INPUT, "data"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.WEIGHTS_STORE, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        State(ids.DETAIL_INPUT, "data"),
    )
    @guarded(lambda text: (figures.message_figure(text), None))
    def on_detail(model, layer, image, weights, channel, session, drawn):
        if layer is None:
            return no_update, no_update
        view = view_of(explorer, model, layer, image, channel, weights, session)
        return detail_output(explorer.detail(view), drawn)
