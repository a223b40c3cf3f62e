"""The one family of errors whose message a user may read, and the sentence for all others.

A sentence meant for the user is raised as a :class:`UserError` (or a subclass) where it is
written. Any other exception reaching the page edge is a bug: :func:`page_message` logs it
with its trace under a short reference id and returns a sentence that names only that id.
"""

from __future__ import annotations

import logging
import secrets

log = logging.getLogger(__name__)


class UserError(Exception):
    """A failure the user can act on; ``str(exc)`` is one plain sentence for the page."""


class ModelError(UserError, ValueError):
    """A model, layer or user model that cannot be built, found or run as asked."""


class WeightsError(UserError, ValueError):
    """A weights file that is unreadable, unsafe, or does not fit the model."""


class BusyError(UserError):
    """The server cannot take this request now (queue full, previous pass still running)."""


def reference_id() -> str:
    """A short random id that ties a page message to its log line."""
    return secrets.token_hex(4)


def page_message(exc: BaseException) -> str:
    """The sentence the page shows for ``exc``; internals only ever go to the log."""
    if isinstance(exc, UserError) and str(exc).strip():
        log.info("user-facing error: %s: %s", type(exc).__name__, exc)
        return str(exc).strip()
    ref = reference_id()
    log.error("unexpected error [ref %s]", ref, exc_info=exc)
    return (
        f"Something went wrong on our side (reference {ref}); it has been logged. Please try again."
    )
