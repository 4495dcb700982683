"""Phrase lists for grammar mode (short answers) and reading the answers back.

With a lookahead model (the small Chinese model is one) the recognizer only chooses
among these phrases, which is far more reliable for "是/不是" confirmations and key-like
digits than free speech. Pass them as `open_session(call_id, grammar=YES_NO_ZH)`.
"""

from __future__ import annotations

YES_ZH = ("是", "是的", "对", "对的", "没错", "确认", "好的", "可以")
NO_ZH = ("不是", "不对", "不", "错了", "不确认", "不可以")
YES_NO_ZH = (*YES_ZH, *NO_ZH)

DIGIT_WORDS_ZH = {"零": "0", "幺": "1", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4",
                  "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
DIGITS_ZH = tuple(DIGIT_WORDS_ZH)


def read_yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the answer was neither (ask again)."""
    words = text.replace(" ", "")
    if not words:
        return None
    # Longest match first: "不是" must not be read as "是".
    for phrase in sorted(YES_NO_ZH, key=len, reverse=True):
        if words == phrase:
            return phrase in YES_ZH
    return None


def read_digits(text: str) -> str:
    """Digits spoken one by one ("幺三八零") as a digit string; other characters dropped."""
    return "".join(DIGIT_WORDS_ZH.get(ch, ch if ch.isdigit() else "") for ch in text)
