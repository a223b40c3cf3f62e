"""What every callback module shares: the guard, the view from raw values, small patches."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable

import numpy as np
from _plotly_utils.utils import to_typed_array_spec
from dash import Dash, Input, Output, Patch, State
from dash.exceptions import PreventUpdate

from dashboard import edge, ids, urlstate
from dashboard.errors import PreparingError, UserError, page_message
from dashboard.explorer import Explorer
from dashboard.i18n import N_, _
from dashboard.modes import KernelMode
from dashboard.urlstate import UrlState
from dashboard.views import ANONYMOUS, DetailView, View

log = logging.getLogger(__name__)
# customdata column holding the output channel, per grid
CLICK_CHANNEL = {"kernel": 2, "feature": 1, KernelMode.RGB: 3}

# What view_of reads of the page, in its order: model, layer, image, channel, weights, session.
VIEW_STATE = (
    State(ids.MODEL_SELECT, "value"),
    State(ids.LAYER_SELECT, "value"),
    State(ids.IMAGE_STORE, "data"),
    State(ids.CHANNEL_STORE, "data"),
    State(ids.WEIGHTS_STORE, "data"),
    State(ids.SESSION_STORE, "data"),
)


def guarded(on_error: Callable[[str], object], waiting: Callable[[str], object] | None = None):
    """Run a callback; on any exception return ``on_error(sentence)`` instead of a 500.

    ``waiting(sentence)`` answers instead when a worker runs the model first (not an
    error: the panel says so quietly; the default is ``on_error``).
    """

    def wrap(callback):
        @functools.wraps(callback)
        def run(*args):
            try:
                return callback(*args)
            except PreventUpdate:
                raise
            except PreparingError as exc:
                return (waiting or on_error)(page_message(exc))
            except Exception as exc:
                return on_error(page_message(exc))

        return run

    return wrap


def view_of(
    explorer: Explorer, model, layer, image, channel, weights, session, size=None, **modes
) -> View:
    """A View from raw component values, each checked at the edge (``layer`` None: a panel
    that shows no layer, e.g. the predictions)."""
    return View(
        feature_px=edge.plot_size(size, "feature"),
        kernel_px=edge.plot_size(size, "kernel"),
        model=edge.model(model, explorer.models.names),
        layer=edge.name(layer, N_("layer choice")) if layer is not None else None,
        image=edge.image_key(image) if image is not None else "",
        channel=edge.channel(channel),
        weights=edge.weights_ref(weights),
        session=edge.session(session) or ANONYMOUS,
        **modes,
    )


def claim_first_pass(explorer: Explorer, model: str, weights: dict | None, image) -> None:
    """With workers (``preparing.py``): where the page picks a model or an image, before its
    panels ask, mark a big model's first pass on that image as a worker's job, so that the
    panels wait for it rather than run it here. Anything in the way (a bad value, Redis
    down) leaves it unclaimed: the panels then run it here, or say what is wrong."""
    if explorer.preparer is None or not image:
        return
    with contextlib.suppress(UserError):
        name = edge.model(model, explorer.models.names)
        explorer.preparer.claim(explorer.model(name, weights), edge.image_key(image))


def layer_options(explorer: Explorer, model_name: str, weights: dict | None):
    """Layer dropdown options, the first layer, the model's notice and whether to hide it,
    and how an image becomes the model's input."""
    model = explorer.model(model_name, weights)
    options = [{"label": str(layer.label), "value": layer.name} for layer in model.conv_layers]
    notice = str(model.notice or "")  # text kept with the model: translated here
    seen = _("The input the model saw: {how}.").format(how=model.preprocessing)
    return options, model.conv_layers[0].name, notice, not notice, seen


def typed_arrays(value: object) -> object:
    """``value`` with every numpy array as plotly's base64 typed-array spec.

    A figure goes out through plotly's encoder, which writes arrays as base64; a Patch's
    values through Dash's, which writes them as JSON lists: ~12 bytes a float32 instead
    of ~5.5. Values for a Patch go through this first.
    """
    if isinstance(value, np.ndarray):
        return to_typed_array_spec(value)
    if isinstance(value, dict):
        return {key: typed_arrays(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [typed_arrays(item) for item in value]
    return value


# Drawn once per input image: a new layer or channel replaces the map beside it only.
INPUT_IMAGE_KEYS = ("xaxis2", "yaxis2")


def detail_output(shown: DetailView, drawn: object) -> tuple[object, str]:
    """(the detail figure or a Patch of its map, the input it draws) for DETAIL_INPUT.

    When the page already draws this input image (``drawn``), only the map trace and the
    layout outside the image's axes travel: the image is most of the figure's bytes.
    """
    if drawn != shown.input_key:
        return shown.figure, shown.input_key
    patch = Patch()
    patch["data"][0] = typed_arrays(shown.figure.data[0].to_plotly_json())
    for key, value in shown.figure.layout.to_plotly_json().items():
        if key not in INPUT_IMAGE_KEYS:
            patch["layout"][key] = value
    return patch, shown.input_key


def shapes_patch(shapes: list[dict]) -> Patch:
    patch = Patch()
    patch["layout"]["shapes"] = shapes
    return patch


def url_wanted(url_view: object, search: object) -> UrlState | None:
    """The view the address bar's link asked for, while the page still shows that link:
    the model, layer, kernel view and zoom the panels should take when they redraw."""
    if not isinstance(url_view, dict) or not isinstance(search, str):
        return None
    # a URL the page wrote itself follows the panels, never leads them
    if url_view.get("search") != search or url_view.get("own") is True:
        return None
    return urlstate.parse(url_view.get("resolved")).state


def cancel_note(app: Dash, cancel_id: str, status_id: str) -> None:
    """A job's Cancel button writes its sentence (its ``data-cancelled``, in the page's
    language) into the job's status, in the browser: the cancelled job answers nothing."""
    app.clientside_callback(
        f"""
        function(n) {{
            const button = document.getElementById("{cancel_id}");
            return n && button ? button.dataset.cancelled : window.dash_clientside.no_update;
        }}
        """,
        Output(status_id, "children", allow_duplicate=True),
        Input(cancel_id, "n_clicks"),
        prevent_initial_call=True,
    )
