"""The 137 deadlines on the working-day calendar (chinesecalendar + holidays.yaml)."""

from __future__ import annotations

import datetime as dt

import pytest

from tickets.holidays import parse_holidays
from tickets.workcalendar import BEIJING, WEEKDAY_ESTIMATE, WorkCalendar

D = dt.date
CAL = WorkCalendar()

YAML_2027 = """\
years:
  2027:
    holidays:
      - 2027-01-01
      - {from: 2027-02-06, to: 2027-02-13, name: 春节}
    workdays:
      - 2027-02-14
"""


def beijing(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=BEIJING).astimezone(dt.UTC)


def due_day(received: dt.datetime, sla: int, cal: WorkCalendar = CAL) -> dt.date:
    deadline = cal.due_at(received, sla)
    local = deadline.due_utc.astimezone(BEIJING)
    assert local.time() == dt.time(18, 0)
    assert deadline.due_utc.tzinfo is not None
    assert deadline.due_utc.utcoffset() == dt.timedelta(0)
    return local.date()


@pytest.mark.parametrize(("start", "n", "expected"), [
    # National Day 2024: Oct 1-7 off, Sun Sep 29 and Sat Oct 12 are make-up workdays.
    (D(2024, 9, 27), 1, D(2024, 9, 29)),
    (D(2024, 9, 27), 3, D(2024, 10, 8)),
    (D(2024, 9, 30), 1, D(2024, 10, 8)),
    (D(2024, 10, 8), 4, D(2024, 10, 12)),  # Saturday make-up workday counts
    (D(2024, 9, 27), 7, D(2024, 10, 12)),
    # National Day 2025: Oct 1-8 off (with Mid-Autumn), Sun Sep 28 and Sat Oct 11 worked.
    (D(2025, 9, 26), 1, D(2025, 9, 28)),
    (D(2025, 9, 30), 1, D(2025, 10, 9)),
    (D(2025, 9, 30), 3, D(2025, 10, 11)),
    (D(2025, 9, 26), 7, D(2025, 10, 13)),
    # Spring Festival 2025: Jan 28 - Feb 4 off, Sun Jan 26 and Sat Feb 8 worked.
    (D(2025, 1, 24), 1, D(2025, 1, 26)),
    (D(2025, 1, 27), 1, D(2025, 2, 5)),
    (D(2025, 1, 27), 3, D(2025, 2, 7)),
    (D(2025, 1, 27), 4, D(2025, 2, 8)),
    # Spring Festival 2026: Feb 15-23 off, Sat Feb 14 and Sat Feb 28 worked.
    (D(2026, 2, 13), 1, D(2026, 2, 14)),
    (D(2026, 2, 13), 2, D(2026, 2, 24)),
    (D(2026, 2, 14), 7, D(2026, 3, 3)),
    (D(2026, 2, 26), 2, D(2026, 2, 28)),
])
def test_add_workdays_across_public_holidays(start: dt.date, n: int, expected: dt.date) -> None:
    day, guessed = CAL.add_workdays(start, n)
    assert day == expected
    assert guessed == ()


def test_make_up_workdays_and_holidays_are_what_chinesecalendar_says() -> None:
    assert CAL.is_workday(D(2024, 9, 29))  # Sunday, worked
    assert not CAL.is_workday(D(2024, 10, 7))  # Monday, holiday
    assert CAL.is_workday(D(2026, 2, 28))  # Saturday, worked
    assert not CAL.is_workday(D(2026, 2, 23))  # Monday, holiday


def test_due_at_national_day_2024_three_working_days() -> None:
    deadline = CAL.due_at(beijing(2024, 9, 27, 15, 0), 3)
    assert deadline.due_utc == dt.datetime(2024, 10, 8, 10, 0, tzinfo=dt.UTC)  # 18:00 Beijing
    assert not deadline.flagged
    assert deadline.reason is None


def test_received_on_non_working_day_counts_from_next_working_day() -> None:
    # Saturday 2024-10-05 (holiday week): day 1 is Tuesday Oct 8.
    assert due_day(beijing(2024, 10, 5), 1) == D(2024, 10, 8)
    assert due_day(beijing(2024, 10, 5), 3) == D(2024, 10, 10)


def test_friday_evening_beijing_counts_like_the_weekend() -> None:
    # Friday 2025-03-14 23:30 Beijing = 15:30 UTC the same day.
    friday_late = beijing(2025, 3, 14, 23, 30)
    assert due_day(friday_late, 1) == D(2025, 3, 17)
    # Saturday 00:30 Beijing is still Friday in UTC: same Monday deadline.
    saturday_early = beijing(2025, 3, 15, 0, 30)
    assert saturday_early.date() == D(2025, 3, 14)
    assert due_day(saturday_early, 1) == D(2025, 3, 17)


def test_beijing_date_not_utc_date_decides() -> None:
    # Friday 07:30 Beijing is Thursday 23:30 UTC: counting starts after Friday, not Thursday.
    received = beijing(2025, 3, 14, 7, 30)
    assert received.date() == D(2025, 3, 13)
    assert due_day(received, 1) == D(2025, 3, 17)
    # Sat 2024-09-28 20:00 UTC is Sun 04:00 Beijing, a make-up workday: due Monday Sep 30.
    received = dt.datetime(2024, 9, 28, 20, 0, tzinfo=dt.UTC)
    assert due_day(received, 1) == D(2024, 9, 30)


def test_2027_without_calendar_data_is_weekday_estimate_and_flagged() -> None:
    deadline = CAL.due_at(beijing(2027, 2, 5), 3)  # Friday
    assert deadline.flagged
    assert deadline.reason == WEEKDAY_ESTIMATE
    assert deadline.estimated_years == (2027,)
    assert deadline.due_local.date() == D(2027, 2, 10)  # Mon, Tue, Wed


def test_2027_with_holidays_yaml_entry_is_exact_and_not_flagged() -> None:
    cal = WorkCalendar(parse_holidays(YAML_2027))
    deadline = cal.due_at(beijing(2027, 2, 5), 3)
    # Feb 6-13 off; Sunday Feb 14 worked, then Mon 15, Tue 16.
    assert deadline.due_local.date() == D(2027, 2, 16)
    assert not deadline.flagged
    assert deadline.reason is None


def test_deadline_crossing_into_unknown_year_is_flagged() -> None:
    deadline = CAL.due_at(beijing(2026, 12, 30), 7)
    assert deadline.flagged
    assert deadline.estimated_years == (2027,)
    fine = CAL.due_at(beijing(2026, 12, 1), 7)
    assert not fine.flagged


def test_year_far_beyond_any_data_never_crashes() -> None:
    deadline = CAL.due_at(beijing(2099, 6, 1), 7)
    assert deadline.flagged
    assert deadline.due_local.weekday() < 5


def test_yaml_overrides_builtin_years_day_by_day() -> None:
    cal = WorkCalendar(parse_holidays("years:\n  2026:\n    holidays: [2026-12-01]\n"))
    assert CAL.is_workday(D(2026, 12, 1))
    assert not cal.is_workday(D(2026, 12, 1))
    assert cal.is_workday(D(2026, 12, 2))  # untouched days still come from chinesecalendar
    assert not cal.is_workday(D(2026, 10, 1))


def test_naive_received_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        CAL.due_at(dt.datetime(2025, 3, 14, 10, 0), 1)


def test_our_copy_agrees_with_chinesecalendar_every_day() -> None:
    import chinese_calendar

    day = dt.date(2004, 1, 1)
    while day.year <= 2026:
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(2027, 1, 4))
    assert CAL.known_years() == list(range(2004, 2027))
