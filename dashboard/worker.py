"""The Procfile's worker: ``celery -A dashboard.worker:celery_app worker``.

It builds the same app as a web process, from the same environment, so that Dash's
``CeleryManager`` registers the same background callbacks as Celery tasks here (a task's
name is a digest of its callback; a worker that lacks one refuses its jobs). Nothing heavy
is loaded until a job needs it.
"""

from __future__ import annotations

from dashboard.app import create_app
from dashboard.config import config_from_env

config = config_from_env()
if not config.redis_url:
    raise SystemExit(
        "The worker needs REDIS_URL (or CONVSCOPE_REDIS_URL): jobs and their results go "
        "through that Redis."
    )
app = create_app(config, on_worker=True)
celery_app = app.jobs.celery_app
