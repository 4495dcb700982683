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


@pytest.mark.parametrize(("transcript", "address"), [
    # Compounds and roads nobody listed in places.yaml.
    ("我 住 在 东方 明珠 小区 十三 栋 一 单元 五零二", "东方明珠小区十三栋一单元五零二"),
    ("谯城区 魏武 街道 紫荆 名邸 七 号楼 一 单元 的 电梯 坏 了",
     "谯城区魏武街道紫荆名邸七号楼一单元"),
    ("我们 是 阳光 城 二期 十 栋 的", "阳光城二期十栋"),
    ("向阳 路 上 的 路灯 不 亮", "向阳路"),
    ("蒙城县 立仓镇 孙圩村 的 路 坏 了", "蒙城县立仓镇孙圩村"),
    ("华佗 大道 北段 施工 天天 堵车", "华佗大道北段"),
    ("有 人 掉 到 河 里 了 在 淝河 二桥 下面", "淝河二桥"),
])
def test_unlisted_places_are_found_by_their_suffixes(
        rules_router: Router, transcript: str, address: str) -> None:
    assert entities(rules_router, transcript).get("address") == address


@pytest.mark.parametrize("transcript", [
    "我 想 表扬 一下 谯城区 妇联 的 张 主任",  # an office, not where it happened
    "我 建议 小区 多 装 几 个 充电桩",
    "公交 线路 太 少 了",
    "小区 门口 的 十字 路口 红绿灯 太 短",
    "镇政府 欠 我们 工程款",
])
def test_offices_and_common_words_are_not_addresses(rules_router: Router, transcript: str) -> None:
    assert "address" not in entities(rules_router, transcript)


def test_approximate_sums_are_not_amounts(rules_router: Router) -> None:
    assert "amount" not in entities(rules_router, "工资 才 两千 出头")


@pytest.mark.parametrize(("transcript", "amount"), [
    ("欠 我们 一点五 万 的 货款", 15000),
    ("还 欠 十二点 五 万", 125000),
    ("买 了 两 斤 肉 花 了 六十", 60),
    ("最后 只 退 了 我 五十", 50),
])
def test_decimal_sums_and_small_sums_after_paying(
        rules_router: Router, transcript: str, amount: int) -> None:
    assert entities(rules_router, transcript).get("amount") == amount


@pytest.mark.parametrize("transcript", [
    "商家 说 假 一 赔 十",  # a slogan, not a sum
    "物业费 从 零点 八 涨 到 一 块 五",  # a price per square metre, not a whole sum
])
def test_slogans_and_unit_prices_are_not_amounts(rules_router: Router, transcript: str) -> None:
    assert "amount" not in entities(rules_router, transcript)


@pytest.mark.parametrize(("transcript", "firm"), [
    # Names nobody listed: the own name (字号), trade words, a suffix.
    ("我 在 鑫达 建筑 公司 的 工地 干 了 八 个 月", "鑫达建筑公司"),
    ("我 在 一家 康达 保安 公司 上班", "康达保安公司"),
    ("嗯 我 在 好 邻居 便利店 买 了 一瓶 饮料", "好邻居便利店"),
    ("我 在 百姓 大 药房 买 的 血压计 不准", "百姓大药房"),
    ("我们 是 顺达 汽修厂 街道 说 要 关停", "顺达汽修厂"),
    ("我 在 大润发 超市 买 的 大米", "大润发超市"),
    # A chain named without a suffix.
    ("我 在 苏宁 易购 买 的 冰箱", "苏宁易购"),
])
def test_enterprise_names_nobody_listed(rules_router: Router, transcript: str, firm: str) -> None:
    assert entities(rules_router, transcript).get("enterprise") == firm


@pytest.mark.parametrize("transcript", [
    "我们 楼下 的 烧烤店 油烟 太 大",  # a trade, no name
    "我 在 一家 奶茶 店 喝完 肚子疼",
    "物业 说 是 广告公司 的 事",
    "我 在 公司 干 了 七 年 公司 要 跟 我 解除 合同",
    "职工 医保 一年 能 报销 多少 门诊 费",
    "我 是 在 利辛县 经济 开发区 开厂 的",
])
def test_trades_and_phrases_are_not_enterprises(rules_router: Router, transcript: str) -> None:
    assert "enterprise" not in entities(rules_router, transcript)


