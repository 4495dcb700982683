"""Entities found in normalised text, each with its span in the transcript.

Values follow the labeled data: phone as digits, amount as integer yuan, date as ISO
(only a fully spoken date), address and enterprise as the caller's own words with the
spaces removed (so 魏武新城十五号楼 stays in Chinese numerals, like the ticket form).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from routing.text import Traced


@dataclass(frozen=True)
class Entity:
    key: str  # phone | address | enterprise | amount | date
    value: str | int
    start: int  # offsets into the transcript
    end: int


@dataclass(frozen=True)
class Places:
    counties: tuple[str, ...] = ()
    towns: tuple[str, ...] = ()
    roads: tuple[str, ...] = ()
    compounds: tuple[str, ...] = ()
    landmarks: tuple[str, ...] = ()

    def all_names(self) -> tuple[str, ...]:
        return self.counties + self.towns + self.roads + self.compounds + self.landmarks


# A number said twice (幺七幺…嗯 幺七幺…) runs together once the filler is dropped.
_PHONE = re.compile(r"(?<![\d-])(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?:\1)?(?![\d-])")
# Words with which a caller takes back what was just said.
_TAKEN_BACK = re.compile("不对|说错|错了|不是|哦不|重说")
# 每吨三块, 每平方两块: a price per unit of goods, not the sum in dispute (每个月 and
# 每人 sums are: a wage, a fee).
_UNIT_PRICE = re.compile("每(?:吨|斤|公斤|平方?米?|度|方|亩|升|克)$")
_NUMBER = re.compile(r"(?<![\d.])\d+(?![\d.])")
_DATE = re.compile(
    r"(\d{4})年(\d{1,2}|[一二三四五六七八九])月(\d{1,2}|[一二三四五六七八九])[日号]"
)
_SMALL = {c: i for i, c in enumerate("零一二三四五六七八九")}
# 五块钱, 三元, 五块: a single spoken digit followed by the unit. 一块 alone is too often
# "together" or "a piece" (一块去, 青一块紫一块) to count without 钱 or 元.
_SMALL_MONEY = re.compile(
    r"(?<![\d十百千万亿零一二两三四五六七八九])"
    r"(?:([一二两三四五六七八九])(?:块钱|元)|([二两三四五六七八九])块(?![\d一二三四五六七八九多]))"
)
# After a number: these units make it something other than money.
_NOT_MONEY_AFTER = re.compile(
    r"[多几余来]|[年月日号天岁个次楼层栋幢单元室路米斤两条分秒周倍人家户辆台座间度点%亩吨克箱瓶件张套头只]"
    r"|小时|平(?!时|常)|公里|出头|兆|节|桌|顿|趟"
)
# A small number right after paying, refunding or charging is a sum (花了60, 退了我50,
# 说要五十, 一个人收二十五), and so is the price of the goods complained of (一份盒饭卖三十五,
# 西瓜一个三十八); counts and units after it (要三个, 收三天) are excluded before.
_MONEY_BEFORE = re.compile("(?:花了|退了我?|赔了我?|罚了我?|收了我?|扣了我?|付了|交了|多收了?"
                           "|贵了|便宜了|要了我?|要我?|补|收|开口要|张口要|要价|一口价要?"
                           "|扣|罚款?|收费|卖"
                           "|一(?:斤|个|只|份|瓶|袋|碗|盒|张|次|趟|套|桌|箱|件|户)(?:卖|要|收)?)$")
_MONEY_AFTER = re.compile(r"(?:元|块钱|块(?!\d)|万元)")
# 一共, 总共, 加起来: what follows is the total of the sums just named.
# 共 alone too: 六百一共八百 is read 610共800 (六百一 is 610 when said alone).
_TOTAL = re.compile("(?:合计|总计|加起来|共计?)(?:是|有|收了我?|被骗了|花了|欠了?我?)?$")
# 交了四千二又要交八百, 说好四千二结果才三千六, 原来一百五现在涨到三百, 付了一半剩下的五十四万:
# a later sum charged on top of the first, what was in fact charged or paid, or what is still
# owed is the sum the caller disputes.
_DISPUTED = re.compile("(?:又|结果|实际|变成|涨到|涨成|剩下的?|还差|差了)[^又]{0,8}$")
# 四万二, 三千 九: a sum with its last unit left unsaid.
_ABBREVIATED = re.compile(r"[万千]\s*[一二三四五六七八九两]$")
# 租金从一年三万涨到四万五: the first figure is where it was, the second the sum at issue.
_FROM_SIDE = re.compile("从[^从到\\d]{0,4}$")
_TO_SIDE = re.compile("[万千百块元钱]{0,2}(?:涨|降|调|提|提高|降低|变|减|加|升|改)(?:到|至|成)")
_FROM_UNIT_PRICE = re.compile("从每[^从到]{0,8}到$")
_PER_ITEM = re.compile(
    "(?:块钱|块|元)?一(?:包|斤|个|瓶|件|盒|张|次|碗|份|袋|吨|平方?|亩|天|晚|小时)")
_PROMOTION = re.compile("[满减送]$|一斤给?$|一斤$")
_MAGNITUDE = re.compile("[十百千万亿]")
_SCALES = {"万": 10_000, "千": 1_000, "百": 100, "亿": 100_000_000}
_SCALE = re.compile("[万千百亿]")

# Part-of-speech tags (jieba) of words that never begin an address: verbs, adverbs,
# prepositions, pronouns, conjunctions, particles, adjectives.
_NOT_PLACE_START = frozenset({"v", "vd", "vi", "d", "p", "r", "c", "u", "uj", "ul", "uz", "ug",
                              "ud", "uv", "ad", "z", "y", "e"})
# Words a caller says just before a place that jieba may tag as nouns.
_NOT_PLACE_WORDS = frozenset({"建议", "表扬", "投诉", "举报", "反映", "咨询", "请问", "希望",
                              "感谢", "往", "朝", "去"})
# Words that introduce a place, which jieba may glue to a name it does not know.
_PLACE_INTRO = frozenset("在住到是")
# A place followed by one of these names an office, not where something happened
# (利辛县数据资源局, 谯城区妇联): no address, unless a spot near it follows (卫生院门口).
_AGENCY = re.compile(
    # Up to six characters of the office's name, not across a time word (星园街道去年政府说).
    "(?:的)?(?:(?:(?!去年|今年|前年|现在|以前|当时|我|你|他|建议|说|想|问|要|找)[^\\W\\d_]){0,6}(?:局|委员会|法院|检察院|政府|中心|派出所|妇联|交警|大队|卫生院|人社|窗口"
    "|办事处|税务|医保|社保|残联|团委|工会))(?!门口|旁边|附近|对面|[东南西北]边)")

# 金海湾大酒店, 锦江城宾馆: a compound-like name that is a hotel's or a firm's.
_COMPOUND_ENDS = frozenset("湾园城苑府庭居都岸")
_LODGING = re.compile("大?(?:酒店|宾馆|饭店|酒楼|公司|超市|商场|会所)")
# A token ending so is a place, which ends a firm's name going leftwards (康美小区 物业).
_PLACE_ENDS = ("小区", "花园", "苑", "村", "镇", "乡", "路", "街道", "社区", "县", "区", "大道")
# jieba tags of dictionary words that never sit inside a shop's name.
_NOT_NAME_TAGS = frozenset({"r", "p", "c", "u", "uj", "ul", "uz", "ug", "ud", "uv", "d", "t", "f",
                            "q", "y", "e", "o", "vd"})

# Characters that never sit inside a place or shop name: pronouns, particles, verbs
# that introduce a place (在, 住, 到...).
_NAME = "[^\\W\\d_问想我你他她们的个这那了是在住和跟给到去从把被就说条段一整进往修叫多不]"
# Compound and village names may hold 和 (和谐家园, 怡和苑); road names may not (X路和Y路).
_NAME_AND = "[^\\W\\d_问想我你他她们的个这那了是在住跟给到去从把被就说条段一整进往修叫多不]"


def _names(words: Iterable[str]) -> str:
    ordered = sorted(set(words), key=len, reverse=True)
    return "|".join(re.escape(w) for w in ordered) or "(?!)"


def address_pattern(places: Places) -> re.Pattern[str]:
    counties = _names(places.counties)
    towns = _names(places.towns)
    roads = _names(places.roads)
    compounds = _names(places.compounds)
    landmarks = _names(places.landmarks)
    town = f"(?:{towns})"
    number = "(?:\\d+|[一二三四五六七八九十]+)"
    # An unlisted town is only taken right after a county: 问街道 / 镇上 are not places.
    # 十八里镇 reaches us as 18里镇: the normaliser turned its numeral into digits.
    any_town = (f"(?:{towns}|(?:\\d+里|{_NAME}{{2,3}})(?:镇|乡|街道)(?!上|里|政府)"
                "|经济开发区|经开区|开发区|高新区)")
    # 马路 线路 跑路 十字路口 水泥路...: words ending in 路 that name no road.
    not_road = "马公铁网电水思道速线跑走出退带让半一字回条段泥油土门"
    # 和 may sit inside a road's name (仁和路) but not begin it (南京路和健康路).
    one_road = (f"(?:{roads}|{_NAME}{_NAME_AND}{{1,2}}(?<![{not_road}])"
                "(?:大道|路|街(?!道)|巷)(?![灯边况费线面子])"
                # 307省道, 国道311: numbered highways
                "|\\d{2,3}(?:国道|省道)|(?:国道|省道)\\d{2,3})")
    # Two roads in a row name their crossing (亳芜大道北京路口, 南京路和健康路交叉口,
    # 希夷大道北段和牡丹路).
    roads_ = f"(?:{one_road}(?:(?:[东南西北中]段)?[和与跟]?{one_road})?)"
    # Compound names end in a handful of words; 城 and 园 alone only count when a phase or a
    # building follows (阳光城二期, 金桂园六号楼), else 进城 / 公园 would be addresses.
    phase = "(?:[\\d一二三四五六七八九十]+期)"
    numbered = "(?=(?:[\\d一二三四五六七八九十]+(?:期|号楼|栋|幢|号院)))"
    compound = (f"(?:(?:(?:{compounds})(?:小区)?|{_NAME_AND}{{2,4}}(?<![老新大小这那旧])"
                "(?:小区|花园|新城|家园|公寓|华府|华庭|花苑|府小区|名苑|名邸|名居|公馆|大厦|新村"
                "|家属院|家属楼|宿舍|苑|湾|(?<!政)府|雅居|嘉园|广场(?=[\\d一二三四五六七八九十])"
                "|水岸|名城|名都|花城|雅苑|御府|府邸|学府|庄园|山庄|华城|绿洲)"
                f"|{_NAME_AND}{{1,3}}(?:城|园|里|庭|新区|国际|水岸){numbered}"
                # 锦绣江南十一号楼: any name right before a building number
                f"|{_NAME_AND}{{2,4}}(?<![小社园天年月时后边面头])(?=[\\d一二三四五六七八九十]+(?:号楼|栋|幢))"
                # 我们是桂花城的: a name in 城 or 园 that ends the caller's sentence.
                f"|{_NAME_AND}{{2,3}}(?<![进县省京商儿公乐菜果物校])(?:城|园)(?=的?$|这边|那边|小区|门口|[东南西北]门|的(?:业主|住户|居民)|工地)){phase}?)")
    not_village = "(?<![农乡款候])(?<!娘家)(?<!老家)(?<!婆家)"  # 时候村, 娘家村
    village = (f"(?:(?!村){_NAME}{{2,3}}{not_village}(?:村(?![委民里])|庄(?!稼|园|重)|寨|圩)"
               f"(?:{number}组)?)")
    community = f"(?:{_NAME_AND}{{2,3}}社区(?:{number}组)?)"  # 和平社区
    # Rivers and their bridges (涡河二桥), listed or not: 桥上 alone is no place.
    landmark = (f"(?:(?:{landmarks})(?:大桥|[\\d一二三四五六七八九十]*(?:号)?桥?)"
                f"|{_NAME}{{1,2}}河(?:[\\d一二三四五六七八九十]+号?桥|大桥|(?=边|里|上|堤)))")
    # A hospital, school or market only counts after a place that anchors it; a named
    # supermarket or bank is a firm (the enterprise), not part of the address.
    facility = (f"(?:{_NAME}{{2,4}}(?:广场|商场|医院|中学|小学|学校|幼儿园|公园|菜市场|市场"
                "|汽车站|车站|大厦|体育馆|游泳馆|图书馆|体育场)"
                "|(?:体育馆|游泳馆|图书馆|体育场|火车站|汽车站|高铁站)"
                # 第一人民医院, 二中, 三小: numbered hospitals and schools
                "|(?:亳州|县|市)?第?[一二三四五六七八九十]+(?:人民医院|医院|中学|小学|中|小)(?![学区时])"
                "|(?:卫生院|医院|派出所|学校|小学|中学|幼儿园|菜市场|汽车站"
                "|火车站|政府)(?=门口|旁边|附近|对面)"
                # 幸福路菜市场, 涡阳县医院: after a road or county the bare word is the place.
                "|(?:菜市场|农贸市场|人民医院|中医院|医院|广场)(?![舞费]))")
    building = f"(?:{number}(?:号楼|栋|幢))"
    unit = f"(?:{number}单元)"
    room = f"(?:{number}(?:室|号房?)|\\d{{3,4}}(?!\\d))"
    house_number = f"(?:{number}号院?(?!楼))"
    # 涡阳县城东关, 涡阳县城 (the county town); 城北路 is a road, not 城北 + 路.
    citypart = "(?:城[东南西北](?![路街大])关?|城关|城(?![管市区乡建里东南西北]))"
    tail = ("(?:[东南西北中]段|交叉口|交口|十字路口|路口|(?<=[路街道])口|附近|旁边|对面|门口"
            "|拐角|(?<=[路街道])红绿灯|(?<=[村园苑城])[东南西北]区|(?<=村)口|街[东南西北]头|工地|住院部|门诊部|急诊科?|后门"
            "|(?:铁路)?桥洞|[^\\W\\d_]{0,3}(?:鱼塘|水库|坑塘|池塘)"
            "|[东南西北](?:边|侧|面)"
            "|往[东南西北](?:边)?|公交站台?|站台|工业园区?|经济开发区|开发区|工业区|加油站"
            "|[东南西北]岸|出站口|进站口|桥下|桥头|[东南西北]门口?|大门口?|[外内]环|[东南西北]关"
            "|[东南西北]头|后面|后边|村口|底下|东北角|东南角|西北角|西南角|地下车库"
            "|高架桥?|老街|[^\\W\\d_]{0,3}(?:产业园|电商园|物流园|工业集中区)"
            f"|(?:靠近|挨着){_NAME}{{2,5}}?(?=那|这|的|$))")
    # After a town, a one-character surname village is common: 双沟镇李庄.
    small_village = f"(?:{_NAME}{{1,2}}(?:庄|集(?!中)|寨|圩|楼|村)(?:{number}组)?)"
    # After a town, a river may be named bare (板桥集镇北淝河).
    river = f"(?:{_NAME}{{1,2}}河(?![南北东西]?路|道))"
    after_anchor_compound = (f"(?:{compound}|{_NAME_AND}{{2,4}}(?={number}(?:号楼|栋|幢|单元))"
                             f"|{_NAME_AND}{{2,3}}(?<![子家村屋店])里(?=的?$|这边|那边))")
    rest = (f"(?:{community}|{village}|{small_village})?(?:{roads_}{house_number}?)?"
            f"(?:{after_anchor_compound})?(?:{facility})?")
    # Named spots a caller gives alone: parks, colleges, stadiums, highway exits and
    # service areas (汤陵公园, 亳州学院南门, 济祁高速利辛出口, 利辛服务区).
    spot = (f"(?:{_NAME}{{2,4}}(?<![站场岸边])"
            "(?:公园|学院|体育馆|体育场|服务区|收费站|火车站|高铁站|汽车站)"
            f"|{_NAME}{{2,3}}高速(?:{_NAME}{{2,3}}(?:出口|入口|收费站|服务区))?"
            # 万达广场 is a place; 跳广场舞 is not.
            f"|{_NAME}{{2,4}}广场(?!舞)"
            f"|{_NAME}{{2,4}}(?:菜市场|农贸市场|二手车市场|景区|工业园|产业园)"
            # A hospital, school or market named alone is where something happens only
            # when the caller places it (人民医院门口, 实验小学对面): 在人民医院看病 is not.
            f"|{_NAME}{{2,4}}(?:医院|中学|小学|幼儿园|菜市场|农贸市场|商场)"
            "(?=门口|旁边|附近|对面|[东南西北]门|大门|后门|住院部|门诊|急诊|里面?有人|$)"
            "|殡仪馆(?=门口|旁边|附近|对面)"
            "|(?:火车站|高铁站|汽车站|客运站)(?=出站口|进站口|广场|门口|附近|旁边|对面)"
            ")")
    anchored = (
        # 蒙城县政务服务中心 is an office; 蒙城县双涧镇中心小学 is a place.
        f"(?:{counties})+(?![^\\W\\d_镇乡村路街区]{{0,6}}(?:局|委员会|法院|检察院|政府|中心))"
        f"(?:{any_town}|{citypart})?{rest}(?:{river})?"
        f"|{town}{rest}(?:{river})?"
        f"|{_NAME}{{2,3}}(?:镇|乡)(?={village}|{community}){rest}"
        f"|{community}(?:{roads_}{house_number}?)?(?:{compound})?"
        f"|{village}(?:{roads_})?(?:{compound})?"
        f"|{roads_}{house_number}?(?:{compound})?(?:{facility})?"
        f"|{compound}"
        # A named spot before a river's name: 涡河湿地公园 is the park, not 涡河.
        f"|{spot}"
        f"|{landmark}"
    )
    floor = f"(?:{number}楼(?![下上道梯]))"
    return re.compile(
        f"(?:{anchored})(?:{building})?(?:{unit}(?:{room})?)?(?:{floor})?(?:{tail})*"
    )


@dataclass(frozen=True)
class EnterpriseWords:
    suffixes: tuple[str, ...]  # 公司 超市 饭店 ...
    generic: frozenset[str]  # words that name a trade, not a firm: 燃气 物业 服装 ...
    stop: frozenset[str]  # words that end a name going leftwards: 我 在 是 的 ...
    trades: frozenset[str] = frozenset()  # trade words between a name and its suffix: 建筑 物流
    known: tuple[str, ...] = ()  # chains callers name without a suffix: 苏宁易购
    name_chars: frozenset[str] = frozenset()  # characters shop names are made of: 鑫 达 福 ...
    trade_ends: tuple[str, ...] = ()  # trade words a firm's name may end with: 木业 物业 建材


class EntityFinder:
    """Finds entities in normalised text; built once with the place names and shop words."""

    def __init__(self, places: Places, words: EnterpriseWords,
                 tag: Callable[[str], str | None] = lambda w: None,
                 fillers: Sequence[str] = ()) -> None:
        self._address = address_pattern(places)
        self._tag = tag
        del fillers  # values keep the caller's words as spoken, fillers included
        # A city prefix is part of a registered name (亳州市绿源...公司); a county is not.
        self._counties = frozenset(n for n in places.counties if not n.endswith("市"))
        self._words = words
        self._cities = tuple(n for n in places.counties if n.endswith("市"))
        self._trades_by_length = sorted(words.trades, key=len, reverse=True)
        # A name ends in a suffix (公司, 超市) or in trade words that may stand last
        # (森联木业, 宏福物业), possibly followed by a suffix (恒丰食品厂).
        ends = _names(words.trade_ends)
        suffixes = _names(words.suffixes)
        trades = _names(words.trades | set(words.trade_ends))
        self._suffix = re.compile(f"(?:{ends})(?:{trades})*(?P<formal>{suffixes})?"
                                  f"|(?P<formal2>{suffixes})")
        self._known = re.compile(_names(words.known))

    def find(self, text: Traced, transcript: str, tokens: Sequence[str]) -> list[Entity]:
        found: list[Entity] = []
        phones = list(self._phones(text))
        found.extend(phones)
        taken = [(e.start, e.end) for e in phones]
        for finder in (self._amount, self._date):
            entity = finder(text, transcript, taken)
            if entity is not None:
                found.append(entity)
        address = self._address_entity(text, transcript, taken, tokens)
        enterprise = self._enterprise(text, transcript, tokens)
        # 亳州市金诺商贸有限公司: the city opens the firm's registered name; it is no address.
        if address is not None and not (enterprise is not None
                                        and address.start < enterprise.end
                                        and enterprise.start < address.end):
            found.append(address)
        if enterprise is not None:
            found.append(enterprise)
        return found

    @staticmethod
    def _words_of(spoken: str) -> str:
        """A place's or firm's value: the caller's words as spoken, without the spaces."""
        return re.sub(r"\s+", "", spoken)

    @staticmethod
    def _span(text: Traced, a: int, b: int) -> tuple[int, int]:
        return text.source_span(a, b)

    def _phones(self, text: Traced) -> Iterable[Entity]:
        """Phone numbers; one the caller takes back (幺八零…不对 是 幺八零…) is dropped."""
        found: list[tuple[re.Match[str], Entity]] = []
        for m in _PHONE.finditer(text.text):
            start, end = self._span(text, *m.span(1))
            entity = Entity("phone", m.group(1).replace("-", ""), start, end)
            if found and _TAKEN_BACK.search(text.text, found[-1][0].end(), m.start()):
                found.pop()
            found.append((m, entity))
        return [entity for _, entity in found]

    def _amount(self, text: Traced, transcript: str,
                taken: list[tuple[int, int]]) -> Entity | None:
        """The sum the caller totals up (一共两万), else the first later sum charged on top
        (又要交八百), in fact (结果才三千六) or still owed (剩下的五十四万), else the first
        sum of money named."""
        candidates = list(self.amount_candidates(text, transcript, taken))
        totals = [c for c in candidates if self._preceded_by(text, c, _TOTAL)]
        if totals:
            return totals[-1]
        disputed = [c for c in candidates[1:] if self._preceded_by(text, c, _DISPUTED)]
        return next(iter(disputed or candidates), None)

    @staticmethod
    def _preceded_by(text: Traced, candidate: Entity, cue: re.Pattern[str]) -> bool:
        """Whether the words just before this figure match the cue (一共 before the total)."""
        start = text.starts.index(candidate.start)  # where the figure begins, normalised
        return cue.search(text.text[max(0, start - 10):start]) is not None

    def amount_candidates(self, text: Traced, transcript: str,
                          taken: Sequence[tuple[int, int]] = ()) -> Iterator[Entity]:
        """Every figure that reads as a sum of money, in the order spoken."""
        s = text.text
        for m in _NUMBER.finditer(s):
            start, end = self._span(text, *m.span())
            if any(a < end and start < b for a, b in taken):
                continue
            spoken = transcript[start:end]
            # Digits read one by one (一二三一五) are codes, not sums of money.
            if not (_MAGNITUDE.search(spoken) or spoken.strip().isdigit()):
                continue
            after = s[m.end():m.end() + 2]
            before = s[max(0, m.start() - 3):m.start()]
            if (before.endswith(("第", "百分之", "每", "几", "不到", "快", "将近", "差不多", "小"))
                    or _UNIT_PRICE.search(before)):
                continue  # 第三, 每吨三块, 几十万, 快九十万, 小一万: an order, a price, a guess
            if _FROM_UNIT_PRICE.search(s[max(0, m.start() - 12):m.start()]):
                continue  # 从每吨三块涨到八块: the new price is a unit price too
            if self._corrected(s, m.end()):
                continue  # 五千不是五千九: the caller corrected this figure
            if _PER_ITEM.match(s, m.end()) or _PROMOTION.search(before):
                continue  # 一块钱一包, 满300减100: a price per item or a promotion
            if _FROM_SIDE.search(s[max(0, m.start() - 6):m.start()]) and _TO_SIDE.match(
                    s, m.end()):
                continue  # 工资从八千降到三千: the sum in dispute is where it went
            value = int(m.group(0))
            scale = _SCALE.match(after)
            if scale is not None and spoken.strip().isdigit():
                # The recognizer wrote 5万 (digits, then a magnitude character).
                value *= _SCALES[scale.group(0)]
                after = s[m.end() + 1:m.end() + 3]
            money = _MONEY_AFTER.match(after) is not None
            if not money:
                paid = _MONEY_BEFORE.search(s[max(0, m.start() - 4):m.start()]) is not None
                # 四万二人社局, 三千九人也跑了: a count of people is never said 四万二 (it
                # would be 四万二千人), so 人 after an abbreviated sum starts the next word.
                people_next = after.startswith("人") and _ABBREVIATED.search(spoken) is not None
                if (_NOT_MONEY_AFTER.match(after) and not people_next) or (
                        value < 100 and not paid):
                    continue
            elif after.startswith("块") and re.match(r"块[\d一二三四五六七八九]", after):
                continue  # 12块9: a price in yuan and jiao, not a sum in dispute
            yield Entity("amount", value, start, end)
        for m in _SMALL_MONEY.finditer(s):
            if (_UNIT_PRICE.search(s[max(0, m.start() - 3):m.start()])
                    or _FROM_UNIT_PRICE.search(s[max(0, m.start() - 12):m.start()])
                    or _PER_ITEM.match(s, m.end())):
                continue  # 每吨三块, 从每吨三块涨到八块: a unit price
            group = 1 if m.group(1) else 2
            digit = m.group(group)
            start, end = self._span(text, *m.span(group))
            yield Entity("amount", 2 if digit == "两" else _SMALL[digit], start, end)

    @staticmethod
    def _corrected(s: str, end: int) -> bool:
        """Whether a number is taken back right after it (五千 不是 五千九, 一万 不对 一万二)."""
        after = re.sub("^(?:块钱|块|元|万元?)", "", s[end:end + 4])
        taken_back = r"(?:不是|不对|哦不|说错了?)是?[\d一二三四五六七八九十两]"
        return re.match(taken_back, after) is not None

    def _date(self, text: Traced, transcript: str,
              taken: list[tuple[int, int]]) -> Entity | None:
        for m in _DATE.finditer(text.text):
            year, month, day = (int(g) if g.isdigit() else _SMALL[g] for g in m.groups())
            try:
                value = dt.date(year, month, day)
            except ValueError:
                continue
            start, end = self._span(text, *m.span())
            return Entity("date", value.isoformat(), start, end)
        return None

    def _address_entity(self, text: Traced, transcript: str, taken: list[tuple[int, int]],
                        tokens: Sequence[str]) -> Entity | None:
        # An address starts where a word starts: this keeps 我们 out of 我们康美小区 and
        # 问 out of 问街道 without listing every word that may come before a place.
        best: tuple[int, int] | None = None
        pos = 0
        for token in tokens:
            starts = [pos]
            unknown = len(token) > 1 and self._tag(token) is None
            if unknown and token[0] in _PLACE_INTRO:
                starts.append(pos + 1)  # jieba glued 在 to an unknown name: 在济祁 高速
            elif unknown and token[-1] in "着了过":
                starts = []  # 僵着 时代广场: a verb and its particle, glued
            elif unknown and self._tag(token[0]) in _NOT_PLACE_START:
                # 来回推凤栖园, 也不修翠湖湾小区: an unspaced sentence ends in a place and
                # jieba glued the verb before it to the place's unknown name.
                skip = 1
                while skip < len(token) - 1 and self._tag(token[skip]) in _NOT_PLACE_START:
                    skip += 1
                verbs_only = self._tag(token[skip]) in _NOT_PLACE_START  # 不接
                starts = [] if verbs_only else [pos + skip]
            elif self._tag(token) in _NOT_PLACE_START or token in _NOT_PLACE_WORDS:
                # 想亳州大道, 打火建安花园, 建议小区: a verb or adverb never begins a place.
                starts = []
            for start in starts:
                m = self._address.match(text.text, start)
                if m is not None and self._firm_name_follows(text.text, m.end()):
                    continue  # 金海湾大酒店: the name of a firm, not a compound
                if m is not None and m.end() > m.start() and (
                        best is None or m.end() - m.start() > best[1] - best[0]):
                    best = m.span()
            pos += len(token)
        if best is None or _AGENCY.match(text.text, best[1]):
            return None
        start, end = self._span(text, *best)
        return Entity("address", self._words_of(transcript[start:end]), start, end)

    @staticmethod
    def _firm_name_follows(text: str, end: int) -> bool:
        return bool(end and text[end - 1] in _COMPOUND_ENDS and _LODGING.match(text, end))

    def _enterprise(self, text: Traced, transcript: str,
                    tokens: Sequence[str]) -> Entity | None:
        """A named firm: [city] own-name [trade words] suffix (鑫达建筑公司, 惠家福超市).

        Going left from a suffix, tokens join the name until a word that ends it (a pronoun,
        a preposition, a verb that introduces a place of work or purchase, a county, a
        number). Part-of-speech tags are no help here: jieba tags the characters of unknown
        shop names as verbs or numerals (鑫达 -> 鑫/达 v), so the stop list decides.
        A bare trade (一家饭店, 化工厂, 快捷酒店) names no firm.
        """
        s = text.text
        starts: list[int] = []
        pos = 0
        for token in tokens:
            starts.append(pos)
            pos += len(token)
        for m in self._suffix.finditer(s):
            formal = m.group("formal") or m.group("formal2")
            name_start = self._name_start(s, tokens, starts, m.start(), strict=not formal)
            if name_start is None:
                continue
            start, end = self._span(text, name_start, m.end())
            return Entity("enterprise", self._words_of(transcript[start:end]), start, end)
        known = self._known.search(s)
        if known is not None:
            start, end = self._span(text, *known.span())
            return Entity("enterprise", self._words_of(transcript[start:end]), start, end)
        return None

    def _name_start(self, s: str, tokens: Sequence[str], starts: Sequence[int],
                    suffix_at: int, strict: bool = False) -> int | None:
        """Where the firm's name begins left of a suffix at `suffix_at`, or None.

        `strict` for a name ending in a trade word alone (宏福物业): with no 公司 or 店 to
        say a firm is meant, its own name must be two or three name characters, so
        消防通道物业 or 飞问物业 stay phrases.
        """
        words = self._words
        # The token holding the suffix's first character: its left part belongs to the name.
        index = next((i for i, a in enumerate(starts) if a <= suffix_at < a + len(tokens[i])),
                     None)
        if index is None:
            return None
        pieces: list[str] = []
        head = s[starts[index]:suffix_at]
        if head in words.stop:
            return None  # 开厂: the suffix's own word says there is no name
        if head:
            pieces.append(head)
        begin = starts[index] if head else suffix_at
        j = index
        while j > 0 and len(pieces) < 5 and sum(map(len, pieces)) < 10:
            prev = tokens[j - 1]
            if (prev in words.stop or prev in self._counties or prev.endswith(_PLACE_ENDS)
                    or not re.fullmatch(r"[^\W\d_]+", prev) or self._is_function_word(prev)):
                break
            pieces.insert(0, prev)
            begin = starts[j - 1]
            j -= 1
        own = "".join(pieces)
        # The firm's own name: what is left once city prefixes and trade words are taken off.
        core = own
        for city in self._cities:
            if core.startswith(city):
                core = core[len(city):]
        while True:
            trade = next((t for t in self._trades_by_length if core.endswith(t) and core != t),
                         None)
            if trade is None:
                break
            core = core[: -len(trade)]
        if len(core) < 2 or core in words.generic or core in words.trades or not self._named(core):
            return None
        if pieces and (pieces[0] in words.generic or pieces[0] in words.trades):
            return None
        if strict and not (2 <= len(core) <= 3
                           and all(c in words.name_chars for c in core)):
            return None
        if len(core) > 4 or re.search("[了个的是在我你他她这那没不还也都就要说很多些]", own):
            return None
        return begin

    def _named(self, core: str) -> bool:
        """Whether a firm's own name (字号) is said, not a trade (烧烤店, 奶茶店, 广告公司).

        Shop names are mostly built from a small stock of auspicious characters (鑫 达 福 惠
        金 恒 丰 ...), listed in the config; jieba knows a few brand and person names too.
        """
        return (any(c in self._words.name_chars for c in core)
                or self._tag(core) in ("nr", "nz", "nrt", "ns", "nt", "j"))

    def _is_function_word(self, token: str) -> bool:
        """Pronouns, prepositions, particles, adverbs and time words jieba knows."""
        tag = self._tag(token)
        if tag == "m":
            return token[0] in "一二三四五六七八九十两几半多每"  # 一片, 两根; not 万家
        if tag in ("v", "vn") and len(token) > 1:
            # 报销, 开厂 end a name; 包装 (a trade) and 邻居 (in 好邻居) do not.
            return (token not in self._words.trades
                    and not any(c in self._words.name_chars for c in token))
        return tag in _NOT_NAME_TAGS and (len(token) > 1 or tag in ("r", "p", "u", "uj", "ul", "c"))
