"""Model, weights, download progress and image choices."""

from __future__ import annotations

from dash import Dash, Input, Output, State, ctx, no_update

from dashboard import edge, ids
from dashboard.callbacks.common import claim_first_pass, guarded, layer_options, url_wanted
from dashboard.explorer import Explorer
from dashboard.i18n import N_, _
from dashboard.images import decode_data_url, decode_upload
from dashboard.views import ANONYMOUS


def register_inputs(app: Dash, explorer: Explorer) -> None:
    """Register model, weights, download progress and image choices."""
    config = explorer.config

    @app.callback(
        Output(ids.LAYER_SELECT, "options"),
        Output(ids.LAYER_SELECT, "value"),
        Output(ids.MODEL_NOTICE, "children"),
        Output(ids.MODEL_NOTICE, "hidden"),
        Output(ids.PREPROCESSING, "children"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.WEIGHTS_STORE, "data"),
        State(ids.URL_VIEW, "data"),
        State(ids.URL, "search"),
        State(ids.IMAGE_STORE, "data"),
    )
    @guarded(lambda text: ([], None, text, False, ""))
    def on_model(model, weights, url_view, search, image):
        model = edge.model(model, explorer.models.names)
        options, first, *rest = layer_options(explorer, model, edge.weights_ref(weights))
        claim_first_pass(explorer, model, edge.weights_ref(weights), image)
        # a link opened (or back/forward) names the layer; a model picked by hand starts
        # at its first layer
        wanted = url_wanted(url_view, search)
        names = {option["value"] for option in options}
        if wanted is not None and wanted.model == model and wanted.layer in names:
            first = wanted.layer
        return options, first, *rest

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
        status = _("Showing {model} with your weights from {file}.").format(
            model=loaded.label, file=filename
        )
        # a checkpoint covering part of the model says which layers kept their weights
        return stored, f"{status} {loaded.notice}" if loaded.notice else status

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
        State(ids.MODEL_SELECT, "value"),
        State(ids.WEIGHTS_STORE, "data"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: (no_update, no_update, no_update, text))
    def on_image(sample, contents, filename, session, model, weights):
        contents, filename = edge.upload(contents, filename)
        if ctx.triggered_id != ids.IMAGE_UPLOAD or not contents:
            key = edge.key(sample, N_("image choice"))
            claim_first_pass(explorer, model, edge.weights_ref(weights), key)
            return key, no_update, no_update, ""
        decoded = decode_upload(contents, filename, max_bytes=config.max_upload_bytes)
        key = explorer.add_upload(decoded.image, edge.session(session) or ANONYMOUS)
        claim_first_pass(explorer, model, edge.weights_ref(weights), key)
        width, height = decoded.original_size
        if decoded.was_downscaled:
            label = _("Uploaded: {file} ({width}×{height}, downscaled to {w}×{h})").format(
                file=filename,
                width=width,
                height=height,
                w=decoded.image.width,
                h=decoded.image.height,
            )
        else:
            label = _("Uploaded: {file} ({width}×{height})").format(
                file=filename, width=width, height=height
            )
        option = {"label": label, "value": key}
        return key, [option, *explorer.sample_options()], key, ""
