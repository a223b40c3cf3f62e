"""The compare map: the selected channel on a second image, beside the first one's map."""

from __future__ import annotations

from dash import Dash, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard import comparing, edge, figures, ids
from dashboard.callbacks.common import guarded, view_of
from dashboard.explorer import Explorer
from dashboard.modes import Compare


def register_compare(app: Dash, explorer: Explorer) -> None:
    """Register the compare map and its shared colour scale."""

    # It follows the detail: DETAIL_INPUT is written by every callback that redraws the
    # first map (on_detail: model, layer, image, weights; on_select: a channel click), so
    # this runs after it and its colour range patch can never be overwritten by that
    # redraw. on_detail and on_select themselves stay as they were: with compare off this
    # answers 204 at once.
    @app.callback(
        Output(ids.COMPARE_DETAIL, "figure"),
        Output(ids.COMPARE_ROW, "hidden"),
        Output(ids.FEATURE_DETAIL, "figure", allow_duplicate=True),
        Input(ids.DETAIL_INPUT, "data"),
        Input(ids.COMPARE_SELECT, "value"),
        Input(ids.COMPARE_SCALE, "value"),
        State(ids.MODEL_SELECT, "value"),
        State(ids.LAYER_SELECT, "value"),
        State(ids.IMAGE_STORE, "data"),
        State(ids.WEIGHTS_STORE, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: (figures.message_figure(text), False, no_update))
    def on_compare(drawn, choice, same, model, layer, image, weights, channel, session):
        """The second image's map of the selected channel; both maps' colour range."""
        choice = edge.compare(choice, comparing.compare_choices(explorer))
        shared = edge.same_scale(same)
        redrawn = ctx.triggered_id == ids.DETAIL_INPUT
        if layer is None or (choice == Compare.OFF and redrawn):
            raise PreventUpdate
        view = view_of(explorer, model, layer, image, channel, weights, session)
        # a first map that shows a sentence (drawn None) has no colour range to set
        if choice == Compare.OFF:
            own = comparing.detail_range(explorer, view)
            return figures.message_figure(""), True, colour_patch(own) if drawn else no_update
        shown = comparing.compare(explorer, view, choice, shared)
        return shown.figure, False, colour_patch(shown.main_range) if drawn else no_update


def colour_patch(zrange: tuple[float, float]) -> Patch:
    """A Patch setting the detail map's colour range (its first trace)."""
    patch = Patch()
    patch["data"][0]["zmin"], patch["data"][0]["zmax"] = zrange
    return patch
