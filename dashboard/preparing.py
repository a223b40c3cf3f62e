"""A big model's first pass on an image, and its weights download, on a Celery worker.

Only with ``REDIS_URL``. A web process then never downloads pretrained weights, and never
runs a model whose weights take ``worker_model_mb`` or more on an image nobody has run it
on yet: the page sends that job to a worker (``callbacks/prepare.py``, a Dash background
callback on the CeleryManager), which downloads the weights when they are missing and
downloads are allowed, builds the model and runs it once. Every conv layer's output and
the top classes go to Redis, where any web process reads them; the web process itself
only builds the model (for its kernels) from the weights file.

The page claims that first pass where it picks the model or the image (a "preparing"
marker with a TTL, renewed while the job runs), before its panels ask: until the worker is
done they say so quietly (:class:`PreparingError`), and the page shows the job's progress, a
cancel button and, when the worker dies or the job is cancelled, a sentence and a button to
run it again. Only a claimed pass is waited for: unclaimed (never asked, a lost worker's,
its outputs evicted since) a web process runs it itself, slower but never stuck. A finished
job leaves a "prepared" marker, so that a web process whose model still differs from the
worker's (its weights folder is not the worker's, say) runs it itself too.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from dashboard.errors import PreparingError, SharedStoreError
from dashboard.i18n import _
from dashboard.models import LoadedModel
from dashboard.shared import SharedStore
from dashboard.views import View

if TYPE_CHECKING:  # the Explorer is handed in by create_app; no import cycle at run time
    from dashboard.explorer import Explorer

# progress(text, done, total): a stage's words; done/total None for a stage without steps
Progress = Callable[[str, int | None, int | None], None]
WORKER_SESSION = "worker"  # the lane a worker's passes queue in
POLL_S = 0.5  # how often a download's progress is relayed to the page
MB = 1024 * 1024


def weight_bytes(model: LoadedModel) -> int:
    """What the model's parameters and buffers occupy (its weights file, roughly)."""
    module = model.module
    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def _marker(kind: str, model_name: str, image_key: str) -> str:
    """ "prepared:…" once a worker has run it; "preparing:…" while a job for it is asked."""
    digest = hashlib.sha256(f"{model_name}\0{image_key}".encode()).hexdigest()
    return f"{kind}:{digest}"


class Preparer:
    """Decides what a worker must run first, and runs it there.

    Args:
        explorer: the app's Explorer (models, images, caches).
        shared: the Redis store the outputs and markers live in.
        threshold_mb: models with at least this many MB of weights go to a worker.
        on_worker: True in a worker process (it runs the jobs; it never waits for one).
        pending_s: how long the panels wait for a job asked for (renewed while it runs);
            after that, or with no job asked, a web process runs the model itself.
    """

    def __init__(
        self,
        explorer: Explorer,
        shared: SharedStore,
        threshold_mb: float,
        on_worker: bool,
        pending_s: float = 330.0,
    ) -> None:
        self.explorer = explorer
        self.shared = shared
        self.threshold_bytes = threshold_mb * MB
        self.on_worker = on_worker
        self.pending_s = pending_s

    def heavy(self, model: LoadedModel) -> bool:
        return weight_bytes(model) >= self.threshold_bytes

    def finished(self, model_name: str, image_key: str) -> bool:
        """Whether a worker has run ``model_name`` on ``image_key`` (within the store's TTL).

        Raises:
            SharedStoreError: Redis does not answer.
        """
        return self.shared.exists(_marker("prepared", model_name, image_key))

    def needs_worker(self, model: LoadedModel, image_key: str) -> bool:
        """Whether this web process must wait for a worker's first pass of ``model`` on
        ``image_key``: a big model whose outputs no process has yet, and no worker has run.

        Raises:
            SharedStoreError: Redis does not answer.
        """
        if self.on_worker or not self.heavy(model):
            return False
        if self.explorer.outputs_ready(model.key, image_key):
            return False
        return not self.finished(model.name, image_key)

    def claim(self, model: LoadedModel, image_key: str) -> bool:
        """Where the page chooses a model or an image, before its panels ask: when a worker
        must run it first, mark it pending, so that the panels wait for that job instead of
        running it here. True when claimed.

        Raises:
            SharedStoreError: Redis does not answer.
        """
        if not self.needs_worker(model, image_key):
            return False
        self._pending(model.name, image_key)
        return True

    def _pending(self, model_name: str, image_key: str) -> None:
        self.shared.put(_marker("preparing", model_name, image_key), b"1", ttl_s=self.pending_s)

    def release(self, model_name: str, image_key: str) -> None:
        """Its job will not finish (the worker died): the panels run it here when asked."""
        self.shared.delete(_marker("preparing", model_name, image_key))

    def check(self, model: LoadedModel, image_key: str) -> None:
        """The Explorer's gate before it would run ``model`` itself: it waits only for a job
        that was asked for and is not done. Without one (never asked, given up, or what it
        put in Redis evicted since), the web process runs the model: slower, never stuck.

        Raises:
            PreparingError: a worker runs it; the panels fill in when it is done.
            SharedStoreError: Redis does not answer.
        """
        if self.on_worker or not self.heavy(model):
            return
        if not self.shared.exists(_marker("preparing", model.name, image_key)):
            return
        if not self.explorer.outputs_ready(model.key, image_key):
            raise PreparingError(
                "{model} runs on a worker for this image first; the maps fill in when it is done.",
                model=model.label,
            )

    def run(
        self, model_name: str, weights: dict | None, image_key: str, progress: Progress
    ) -> dict:
        """On a worker: download and build the model, run it on the image into Redis.

        Returns what the page keeps: the model, image and model key run, and the seconds.
        """
        start = time.monotonic()

        def stage(text: str, done: int | None, total: int | None) -> None:
            with contextlib.suppress(SharedStoreError):  # the job's own end says Redis is down
                self._pending(model_name, image_key)  # the panels keep waiting while it runs
            progress(text, done, total)

        model = self._build(model_name, weights, stage)
        stage(_("Running {model} on this image…").format(model=model.label), None, None)
        view = View(model_name, None, image_key, weights=weights, session=WORKER_SESSION)
        if not self.explorer.outputs_ready(model.key, image_key):  # a second press, say
            self.explorer.layer_outputs(model, image_key, WORKER_SESSION)  # into Redis
        self.explorer.predictions(view)  # the top classes too: a web process runs neither
        self.shared.put(_marker("prepared", model_name, image_key), model.key.encode())
        self.release(model_name, image_key)
        return {
            "model": model_name,
            "image": image_key,
            "key": model.key,
            "seconds": round(time.monotonic() - start, 1),
        }

    def _build(self, model_name: str, weights: dict | None, progress: Progress) -> LoadedModel:
        """The model, its weights downloaded first when missing (bytes relayed to the page)."""
        label = dict(self.explorer.models.available()).get(model_name, model_name)
        progress(_("Loading {model}…").format(model=label), None, None)
        done = threading.Event()

        def relay() -> None:
            while not done.wait(POLL_S):
                status = self.explorer.models.download_status(model_name)
                if status is not None:
                    got, total = status
                    text = _("Downloading pretrained weights for {model}…").format(model=label)
                    progress(text, got // MB, total // MB if total else None)

        thread = threading.Thread(target=relay, name="download-progress", daemon=True)
        thread.start()
        try:
            return self.explorer.model(model_name, weights)
        finally:
            done.set()
            thread.join()
