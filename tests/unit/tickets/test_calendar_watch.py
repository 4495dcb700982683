"""holidays.yaml edited while the service runs: good edits apply, bad ones are refused."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from tickets.calendar_watch import CalendarReloader
from tickets.workcalendar import WorkCalendar

GOOD = "years:\n  2027:\n    holidays: [2027-03-01]\n"
BAD = "years:\n  2027:\n    holidays: [2027-03-01]\n    workdays: [2027-03-02]\n"


def test_reload_keeps_last_good(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(GOOD, encoding="utf-8")
    seen: list[WorkCalendar] = []
    reloader = CalendarReloader(path, seen.append)
    assert reloader.reload() == []
    assert reloader.calendar is not None
    assert not reloader.calendar.is_workday(dt.date(2027, 3, 1))
    path.write_text(BAD, encoding="utf-8")
    issues = reloader.reload()
    assert [i.line for i in issues] == [4]
    assert len(seen) == 1
    assert reloader.calendar is seen[0]
    assert reloader.issues == issues


async def test_watch_applies_edits(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("years: {}\n", encoding="utf-8")
    seen: list[WorkCalendar] = []
    reloader = CalendarReloader(path, seen.append)
    reloader.reload()
    stop = asyncio.Event()
    task = asyncio.create_task(reloader.watch(stop))
    await asyncio.sleep(0.5)  # let the watcher start

    async def wait_for(cond: object, what: str) -> None:
        for _ in range(100):
            if callable(cond) and cond():
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"watcher did not {what} within 10 s")

    path.write_text(BAD, encoding="utf-8")
    await wait_for(lambda: reloader.issues, "report the bad edit")
    assert len(seen) == 1
    path.write_text(GOOD, encoding="utf-8")
    await wait_for(lambda: len(seen) == 2, "apply the good edit")
    assert not seen[-1].is_workday(dt.date(2027, 3, 1))
    stop.set()
    await asyncio.wait_for(task, 5)
