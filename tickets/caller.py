"""Caller numbers turned into one key per subscriber, for repeat-caller lookups.

The same phone reaches us as +8613800138000, 013800138000, 138 0013 8000; a landline
as 0558-1234567, +86 558 1234567 or just 1234567 from inside the city. All must give
the same key, or a repeat caller goes unnoticed. Withheld numbers give None and so
never count as repeat callers.
"""

from __future__ import annotations

import re

# Bozhou (亳州), where the source design's "亳事通" knowledge base comes from.
DEFAULT_AREA_CODE = "0558"

_SEPARATORS = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_WITHHELD = frozenset({
    "", "anonymous", "unknown", "restricted", "private", "withheld", "unavailable",
    "asterisk", "<unknown>", "匿名", "未知", "隐藏号码",
})


def caller_key(raw: str | None, area_code: str = DEFAULT_AREA_CODE) -> str | None:
    """National-format key (mobile: 11 digits; landline: 0 + area code + number), or None.

    Idempotent: caller_key(caller_key(x)) == caller_key(x).
    """
    if raw is None:
        return None
    text = _SEPARATORS.sub("", raw.strip())
    if text.lower() in _WITHHELD:
        return None
    if text.startswith("+"):
        text = text[1:]
        if not text.startswith("86"):
            # Foreign number: keep it as dialled, '+' included so it never looks national.
            return "+" + text if text.isdigit() and len(text) >= 7 else None
        text = text[2:]
    elif text.startswith("0086"):
        text = text[4:]
    if not text.isdigit() or set(text) == {"0"}:
        return None
    if text.startswith("86") and len(text) in (12, 13) and _MOBILE.fullmatch(text[2:]):
        return text[2:]
    if _MOBILE.fullmatch(text):
        return text
    if text.startswith("0") and _MOBILE.fullmatch(text[1:]):
        return text[1:]  # trunk prefix 0 dialled before a mobile number
    if text.startswith("0"):
        return text if len(text) >= 10 else None  # 0 + 2-3 digit area code + 7-8 digits
    if len(text) in (7, 8):
        return area_code + text  # local landline number
    if len(text) in (9, 10, 11):
        # +86 558 1234567 arrives as 5581234567 once +86 is stripped: restore the trunk 0.
        return "0" + text
    return None
