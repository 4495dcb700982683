"""`config/routing.yaml`, validated into frozen objects; every problem cites file:line.

`load_routing_config(path)` raises `ConfigError` listing all problems found, so a
watcher can refuse a bad edit and keep the last good rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.yamlconf import ConfigError, ConfigIssue, Located, PathKey, load_yaml
from routing.entities import EnterpriseWords, Places

LINES = ("enterprise", "property", "hr_social_security", "womens_rights",
         "market_regulation", "general", "police_110")
KINDS = ("consultation", "complaint", "report", "help", "suggestion", "praise")
POLICE = "police_110"
GENERAL = "general"


@dataclass(frozen=True)
class Weighted:
    """A phrase (literal) or pattern (regex) with its weight; `source` says where it was written."""

    label: str
    regex: re.Pattern[str]
    weight: float
    source: str
    literal: bool = True


@dataclass(frozen=True)
class Scorer:
    """Phrases and patterns for one line or kind, plus those that count against it."""

    name: str
    positive: tuple[Weighted, ...]
    against: tuple[Weighted, ...]


@dataclass(frozen=True)
class Rule:
    """A condition rule: every group in `all` matches and no group in `none` does."""

    name: str
    line: str | None
    kind: str | None
    priority: int
    all: tuple[re.Pattern[str], ...]
    none: tuple[re.Pattern[str], ...]
    source: str


@dataclass(frozen=True)
class PastOnly:
    """When scores alone (no rule) point at 110, the call must show that something is
    happening now: a caller who speaks only of the past (上个月, 去年, 前几天) and says
    nothing of the present (现在还, 正在, 刚才) has a 12345 matter, not a police one."""

    past: re.Pattern[str] | None = None
    present: re.Pattern[str] | None = None

    def applies(self, text: str) -> bool:
        return (self.past is not None and self.past.search(text) is not None
                and (self.present is None or self.present.search(text) is None))


@dataclass(frozen=True)
class SlaConfig:
    by_kind: Mapping[str, int]
    police: int
    complex_consultation: Scorer
    complex_threshold: float


@dataclass(frozen=True)
class RoutingConfig:
    lines: Mapping[str, Scorer]
    kinds: Mapping[str, Scorer]
    default_kind: str
    rules: tuple[Rule, ...]
    sla: SlaConfig
    slips: Mapping[str, str]
    fillers: tuple[str, ...]
    places: Places
    user_dict: Path | None
    enterprise: EnterpriseWords
    classifier_weight: float
    temperature: float
    low_confidence: float
    source: str = ""
    line_names: Mapping[str, str] = field(default_factory=dict)
    police_past_only: PastOnly = PastOnly()


class _Reader:
    """Collects issues while reading a located document, so one pass reports them all."""

    def __init__(self, doc: Located) -> None:
        self.doc = doc
        self.issues: list[ConfigIssue] = []

    def err(self, path: PathKey, zh: str, en: str) -> None:
        self.issues.append(self.doc.issue(path, zh, en))

    def where(self, path: PathKey) -> str:
        return f"{self.doc.file}:{self.doc.line_of(*path)}"

    def mapping(self, value: Any, path: PathKey, required: bool = True) -> dict[str, Any]:
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            self.err(path, f"{_dotted(path)} 应为映射 (键: 值)",
                     f"{_dotted(path)}: expected a mapping")
            return {}
        return value

    def strings(self, value: Any, path: PathKey) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.err(path, f"{_dotted(path)} 应为列表", f"{_dotted(path)}: expected a list")
            return []
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str) and item:
                out.append(item)
            else:
                self.err((*path, i), "列表项应为非空字符串", "list items must be non-empty strings")
        return out

    def number(self, value: Any, path: PathKey, low: float, high: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.err(path, f"{_dotted(path)} 应为数字", f"{_dotted(path)}: expected a number")
            return low
        if not low <= value <= high:
            self.err(path, f"{_dotted(path)} 应在 {low} 到 {high} 之间",
                     f"{_dotted(path)}: must be between {low} and {high}")
        return float(value)

    def regex(self, text: str, path: PathKey) -> re.Pattern[str]:
        try:
            return re.compile(text)
        except re.error as exc:
            self.err(path, f"正则表达式有误: {text} ({exc})",
                     f"bad regular expression: {text} ({exc})")
            return re.compile("(?!)")

    def known_keys(self, data: Mapping[str, Any], allowed: tuple[str, ...], path: PathKey) -> None:
        for key in data:
            if key not in allowed:
                self.err((*path, key), f"未知的设置项: {key} (可用: {', '.join(allowed)})",
                         f"unknown key: {key} (allowed: {', '.join(allowed)})")

    def weighted(self, value: Any, path: PathKey, literal: bool) -> tuple[Weighted, ...]:
        data = self.mapping(value, path, required=False)
        out: list[Weighted] = []
        for text, weight in data.items():
            p = (*path, text)
            w = self.number(weight, p, -100, 100)
            regex = re.compile(re.escape(str(text))) if literal else self.regex(str(text), p)
            out.append(Weighted(str(text), regex, w, self.where(p), literal))
        return tuple(out)

    def scorer(self, name: str, value: Any, path: PathKey) -> Scorer:
        data = self.mapping(value, path)
        self.known_keys(data, ("name", "phrases", "patterns", "against", "against_patterns"), path)
        positive = (self.weighted(data.get("phrases"), (*path, "phrases"), literal=True)
                    + self.weighted(data.get("patterns"), (*path, "patterns"), literal=False))
        against = (self.weighted(data.get("against"), (*path, "against"), literal=True)
                   + self.weighted(data.get("against_patterns"), (*path, "against_patterns"),
                                   literal=False))
        return Scorer(name, positive, against)


def _dotted(path: PathKey) -> str:
    return ".".join(str(p) for p in path) or "(根)"


def _groups(reader: _Reader, value: Any, path: PathKey) -> tuple[re.Pattern[str], ...]:
    """A list of groups; each group is a list of alternatives (regexes), joined with |."""
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.err(path, "应为列表的列表 (每组任一匹配即可)", "expected a list of lists")
        return ()
    out: list[re.Pattern[str]] = []
    for i, group in enumerate(value):
        alternatives = [group] if isinstance(group, str) else reader.strings(group, (*path, i))
        for j, alt in enumerate(alternatives):
            reader.regex(alt, (*path, i, j))
        if alternatives:
            out.append(reader.regex("|".join(f"(?:{a})" for a in alternatives), (*path, i)))
    return tuple(out)


def _rules(reader: _Reader, value: Any) -> tuple[Rule, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.err(("rules",), "rules 应为列表", "rules: expected a list")
        return ()
    out: list[Rule] = []
    for i, item in enumerate(value):
        path: PathKey = ("rules", i)
        data = reader.mapping(item, path)
        reader.known_keys(data, ("name", "line", "kind", "priority", "all", "none"), path)
        line = data.get("line")
        kind = data.get("kind")
        if line is not None and line not in LINES:
            reader.err((*path, "line"), f"未知的分流线路: {line}", f"unknown line: {line}")
        if kind is not None and kind not in KINDS:
            reader.err((*path, "kind"), f"未知的诉求类型: {kind}", f"unknown kind: {kind}")
        if line is None and kind is None:
            reader.err(path, "规则必须指定 line 或 kind", "a rule needs a line or a kind")
        groups = _groups(reader, data.get("all"), (*path, "all"))
        if not groups:
            reader.err(path, "规则的 all 条件不能为空", "a rule needs a non-empty 'all'")
        priority = reader.number(data.get("priority", 0), (*path, "priority"), 0, 1000)
        out.append(Rule(str(data.get("name", f"rule-{i}")), line, kind, int(priority), groups,
                        _groups(reader, data.get("none"), (*path, "none")), reader.where(path)))
    return tuple(out)


def _sla(reader: _Reader, value: Any) -> SlaConfig:
    path: PathKey = ("sla",)
    data = reader.mapping(value, path)
    reader.known_keys(data, ("police", "by_kind", "complex_consultation"), path)
    by_kind_raw = reader.mapping(data.get("by_kind"), (*path, "by_kind"))
    by_kind: dict[str, int] = {}
    for kind, days in by_kind_raw.items():
        p = (*path, "by_kind", kind)
        if kind not in KINDS:
            reader.err(p, f"未知的诉求类型: {kind}", f"unknown kind: {kind}")
        if days not in (1, 3, 7):
            reader.err(p, "137 分类只能是 1、3 或 7", "the 137 class must be 1, 3 or 7")
        by_kind[str(kind)] = int(days) if isinstance(days, int) else 7
    complex_raw = reader.mapping(data.get("complex_consultation"),
                                 (*path, "complex_consultation"))
    threshold = reader.number(complex_raw.pop("threshold", 1), (*path, "complex_consultation"),
                              0, 100) if complex_raw else 1.0
    scorer = reader.scorer("complex", complex_raw, (*path, "complex_consultation"))
    police = data.get("police", 1)
    if police not in (1, 3, 7):
        reader.err((*path, "police"), "137 分类只能是 1、3 或 7", "the 137 class must be 1, 3 or 7")
    return SlaConfig(by_kind, int(police) if isinstance(police, int) else 1, scorer, threshold)


def _side_file(reader: _Reader, base: Path, value: Any, path: PathKey) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str):
        reader.err(path, "应为文件路径", "expected a file path")
        return None
    target = Path(value) if Path(value).is_absolute() else base / value
    if not target.is_file():
        reader.err(path, f"文件不存在: {target}", f"file not found: {target}")
        return None
    return target


def _load_side_yaml(reader: _Reader, target: Path | None,
                    read: Callable[[_Reader], None]) -> None:
    if target is None:
        return
    try:
        side = _Reader(load_yaml(target))
    except ConfigError as exc:
        reader.issues.extend(exc.issues)
        return
    read(side)
    reader.issues.extend(side.issues)


def _past_only(reader: _Reader, raw: Any) -> PastOnly:
    path: PathKey = ("police_by_scores",)
    data = reader.mapping(raw, path, required=False)
    reader.known_keys(data, ("past", "present"), path)

    def alternation(key: str) -> re.Pattern[str] | None:
        items = reader.strings(data.get(key), (*path, key))
        before = len(reader.issues)
        for i, item in enumerate(items):
            reader.regex(item, (*path, key, i))  # reports a bad item at its own line
        if not items or len(reader.issues) > before:
            return None
        return re.compile("|".join(f"(?:{item})" for item in items))

    past, present = alternation("past"), alternation("present")
    if "past" not in data and present is not None:
        reader.err(path, "police_by_scores 有 present 时也需要 past",
                   "police_by_scores: present needs past")
    return PastOnly(past, present)


def load_routing_config(path: Path) -> RoutingConfig:
    """Read and validate routing.yaml and the files it names; raise ConfigError on any problem."""
    reader = _Reader(load_yaml(path))
    root = reader.mapping(reader.doc.value, ())
    top = ("version", "files", "lines", "rules", "kinds", "default_kind", "sla", "enterprise_words",
           "combine", "police_by_scores")
    reader.known_keys(root, top, ())
    files = reader.mapping(root.get("files"), ("files",), required=False)
    reader.known_keys(files, ("slips", "places", "user_dict"), ("files",))
    base = path.parent

    lines_raw = reader.mapping(root.get("lines"), ("lines",))
    lines: dict[str, Scorer] = {}
    names: dict[str, str] = {}
    for name, value in lines_raw.items():
        if name not in LINES:
            reader.err(("lines", name), f"未知的分流线路: {name} (可用: {', '.join(LINES)})",
                       f"unknown line: {name}")
            continue
        lines[name] = reader.scorer(name, value, ("lines", name))
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            names[name] = value["name"]
    for name in LINES:
        if name not in lines and name in (GENERAL, POLICE):
            reader.err(("lines",), f"缺少线路: {name}", f"missing line: {name}")

    kinds_raw = reader.mapping(root.get("kinds"), ("kinds",))
    kinds: dict[str, Scorer] = {}
    for name, value in kinds_raw.items():
        if name not in KINDS:
            reader.err(("kinds", name), f"未知的诉求类型: {name} (可用: {', '.join(KINDS)})",
                       f"unknown kind: {name}")
            continue
        kinds[name] = reader.scorer(name, value, ("kinds", name))
    default_kind = root.get("default_kind", "consultation")
    if default_kind not in KINDS:
        reader.err(("default_kind",), f"未知的诉求类型: {default_kind}",
                   f"unknown kind: {default_kind}")

    combine = reader.mapping(root.get("combine"), ("combine",), required=False)
    reader.known_keys(combine, ("classifier_weight", "temperature", "low_confidence"), ("combine",))
    classifier_weight = reader.number(combine.get("classifier_weight", 3.0),
                                      ("combine", "classifier_weight"), 0, 100)
    temperature = reader.number(combine.get("temperature", 2.0), ("combine", "temperature"),
                                0.01, 100)
    low_confidence = reader.number(combine.get("low_confidence", 0.4),
                                   ("combine", "low_confidence"), 0, 1)

    ew = reader.mapping(root.get("enterprise_words"), ("enterprise_words",))
    reader.known_keys(ew, ("suffixes", "generic", "stop", "trades", "known", "name_chars",
                                "trade_ends"),
                      ("enterprise_words",))
    enterprise = EnterpriseWords(
        tuple(reader.strings(ew.get("suffixes"), ("enterprise_words", "suffixes"))),
        frozenset(reader.strings(ew.get("generic"), ("enterprise_words", "generic"))),
        frozenset(reader.strings(ew.get("stop"), ("enterprise_words", "stop"))),
        frozenset(reader.strings(ew.get("trades"), ("enterprise_words", "trades"))),
        tuple(reader.strings(ew.get("known"), ("enterprise_words", "known"))),
        frozenset("".join(reader.strings(ew.get("name_chars"),
                                         ("enterprise_words", "name_chars")))),
        tuple(reader.strings(ew.get("trade_ends"), ("enterprise_words", "trade_ends"))),
    )

    slips: dict[str, str] = {}
    fillers: list[str] = []

    def read_slips(side: _Reader) -> None:
        data = side.mapping(side.doc.value, ())
        side.known_keys(data, ("slips", "fillers"), ())
        for wrong, right in side.mapping(data.get("slips"), ("slips",), required=False).items():
            if not isinstance(right, str) or not right or not str(wrong):
                side.err(("slips", wrong), "错字和正字都应为非空字符串",
                         "slip and correction must be non-empty strings")
                continue
            slips[str(wrong)] = right
        fillers.extend(side.strings(data.get("fillers"), ("fillers",)))

    _load_side_yaml(reader, _side_file(reader, base, files.get("slips"), ("files", "slips")),
                    read_slips)

    place_lists: dict[str, tuple[str, ...]] = {}

    def read_places(side: _Reader) -> None:
        data = side.mapping(side.doc.value, ())
        keys = ("counties", "towns", "roads", "compounds", "landmarks")
        side.known_keys(data, keys, ())
        for key in keys:
            place_lists[key] = tuple(side.strings(data.get(key), (key,)))

    _load_side_yaml(reader, _side_file(reader, base, files.get("places"), ("files", "places")),
                    read_places)
    user_dict = _side_file(reader, base, files.get("user_dict"), ("files", "user_dict"))

    config = RoutingConfig(
        lines=lines, kinds=kinds, default_kind=str(default_kind),
        rules=_rules(reader, root.get("rules")),
        sla=_sla(reader, root.get("sla")), slips=slips, fillers=tuple(fillers),
        places=Places(**place_lists), user_dict=user_dict, enterprise=enterprise,
        classifier_weight=classifier_weight, temperature=temperature,
        low_confidence=low_confidence, source=str(path), line_names=names,
        police_past_only=_past_only(reader, root.get("police_by_scores")),
    )
    if reader.issues:
        raise ConfigError(reader.issues)
    return config
