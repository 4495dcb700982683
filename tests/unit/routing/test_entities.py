from __future__ import annotations

import pytest

from routing.router import Router


def entities(router: Router, transcript: str) -> dict[str, object]:
    return {e.key: e.value for e in router.route(transcript).entities}


def test_phone_span_points_at_the_spoken_digits(tune_router: Router) -> None:
    transcript = "我 电话 是 一 八 七 五 五 八 六 三 零 九 二 谢谢"
    d = tune_router.route(transcript)
    phone = d.entity("phone")
    assert phone is not None and phone.value == "18755863092"
    assert transcript[phone.start:phone.end] == "一 八 七 五 五 八 六 三 零 九 二"


def test_landline_with_area_code(tune_router: Router) -> None:
    found = entities(tune_router, "打 零 五 五 八 五 五 一 二 三 四 五 找 我")
    assert found["phone"] == "05585512345"


@pytest.mark.parametrize(("transcript", "amount"), [
    ("欠 我 一万二 的 工资", 12000),
    ("收 了 我 三百八", 380),
    ("充 了 五千 块 钱 的 卡", 5000),
    ("一 个 月 200", 200),
    ("交 了 五 块 钱", 5),
    ("赔 了 5万 块", 50000),
])
def test_amounts_in_yuan(tune_router: Router, transcript: str, amount: int) -> None:
    assert entities(tune_router, transcript)["amount"] == amount


@pytest.mark.parametrize("transcript", [
    "花 了 两千 多",  # approximate
    "我 父亲 今年 八十一 了",  # an age
    "等 了 十五 年",
    "打 一二三一五 投诉",  # a hotline number read digit by digit
    "一 块 五 一 个 平方",  # not a whole yuan
])
def test_numbers_that_are_not_amounts(tune_router: Router, transcript: str) -> None:
    assert "amount" not in entities(tune_router, transcript)


def test_date_only_when_fully_spoken(tune_router: Router) -> None:
    assert entities(tune_router, "二零二四年 十一月 二十 号 交 的 材料")["date"] == "2024-11-20"
    assert entities(tune_router, "二零二四年 十月 五号 退休")["date"] == "2024-10-05"
    assert "date" not in entities(tune_router, "二零二一年 做 的 工程")


@pytest.mark.parametrize(("transcript", "address"), [
    ("我们 芍花苑 十二 号楼 停水 了", "芍花苑十二号楼"),
    ("地址 是 谯城区 建安 花园 七 号楼", "谯城区建安花园七号楼"),
    ("利辛县 阚疃镇 王庄 村 的 路", "利辛县阚疃镇王庄村"),
    ("汤王 大道 和 芍花 路 交叉口 的 红绿灯", "汤王大道和芍花路交叉口"),
    ("住 在 锦绣 江南 小区 五 号楼 二 单元 三零一", "锦绣江南小区五号楼二单元三零一"),
])
def test_address_value_is_the_callers_words(tune_router: Router, transcript: str,
                                            address: str) -> None:
    d = tune_router.route(transcript)
    found = d.entity("address")
    assert found is not None and found.value == address
    assert transcript[found.start:found.end].replace(" ", "") == address


@pytest.mark.parametrize("transcript", [
    "我们 小区 门口 有人 打架",  # "our compound" names no place
    "问 街道 说 等 区 里",
    "三 号楼 下面 有人",
])
def test_no_address_without_a_place_name(tune_router: Router, transcript: str) -> None:
    assert "address" not in entities(tune_router, transcript)


def test_named_enterprise_but_not_a_trade(tune_router: Router) -> None:
    assert entities(tune_router, "我 是 利辛县 金穗 面粉 厂 的")["enterprise"] == "金穗面粉厂"
    assert "enterprise" not in entities(tune_router, "燃气 公司 一直 不 来")
    assert "enterprise" not in entities(tune_router, "我 是 一家 服装厂 的 负责人")
