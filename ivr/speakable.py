"""Prompt text rewritten the way a caller expects to hear it read.

espeak-ng reads "12345" as a quantity (一万两千三百四十五); hotline numbers are
read digit by digit with 幺 for 1. Single keys ("请按1") are read as plain
numerals, and the key symbols get their spoken names.
"""

from __future__ import annotations

import re

_DIGIT = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
_PHONE_DIGIT = {**_DIGIT, "1": "幺"}
_SYMBOL = {"#": "井号", "*": "星号", "＃": "井号", "＊": "星号"}
_NUMBER = re.compile(r"\d+")
_SPACE_BETWEEN_CJK = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


def _say_number(match: re.Match[str]) -> str:
    digits = match.group(0)
    if len(digits) >= 3 or (digits.startswith("0") and len(digits) > 1):
        return "".join(_PHONE_DIGIT[d] for d in digits)
    if len(digits) == 1:
        return _DIGIT[digits]
    tens, units = int(digits[0]), digits[1]
    head = "十" if tens == 1 else f"{_DIGIT[digits[0]]}十"
    return head + ("" if units == "0" else _DIGIT[units])


def speakable(text: str) -> str:
    """Text for the synthesiser: numbers and key symbols spelled out, stray spaces gone."""
    out = _NUMBER.sub(_say_number, text)
    for symbol, name in _SYMBOL.items():
        # "按#号键" and "按#键" both become 按井号键
        out = out.replace(f"{symbol}号", name).replace(symbol, name)
    return _SPACE_BETWEEN_CJK.sub("", out).strip()
