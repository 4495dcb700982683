"""Caller numbers in one canonical form before any lookup (repeat callers, history).

Mobiles become 11 digits (1xxxxxxxxxx); landlines keep their area code with its leading
0 (0558xxxxxxx). Withheld, anonymous or unknown numbers become None so that they never
count as the same caller.
"""

from __future__ import annotations

import re

_WITHHELD = {"", "anonymous", "unknown", "withheld", "private", "restricted", "unavailable",
             "asterisk", "s", "0", "匿名", "未知", "无主叫", "隐藏号码"}
_SEPARATORS = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area codes: 010, 02x (3 digits with the 0), else 4 digits (0558 Bozhou). Local
# numbers have 7 or 8 digits.
_LANDLINE = re.compile(r"0(?:10|2\d|[3-9]\d\d)\d{7,8}")


def normalise_caller_number(raw: str | None) -> str | None:
    """Canonical caller number, or None when it is withheld or not a Chinese number."""
    if raw is None:
        return None
    text = raw.strip()
    if text.lower() in _WITHHELD:
        return None
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("86"):
            return None  # a foreign number: not ours to canonicalise
        digits = digits[2:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) in (12, 13):
        digits = digits[2:]
    if not digits.isdigit():
        return None
    if digits.startswith("0") and _MOBILE.fullmatch(digits[1:]):
        return digits[1:]  # trunk prefix dialled before a mobile: 013905581234
    if _MOBILE.fullmatch(digits):
        return digits
    if not digits.startswith("0") and len(digits) >= 9 and _LANDLINE.fullmatch("0" + digits):
        return "0" + digits  # +86 558 1234567: the trunk 0 was dropped
    if _LANDLINE.fullmatch(digits):
        return digits
    return None
