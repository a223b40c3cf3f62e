"""Thin glue: read component values, ask the Explorer, put the results into the page."""

from __future__ import annotations

import logging

from dash import Dash, Input, Output, Patch, State, ctx, no_update

from dashboard import figures, ids
from dashboard.explorer import Explorer, View
from dashboard.images import decode_data_url, decode_upload
from dashboard.models import download_status, with_uploaded_weights

log = logging.getLogger(__name__)
USER_ERRORS = (ValueError, TypeError, RuntimeError, KeyError)


def user_message(exc: Exception) -> str:
    """One sentence for the page; internals go to the log only."""
    if isinstance(exc, USER_ERRORS) and str(exc):
        log.info("user-facing error: %s: %s", type(exc).__name__, exc)
        return str(exc).strip("'\"")
    log.exception("unexpected error in a callback")
    return "Something went wrong on the server; the error was logged. Please try again."


def layer_options(
    explorer: Explorer, model_name: str, weights: dict | None = None
) -> tuple[list[dict], str, str, bool]:
    """Layer dropdown options, the first layer, the model's notice and whether to hide it."""
    model = explorer.model(model_name, weights)
    options = [{"label": layer.label, "value": layer.name} for layer in model.conv_layers]
    notice = model.notice or ""
    return options, model.conv_layers[0].name, notice, not notice


def channel_from_click(click: dict | None, grid: str) -> int | None:
    """The channel a click on a grid stands for, from the point's customdata."""
    try:
        data = figures.point_customdata(click["points"][0])
    except (TypeError, KeyError, IndexError):
        return None
    index = {"kernel": 2, "feature": 1, "rgb": 3}[grid]
    if data is None or len(data) <= index or data[index] < 0:
        return None  # a click on an empty slot of the last row
    return int(data[index])


