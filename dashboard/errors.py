"""The one family of errors whose message a user may read, and the sentence for all others.

A sentence meant for the user is raised as a :class:`UserError` (or a subclass) where it is
written. Any other exception reaching the page edge is a bug: :func:`page_message` logs it
with its trace under a short reference id and returns a sentence that names only that id.
"""

from __future__ import annotations

import logging
import secrets

from dashboard.i18n import _

log = logging.getLogger(__name__)


class UserError(Exception):
    """A failure the user can act on; ``str(exc)`` is one plain sentence for the page.

    ``message`` is a catalogue message (a literal, so Babel extracts it) with ``{name}``
    fields filled from ``params``; the page shows it in the visitor's language.
    """

    def __init__(self, message: str = "", **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return self.message.format(**self.params) if self.params else self.message

    def translated(self) -> str:
        """The sentence in the current request's language."""
        text = _(self.message)
        return text.format(**self.params) if self.params else text


class ModelError(UserError, ValueError):
    """A model, layer or user model that cannot be built, found or run as asked."""


class WeightsError(UserError, ValueError):
    """A weights file that is unreadable, unsafe, or does not fit the model."""


class BusyError(UserError):
    """The server cannot take this request now (queue full, previous pass still running)."""


class SharedStoreError(UserError):
    """The shared store (Redis) that uploads live in does not answer."""


class JobLostError(UserError):
    """A background job that will not finish: its worker died, or none took it in time."""


class PreparingError(UserError):
    """A big model's first pass on this image is a worker's job that has not finished."""


class ExportError(UserError):
    """A download the page cannot make as asked (nothing explained yet, no such map)."""


def reference_id() -> str:
    """A short random id that ties a page message to its log line."""
    return secrets.token_hex(4)


def page_message(exc: BaseException) -> str:
    """The sentence the page shows for ``exc``; internals only ever go to the log."""
    if isinstance(exc, UserError) and str(exc).strip():
        log.info("user-facing error: %s: %s", type(exc).__name__, exc)
        return exc.translated().strip()
    ref = reference_id()
    log.error("unexpected error [ref %s]", ref, exc_info=exc)
    return _(
        "Something went wrong on our side (reference {ref}); it has been logged. Please try again."
    ).format(ref=ref)
