"""The working-day calendar and the "137" deadline rule.

Deadline rule (Asia/Shanghai, whatever the server's zone):
    A ticket with an SLA of N working days is due at 18:00 Beijing time on the N-th
    working day strictly after the Beijing date on which it was received.

So a ticket received on a working day, at any hour, starts counting the next working
day; one received on a weekend or public holiday starts counting from the next working
day too (that day is day 1), exactly like one received late the working day before.
The Beijing date matters, not the UTC one: 07:30 on a Friday in Beijing is still
Thursday in UTC.

Which days are working days, by year:
1. chinesecalendar for the years its data covers (it raises NotImplementedError past them);
2. `holidays.yaml` entries on top: they override chinesecalendar day by day for years it
   knows and describe the later years it does not;
3. a year in neither: Monday-Friday, and the deadline is flagged "weekday-estimate" so the
   desk shows that it may move once the State Council publishes the schedule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from chinese_calendar import constants as cc_constants

from tickets.holidays import HolidayTable, load_holidays

BEIJING = ZoneInfo("Asia/Shanghai")
CLOSE_OF_BUSINESS = dt.time(18, 0)
WEEKDAY_ESTIMATE = "weekday-estimate"
# Deadlines are at most a few weeks away; this bounds the search if a calendar were
# ever filled with nothing but holidays.
_MAX_SCAN_DAYS = 366


@dataclass(frozen=True)
class Deadline:
    """When a ticket is due; `flagged` when part of the count used the weekday guess."""

    due_utc: dt.datetime
    flagged: bool
    reason: str | None  # None, or WEEKDAY_ESTIMATE
    estimated_years: tuple[int, ...] = ()

    @property
    def due_local(self) -> dt.datetime:
        return self.due_utc.astimezone(BEIJING)


@dataclass(frozen=True)
class _Builtin:
    """chinesecalendar's data, copied once: its own is_workday() scans every key for the
    supported year range on each call (min/max over ~800 dates), too slow for deadlines
    computed on every ticket."""

    years: frozenset[int]
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]

    @classmethod
    def load(cls) -> _Builtin:
        holidays = frozenset(cc_constants.holidays)
        workdays = frozenset(cc_constants.workdays)
        first, last = min(holidays).year, max(holidays).year
        return cls(frozenset(range(first, last + 1)), holidays, workdays)

    @classmethod
    def empty(cls) -> _Builtin:
        return cls(frozenset(), frozenset(), frozenset())


class WorkCalendar:
    """Answers "is this a working day?" and computes 137 deadlines. Immutable once built."""

    def __init__(self, table: HolidayTable | None = None, *, use_builtin: bool = True,
                 close_of_business: dt.time = CLOSE_OF_BUSINESS) -> None:
        self._table = table or HolidayTable()
        self._builtin = _Builtin.load() if use_builtin else _Builtin.empty()
        self._close = close_of_business

    @classmethod
    def from_file(cls, path: Path) -> WorkCalendar:
        """Calendar from chinesecalendar plus `path`; raises ConfigError on a bad file."""
        return cls(load_holidays(path))

    def knows_year(self, year: int) -> bool:
        return year in self._builtin.years or self._table.get(year) is not None

    def known_years(self) -> list[int]:
        return sorted(self._builtin.years | set(self._table.years))

    def is_workday(self, day: dt.date) -> bool:
        """Working day by the rules above (weekday guess for a year nobody described)."""
        schedule = self._table.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return True
            if day in schedule.holidays:
                return False
        if day.year in self._builtin.years:
            # The same rule as chinese_calendar.is_workday, on our copy of its data.
            if day in self._builtin.workdays:
                return True
            return day.weekday() < 5 and day not in self._builtin.holidays
        return day.weekday() < 5

    def add_workdays(self, start: dt.date, n: int) -> tuple[dt.date, tuple[int, ...]]:
        """The n-th working day strictly after `start`, and the years that were guessed."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        guessed: set[int] = set()
        day = start
        counted = 0
        for _ in range(_MAX_SCAN_DAYS):
            day += dt.timedelta(days=1)
            if not self.knows_year(day.year):
                guessed.add(day.year)
            if self.is_workday(day):
                counted += 1
                if counted == n:
                    return day, tuple(sorted(guessed))
        raise ValueError(f"no {n} working days within {_MAX_SCAN_DAYS} days after {start}")

    def due_at(self, received_utc: dt.datetime, sla_days: int) -> Deadline:
        """Deadline for a ticket received at `received_utc` (aware) with `sla_days` working days."""
        if received_utc.tzinfo is None:
            raise ValueError("received_utc must be timezone-aware")
        received_day = received_utc.astimezone(BEIJING).date()
        due_day, guessed = self.add_workdays(received_day, sla_days)
        due_local = dt.datetime.combine(due_day, self._close, tzinfo=BEIJING)
        return Deadline(
            due_utc=due_local.astimezone(dt.UTC),
            flagged=bool(guessed),
            reason=WEEKDAY_ESTIMATE if guessed else None,
            estimated_years=guessed,
        )
