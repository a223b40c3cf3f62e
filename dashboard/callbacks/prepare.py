"""A big model's first pass on a worker (with Redis only; ``dashboard/preparing.py``).

Where the page picks a model or an image (``on_model``, ``on_image``), a big model's first
pass on that image is claimed as a worker's job before the panels ask, so they wait for it
("runs on a worker") instead of running it here; ``on_need`` then presses the start button
for the visitor. The job is a Dash background callback on the CeleryManager with its stage
and progress, a cancel button, and the start button to run it again after a cancel or a
lost worker (a lost one releases the claim: the panels then run it here when asked). Once
it is done the image store is set again to the same image, so every panel that waited asks
again and reads the worker's outputs from Redis.
"""

from __future__ import annotations

import contextlib

from dash import Dash, Input, Output, State, ctx, no_update, set_props

from dashboard import i18n, ids
from dashboard.callbacks.common import cancel_note, guarded, view_of
from dashboard.edge import InvalidInput
from dashboard.errors import UserError, page_message
from dashboard.i18n import _
from dashboard.jobs import in_job_process
from dashboard.preparing import Preparer


def _request(view) -> dict:
    return {"model": view.model, "image": view.image, "weights": view.weights}


def _requested(explorer, request: object):
    """The view a job request names (model, image, weights), each checked at the edge.

    Raises:
        InvalidInput: not a request the page makes (a forged press).
    """
    if not isinstance(request, dict):
        raise InvalidInput("This request names no model and image to run.")
    model, image, weights = (request.get(k) for k in ("model", "image", "weights"))
    return view_of(explorer, model, None, image, 0, weights, None)


def _same_view(done: object, request: dict) -> bool:
    return isinstance(done, dict) and all(done.get(k) == request[k] for k in ("model", "image"))


# Once the worker is done with the page's model and image, set the image again: every panel
# that waited asks again (the same key, so nothing else changes).
REFRESH = """
function(done, image, model) {
    if (done && done.image === image && done.model === model) { return image; }
    return window.dash_clientside.no_update;
}
"""


def register_prepare(app: Dash, preparer: Preparer) -> None:
    """Register the request, the job, its cancel note and the panels' refresh."""
    explorer = preparer.explorer

    def job_failed(exc: Exception) -> tuple:
        """The page's answer when the job could not run or finish (Redis down, worker
        lost): its sentence; the panels stop waiting for it (they run it here if asked)."""
        request = ctx.states.get(f"{ids.PREPARE_REQUEST}.data")
        with contextlib.suppress(UserError):
            view = _requested(explorer, request)
            preparer.release(view.model, view.image)
        with i18n.using(ctx.states.get(f"{ids.LANG_SELECT}.value") or i18n.current_language()):
            return no_update, page_message(exc)

    # The request goes out as a press of the start button (set_props, not an Output): with a
    # store as its input, Dash 4.4 started the job with no request on every page load.
    @app.callback(
        Output(ids.PREPARE_BOX, "hidden"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.IMAGE_STORE, "data"),
        Input(ids.WEIGHTS_STORE, "data"),
        State(ids.PREPARED, "data"),
        State(ids.PREPARE_START, "n_clicks"),
    )
    @guarded(lambda text: no_update)  # the panels say it too
    def on_need(model, image, weights, done, presses):
        view = view_of(explorer, model, None, image, 0, weights, None)
        request = _request(view)
        if not preparer.claim(explorer.model(view.model, view.weights), view.image):
            return not _same_view(done, request)  # "ran on a worker" stays shown
        set_props(ids.PREPARE_REQUEST, {"data": request})
        set_props(ids.PREPARE_START, {"n_clicks": (presses or 0) + 1})
        return False

    @app.callback(
        Output(ids.PREPARED, "data"),
        Output(ids.PREPARE_STATUS, "children"),
        Input(ids.PREPARE_START, "n_clicks"),
        State(ids.PREPARE_REQUEST, "data"),
        State(ids.LANG_SELECT, "value"),
        background=True,
        running=[
            (Output(ids.PREPARE_START, "disabled"), True, False),
            (Output(ids.PREPARE_CANCEL, "disabled"), False, True),
            (Output(ids.PREPARE_PROGRESS, "hidden"), False, True),
            (Output(ids.PREPARE_STAGE, "hidden"), False, True),
            (Output(ids.PREPARE_WAIT, "hidden"), False, True),
        ],
        cancel=[Input(ids.PREPARE_CANCEL, "n_clicks")],
        progress=[
            Output(ids.PREPARE_PROGRESS, "value"),
            Output(ids.PREPARE_PROGRESS, "max"),
            Output(ids.PREPARE_STAGE, "children"),
        ],
        progress_default=[None, None, ""],
        prevent_initial_call=True,
        # Raised in the web process while it sends or follows the job: Redis down, or the
        # worker lost (dashboard/celery_jobs.py).
        on_error=job_failed,
    )
    def on_prepare(set_progress, _clicks, request, language):
        """Runs on a Celery worker: no request there, so the language comes as a value."""
        in_job_process()
        with i18n.using(language):
            view = None
            try:
                view = _requested(explorer, request)

                def progress(text: str, done: int | None, total: int | None) -> None:
                    set_progress((done, total, text))

                done = preparer.run(view.model, view.weights, view.image, progress)
            except Exception as exc:  # the page gets a sentence, the log the trace
                if view is not None:  # the panels stop waiting: they run it when asked
                    with contextlib.suppress(UserError):
                        preparer.release(view.model, view.image)
                return no_update, page_message(exc)
            label = dict(explorer.models.available()).get(view.model, view.model)
            return done, _("{model} ran on a worker in {seconds} s.").format(
                model=label, seconds=done["seconds"]
            )

    app.clientside_callback(
        REFRESH,
        Output(ids.IMAGE_STORE, "data", allow_duplicate=True),
        Input(ids.PREPARED, "data"),
        State(ids.IMAGE_STORE, "data"),
        State(ids.MODEL_SELECT, "value"),
        prevent_initial_call=True,
    )
    cancel_note(app, ids.PREPARE_CANCEL, ids.PREPARE_STATUS)
