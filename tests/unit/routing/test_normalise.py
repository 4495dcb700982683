from __future__ import annotations

import re

import pytest

from routing.normalise import (
    Normaliser,
    digits_one_by_one,
    numerals_to_digits,
    quantity_value,
    remove_spaces,
)
from routing.text import Traced


def norm(text: str) -> str:
    return Normaliser({"物叶": "物业", "公鸡金": "公积金"}, ("嗯", "那个", "就是", "啊"),
                      ("十八里镇",))(text).text


def test_spaces_between_chinese_words_go_latin_words_keep_theirs() -> None:
    assert remove_spaces(Traced.of(" 我 在 wifi ok 家 门口 ")).text == "我在wifi ok家门口"


def test_slips_are_corrected_and_fillers_dropped() -> None:
    assert norm("嗯 那个 我们 物叶 不 交 公鸡金 啊") == "我们物业不交公积金"


@pytest.mark.parametrize(("spoken", "digits"), [
    ("一三九六五八一七七二零", "13965817720"),
    ("幺五九五五八三二七幺六", "15955832716"),
    ("零五五八", "0558"),
    ("两零两四", "2024"),
])
def test_digits_are_read_one_by_one_keeping_leading_zeros(spoken: str, digits: str) -> None:
    assert digits_one_by_one(spoken) == digits


def test_phone_number_in_a_sentence_becomes_digits() -> None:
    assert norm("我 电话 是 零 五 五 八 五 五 一 二 三 四 五") == "我电话是05585512345"


@pytest.mark.parametrize(("spoken", "value"), [
    ("三万五千", 35000), ("一万二", 12000), ("三百八", 380), ("十五万", 150000),
    ("两万三", 23000), ("三百万", 3000000),
])
def test_quantities_use_cn2an(spoken: str, value: int) -> None:
    assert quantity_value(spoken) == value


def test_words_that_look_like_numbers_stay_words() -> None:
    assert norm("万一 着火 千万 别 来 十字 路口") == "万一着火千万别来十字路口"
    assert norm("零点八 涨到 一块五") == "零点八涨到一块五"
    assert norm("四五 拨 检查") == "四五拨检查"


def test_numerals_inside_protected_place_names_stay() -> None:
    assert norm("给 十八 里镇 做 了 十八 个") == "给十八里镇做了18个"


def test_every_normalised_char_maps_back_into_the_transcript() -> None:
    transcript = "嗯 我 电话 幺 三 九 零 五 五 八 一 二 三 四 物叶 交 三万五千 元"
    n = Normaliser({"物叶": "物业"}, ("嗯",))(transcript)
    assert n.text == "我电话13905581234物业交35000元"
    phone = re.search(r"\d{11}", n.text)
    assert phone is not None
    start, end = n.source_span(*phone.span())
    assert transcript[start:end] == "幺 三 九 零 五 五 八 一 二 三 四"
    a, b = n.source_span(n.text.index("物业"), n.text.index("物业") + 2)
    assert transcript[a:b] == "物叶"
    a, b = n.source_span(n.text.index("35000"), n.text.index("35000") + 5)
    assert transcript[a:b] == "三万五千"


def test_numerals_to_digits_is_a_pure_step() -> None:
    text = Traced.of("二零二四年十月五号")
    assert numerals_to_digits(text).text == "2024年10月五号"
    assert text.text == "二零二四年十月五号"