@pytest.mark.parametrize(("transcript", "address"), [
    ("我 家 住 在 谯城区 汤陵 街道 新华 社区 三 组", "谯城区汤陵街道新华社区三组"),
    ("蒙城县 双涧 镇 中心 小学 门口 的 路", "蒙城县双涧镇中心小学门口"),
    ("地址 亳芜 大道 北京 路 口", "亳芜大道北京路口"),
    ("在 涡河 南岸 那个 公园 里 有 人 落水", "涡河南岸"),
    ("我们 在 亳州 经济 开发区 这边", "亳州经济开发区"),
])
def test_more_spoken_address_forms(rules_router: Router, transcript: str, address: str) -> None:
    assert entities(rules_router, transcript).get("address") == address


@pytest.mark.parametrize(("transcript", "amount"), [
    ("翻新 机 花 了 五千 不是 五千 九", 5900),  # the caller corrects the figure
    ("坐 出租车 司机 不 打表 开口 就要 五十", 50),
])
def test_corrected_and_asked_sums(rules_router: Router, transcript: str, amount: int) -> None:
    assert entities(rules_router, transcript).get("amount") == amount


@pytest.mark.parametrize("transcript", [
    "公司 流转 了 三百 亩 地 种 白芍",  # land, not money
    "处理费 每 吨 三 块",  # a unit price
    "我们 厂 一共 一千二百 人",  # a count of people, said in full
])
def test_quantities_and_unit_prices_are_not_sums(rules_router: Router, transcript: str) -> None:
    assert "amount" not in entities(rules_router, transcript)


def test_a_phone_number_said_twice_is_one_number(rules_router: Router) -> None:
    said = "我 手机号 幺 七 幺 二 五 四 八 七 九 二 九 嗯 幺 七 幺 二 五 四 八 七 九 二 九"
    assert entities(rules_router, said)["phone"] == "17125487929"


def test_a_phone_number_taken_back_gives_way_to_the_corrected_one(rules_router: Router) -> None:
    said = ("我 电话 幺 八 零 五 八 七 三 四 三 六 七 不 对 是 幺 八 零 五 八 七 三 八 五 九 九")
    assert entities(rules_router, said)["phone"] == "18058738599"


@pytest.mark.parametrize(("transcript", "amount"), [
    ("我 卡里 的 九千 四 一下子 没 了", 9400),  # 一下子 is not part of the number
    ("前后 一共 十二万 不 对 是 十三万", 130000),
    ("说好 的 每个 月 三千五", 3500),  # a monthly wage is a sum; 每吨 prices are not
    ("补贴 一共 四万二 人社局 就是 不 给", 42000),  # 人 starts 人社局: no count of people
    ("欠 我 工资 三千 九人 也 联系 不 上 了", 3900),  # the recognizer glued 九 to 人
    ("转走 了 两 笔 一 笔 八千 一 笔 一万二 一共 两万", 20000),  # the total, not the first
    ("先 付 押金 两百 再 付 激活费 六百 一共 八百", 800),
    # A sum charged on top of an earlier one is what the caller disputes.
    ("报名 交 了 四千二 考试 的 时候 又 要 交 八百 练车费", 800),
    ("罚 了 两百 我 认 了 第二天 又 来 罚 五百", 500),
    ("交 了 三千 押金 又 过 了 半年 他 说 要 扣", 3000),  # 又 alone names no second sum
    ("说好 的 每个 月 四千二 结果 发 下来 才 三千六", 3600),  # what was in fact paid
    ("合同 价 一百零八万 付 了 一半 剩下 的 五十四万 拖 了 两 年", 540000),  # still owed
    ("交 了 四十八 节 课 的 钱 七千二百 块", 7200),  # 四十八节: lessons, not yuan
    ("门禁卡 丢 了 物业 说 要 五十", 50),  # a small figure asked for is a sum too
    ("拉 到 市里 一个 人 收 二十五", 25),
])
def test_more_spoken_sums(rules_router: Router, transcript: str, amount: int) -> None:
    assert entities(rules_router, transcript).get("amount") == amount


