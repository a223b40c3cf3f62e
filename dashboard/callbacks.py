"""Thin glue: read component values, ask the Explorer, put the results into the page."""

from __future__ import annotations

import logging
from typing import Any

from dash import Dash, Input, Output, Patch, State, ctx, no_update

from dashboard import figures, ids
from dashboard.explorer import Explorer, View
from dashboard.images import decode_upload
from dashboard.samples import sample_label

log = logging.getLogger(__name__)
USER_ERRORS = (ValueError, TypeError, RuntimeError, KeyError)


def user_message(exc: Exception) -> str:
    """One sentence for the page; internals go to the log only."""
    if isinstance(exc, USER_ERRORS) and str(exc):
        log.info("user-facing error: %s: %s", type(exc).__name__, exc)
        return str(exc).strip("'\"")
    log.exception("unexpected error in a callback")
    return "Something went wrong on the server; the error was logged. Please try again."


def layer_options(explorer: Explorer, model_name: str) -> tuple[list[dict], str, str, bool]:
    """Layer dropdown options, the first layer, the model's notice and whether to hide it."""
    model = explorer.model(model_name)
    options = [{"label": layer.label, "value": layer.name} for layer in model.conv_layers]
    notice = model.notice or ""
    return options, model.conv_layers[0].name, notice, not notice


def channel_from_click(click: dict | None, grid: str) -> int | None:
    """The channel a click on a grid stands for, from the point's customdata."""
    try:
        data = click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        return None
    index = {"kernel": 2, "feature": 1, "rgb": 1}[grid]
    try:
        return int(data[index])
    except (TypeError, ValueError, IndexError):
        return None


def register_callbacks(app: Dash, explorer: Explorer) -> None:
    """Register every callback on ``app`` (never on the global dash.callback list)."""

    @app.callback(
        Output(ids.LAYER_SELECT, "options"),
        Output(ids.LAYER_SELECT, "value"),
        Output(ids.MODEL_NOTICE, "children"),
        Output(ids.MODEL_NOTICE, "hidden"),
        Input(ids.MODEL_SELECT, "value"),
    )
    def on_model(model_name: str):
        try:
            return layer_options(explorer, model_name)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
            return [], None, user_message(exc), False

    @app.callback(
        Output(ids.IMAGE_STORE, "data"),
        Output(ids.SAMPLE_SELECT, "options"),
        Output(ids.SAMPLE_SELECT, "value"),
        Output(ids.UPLOAD_STATUS, "children"),
        Input(ids.SAMPLE_SELECT, "value"),
        Input(ids.IMAGE_UPLOAD, "contents"),
        State(ids.IMAGE_UPLOAD, "filename"),
        State(ids.SAMPLE_SELECT, "options"),
        prevent_initial_call=True,
    )
    def on_image(sample: str, contents: str | None, filename: str | None, options: list):
        if ctx.triggered_id != ids.IMAGE_UPLOAD or not contents:
            return sample, no_update, no_update, ""
        try:
            image = decode_upload(contents, filename, max_bytes=explorer.config.max_upload_bytes)
        except Exception as exc:  # noqa: BLE001
            return no_update, no_update, no_update, user_message(exc)
        key = explorer.images.add_upload(image)
        label = f"Uploaded: {filename or 'image'} ({image.width}×{image.height})"
        kept = [o for o in options if not str(o["value"]).startswith("upload:")]
        return key, [{"label": label, "value": key}, *kept], key, ""

    @app.callback(
        Output(ids.KERNEL_GRID, "figure"),
        Output(ids.FEATURE_GRID, "figure"),
        Output(ids.FEATURE_DETAIL, "figure"),
        Output(ids.CHANNEL_STORE, "data"),
        Output(ids.LAYER_INFO, "children"),
        Output(ids.STATUS, "children"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.SCALE_SELECT, "value"),
        Input(ids.KERNEL_VIEW, "value"),
        State(ids.CHANNEL_STORE, "data"),
    )
    def on_view(model, layer, image, scale, kernel_view, channel):
        if not layer:
            return (no_update,) * 6
        view = View(model, layer, image, int(channel or 0), scale, kernel_view)
        try:
            shown = explorer.render(view)
        except Exception as exc:  # noqa: BLE001
            text = user_message(exc)
            blank = figures.message_figure(text)
            return blank, blank, blank, no_update, "", text
        return shown.kernel, shown.feature, shown.detail, shown.channel, shown.info, ""

    @app.callback(
        Output(ids.CHANNEL_STORE, "data", allow_duplicate=True),
        Output(ids.KERNEL_GRID, "figure", allow_duplicate=True),
        Output(ids.FEATURE_GRID, "figure", allow_duplicate=True),
        Output(ids.FEATURE_DETAIL, "figure", allow_duplicate=True),
        Output(ids.STATUS, "children", allow_duplicate=True),
        Input(ids.KERNEL_GRID, "clickData"),
        Input(ids.FEATURE_GRID, "clickData"),
        Input(ids.PAGE_PREV, "n_clicks"),
        Input(ids.PAGE_NEXT, "n_clicks"),
        State(ids.MODEL_SELECT, "value"),
        State(ids.LAYER_SELECT, "value"),
        State(ids.IMAGE_STORE, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.KERNEL_VIEW, "value"),
        prevent_initial_call=True,
    )
    def on_select(kernel_click, feature_click, _prev, _next, model, layer, image, old, mode):
        view = View(model, layer, image, int(old or 0), kernel_view=mode)
        try:
            channel = _chosen_channel(explorer, view, kernel_click, feature_click)
            if channel is None:
                return (no_update,) * 5
            return (channel, *selection_outputs(explorer, view, channel), "")
        except Exception as exc:  # noqa: BLE001
            return no_update, no_update, no_update, no_update, user_message(exc)


def _chosen_channel(explorer: Explorer, view: View, kernel_click, feature_click) -> int | None:
    trigger = ctx.triggered_id
    if trigger == ids.KERNEL_GRID:
        return channel_from_click(kernel_click, "rgb" if view.kernel_view == "rgb" else "kernel")
    if trigger == ids.FEATURE_GRID:
        return channel_from_click(feature_click, "feature")
    if trigger in (ids.PAGE_PREV, ids.PAGE_NEXT):
        return explorer.page_step(view, -1 if trigger == ids.PAGE_PREV else 1)
    return None


def selection_outputs(explorer: Explorer, view: View, channel: int) -> tuple[Any, Any, Any]:
    """Kernel figure (a Patch when the page stays), feature-grid Patch, detail figure."""
    result = explorer.select(view, channel)
    kernel: Any = result.kernel_figure
    if kernel is None:
        kernel = _shapes_patch(result.kernel_shapes)
    return kernel, _shapes_patch(result.feature_shapes), result.detail


def _shapes_patch(shapes: list[dict]) -> Patch:
    patch = Patch()
    patch["layout"]["shapes"] = shapes
    return patch