def register_callbacks(app: Dash, explorer: Explorer) -> None:
    """Register every callback on ``app`` (never on the global dash.callback list)."""

    @app.callback(
        Output(ids.LAYER_SELECT, "options"),
        Output(ids.LAYER_SELECT, "value"),
        Output(ids.MODEL_NOTICE, "children"),
        Output(ids.MODEL_NOTICE, "hidden"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.WEIGHTS_STORE, "data"),
    )
    def on_model(model_name: str, weights: dict | None):
        try:
            return layer_options(explorer, model_name, weights)
        except Exception as exc:  # every failure becomes a sentence
            return [], None, user_message(exc), False

    @app.callback(
        Output(ids.WEIGHTS_STORE, "data"),
        Output(ids.WEIGHTS_STATUS, "children"),
        Input(ids.WEIGHTS_UPLOAD, "contents"),
        State(ids.WEIGHTS_UPLOAD, "filename"),
        State(ids.MODEL_SELECT, "value"),
        prevent_initial_call=True,
    )
    def on_weights(contents: str | None, filename: str | None, model_name: str):
        if not contents:
            return no_update, no_update
        try:
            data = decode_data_url(contents, filename, max_bytes=explorer.config.max_weights_bytes)
            model = with_uploaded_weights(model_name, data, filename or "weights")
        except Exception as exc:
            return no_update, user_message(exc)
        stored = {"model": model_name, "key": model.key}
        return stored, f"Showing {model.label} with your weights from {filename}."

    @app.callback(
        Output(ids.DOWNLOAD_STATUS, "children"),
        Input(ids.DOWNLOAD_POLL, "n_intervals"),
        State(ids.MODEL_SELECT, "value"),
        prevent_initial_call=True,
    )
    def on_download_poll(_n: int, model_name: str) -> str:
        return download_message(model_name)

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
        except Exception as exc:
            return no_update, no_update, no_update, user_message(exc)
        key = explorer.images.add_upload(image)
        label = f"Uploaded: {filename or 'image'} ({image.width}×{image.height})"
        kept = [o for o in options if not str(o["value"]).startswith("upload:")]
        return key, [{"label": label, "value": key}, *kept], key, ""

    @app.callback(
        Output(ids.KERNEL_GRID, "figure"),
        Output(ids.KERNEL_VIEW, "options"),
        Output(ids.KERNEL_PAGER, "hidden"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.KERNEL_VIEW, "value"),
        Input(ids.WEIGHTS_STORE, "data"),
        State(ids.CHANNEL_STORE, "data"),
    )
    def on_kernels(model, layer, kernel_view, weights, channel):
        if not layer:
            return no_update, no_update, no_update
        view = View(model, layer, "", int(channel or 0), kernel_view=kernel_view, weights=weights)
        try:
            figure = explorer.kernel_figure(view)
            rgb = explorer.has_rgb_kernels(view)
            # a layer without 3 input channels falls back to the per-channel grid
            single_page = (rgb and kernel_view == "rgb") or explorer.kernel_pages(view) == 1
        except Exception as exc:
            return figures.message_figure(user_message(exc)), no_update, True
        return figure, kernel_view_options(rgb), single_page

    @app.callback(
        Output(ids.FEATURE_GRID, "figure"),
        Output(ids.CHANNEL_STORE, "data"),
        Output(ids.LAYER_INFO, "children"),
        Output(ids.STATUS, "children"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.SCALE_SELECT, "value"),
        Input(ids.WEIGHTS_STORE, "data"),
        State(ids.CHANNEL_STORE, "data"),
    )
    def on_features(model, layer, image, scale, weights, channel):
        if not layer:
            return (no_update,) * 4
        view = View(model, layer, image, int(channel or 0), scale, weights=weights)
        try:
            shown = explorer.feature_view(view)
        except Exception as exc:
            text = user_message(exc)
            return figures.message_figure(text), no_update, "", text
        return shown.figure, shown.channel, shown.info, ""

    @app.callback(
        Output(ids.FEATURE_DETAIL, "figure"),
        Input(ids.CHANNEL_STORE, "data"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.WEIGHTS_STORE, "data"),
    )
    def on_detail(channel, model, layer, image, weights):
        if not layer:
            return no_update
        try:
            return explorer.detail(View(model, layer, image, int(channel or 0), weights=weights))
        except Exception as exc:
            return figures.message_figure(user_message(exc))

    @app.callback(
        Output(ids.CHANNEL_STORE, "data", allow_duplicate=True),
        Output(ids.KERNEL_GRID, "figure", allow_duplicate=True),
        Output(ids.FEATURE_GRID, "figure", allow_duplicate=True),
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
        State(ids.WEIGHTS_STORE, "data"),
        prevent_initial_call=True,
    )
    def on_select(kernel_click, feature_click, _prev, _next, model, layer, image, old, mode, w):
        view = View(model, layer, image, int(old or 0), kernel_view=mode, weights=w)
        try:
            channel = _chosen_channel(explorer, view, kernel_click, feature_click)
            if channel is None:
                return (no_update,) * 4
            chosen = explorer.select(view, channel)
        except Exception as exc:
            return no_update, no_update, no_update, user_message(exc)
        kernel = chosen.kernel_figure
        if kernel is None:
            kernel = shapes_patch(chosen.kernel_shapes)
        return chosen.channel, kernel, shapes_patch(chosen.feature_shapes), ""


def download_message(model_name: str) -> str:
    """'Downloading … 45 of 528 MB' while the model's weights download, else ''."""
    status = download_status(model_name)
    if status is None:
        return ""
    done, total = status
    mb = 1024 * 1024
    of = f" of {total / mb:.0f} MB" if total else " MB"
    return f"Downloading pretrained weights for {model_name}: {done / mb:.0f}{of}…"


def kernel_view_options(rgb_available: bool) -> list[dict]:
    return [
        {"label": "kernels per channel", "value": "grid"},
        {"label": "RGB kernels", "value": "rgb", "disabled": not rgb_available},
    ]


def _chosen_channel(explorer: Explorer, view: View, kernel_click, feature_click) -> int | None:
    trigger = ctx.triggered_id
    if trigger == ids.KERNEL_GRID:
        return channel_from_click(kernel_click, "rgb" if view.kernel_view == "rgb" else "kernel")
    if trigger == ids.FEATURE_GRID:
        return channel_from_click(feature_click, "feature")
    if trigger in (ids.PAGE_PREV, ids.PAGE_NEXT):
        return explorer.page_step(view, -1 if trigger == ids.PAGE_PREV else 1)
    return None


def shapes_patch(shapes: list[dict]) -> Patch:
    patch = Patch()
    patch["layout"]["shapes"] = shapes
    return patch
