"""Caller numbers normalised before any repeat-caller lookup."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickets.caller import caller_key


@pytest.mark.parametrize(("raw", "key"), [
    ("13800138000", "13800138000"),
    ("+8613800138000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"),
    ("008613800138000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("013800138000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("0558-1234567", "05581234567"),
    ("(0558) 1234 5678", "055812345678"),
    ("+86 558 1234567", "05581234567"),
    ("1234567", "05581234567"),
    ("12345678", "055812345678"),
    ("+86 10 12345678", "01012345678"),
    ("+1 415 555 0100", "+14155550100"),
])
def test_same_subscriber_same_key(raw: str, key: str) -> None:
    assert caller_key(raw) == key


@pytest.mark.parametrize("raw", [None, "", "  ", "anonymous", "Anonymous", "unknown",
                                 "restricted", "匿名", "0000000", "abc", "12345"])
def test_withheld_or_junk_gives_none(raw: str | None) -> None:
    assert caller_key(raw) is None


def test_local_number_takes_configured_area_code() -> None:
    assert caller_key("1234567", area_code="0551") == "05511234567"


@given(st.text(alphabet="+0123456789 -()", max_size=20))
def test_idempotent(raw: str) -> None:
    key = caller_key(raw)
    if key is not None:
        assert caller_key(key) == key


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
       st.sampled_from(["", "+86", "0086", "86", "0", "+86 "]))
def test_mobile_prefixes_collapse(mobile: str, prefix: str) -> None:
    assert caller_key(prefix + mobile) == mobile