@pytest.mark.parametrize("transcript", [
    "我 要 三 号 楼 的 钥匙",  # a building, not a sum
    "货款 一直 不 结 加起来 快 九十万",  # almost 900,000: a guess, like 两千多
    "收 三 个 快递",
])
def test_small_figures_asked_for_but_not_money(rules_router: Router, transcript: str) -> None:
    assert "amount" not in entities(rules_router, transcript)


@pytest.mark.parametrize(("transcript", "address"), [
    ("我 是 利辛县 城关镇 阳光 水岸 二 号 楼 三 单元 的", "利辛县城关镇阳光水岸二号楼三单元"),
    ("谯城区 药都路 锦绣 江南 十二 号 楼 三 单元 的 暖气片 漏水",
     "谯城区药都路锦绣江南十二号楼三单元"),
    ("在 蒙城县 楚村镇 楚村 南头", "蒙城县楚村镇楚村南头"),
    ("就 在 药都路 亳州 二中 门口", "药都路亳州二中门口"),
    ("谯城区 学林路 阳光 城门口 有人 喊救命", "谯城区学林路阳光城门口"),
])
def test_compounds_villages_and_schools_after_an_anchor(
        rules_router: Router, transcript: str, address: str) -> None:
    assert entities(rules_router, transcript).get("address") == address


@pytest.mark.parametrize("transcript", [
    "我们 村里 选 妇女 代表 的 时候 村 干部 直接 指定",
    "我 户口 还 在 娘家 村 里",
    "就是 幼儿园 门口 的 小卖部 卖 的 辣条",
])
def test_words_before_village_or_garden_are_not_places(
        rules_router: Router, transcript: str) -> None:
    assert "address" not in entities(rules_router, transcript)


@pytest.mark.parametrize(("transcript", "amount"), [
    # From one figure to another: the sum at issue is where it went.
    ("工资 从 八千 降到 三千", 3000),
    ("租金 从 一年 三万 涨到 四万五", 45000),
])
def test_the_new_figure_of_a_change_is_the_sum(
        rules_router: Router, transcript: str, amount: int) -> None:
    assert entities(rules_router, transcript).get("amount") == amount


@pytest.mark.parametrize("transcript", [
    "处理费 从 每吨 三块 涨到 八块",  # both sides are unit prices
    "停车费 广告费 每年 几十万 从来 不 公示",  # a guess, not a sum
    "说是 一百兆 的 宽带 测 出来 只有 二十兆",  # bandwidth
])
def test_unit_prices_guesses_and_bandwidth_are_not_sums(
        rules_router: Router, transcript: str) -> None:
    assert "amount" not in entities(rules_router, transcript)


@pytest.mark.parametrize(("transcript", "address"), [
    ("我 在 万达广场 这边 被 人 偷 了 手机", "万达广场"),
    ("人民 医院 门口 有 人 打架 了", "人民医院门口"),
    ("幸福路 菜市场 里 有 人 卖 病死 猪肉", "幸福路菜市场"),
    ("高铁站 出站口 有 黑车 拉客", "高铁站出站口"),
])
def test_landmarks_a_caller_places_something_at(
        rules_router: Router, transcript: str, address: str) -> None:
    assert entities(rules_router, transcript).get("address") == address


@pytest.mark.parametrize("transcript", [
    "我们 小区 有 人 跳 广场舞 太 吵",
    "我 在 人民 医院 看病 收费 太 乱",  # where the caller went, not a place given
    "零工 市场 现在 就 一个 在 老 汽车站 那边",
])
def test_landmarks_named_in_passing_are_not_addresses(
        rules_router: Router, transcript: str) -> None:
    assert "address" not in entities(rules_router, transcript)


