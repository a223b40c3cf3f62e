"""The translation catalogues: ``messages.pot`` extracted from the code, one ``.po`` per
language. ``python -m dashboard.locale`` re-extracts and updates the ``.po`` files (Babel's
``extract`` + ``update``, with our keywords); translators then fill the empty ``msgstr``.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

LOCALE_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = LOCALE_DIR.parent
TEMPLATE = LOCALE_DIR / "messages.pot"
LANGUAGES = ("zh",)

# gettext's own names plus every UserError class: their first argument is a catalogue
# message (``raise ModelError("No layer {name}.", name=name)``).
ERROR_CLASSES = (
    "UserError",
    "ModelError",
    "WeightsError",
    "BusyError",
    "ImageError",
    "ForwardError",
    "InvalidInput",
    "ExportError",
    "PreparingError",
    "SharedStoreError",
    "JobLostError",
    "TrainedWeightsMissing",
)
KEYWORDS = {
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    **dict.fromkeys(ERROR_CLASSES),
}
assert set(KEYWORDS) >= {"_", "ngettext"} and set(DEFAULT_KEYWORDS) >= {"_", "ngettext"}


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """Every message the code marks, with where it is used."""
    catalog = Catalog(project="ConvScope", charset="utf-8", fuzzy=False)
    found = extract_from_dir(
        str(PACKAGE_DIR),
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        path = f"dashboard/{filename}"
        catalog.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return catalog
