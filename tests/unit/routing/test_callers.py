from __future__ import annotations

import pytest

from routing.callers import normalise_caller_number


@pytest.mark.parametrize(("raw", "canonical"), [
    ("13905581234", "13905581234"),
    ("+86 139-0558-1234", "13905581234"),
    ("008613905581234", "13905581234"),
    ("8613905581234", "13905581234"),
    ("013905581234", "13905581234"),
    ("0558-5512345", "05585512345"),
    ("+86 558 5512345", "05585512345"),
    ("(0558) 551 2345", "05585512345"),
    ("010-12345678", "01012345678"),
])
def test_same_caller_same_number(raw: str, canonical: str) -> None:
    assert normalise_caller_number(raw) == canonical


@pytest.mark.parametrize("raw", [None, "", "anonymous", "Unknown", "withheld", "匿名",
                                 "+1 202 555 0100", "12345", "abc"])
def test_withheld_or_foreign_numbers_are_none(raw: str | None) -> None:
    assert normalise_caller_number(raw) is None
