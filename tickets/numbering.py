"""Ticket numbers: Beijing date plus a daily sequence (20261126-0001).

One atomic upsert on `ticket_counters` (INSERT ... ON CONFLICT DO UPDATE ... RETURNING,
the same statement on SQLite >= 3.35 and PostgreSQL) inside the transaction that inserts
the ticket: the counter row stays locked until commit, so two agents never get the same
number and a rolled-back ticket does not leave a gap taken by someone else.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tickets.models import TicketCounter
from tickets.workcalendar import BEIJING


def ticket_day(at_utc: dt.datetime) -> str:
    """The Beijing date a ticket belongs to, as YYYYMMDD."""
    return at_utc.astimezone(BEIJING).strftime("%Y%m%d")


def format_number(day: str, seq: int) -> str:
    return f"{day}-{seq:04d}"  # a 10,000th ticket in a day just gets a 5th digit


def next_sequence(session: Session, day: str) -> int:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(TicketCounter)
        .values(day=day, last_seq=1)
        .on_conflict_do_update(index_elements=[TicketCounter.day],
                               set_={"last_seq": TicketCounter.last_seq + 1})
        .returning(TicketCounter.last_seq)
    )
    return int(session.execute(stmt).scalar_one())


def allocate_number(session: Session, at_utc: dt.datetime) -> str:
    day = ticket_day(at_utc)
    return format_number(day, next_sequence(session, day))
