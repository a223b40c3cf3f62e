"""Only UserError sentences reach the page; anything else is a logged bug with a reference."""

from __future__ import annotations

import logging
import re

from dashboard.errors import ModelError, UserError, page_message


def test_err01_user_errors_are_shown_as_written() -> None:
    assert page_message(ModelError("The model X has no conv layer named 'y'.")) == (
        "The model X has no conv layer named 'y'."
    )


def test_err02_other_errors_show_a_reference_that_is_in_the_log(caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="dashboard.errors"):
        try:
            {}[[1]]  # type: ignore[index]
        except TypeError as exc:
            text = page_message(exc)
    assert "unhashable" not in text and "list" not in text
    ref = re.search(r"reference ([0-9a-f]{8})", text)
    assert ref, text
    assert text.startswith("Something went wrong on our side")
    record = caplog.records[-1]
    assert ref.group(1) in record.getMessage() and record.exc_info is not None


def test_err03_python_value_errors_are_not_user_errors() -> None:
    for exc in (ValueError("invalid literal for int() with base 10: 'abc'"), KeyError("F4")):
        assert "invalid literal" not in page_message(exc) and "F4" not in page_message(exc)
    assert not issubclass(ValueError, UserError)
