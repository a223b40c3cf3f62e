"""Selecting a channel by a click, turning kernel pages, the detail in view."""

from __future__ import annotations

from dataclasses import replace

from dash import Dash, Input, Output, State, ctx, no_update

from dashboard import edge, ids
from dashboard.callbacks.common import (
    CLICK_CHANNEL,
    detail_output,
    guarded,
    shapes_patch,
    view_of,
)
from dashboard.explorer import Explorer
from dashboard.i18n import N_
from dashboard.modes import KernelMode
from dashboard.views import View


def register_selection(app: Dash, explorer: Explorer) -> None:
    """Register selecting a channel by a click, turning kernel pages, the detail in view."""

    @app.callback(
        Output(ids.CHANNEL_STORE, "data", allow_duplicate=True),
        Output(ids.KERNEL_GRID, "figure", allow_duplicate=True),
        Output(ids.FEATURE_GRID, "figure", allow_duplicate=True),
        Output(ids.KERNEL_PAGE, "data", allow_duplicate=True),
        Output(ids.STATUS, "children", allow_duplicate=True),
        Output(ids.FEATURE_DETAIL, "figure", allow_duplicate=True),
        Output(ids.DETAIL_INPUT, "data", allow_duplicate=True),
        Output(ids.CHANNEL_KERNELS, "figure", allow_duplicate=True),
        Output(ids.CHANNEL_PICKED, "data"),
        Input(ids.KERNEL_GRID, "clickData"),
        Input(ids.FEATURE_GRID, "clickData"),
        Input(ids.STATS_BARS, "clickData"),
        Input(ids.URL_CHANNEL, "data"),
        State(ids.MODEL_SELECT, "value"),
        State(ids.LAYER_SELECT, "value"),
        State(ids.IMAGE_STORE, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.KERNEL_VIEW, "value"),
        State(ids.WEIGHTS_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        State(ids.KERNEL_PAGE, "data"),
        State(ids.GRID_SIZE, "data"),
        State(ids.DETAIL_INPUT, "data"),
        State(ids.SORT_SELECT, "value"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: (*(no_update,) * 4, text, *(no_update,) * 4))
    def on_select(
        kernel_click,
        feature_click,
        bar_click,
        url_channel,
        model,
        layer,
        image,
        old,
        mode,
        w,
        s,
        page,
        size,
        drawn,
        sort,
    ):
        """The clicked channel: both grids' outlines, its detail and its kernels, at once."""
        mode = edge.kernel_mode(mode)
        view = view_of(
            explorer,
            model,
            layer,
            image,
            old,
            w,
            s,
            size,
            kernel_view=mode,
            sort=edge.sort_key(sort),
        )
        view = replace(view, page=edge.optional_channel(page, N_("kernel page")))
        if ctx.triggered_id == ids.URL_CHANNEL:  # back/forward to another channel
            channel = edge.optional_channel(url_channel, N_("channel number"))
        else:
            channel = _chosen_channel(explorer, view, kernel_click, feature_click, bar_click)
        if channel is None:
            return (no_update,) * 9
        chosen = explorer.select(view, channel)
        kernel = chosen.kernel_figure
        if kernel is None:
            kernel = shapes_patch(chosen.kernel_shapes)
        view = replace(view, channel=chosen.channel)
        detail, drawn = detail_output(explorer.detail(view), drawn)
        kernels = explorer.channel_kernels(view)
        feature = shapes_patch(chosen.feature_shapes)
        picked = chosen.channel
        return picked, kernel, feature, chosen.page, "", detail, drawn, kernels, picked

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
        State(ids.IMAGE_STORE, "data"),
        State(ids.SORT_SELECT, "value"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: (no_update, no_update, text))
    def on_page(_prev, _next, model, layer, channel, weights, session, page, image, sort):
        sort = edge.sort_key(sort)
        view = view_of(explorer, model, layer, image, channel, weights, session, sort=sort)
        view = replace(view, page=edge.optional_channel(page, N_("kernel page")))
        shown = explorer.turn_page(view, -1 if ctx.triggered_id == ids.PAGE_PREV else 1)
        if shown is None:
            return no_update, no_update, ""
        return shown.figure, shown.page, ""

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

    # After a click on the detail map, bring its explanation into view.
    app.clientside_callback(
        """
        function(click) {
            const panel = document.getElementById('"""
        + ids.EXPLAIN_PANEL
        + """');
            if (panel && click) { panel.scrollIntoView({block: 'nearest', behavior: 'smooth'}); }
            return window.dash_clientside.no_update;
        }
        """,
        Output(ids.EXPLAIN_PANEL, "id"),
        Input(ids.FEATURE_DETAIL, "clickData"),
        prevent_initial_call=True,
    )


def _chosen_channel(
    explorer: Explorer, view: View, kernel_click, feature_click, bar_click
) -> int | None:
    if ctx.triggered_id == ids.KERNEL_GRID:
        grid = KernelMode.RGB if view.kernel_view == KernelMode.RGB else "kernel"
        channel = edge.clicked_channel(kernel_click, CLICK_CHANNEL[grid])
        if channel is None and view.kernel_view == KernelMode.NORMS:
            point = edge.clicked_point(kernel_click)  # the plain overview: x is the channel
            channel = None if point is None else explorer.norms_channel(view, *point)
        return channel
    if ctx.triggered_id == ids.FEATURE_GRID:
        return edge.clicked_channel(feature_click, CLICK_CHANNEL["feature"])
    if ctx.triggered_id == ids.STATS_BARS:  # a bar of the channel statistics
        return edge.clicked_channel(bar_click, 0)
    return None
