from __future__ import annotations

from asr.grammars import YES_NO_ZH, read_digits, read_yes_no


def test_yes_no() -> None:
    assert read_yes_no("是的") is True
    assert read_yes_no("不是") is False
    assert read_yes_no("不 对") is False
    assert read_yes_no("也许") is None
    assert read_yes_no("") is None
    assert len(set(YES_NO_ZH)) == len(YES_NO_ZH)


def test_digits() -> None:
    assert read_digits("幺三八 零零 一三 八零零零") == "13800138000"
    assert read_digits("零二一 12") == "02112"
    assert read_digits("你好") == ""
