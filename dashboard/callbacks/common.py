"""What every callback module shares: the guard, the view from raw values, small patches."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from dash import Patch
from dash.exceptions import PreventUpdate

from dashboard import edge
from dashboard.errors import page_message
from dashboard.explorer import Explorer
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


def view_of(
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
