"""English / 中文: the switch reloads the page in the other language, the view kept.

The page's address carries ``lang`` (with the rest of the view), and the server remembers
the choice in a cookie (:func:`dashboard.i18n.install`), so every later request of this
browser (callbacks, the next visit) answers in that language.
"""

from __future__ import annotations

from dash import Dash, Input, Output

from dashboard import ids

# Runs in the browser: no round trip, and the reload keeps every other query parameter.
SWITCH = """
function (language) {
    const url = new URL(window.location.href);
    if (!language) {
        return window.dash_clientside.no_update;
    }
    document.cookie = "convscope-lang=" + language + "; path=/; max-age=31536000; SameSite=Lax";
    url.searchParams.set("lang", language);
    window.location.assign(url.toString());
    return language;
}
"""


def register_language(app: Dash) -> None:
    """Register the language switch (a clientside callback)."""
    app.clientside_callback(
        SWITCH,
        Output(ids.LANG_RELOAD, "data"),
        Input(ids.LANG_SELECT, "value"),
        prevent_initial_call=True,
    )
