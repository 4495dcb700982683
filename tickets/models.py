"""SQLAlchemy 2 models of the ticket store (the same on SQLite and PostgreSQL).

Times are aware UTC datetimes (UTCDateTime); deadlines are computed in Beijing time by
tickets.workcalendar and stored in UTC like everything else.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tickets.types import UTCDateTime, json_type
from tickets.vocab import Channel, RecordingKind, Status

# Stable constraint names, so migrations can refer to them on both databases.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _enum(cls: type[StrEnum], name: str) -> Enum:
    # VARCHAR plus a CHECK constraint rather than a native PostgreSQL ENUM: adding a
    # value later is then a plain migration on both databases.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=16,
                values_callable=lambda e: [m.value for m in e], validate_strings=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("external_source", "external_ref"),
        Index("ix_tickets_caller_key_created_at", "caller_key", "created_at"),
        Index("ix_tickets_status_due_at", "status", "due_at"),
        Index("ix_tickets_line_created_at", "line", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # 20261126-0001
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # As received (shown masked); caller_key is the normalised lookup key, NULL if withheld.
    caller_number: Mapped[str | None] = mapped_column(String(32))
    caller_key: Mapped[str | None] = mapped_column(String(20))
    transcript: Mapped[str] = mapped_column(Text, default="")
    normalized_text: Mapped[str] = mapped_column(Text, default="")
    line: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    sla_days: Mapped[int] = mapped_column(SmallInteger)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_flag: Mapped[str | None] = mapped_column(String(32))  # "weekday-estimate"
    status: Mapped[Status] = mapped_column(_enum(Status, "status"), default=Status.NEW)
    department: Mapped[str | None] = mapped_column(String(64))
    grade: Mapped[str | None] = mapped_column(String(16))
    ivr_path: Mapped[list[Any]] = mapped_column(json_type(), default=list)
    explanation: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    confidence: Mapped[float | None] = mapped_column(Float)
    entities: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    repeat_caller: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    petition: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    enterprise_escalation: Mapped[bool] = mapped_column(Boolean, default=False,
                                                        server_default=false())
    emergency: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    low_confidence: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    external_source: Mapped[str | None] = mapped_column(String(32))  # "police110"
    external_ref: Mapped[str | None] = mapped_column(String(64))  # its incident number
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    answer_to_dispatch_s: Mapped[float | None] = mapped_column(Float)

    def __repr__(self) -> str:
        return f"Ticket({self.number}, {self.line}/{self.kind}, {self.status})"


class AuditEntry(Base):
    """One changed field of one ticket: who, when, value before and after (JSON)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    who: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    field: Mapped[str] = mapped_column(String(64))
    before: Mapped[Any] = mapped_column(json_type(), nullable=True)
    after: Mapped[Any] = mapped_column(json_type(), nullable=True)


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[RecordingKind] = mapped_column(_enum(RecordingKind, "recording_kind"))
    path: Mapped[str] = mapped_column(String(512), unique=True)  # relative to the recordings dir
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Correction(Base):
    """An agent's change of line or kind: training data for the routing classifier."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    old_line: Mapped[str] = mapped_column(String(32))
    old_kind: Mapped[str] = mapped_column(String(16))
    new_line: Mapped[str] = mapped_column(String(32))
    new_kind: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class TicketCounter(Base):
    """Last sequence number handed out per Beijing day (YYYYMMDD)."""

    __tablename__ = "ticket_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
