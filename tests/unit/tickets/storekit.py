"""Helpers shared by the SQLite (unit) and PostgreSQL (integration) store tests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from tickets.migrate import upgrade
from tickets.store import TicketStore
from tickets.workcalendar import WorkCalendar

# Thursday 2026-11-26 10:00 Beijing.
START = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> dt.datetime:
        self.now += dt.timedelta(**kwargs)
        return self.now


def build_store(engine: Engine, clock: FakeClock) -> TicketStore:
    upgrade(engine)
    return TicketStore(engine, WorkCalendar(), clock=clock)
