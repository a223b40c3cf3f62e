"""The translation catalogues and the request's language (issue 13)."""

from __future__ import annotations

import ast
import io
import re
import string
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask

from dashboard import i18n
from dashboard.edge import InvalidInput
from dashboard.errors import ModelError, page_message
from dashboard.locale import ERROR_CLASSES, extract, po_path

PACKAGE = Path(i18n.__file__).resolve().parent


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.fixture(scope="module")
def extracted():
    sink = io.StringIO()
    with redirect_stderr(sink), redirect_stdout(sink):
        catalog = extract()
    return catalog, sink.getvalue()


def test_i18n01_every_marked_message_is_extractable(extracted) -> None:
    """An f-string in _() or in an error cannot be translated: Babel warns, we fail."""
    _catalog, warnings = extracted
    assert "warning" not in warnings.lower(), warnings


@pytest.mark.parametrize("language", ["zh"])
def test_i18n02_every_message_has_a_translation_with_the_same_fields(extracted, language) -> None:
    catalog, _ = extracted
    with po_path(language).open("rb") as handle:
        translated = read_po(handle, locale=language)
    missing, broken = [], []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        found = translated.get(message.id)
        strings = found and (found.string if isinstance(found.string, tuple) else (found.string,))
        if not found or found.fuzzy or not all(strings):
            missing.append(ids[0])
            continue
        if any(_fields(s) != _fields(ids[-1]) for s in strings):
            broken.append(ids[0])
    assert not missing, f"{len(missing)} messages without a {language} translation: {missing[:20]}"
    assert not broken, f"translations whose {{fields}} differ from the message: {broken[:20]}"


def _marked(arg: ast.expr, error: str) -> bool:
    """An N_() call, an UPPER_CASE constant (marked with N_ where it is defined), or the
    noun an InvalidInput is given (its callers mark it)."""
    if isinstance(arg, ast.Call):
        return getattr(arg.func, "id", "") == "N_"
    if isinstance(arg, ast.Name):
        return arg.id.isupper() or error == "InvalidInput"
    return False


def test_i18n03_errors_are_raised_with_a_literal_message() -> None:
    """``raise ModelError(f"…")`` would reach a Chinese page in English."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ERROR_CLASSES
                and node.args
                and not isinstance(node.args[0], ast.Constant)
                and not _marked(node.args[0], node.func.id)
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, offenders


def test_i18n03b_every_user_error_class_is_an_extraction_keyword() -> None:
    import dashboard.app  # noqa: F401  (every module, so every error class, is imported)
    from dashboard.errors import UserError

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names = {c.__name__ for c in subclasses(UserError) if c.__module__.startswith("dashboard")}
    assert names | {"UserError"} <= set(ERROR_CLASSES), names - set(ERROR_CLASSES)


def test_i18n04_terminology_is_the_textbooks() -> None:
    with po_path("zh").open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    text = "\n".join(str(m.string) for m in catalog if m.id)
    for term in ("卷积核", "特征图", "输入通道", "输出通道", "感受野", "激活值"):
        assert term in text, term


@pytest.mark.parametrize(
    ("args", "cookies", "accept", "want"),
    [
        ({"lang": "zh"}, {}, [], "zh"),
        ({"lang": "zh-CN"}, {"convscope-lang": "en"}, [], "zh"),
        ({}, {"convscope-lang": "zh"}, ["en-US"], "zh"),
        ({}, {}, ["fr", "zh-TW", "en"], "zh"),
        ({}, {}, ["en-GB", "zh"], "en"),
        ({"lang": "<script>"}, {"convscope-lang": "xx" * 999}, [], "en"),
        ({"lang": ["zh"]}, {}, [], "en"),
    ],
)
def test_i18n05_the_request_language(args, cookies, accept, want) -> None:
    assert i18n.request_language(args, cookies, iter(accept)) == want


def test_i18n06_lang_in_the_address_is_remembered_and_used_by_later_requests() -> None:
    server = Flask(__name__)
    i18n.install(server)
    server.add_url_rule("/seen", "seen", i18n.current_language)
    client = server.test_client()
    first = client.get("/seen?lang=zh")
    assert first.text == "zh"
    assert "convscope-lang=zh" in first.headers["Set-Cookie"]
    assert client.get("/seen").text == "zh"  # the cookie
    assert client.get("/seen?lang=en").text == "en"
    assert client.get("/seen").text == "en"
    assert client.get("/seen?lang=klingon", headers={"Accept-Language": "zh"}).text == "en"


def test_i18n07_errors_are_translated_where_they_are_shown() -> None:
    error = ModelError(
        "Something went wrong on our side (reference {ref}); it has been logged. Please try again.",
        ref="x1",
    )
    assert "reference x1" in str(error)
    with i18n.using("zh"):
        shown = page_message(error)
        assert "x1" in shown and re.search(r"[\u4e00-\u9fff]", shown), shown
        assert re.search(r"[\u4e00-\u9fff]", page_message(InvalidInput("channel number")))
        assert re.search(r"[\u4e00-\u9fff]", page_message(KeyError("boom")))  # our side
    assert page_message(error) == str(error)  # English outside the block
