"""The ticket store: models, migrations, the working-day calendar and the 137 deadlines.

Composition root usage::

    calendar = WorkCalendar.from_file(settings.config_path / "holidays.yaml")
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    store = TicketStore(engine, calendar)
    ticket = await asyncio.to_thread(store.create_ticket, NewTicket(...))
"""

from tickets.caller import caller_key
from tickets.commands import NewTicket, RepeatPolicy, TicketFilter
from tickets.engine import make_engine
from tickets.errors import (
    DuplicateExternalRef,
    InvalidChange,
    InvalidTransition,
    TicketError,
    TicketNotFound,
)
from tickets.holidays import HolidayTable, load_holidays, parse_holidays
from tickets.migrate import upgrade
from tickets.models import AuditEntry, Correction, Recording, Ticket
from tickets.store import TicketStore
from tickets.vocab import Channel, RecordingKind, Status
from tickets.workcalendar import Deadline, WorkCalendar

__all__ = [
    "AuditEntry", "Channel", "Correction", "Deadline", "DuplicateExternalRef", "HolidayTable",
    "InvalidChange", "InvalidTransition", "NewTicket", "Recording", "RecordingKind",
    "RepeatPolicy", "Status", "Ticket", "TicketError", "TicketFilter", "TicketNotFound",
    "TicketStore", "WorkCalendar", "caller_key", "load_holidays", "make_engine",
    "parse_holidays", "upgrade",
]
