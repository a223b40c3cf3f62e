"""What a channel looks for: a feature visualisation as a Dash background callback, with a
progress bar and a cancel button."""

from __future__ import annotations

from dash import Dash, Input, Output, State, ctx, no_update

from dashboard import figures, i18n, ids
from dashboard.callbacks.common import cancel_note, guarded, view_of
from dashboard.errors import page_message
from dashboard.explaining import Explainer
from dashboard.i18n import N_, _
from dashboard.jobs import in_job_process

PRESS = N_("Press “Visualise this channel” to compute it.")
CANCELLED = N_("Cancelled. Press the button to start again.")


def _job_failed(exc: Exception) -> tuple:
    """The page's answer when the job itself could not run or finish."""
    with i18n.using(ctx.states.get(f"{ids.LANG_SELECT}.value") or i18n.current_language()):
        text = page_message(exc)
    return figures.message_figure(text), text


def register_featurevis(app: Dash, explainer: Explainer) -> None:
    """Register the feature-visualisation job, its stored results and its cancel note."""
    explorer = explainer.explorer
    steps = explorer.config.featurevis_steps

    @app.callback(
        Output(ids.FEATUREVIS_FIGURE, "figure"),
        Output(ids.FEATUREVIS_STATUS, "children"),
        Input(ids.FEATUREVIS_START, "n_clicks"),
        State(ids.MODEL_SELECT, "value"),
        State(ids.LAYER_SELECT, "value"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.WEIGHTS_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        State(ids.LANG_SELECT, "value"),
        background=True,
        manager=explainer.jobs.manager,
        running=[
            (Output(ids.FEATUREVIS_START, "disabled"), True, False),
            (Output(ids.FEATUREVIS_CANCEL, "disabled"), False, True),
            (Output(ids.FEATUREVIS_PROGRESS, "hidden"), False, True),
        ],
        cancel=[Input(ids.FEATUREVIS_CANCEL, "n_clicks")],
        progress=[Output(ids.FEATUREVIS_PROGRESS, "value"), Output(ids.FEATUREVIS_PROGRESS, "max")],
        progress_default=["0", str(steps)],
        prevent_initial_call=True,
        # Raised in the web process while it sends or follows the job: Redis down, or the
        # worker lost (dashboard/celery_jobs.py). The answer ends the job on the page.
        on_error=_job_failed,
    )
    def on_featurevis(set_progress, _clicks, model, layer, channel, weights, session, language):
        """Runs in a job process forked from the web process, or on a Celery worker (see
        dashboard/jobs.py): no request there, so the page's language comes as a value."""
        in_job_process()
        with i18n.using(language):
            return _featurevis(set_progress, model, layer, channel, weights, session)

    def _featurevis(set_progress, model, layer, channel, weights, session):
        try:
            view = view_of(explorer, model, layer, None, channel, weights, session)
            shown = explainer.feature_vis(
                view, progress=lambda done, total: set_progress((str(done), str(total)))
            )
        except Exception as exc:  # the page gets a sentence, the log the trace
            text = page_message(exc)
            return figures.message_figure(text), text
        result = shown.result
        note = _("{steps} steps, {seconds} s to compute.").format(
            steps=result.steps, seconds=f"{result.seconds:.1f}"
        )
        return shown.figure, note

    # A new channel, layer or model: its stored visualisation if there is one.
    @app.callback(
        Output(ids.FEATUREVIS_FIGURE, "figure", allow_duplicate=True),
        Output(ids.FEATUREVIS_STATUS, "children", allow_duplicate=True),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.LAYER_SELECT, "value"),
        Input(ids.WEIGHTS_STORE, "data"),
        Input(ids.CHANNEL_PICKED, "data"),
        State(ids.CHANNEL_STORE, "data"),
        State(ids.SESSION_STORE, "data"),
        prevent_initial_call="initial_duplicate",
    )
    @guarded(lambda text: (figures.message_figure(text), text))
    def on_stored(model, layer, weights, _picked, channel, session):
        if layer is None:
            return no_update, no_update
        view = view_of(explorer, model, layer, None, channel, weights, session)
        shown = explainer.stored_feature_vis(view)
        if shown is None:
            return figures.message_figure(_(PRESS)), ""
        return shown.figure, _("Computed earlier (stored).")

    cancel_note(app, ids.FEATUREVIS_CANCEL, ids.FEATUREVIS_STATUS)