@pytest.mark.parametrize(("transcript", "address"), [
    ("谯城区 汤陵 街道 和平 社区 有 人 群租 很 乱", "谯城区汤陵街道和平社区"),
    ("我 住 在 建安路 二十三 号院 院子 里 下水道 堵 了", "建安路二十三号院"),
    # 想问问税务 is the caller's question, not an office the place belongs to.
    ("我 们 公司 在 魏武大道 一百零八 号 想 问 问 税务 的 事", "魏武大道一百零八号"),
])
def test_communities_courtyards_and_a_question_after_the_place(
        rules_router: Router, transcript: str, address: str) -> None:
    assert entities(rules_router, transcript).get("address") == address


@pytest.mark.parametrize(("transcript", "address"), [
    # An unspaced sentence that ends in a place: jieba glues the verb to the name.
    ("物业跟开发商来回推凤栖园十四号楼我的手机是一八六五五八四七七幺九", "凤栖园十四号楼"),
    ("我跟物业说了也不修翠湖湾小区", "翠湖湾小区"),
    ("现在还在店里僵着时代广场二楼", "时代广场二楼"),
    # Spot words after a road, a village, a compound or a market.
    ("人民路和光明路拐角有个修手机的", "人民路和光明路拐角"),
    ("在文帝路红绿灯这撞了人", "文帝路红绿灯"),
    ("我们村口有个小卖部在立德镇杨楼村口", "立德镇杨楼村口"),
    ("老头掉沟里了在谯东镇街南头", "谯东镇街南头"),
    ("有人掉水里了在楚村镇刘湖水库", "楚村镇刘湖水库"),
    ("工地晚上打桩吵得睡不着魏武大道锦绣城工地", "魏武大道锦绣城工地"),
    ("桥北农贸市场有个卖豆芽的往水里倒药粉", "桥北农贸市场"),
    ("就在涡河湿地公园往西有人挖沙", "涡河湿地公园往西"),
    # Roads: 和 inside a name, a segment before the crossing, numbered highways.
    ("谯城区仁和路御景湾七号楼外墙掉了", "谯城区仁和路御景湾七号楼"),
    ("工地在希夷大道北段和牡丹路交叉口", "希夷大道北段和牡丹路交叉口"),
    ("有辆罐车翻了在三零七省道", "三零七省道"),
    # A development zone after a county stands where a town would.
    ("我是涡阳县经济开发区兴业路上一家包装厂的", "涡阳县经济开发区兴业路"),
    # An unlisted compound named right before its building number.
    ("物业说管不了锦绣江南十六号楼麻烦你们处理一下", "锦绣江南十六号楼"),
])
def test_places_at_the_end_of_unspaced_sentences_and_spot_words(
        rules_router: Router, transcript: str, address: str) -> None:
    assert entities(rules_router, transcript).get("address") == address


@pytest.mark.parametrize("transcript", [
    "这家酒店叫金海湾大酒店",  # a hotel's name, not a compound
    "前几天三号楼还有人家电动车被偷了",  # a time word, not a compound's name
    "俺们村好多留守妇女想干点事没门路",  # 门路: connections, not a road
    "我建议火车站汽车站还有大商场里多建几个母婴室",
])
def test_firm_names_time_words_and_idioms_are_not_places(
        rules_router: Router, transcript: str) -> None:
    assert "address" not in entities(rules_router, transcript)


def test_a_lane_is_not_a_compound_ending_in_li(rules_router: Router) -> None:
    assert entities(rules_router, "就在向阳路那个巷子里").get("address") == "向阳路"


@pytest.mark.parametrize("transcript", [
    "货架上标的是十二块九结账的时候扫出来是十六块八",  # yuan and jiao: a shelf price
    "自来水公司才收两块多",  # approximate
    "辣条一块钱一包",  # a price per item
    "商场搞活动说满三百减一百",  # a promotion
    "我们老板给的还不到一千八",  # a bound, not a sum
])
def test_prices_promotions_and_bounds_are_not_sums(rules_router: Router, transcript: str) -> None:
    assert "amount" not in entities(rules_router, transcript)
