"""Downloads: the layer's activations and kernels, the selected map, the explanation; and
the file names the plots' camera button saves under.

Thin glue: values are checked at the edge, the arrays come from the Explorer (its cached
activation pass, through its queue) and the Explainer, the bytes from ``exporting``.
"""

from __future__ import annotations

from dash import Dash, Input, Output, State, dcc, no_update

from dashboard import edge, exporting, ids
from dashboard.callbacks.common import VIEW_STATE, guarded, view_of
from dashboard.errors import ExportError
from dashboard.explaining import Explainer
from dashboard.graph_config import EXPLAIN_GRAPH_CONFIG, GRAPH_CONFIG, graph_config
from dashboard.i18n import N_

# Each plot: its modebar config, what its image is called, and whether that names a channel.
FIGURES = {
    ids.KERNEL_GRID: (GRAPH_CONFIG, "kernels", False),
    ids.FEATURE_GRID: (GRAPH_CONFIG, "feature-maps", False),
    ids.CHANNEL_KERNELS: (GRAPH_CONFIG, "kernels", True),
    ids.FEATURE_DETAIL: (GRAPH_CONFIG, "map", True),
    ids.EXPLAIN_FIGURE: (EXPLAIN_GRAPH_CONFIG, "explanation", True),
    ids.OVERLAY: (EXPLAIN_GRAPH_CONFIG, "overlay", True),
    ids.FEATUREVIS_FIGURE: (EXPLAIN_GRAPH_CONFIG, "featurevis", True),
    ids.STATS_BARS: (EXPLAIN_GRAPH_CONFIG, "channel-stats", False),
    ids.STATS_HISTOGRAM: (EXPLAIN_GRAPH_CONFIG, "histogram", False),
}


def _failed(text: str) -> tuple:
    return no_update, text


def register_export(app: Dash, explainer: Explainer) -> None:
    """Register the four downloads and the plots' image names."""
    explorer = explainer.explorer

    def download(file_id: str, button_id: str, *extra: State):
        return app.callback(
            Output(file_id, "data"),
            Output(ids.STATUS, "children", allow_duplicate=True),
            Input(button_id, "n_clicks"),
            *VIEW_STATE,
            *extra,
            prevent_initial_call=True,
        )

    @download(ids.EXPORT_ACTIVATIONS_FILE, ids.EXPORT_ACTIVATIONS)
    @guarded(_failed)
    def on_export_activations(_clicks, model, layer, image, channel, weights, session):
        """The layer's output for this image, as the grids show it (C×H×W float32)."""
        view = view_of(
            explorer, model, edge.name(layer, N_("layer choice")), image, channel, weights, session
        )
        _, conv, maps, _ = explorer.maps(view)
        name = exporting.activations_name(view.model, conv.name)
        return dcc.send_bytes(exporting.npy_bytes(maps), name), no_update

    @download(ids.EXPORT_KERNELS_FILE, ids.EXPORT_KERNELS)
    @guarded(_failed)
    def on_export_kernels(_clicks, model, layer, _image, channel, weights, session):
        """The conv's weight, exactly (out × in/groups × kh × kw float32)."""
        view = view_of(
            explorer, model, edge.name(layer, N_("layer choice")), None, channel, weights, session
        )
        loaded, conv = explorer.resolve(view)
        data = exporting.npy_bytes(explorer.kernel_weights(loaded, conv))
        return dcc.send_bytes(data, exporting.kernels_name(view.model, conv.name)), no_update

    @download(ids.EXPORT_MAP_FILE, ids.EXPORT_MAP)
    @guarded(_failed)
    def on_export_map(_clicks, model, layer, image, channel, weights, session):
        """The selected channel's map as CSV (H lines of W values)."""
        view = view_of(
            explorer, model, edge.name(layer, N_("layer choice")), image, channel, weights, session
        )
        _, conv, maps, shown = explorer.maps(view)
        if shown.channel != view.channel:  # maps() falls back to 0 for a channel not there
            raise ExportError(
                "No map for channel {c}: {layer} has {n} channels.",
                c=view.channel,
                layer=conv.name,
                n=maps.shape[0],
            )
        name = exporting.map_name(view.model, conv.name, view.channel)
        return dcc.send_bytes(exporting.csv_bytes(maps[view.channel]), name), no_update

    @download(ids.EXPORT_EXPLANATION_FILE, ids.EXPORT_EXPLANATION, State(ids.EXPLAIN_TOTAL, "data"))
    @guarded(_failed)
    def on_export_explanation(_clicks, model, layer, image, channel, weights, session, total):
        """The explanation panel's numbers for the pixel it explains, as .npz."""
        pixel = edge.explained_pixel(total)
        if pixel is None:
            raise ExportError(
                "Click a pixel of the feature map first, then download its explanation."
            )
        view = view_of(
            explorer, model, edge.name(layer, N_("layer choice")), image, channel, weights, session
        )
        record = explainer.explanation_record(view, *pixel)
        name = exporting.explanation_name(view.model, record.layer, record.channel, *pixel)
        return dcc.send_bytes(exporting.npz_bytes(record), name), no_update

    app.clientside_callback(
        "function(total) { return !total; }",
        Output(ids.EXPORT_EXPLANATION_ROW, "hidden"),
        Input(ids.EXPLAIN_TOTAL, "data"),
    )

    # The channel follows a click (CHANNEL_PICKED, written only by one) and is read from
    # CHANNEL_STORE: an input that a layer switch's own callbacks write would cost that
    # switch a second round trip.
    @app.callback(
        *(Output(graph, "config") for graph in FIGURES),
        Output(ids.STATUS, "children", allow_duplicate=True),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.CHANNEL_PICKED, "data"),
        Input(ids.IMAGE_FORMAT, "value"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.WEIGHTS_STORE, "data"),
        prevent_initial_call=True,
    )
    @guarded(lambda text: (*(no_update for _ in FIGURES), text))
    def on_image_names(model, layer, _picked, image_format, channel, weights):
        """Each plot's camera saves as model_layer[_chN]_what.png (or .svg)."""
        if layer is None:
            return (no_update,) * (len(FIGURES) + 1)
        image_format = edge.image_format(image_format, exporting.IMAGE_FORMATS)
        view = view_of(explorer, model, layer, None, channel, weights, None)
        _, conv = explorer.resolve(view)
        # as the panels do: a channel the layer lacks falls back to 0
        channel = view.channel if view.channel < conv.out_channels else 0
        configs = []
        for base, what, per_channel in FIGURES.values():
            stem = exporting.figure_stem(
                view.model, conv.name, what, channel if per_channel else None
            )
            options = exporting.image_options(stem, image_format)
            configs.append(graph_config({**base, "toImageButtonOptions": options}))
        return (*configs, no_update)

    # dcc.Graph applies a new `config` only when its figure next changes (plotly/dash#2865):
    # hand the camera's options to each drawn plot now. Plotly's camera reads them from the
    # plot's context when clicked; the next redraw takes them from `config`, the same ones.
    app.clientside_callback(
        """
        function(...configs) {
            const graphs = """
        + str(list(FIGURES))
        + """;
            graphs.forEach((id, i) => {
                const gd = document.querySelector('#' + id + ' .js-plotly-plot');
                const options = configs[i] && configs[i].toImageButtonOptions;
                if (gd && gd._context && options) {
                    gd._context.toImageButtonOptions = Object.assign({}, options);
                }
            });
            return window.dash_clientside.no_update;
        }
        """,
        Output(ids.IMAGE_NAMES_SINK, "data"),
        *(Input(graph, "config") for graph in FIGURES),
        prevent_initial_call=True,
    )
