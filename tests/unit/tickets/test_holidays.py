"""holidays.yaml validation: every problem named with file:line, in Chinese and English."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hotline.yamlconf import ConfigError
from tickets.holidays import load_holidays, parse_holidays
from tickets.workcalendar import WorkCalendar

PROJECT = Path(__file__).resolve().parents[3]


def issues_of(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_holidays(text, "holidays.yaml")
    return [(i.line, i.zh, i.en) for i in info.value.issues]


def test_shipped_file_is_valid() -> None:
    table = load_holidays(PROJECT / "config" / "holidays.yaml")
    assert WorkCalendar(table).is_workday(dt.date(2024, 9, 29))


def test_ranges_and_single_days() -> None:
    table = parse_holidays("""\
years:
  2027:
    holidays:
      - 2027-01-01
      - {from: "2027-02-06", to: 2027-02-08, name: 春节}
    workdays: ["2027-02-14"]
""")
    year = table.get(2027)
    assert year is not None
    assert year.holidays == {dt.date(2027, 1, 1), dt.date(2027, 2, 6), dt.date(2027, 2, 7),
                             dt.date(2027, 2, 8)}
    assert year.workdays == {dt.date(2027, 2, 14)}


def test_bad_date_names_its_line() -> None:
    found = issues_of("years:\n  2027:\n    holidays:\n      - 2027-02-30\n")
    assert len(found) == 1
    line, zh, en = found[0]
    assert line == 4
    assert "日期" in zh
    assert "2027-02-30" in en


def test_quoted_bad_date_names_its_line() -> None:
    found = issues_of('years:\n  2027:\n    holidays:\n      - "2027-02-30"\n')
    assert found[0][0] == 4
    assert "无效的日期" in found[0][1]


def test_date_in_wrong_year() -> None:
    found = issues_of("years:\n  2027:\n    holidays:\n      - 2026-10-01\n")
    assert found[0][0] == 4
    assert "不属于 2027" in found[0][1]


def test_make_up_workday_on_a_weekday_is_a_typo() -> None:
    # 2027-02-15 is a Monday.
    found = issues_of("years:\n  2027:\n    workdays:\n      - 2027-02-15\n")
    assert found[0][0] == 4
    assert "不是周末" in found[0][1]


def test_same_day_holiday_and_workday() -> None:
    found = issues_of("years:\n  2027:\n    holidays: [2027-02-14]\n    workdays:\n"
                      "      - 2027-02-14\n")
    assert [f[0] for f in found] == [5]
    assert "同时" in found[0][1]


def test_range_errors() -> None:
    found = issues_of("""\
years:
  2027:
    holidays:
      - {from: 2027-02-10, to: 2027-02-06}
      - {from: 2027-01-01, to: 2027-03-01}
      - {from: 2027-05-01}
      - {from: 2027-05-01, to: 2027-05-03, nmae: 劳动节}
""")
    lines = [f[0] for f in found]
    assert lines == [4, 5, 6, 7]
    assert "早于" in found[0][1]
    assert "过长" in found[1][1]
    assert "from 和 to" in found[2][1]
    assert "nmae" in found[3][1]


def test_unknown_keys_and_bad_year() -> None:
    found = issues_of("yaers: {}\nyears:\n  twenty: {}\n  1999: {}\n")
    assert [f[0] for f in found] == [1, 3, 4]


def test_syntax_error_has_line() -> None:
    found = issues_of("years:\n  2027:\n    holidays: [2027-01-01\n")
    assert found[0][0] >= 3
    assert "YAML" in found[0][1]


def test_missing_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        WorkCalendar.from_file(tmp_path / "nope.yaml")


def test_all_problems_reported_at_once() -> None:
    found = issues_of('years:\n  2027:\n    holidays: ["2027-13-01"]\n'
                      "    workdays: [2027-02-15]\n")
    assert [f[0] for f in found] == [3, 4]
