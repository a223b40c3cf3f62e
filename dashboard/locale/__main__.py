"""``python -m dashboard.locale``: re-extract ``messages.pot`` and update every ``.po``."""

from __future__ import annotations

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from dashboard.locale import LANGUAGES, TEMPLATE, extract, po_path


def main() -> None:
    template = extract()
    with TEMPLATE.open("wb") as handle:
        write_po(handle, template, width=100, omit_header=False, sort_output=False)
    for language in LANGUAGES:
        path = po_path(language)
        if path.is_file():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, project="ConvScope", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, ignore_obsolete=True)
        missing = sum(1 for m in catalog if m.id and not m.string)
        print(f"{path}: {len(catalog)} messages, {missing} without a translation")


if __name__ == "__main__":
    main()
