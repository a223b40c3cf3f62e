"""The page's language: gettext catalogues, chosen per request.

Write every user-visible string through these functions so Babel can extract it
(``python -m dashboard.i18n extract`` refreshes ``locale/messages.pot`` and the ``.po``):

* ``_("Download {layer}").format(layer=name)``: translate now, in the request's language.
* ``ngettext("{n} channel", "{n} channels", n).format(n=n)``: plural forms.
* ``N_("…")``: mark a constant for extraction without translating it (translate where shown).

Never pass an f-string: it cannot be extracted. Errors take their parameters instead:
``raise ModelError("No layer {name}.", name=name)`` is translated where the page shows it.

The ``.po`` files are the source; they are compiled in memory when first used (no ``.mo``
in the repository). A request's language comes from ``?lang=`` on the page's address, else
the ``convscope-lang`` cookie the language switch sets, else the browser's
Accept-Language; it is held in a ContextVar that :func:`install` sets for each request.
"""

from __future__ import annotations

import contextvars
import functools
import gettext as gettext_module
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "en"
COOKIE = "convscope-lang"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "convscope_language", default=DEFAULT_LANGUAGE
)


def language_of(value: object) -> str | None:
    """``value`` as one of :data:`LANGUAGES` (``zh-CN``, ``zh_TW`` → ``zh``), else None."""
    if not isinstance(value, str) or not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def current_language() -> str:
    """The language of the request being answered."""
    return _language.get()


def set_language(value: object) -> str:
    """Answer in ``value``'s language from now on in this context; returns the one chosen."""
    language = language_of(value) or DEFAULT_LANGUAGE
    _language.set(language)
    return language


@contextmanager
def using(value: object) -> Iterator[str]:
    """Answer in ``value``'s language inside the block (background jobs, tests)."""
    token = _language.set(language_of(value) or DEFAULT_LANGUAGE)
    try:
        yield _language.get()
    finally:
        _language.reset(token)


@functools.cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The compiled catalogue of ``language`` (English is the source: no catalogue)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT_LANGUAGE or not po.is_file():
        return gettext_module.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for ``n``, in the current language."""
    return translations(_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def request_language(args: dict, cookies: dict, accept_languages: Iterator[str]) -> str:
    """The language a request asks for: ``?lang=``, else the cookie, else the browser's."""
    for value in (args.get("lang"), cookies.get(COOKIE), *accept_languages):
        if language := language_of(value):
            return language
    return DEFAULT_LANGUAGE


def install(server) -> None:
    """Set each request's language before Flask dispatches it; remember ``?lang=``."""
    from flask import request

    @server.before_request
    def _choose_language() -> None:
        accepted = (value for value, _quality in request.accept_languages)
        set_language(request_language(request.args, request.cookies, accepted))

    @server.after_request
    def _remember_language(response):
        if language := language_of(request.args.get("lang")):
            response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax")
        return response
