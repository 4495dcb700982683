"""Administrator-maintained holiday schedules (`config/holidays.yaml`).

chinesecalendar only knows the years published before its release; the State
Council publishes each next year's schedule in November or December. Administrators
copy it into `holidays.yaml`; this module validates that file (file:line errors in
Chinese and English, through hotline.yamlconf) into an immutable `HolidayTable`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hotline.yamlconf import ConfigError, ConfigIssue, Located, PathKey, load_yaml, parse_yaml

MIN_YEAR = 2000
MAX_YEAR = 2100
# Longest range accepted in one entry: the Spring Festival break is 8-9 days; a longer
# range is almost always a typo in the year or month.
MAX_RANGE_DAYS = 31


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule: days off that would be workdays, and make-up workdays."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


@dataclass(frozen=True)
class HolidayTable:
    """Every year an administrator has filled in, by year."""

    years: Mapping[int, YearSchedule] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, year: int) -> YearSchedule | None:
        return self.years.get(year)


def _as_date(value: Any, doc: Located, path: PathKey, issues: list[ConfigIssue]) -> dt.date | None:
    # PyYAML already turns unquoted 2027-01-01 into a date; quoted strings are accepted too.
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    issues.append(doc.issue(path, f"无效的日期: {value!r} (应为 YYYY-MM-DD)",
                            f"invalid date: {value!r} (expected YYYY-MM-DD)"))
    return None


def _entry_dates(entry: Any, doc: Located, path: PathKey,
                 issues: list[ConfigIssue]) -> list[dt.date]:
    """An entry is a date, or a mapping {from, to, name} covering a range of days."""
    if not isinstance(entry, dict):
        day = _as_date(entry, doc, path, issues)
        return [day] if day else []
    unknown = set(entry) - {"from", "to", "name"}
    for key in sorted(map(str, unknown)):
        issues.append(doc.issue((*path, key), f"未知的字段: {key} (可用: from, to, name)",
                                f"unknown field: {key} (allowed: from, to, name)"))
    if "from" not in entry or "to" not in entry:
        issues.append(doc.issue(path, "日期范围需要 from 和 to",
                                "a date range needs 'from' and 'to'"))
        return []
    start = _as_date(entry["from"], doc, (*path, "from"), issues)
    end = _as_date(entry["to"], doc, (*path, "to"), issues)
    if start is None or end is None:
        return []
    if end < start:
        issues.append(doc.issue((*path, "to"), f"结束日期 {end} 早于开始日期 {start}",
                                f"end {end} is before start {start}"))
        return []
    span = (end - start).days + 1
    if span > MAX_RANGE_DAYS:
        issues.append(doc.issue(path, f"日期范围过长 ({span} 天), 请检查年份和月份",
                                f"date range too long ({span} days): check year and month"))
        return []
    return [start + dt.timedelta(days=i) for i in range(span)]


def _year_schedule(year: int, body: Any, doc: Located, issues: list[ConfigIssue]) -> YearSchedule:
    where: PathKey = ("years", year)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        issues.append(doc.issue(where, "应为映射, 包含 holidays 和 workdays",
                                "expected a mapping with 'holidays' and 'workdays'"))
        return YearSchedule(year, frozenset(), frozenset())
    for key in sorted(map(str, set(body) - {"holidays", "workdays"})):
        issues.append(doc.issue((*where, key), f"未知的字段: {key} (可用: holidays, workdays)",
                                f"unknown field: {key} (allowed: holidays, workdays)"))
    found: dict[str, dict[dt.date, PathKey]] = {"holidays": {}, "workdays": {}}
    for section in ("holidays", "workdays"):
        entries = body.get(section) or []
        if not isinstance(entries, list):
            issues.append(doc.issue((*where, section), f"{section} 应为列表",
                                    f"{section}: expected a list"))
            continue
        for i, entry in enumerate(entries):
            path = (*where, section, i)
            for day in _entry_dates(entry, doc, path, issues):
                if day.year != year:
                    issues.append(doc.issue(path, f"日期 {day} 不属于 {year} 年",
                                            f"date {day} is not in year {year}"))
                elif day in found[section]:
                    issues.append(doc.issue(path, f"日期重复: {day}", f"duplicate date: {day}"))
                else:
                    found[section][day] = path
    for day, path in sorted(found["workdays"].items()):
        if day in found["holidays"]:
            issues.append(doc.issue(path, f"{day} 同时列为放假和调休上班",
                                    f"{day} is listed both as a holiday and a workday"))
        elif day.weekday() < 5:
            # A make-up workday is always a Saturday or Sunday; a weekday here is a typo.
            issues.append(doc.issue(path, f"调休上班日 {day} 不是周末",
                                    f"make-up workday {day} is not a weekend day"))
    return YearSchedule(year, frozenset(found["holidays"]), frozenset(found["workdays"]))


def holidays_from_document(doc: Located) -> HolidayTable:
    """Validate a parsed holidays document; raise ConfigError listing every problem."""
    if doc.value is None:
        return HolidayTable()
    issues: list[ConfigIssue] = []
    if not isinstance(doc.value, dict):
        raise ConfigError([doc.issue((), "顶层应为映射 (years: ...)",
                                     "top level must be a mapping")])
    for key in sorted(map(str, set(doc.value) - {"years"})):
        issues.append(doc.issue((key,), f"未知的字段: {key} (可用: years)",
                                f"unknown field: {key} (allowed: years)"))
    raw_years = doc.value.get("years") or {}
    schedules: dict[int, YearSchedule] = {}
    if not isinstance(raw_years, dict):
        issues.append(doc.issue(("years",), "years 应为映射 (年份: ...)",
                                "'years' must be a mapping"))
        raw_years = {}
    for year, body in raw_years.items():
        if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
            issues.append(doc.issue(("years", year),
                                    f"年份无效: {year} (应为 {MIN_YEAR}-{MAX_YEAR})",
                                    f"invalid year: {year} (expected {MIN_YEAR}-{MAX_YEAR})"))
            continue
        schedules[year] = _year_schedule(year, body, doc, issues)
    if issues:
        raise ConfigError(issues)
    return HolidayTable(MappingProxyType(schedules))


def parse_holidays(text: str, file: str = "holidays.yaml") -> HolidayTable:
    return holidays_from_document(parse_yaml(text, file))


def load_holidays(path: Path) -> HolidayTable:
    """Read and validate `holidays.yaml`; any problem raises ConfigError.

    The caller (a file watcher) then keeps the last good table.
    """
    return holidays_from_document(load_yaml(path))
