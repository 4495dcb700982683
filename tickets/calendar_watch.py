"""Live reload of holidays.yaml: a bad edit is refused with file:line, the last good
calendar stays in force.

The composition root builds one CalendarReloader, hands each good calendar to the store
(`store.use_calendar` then `store.refresh_estimated_deadlines`), and runs `watch()` in a
background task cancelled at shutdown.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from hotline.yamlconf import ConfigError, ConfigIssue
from tickets.workcalendar import WorkCalendar

log = logging.getLogger(__name__)


class CalendarReloader:
    def __init__(self, path: Path, on_calendar: Callable[[WorkCalendar], None]) -> None:
        self.path = path
        self._on_calendar = on_calendar
        self.calendar: WorkCalendar | None = None
        self.issues: list[ConfigIssue] = []  # of the last attempt; shown on the admin page
        self.loaded_at: dt.datetime | None = None  # of the calendar in force

    def reload(self) -> list[ConfigIssue]:
        """Load the file; on success hand the calendar on, on failure keep the old one.

        Blocking (file read, and whatever `on_calendar` does): run it in a thread.
        """
        try:
            calendar = WorkCalendar.from_file(self.path)
        except ConfigError as exc:
            self.issues = exc.issues
            for issue in exc.issues:
                log.error("holidays not reloaded, keeping the last good calendar: %s", issue)
            return self.issues
        self.calendar = calendar
        self.issues = []
        self.loaded_at = dt.datetime.now(dt.UTC)
        self._on_calendar(calendar)
        log.info("holidays loaded from %s: years %s", self.path, calendar.known_years())
        return []

    def _ours(self, _change: Change, path: str) -> bool:
        return Path(path).name == self.path.name

    async def watch(self, stop_event: asyncio.Event | None = None) -> None:
        """Reload on every change of the file (the directory is watched: editors replace
        files by renaming, which a watch on the file itself would lose)."""
        async for _changes in awatch(self.path.parent, watch_filter=self._ours,
                                     stop_event=stop_event, debounce=300):
            await asyncio.to_thread(self.reload)
