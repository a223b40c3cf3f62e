"""The page's language: gettext catalogues per request (stub: English only for now).

Write every user-visible string through these functions so Babel can extract it:

* ``_("Download {layer}").format(layer=name)``: translate now, in the request's language.
* ``ngettext("{n} channel", "{n} channels", n).format(n=n)``: plural forms.
* ``N_("…")``: mark a constant for extraction without translating it (translate where shown).

Never pass an f-string: it cannot be extracted. Errors take their parameters instead:
``raise ModelError("No layer {name}.", name=name)`` is translated where the page shows it.
"""

from __future__ import annotations

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "en"


def current_language() -> str:
    """The language of the request being answered."""
    return DEFAULT_LANGUAGE


def _(message: str) -> str:
    """``message`` in the current language."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for ``n``, in the current language."""
    return singular if n == 1 else plural


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message
