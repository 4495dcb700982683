"""TicketStore: every read and write of tickets, each method one short transaction.

Synchronous on purpose (SQLAlchemy's sync API is the well-trodden one): the asyncio
parts call it through `asyncio.to_thread`. Returned ORM objects are detached with
their columns loaded; read them freely, change them only through the store.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.logs import CallLog, mask_phone
from tickets.caller import DEFAULT_AREA_CODE, caller_key
from tickets.changes import validate_changes
from tickets.commands import SLA_CLASSES, NewTicket, RepeatPolicy, TicketFilter
from tickets.engine import make_engine, reader, writer
from tickets.errors import (
    DuplicateExternalRef,
    InvalidChange,
    InvalidTransition,
    TicketNotFound,
)
from tickets.models import AuditEntry, Correction, Recording, Ticket
from tickets.numbering import allocate_number
from tickets.vocab import TRANSITIONS, Channel, RecordingKind, Status
from tickets.workcalendar import Deadline, WorkCalendar

log = logging.getLogger(__name__)

OPEN_STATUSES = (Status.NEW, Status.DISPATCHED)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _jsonable(value: Any) -> Any:
    """Audit values are stored as JSON."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


class TicketStore:
    def __init__(self, engine: Engine, calendar: WorkCalendar, *,
                 repeat_policy: RepeatPolicy | None = None,
                 area_code: str = DEFAULT_AREA_CODE,
                 clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self._reader = reader(engine)
        self._calendar = calendar
        self._repeat = repeat_policy or RepeatPolicy()
        self._area_code = area_code
        self._clock = clock

    @classmethod
    def from_url(cls, url: str, calendar: WorkCalendar, **kwargs: Any) -> TicketStore:
        """Store on `url`; the schema must exist (tickets.migrate.upgrade(engine))."""
        return cls(make_engine(url), calendar, **kwargs)

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar

    def use_calendar(self, calendar: WorkCalendar) -> None:
        """Swap in a reloaded calendar (a WorkCalendar is immutable, so this is atomic)."""
        self._calendar = calendar

    def close(self) -> None:
        self.engine.dispose()

    # --- sessions -----------------------------------------------------------------
    def _read(self) -> Session:
        return Session(self._reader, expire_on_commit=False)

    def _write(self) -> Session:
        return Session(self._writer, expire_on_commit=False)

    def key(self, number: str | None) -> str | None:
        return caller_key(number, self._area_code)

    # --- creation -----------------------------------------------------------------
    def create_ticket(self, new: NewTicket, who: str = "system") -> Ticket:
        if new.sla_days not in SLA_CLASSES:
            raise InvalidChange("-", "sla_days", f"must be one of {sorted(SLA_CLASSES)}",
                                f"应为 {sorted(SLA_CLASSES)} 之一")
        now = self._clock()
        received = new.received_at or now
        deadline = self._calendar.due_at(received, new.sla_days)
        key = self.key(new.caller_number)
        try:
            with self._write() as s, s.begin():
                repeat = new.repeat_caller or (key is not None and self._count_recent(
                    s, key, received, self._repeat.within_days, self._repeat.threshold,
                ) >= self._repeat.threshold)
                ticket = self._new_row(new, allocate_number(s, received), key, repeat,
                                       deadline, received, now)
                s.add(ticket)
                s.flush()
                s.add(AuditEntry(ticket_id=ticket.id, who=who, at=now, field="created",
                                 before=None, after=ticket.number))
        except IntegrityError:
            if new.external_source and new.external_ref:
                existing = self.find_by_external_ref(new.external_source, new.external_ref)
                if existing is not None:
                    raise DuplicateExternalRef(new.external_source, new.external_ref,
                                               existing.number) from None
            raise
        CallLog(log, new.call_id or "-").info(
            "ticket %s created: %s/%s sla=%d caller=%s%s", ticket.number, ticket.line,
            ticket.kind, ticket.sla_days, mask_phone(key),
            " (deadline estimated on weekdays)" if deadline.flagged else "")
        return ticket

    @staticmethod
    def _new_row(new: NewTicket, number: str, key: str | None, repeat: bool,
                 deadline: Deadline, received: dt.datetime, now: dt.datetime) -> Ticket:
        return Ticket(
            number=number, channel=Channel(new.channel), call_id=new.call_id,
            caller_number=(new.caller_number or None), caller_key=key,
            transcript=new.transcript, normalized_text=new.normalized_text,
            line=new.line, kind=new.kind, sla_days=new.sla_days,
            due_at=deadline.due_utc, due_flag=deadline.reason, status=Status.NEW,
            department=new.department, grade=new.grade, ivr_path=list(new.ivr_path),
            explanation=dict(new.explanation), confidence=new.confidence,
            entities=dict(new.entities), repeat_caller=repeat, petition=new.petition,
            enterprise_escalation=new.enterprise_escalation, emergency=new.emergency,
            low_confidence=new.low_confidence, external_source=new.external_source,
            external_ref=new.external_ref, created_at=received, updated_at=now,
        )

    # --- reads --------------------------------------------------------------------
    def get(self, number: str) -> Ticket:
        with self._read() as s, s.begin():
            ticket = s.scalars(select(Ticket).where(Ticket.number == number)).one_or_none()
        if ticket is None:
            raise TicketNotFound(number)
        return ticket

    def find_by_call(self, call_id: str) -> Ticket | None:
        """The latest ticket of a call (the desk's screen-pop looks it up by the call id)."""
        with self._read() as s, s.begin():
            return s.scalars(select(Ticket).where(Ticket.call_id == call_id)
                             .order_by(Ticket.id.desc()).limit(1)).one_or_none()

    def find_by_external_ref(self, source: str, ref: str) -> Ticket | None:
        with self._read() as s, s.begin():
            return s.scalars(select(Ticket).where(Ticket.external_source == source,
                                                  Ticket.external_ref == ref)).one_or_none()

    def history_for_caller(self, caller: str | None, days: int, limit: int = 50) -> list[Ticket]:
        """The caller's tickets of the last `days` days, newest first (none if withheld)."""
        key = self.key(caller)
        if key is None:
            return []
        since = self._clock() - dt.timedelta(days=days)
        with self._read() as s, s.begin():
            return list(s.scalars(
                select(Ticket).where(Ticket.caller_key == key, Ticket.created_at >= since)
                .order_by(Ticket.created_at.desc()).limit(limit)))

    def is_repeat_caller(self, caller: str | None, within_days: int, threshold: int) -> bool:
        """At least `threshold` tickets from this caller in the last `within_days` days."""
        key = self.key(caller)
        if key is None or threshold < 1:
            return False
        with self._read() as s, s.begin():
            return self._count_recent(s, key, self._clock(), within_days, threshold) >= threshold

    @staticmethod
    def _count_recent(s: Session, key: str, until: dt.datetime, days: int, cap: int) -> int:
        # Counting stops at `cap`: a caller with 10,000 tickets costs the same as one with 2.
        since = until - dt.timedelta(days=days)
        recent = (select(Ticket.id).where(Ticket.caller_key == key, Ticket.created_at >= since,
                                          Ticket.created_at <= until).limit(cap).subquery())
        return int(s.scalar(select(func.count()).select_from(recent)) or 0)

    def list_tickets(self, f: TicketFilter | None = None) -> list[Ticket]:
        f = f or TicketFilter()
        with self._read() as s, s.begin():
            return list(s.scalars(self._filtered(f)))

    @staticmethod
    def _filtered(f: TicketFilter) -> Select[Ticket]:
        q = select(Ticket)
        if f.statuses:
            q = q.where(Ticket.status.in_(sorted(f.statuses)))
        for column, value in ((Ticket.line, f.line), (Ticket.kind, f.kind),
                              (Ticket.department, f.department), (Ticket.channel, f.channel),
                              (Ticket.caller_key, f.caller_key), (Ticket.emergency, f.emergency),
                              (Ticket.repeat_caller, f.repeat_caller)):
            if value is not None:
                q = q.where(column == value)
        if f.created_from is not None:
            q = q.where(Ticket.created_at >= f.created_from)
        if f.created_to is not None:
            q = q.where(Ticket.created_at < f.created_to)
        if f.overdue_at is not None:
            q = q.where(Ticket.status.in_(OPEN_STATUSES), Ticket.due_at < f.overdue_at)
        if f.flagged_deadline is not None:
            flagged = Ticket.due_flag.is_not(None)
            q = q.where(flagged if f.flagged_deadline else ~flagged)
        order = (Ticket.created_at.desc(), Ticket.id.desc()) if f.newest_first else (
            Ticket.created_at, Ticket.id)
        return q.order_by(*order).limit(min(f.limit, 1000)).offset(f.offset)

    def audit_trail(self, number: str) -> list[AuditEntry]:
        with self._read() as s, s.begin():
            ticket_id = s.scalar(select(Ticket.id).where(Ticket.number == number))
            if ticket_id is None:
                raise TicketNotFound(number)
            return list(s.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket_id)
                                  .order_by(AuditEntry.id)))

    def corrections(self, after_id: int = 0, limit: int | None = None) -> list[Correction]:
        """Agents' corrections in order, for the routing classifier's retraining."""
        with self._read() as s, s.begin():
            q = select(Correction).where(Correction.id > after_id).order_by(Correction.id)
            return list(s.scalars(q.limit(limit) if limit else q))

    def recordings(self, number: str) -> list[Recording]:
        with self._read() as s, s.begin():
            return list(s.scalars(select(Recording).join(Ticket).where(Ticket.number == number)
                                  .order_by(Recording.id)))

    # --- changes ------------------------------------------------------------------
    def update(self, number: str, changes: Mapping[str, Any], who: str) -> Ticket:
        """Apply `changes` (fields of EDITABLE), one audit entry per changed field."""
        with self._write() as s, s.begin():
            ticket = self._locked(s, number)
            self._apply(s, ticket, changes, who, self._clock())
        return ticket

    def answered(self, number: str, who: str, at: dt.datetime | None = None) -> Ticket:
        """The agent picked up (AgentConnect): start of the answer-to-dispatch time.

        Only the first answer counts; a transfer to a second agent keeps the first time.
        """
        with self._write() as s, s.begin():
            ticket = self._locked(s, number)
            if ticket.answered_at is None:
                self._apply(s, ticket, {"answered_at": at or self._clock()}, who, self._clock())
        return ticket

    def dispatch(self, number: str, department: str, changes: Mapping[str, Any],
                 who: str) -> Ticket:
        """One step: the agent's corrections, the department, status dispatched, timings."""
        if not department.strip():
            raise InvalidChange(number, "department", "must not be empty", "不能为空")
        if "status" in changes:
            raise InvalidChange(number, "status", "dispatch sets the status itself",
                                "派单时不能另行修改状态")
        with self._write() as s, s.begin():
            ticket = self._locked(s, number)
            if Status.DISPATCHED not in TRANSITIONS[ticket.status]:
                # Unlike update(), "dispatched again" is not a no-op here: moving a ticket
                # to another department goes through "returned" (dispatched -> new).
                raise InvalidTransition(number, ticket.status.value, Status.DISPATCHED.value,
                                        sorted(x.value for x in TRANSITIONS[ticket.status]))
            self._apply(s, ticket, {**changes, "department": department,
                                    "status": Status.DISPATCHED}, who, self._clock())
        log.info("ticket %s dispatched to %s by %s (%.1f s after answer)", number, department,
                 who, ticket.answer_to_dispatch_s if ticket.answer_to_dispatch_s is not None
                 else float("nan"))
        return ticket

    def add_recording(self, number: str, call_id: str | None, kind: RecordingKind,
                      path: str, who: str = "system") -> Recording:
        rel = PurePosixPath(path)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise InvalidChange(number, "recording", f"path must be relative: {path}",
                                f"录音路径必须是相对路径: {path}")
        now = self._clock()
        with self._write() as s, s.begin():
            ticket = self._locked(s, number)
            rec = Recording(ticket_id=ticket.id, call_id=call_id, kind=RecordingKind(kind),
                            path=str(rel), created_at=now)
            s.add(rec)
            s.add(AuditEntry(ticket_id=ticket.id, who=who, at=now, field="recording",
                             before=None, after=str(rel)))
        return rec

    def record_event(self, number: str, field: str, value: Any, who: str) -> AuditEntry:
        """Note something that happened to the ticket outside its own fields (a 110
        outcome, a transfer result) in its audit trail."""
        now = self._clock()
        with self._write() as s, s.begin():
            ticket = self._locked(s, number)
            entry = AuditEntry(ticket_id=ticket.id, who=who, at=now, field=field,
                               before=None, after=value)
            s.add(entry)
            ticket.updated_at = now
        return entry

    def events(self, number: str, field: str) -> list[AuditEntry]:
        return [e for e in self.audit_trail(number) if e.field == field]

    def refresh_estimated_deadlines(self, who: str = "calendar") -> list[str]:
        """Recompute the deadlines guessed on weekdays, once the calendar knows their year.

        Call after a holidays.yaml reload; returns the numbers whose deadline changed flag
        or time.
        """
        changed: list[str] = []
        now = self._clock()
        with self._write() as s, s.begin():
            for ticket in s.scalars(select(Ticket).where(Ticket.due_flag.is_not(None),
                                                         Ticket.status != Status.CLOSED)):
                deadline = self._calendar.due_at(ticket.created_at, ticket.sla_days)
                if (deadline.due_utc, deadline.reason) != (ticket.due_at, ticket.due_flag):
                    self._set(s, ticket, "due_at", deadline.due_utc, who, now)
                    self._set(s, ticket, "due_flag", deadline.reason, who, now)
                    ticket.updated_at = now
                    changed.append(ticket.number)
        return changed

    # --- internals ----------------------------------------------------------------
    @staticmethod
    def _locked(s: Session, number: str) -> Ticket:
        ticket = s.scalars(select(Ticket).where(Ticket.number == number)
                           .with_for_update()).one_or_none()
        if ticket is None:
            raise TicketNotFound(number)
        return ticket

    @staticmethod
    def _set(s: Session, ticket: Ticket, field: str, value: Any, who: str,
             now: dt.datetime) -> bool:
        before = getattr(ticket, field)
        if before == value:
            return False
        setattr(ticket, field, value)
        s.add(AuditEntry(ticket_id=ticket.id, who=who, at=now, field=field,
                         before=_jsonable(before), after=_jsonable(value)))
        return True

    def _apply(self, s: Session, ticket: Ticket, changes: Mapping[str, Any], who: str,
               now: dt.datetime) -> None:
        values = validate_changes(ticket, changes)
        old_line, old_kind = ticket.line, ticket.kind
        changed = False
        for field, value in values.items():
            changed |= self._set(s, ticket, field, value, who, now)
        if "sla_days" in values:
            deadline = self._calendar.due_at(ticket.created_at, ticket.sla_days)
            self._set(s, ticket, "due_at", deadline.due_utc, who, now)
            self._set(s, ticket, "due_flag", deadline.reason, who, now)
        if values.get("status") == Status.DISPATCHED:
            self._set(s, ticket, "dispatched_at", now, who, now)
            if ticket.answered_at is not None:
                seconds = round((now - ticket.answered_at).total_seconds(), 3)
                self._set(s, ticket, "answer_to_dispatch_s", seconds, who, now)
        if (ticket.line, ticket.kind) != (old_line, old_kind):
            s.add(Correction(ticket_id=ticket.id, text=ticket.normalized_text or ticket.transcript,
                             old_line=old_line, old_kind=old_kind, new_line=ticket.line,
                             new_kind=ticket.kind, by=who, created_at=now))
        if changed:
            ticket.updated_at = now
