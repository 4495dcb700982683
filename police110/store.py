"""The exchange's own tables (all prefixed `police110_`) and the queries on them.

Synchronous SQLAlchemy 2 Core: callers on the event loop go through `asyncio.to_thread`.
The tables have their own `METADATA`; the lead folds them into the shared Alembic history.

Durability rule of the outbox: a message is written before anyone is told it will be
sent, and a claim is a lease (`next_attempt_at` pushed past the request timeout) rather
than a "sending" state, so a worker killed mid-send leaves the message due again once the
lease runs out: nothing is stuck and nothing is lost (at-least-once; receivers de-duplicate
on `message_id`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

METADATA = MetaData()

nonces = Table(
    "police110_nonces", METADATA,
    Column("partner_id", String(64), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    PrimaryKeyConstraint("partner_id", "nonce"),
)

inbound_referrals = Table(
    "police110_inbound_referrals", METADATA,
    Column("partner_id", String(64), nullable=False),
    Column("incident_no", String(40), nullable=False),
    Column("ticket_number", String(40), nullable=False),
    Column("received_at", Float, nullable=False),
    PrimaryKeyConstraint("partner_id", "incident_no"),
)

# Last applied feedback per case and direction: "in" cases are our ticket numbers (110
# reports on them), "out" cases are 110 incident numbers (we report on them).
feedback = Table(
    "police110_feedback", METADATA,
    Column("direction", String(3), nullable=False),
    Column("partner_id", String(64), nullable=False),
    Column("case_no", String(40), nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("updated_at", Float, nullable=False),
    PrimaryKeyConstraint("direction", "partner_id", "case_no"),
)

outbound_referrals = Table(
    "police110_outbound_referrals", METADATA,
    Column("partner_id", String(64), nullable=False),
    Column("ticket_number", String(40), nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("incident_no", String(40), nullable=True),  # their answer, once delivered
    Column("delivered_at", Float, nullable=True),
    PrimaryKeyConstraint("partner_id", "ticket_number"),
)

outbox = Table(
    "police110_outbox", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(36), nullable=False, unique=True),
    Column("partner_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # "referral" | "feedback"
    Column("path", String(200), nullable=False),  # appended to the partner's base_url
    Column("case_no", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(12), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    Column("last_error", Text, nullable=False, default=""),
    Column("response", Text, nullable=False, default=""),
    Index("ix_police110_outbox_due", "state", "next_attempt_at"),
)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
KIND_REFERRAL, KIND_FEEDBACK = "referral", "feedback"


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    message_id: str
    partner_id: str
    kind: str
    path: str
    case_no: str
    body: str
    state: str
    attempts: int
    next_attempt_at: float
    created_at: float
    delivered_at: float | None
    last_error: str
    response: str

    @classmethod
    def from_row(cls, row: Any) -> OutboxMessage:
        return cls(**{c.name: row._mapping[c.name] for c in outbox.columns})


def sqlite_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and full fsync on commit."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")  # the outbox promises durability
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()
    return engine


class Police110Store:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def from_url(cls, url: str, clock: Callable[[], float] = time.time) -> Police110Store:
        return cls(sqlite_engine(url), clock)

    def create_tables(self) -> None:
        """For tests and the stand-alone worker; the service uses Alembic migrations."""
        METADATA.create_all(self.engine)

    # --- nonces -------------------------------------------------------------------

    def remember_nonce(self, partner_id: str, nonce: str, expires_at: float) -> bool:
        """Store a nonce; False when it was already there (a replay)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(nonces.insert().values(partner_id=partner_id, nonce=nonce,
                                                    expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    def purge_nonces(self) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(nonces.delete().where(nonces.c.expires_at < self.clock()))
            return int(result.rowcount)

    # --- inbound referrals --------------------------------------------------------

    def referral_ticket(self, partner_id: str, incident_no: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(inbound_referrals.c.ticket_number).where(
                    inbound_referrals.c.partner_id == partner_id,
                    inbound_referrals.c.incident_no == incident_no)
            ).scalar_one_or_none()
        return None if value is None else str(value)

    def record_referral(self, partner_id: str, incident_no: str, ticket_number: str) -> str:
        """Remember which ticket answers an incident; returns the ticket stored first."""
        try:
            with self.engine.begin() as conn:
                conn.execute(inbound_referrals.insert().values(
                    partner_id=partner_id, incident_no=incident_no,
                    ticket_number=ticket_number, received_at=self.clock()))
        except IntegrityError:
            existing = self.referral_ticket(partner_id, incident_no)
            if existing is None:
                raise
            return existing
        return ticket_number

    def partner_has_ticket(self, partner_id: str, ticket_number: str) -> bool:
        """Whether this ticket was referred to or from this partner (who may report on it)."""
        with self.engine.connect() as conn:
            pushed = conn.execute(select(outbound_referrals.c.ticket_number).where(
                outbound_referrals.c.partner_id == partner_id,
                outbound_referrals.c.ticket_number == ticket_number)).first()
            if pushed is not None:
                return True
            received = conn.execute(select(inbound_referrals.c.ticket_number).where(
                inbound_referrals.c.partner_id == partner_id,
                inbound_referrals.c.ticket_number == ticket_number).limit(1)).first()
        return received is not None

    # --- feedback order -----------------------------------------------------------

    def last_feedback_seq(self, direction: str, partner_id: str, case_no: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(feedback.c.last_seq).where(
                feedback.c.direction == direction, feedback.c.partner_id == partner_id,
                feedback.c.case_no == case_no)).scalar_one_or_none()
        return 0 if value is None else int(value)

    def record_feedback(self, direction: str, partner_id: str, case_no: str, seq: int,
                        status: str) -> bool:
        """Move the case to `seq` unless it is already there or beyond; True when moved."""
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                conn.execute(feedback.insert().values(
                    direction=direction, partner_id=partner_id, case_no=case_no,
                    last_seq=seq, status=status, updated_at=now))
            return True
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            result = conn.execute(update(feedback).where(
                feedback.c.direction == direction, feedback.c.partner_id == partner_id,
                feedback.c.case_no == case_no, feedback.c.last_seq < seq,
            ).values(last_seq=seq, status=status, updated_at=now))
            return bool(result.rowcount)

    # --- outbox -------------------------------------------------------------------

    def _insert_outbox(self, conn: Any, partner_id: str, kind: str, path: str, case_no: str,
                       body: dict[str, Any], message_id: str) -> None:
        now = self.clock()
        conn.execute(outbox.insert().values(
            message_id=message_id, partner_id=partner_id, kind=kind, path=path,
            case_no=case_no, body=json.dumps(body, ensure_ascii=False, sort_keys=True),
            state=PENDING, attempts=0, next_attempt_at=now, created_at=now,
            last_error="", response=""))

    def enqueue_referral(self, partner_id: str, ticket_number: str,
                         body_for: Callable[[str], dict[str, Any]]) -> tuple[str, bool]:
        """Queue the push of one ticket to a partner, once: (message_id, newly queued)."""
        message_id = str(uuid.uuid4())
        try:
            with self.engine.begin() as conn:
                conn.execute(outbound_referrals.insert().values(
                    partner_id=partner_id, ticket_number=ticket_number,
                    message_id=message_id))
                self._insert_outbox(conn, partner_id, KIND_REFERRAL, "/referrals",
                                    ticket_number, body_for(message_id), message_id)
        except IntegrityError:
            with self.engine.connect() as conn:
                existing = conn.execute(select(outbound_referrals.c.message_id).where(
                    outbound_referrals.c.partner_id == partner_id,
                    outbound_referrals.c.ticket_number == ticket_number)).scalar_one()
            return str(existing), False
        return message_id, True

    def enqueue_feedback(self, partner_id: str, incident_no: str,
                         body_for: Callable[[str, int], dict[str, Any]], status: str) -> str:
        """Queue one outcome update; its seq is the case's next one, taken atomically."""
        message_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            key = (feedback.c.direction == "out", feedback.c.partner_id == partner_id,
                   feedback.c.case_no == incident_no)
            seq = conn.execute(update(feedback).where(*key).values(
                last_seq=feedback.c.last_seq + 1, status=status, updated_at=self.clock(),
            ).returning(feedback.c.last_seq)).scalar_one_or_none()
            if seq is None:
                seq = 1
                conn.execute(feedback.insert().values(
                    direction="out", partner_id=partner_id, case_no=incident_no, last_seq=1,
                    status=status, updated_at=self.clock()))
            self._insert_outbox(conn, partner_id, KIND_FEEDBACK, "/feedback", incident_no,
                                body_for(message_id, int(seq)), message_id)
        return message_id

    def claim_due(self, limit: int, lease_s: float) -> list[OutboxMessage]:
        """Take up to `limit` due messages, leasing them for `lease_s` seconds."""
        now = self.clock()
        due = (outbox.c.state == PENDING, outbox.c.next_attempt_at <= now)
        ids = (select(outbox.c.id).where(*due)
               .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit))
        with self.engine.begin() as conn:
            rows = conn.execute(
                update(outbox).where(outbox.c.id.in_(ids.scalar_subquery()), *due)
                .values(attempts=outbox.c.attempts + 1, next_attempt_at=now + lease_s)
                .returning(*outbox.c)
            ).all()
        return sorted((OutboxMessage.from_row(r) for r in rows), key=lambda m: m.id)

    def next_due_at(self) -> float | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.min(outbox.c.next_attempt_at))
                                 .where(outbox.c.state == PENDING)).scalar_one_or_none()
        return None if value is None else float(value)

    def mark_delivered(self, message: OutboxMessage, response: str,
                       incident_no: str | None = None) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == message.id,
                                              outbox.c.state == PENDING)
                         .values(state=DELIVERED, delivered_at=now, response=response[:2000],
                                 last_error=""))
            if message.kind == KIND_REFERRAL and incident_no:
                conn.execute(update(outbound_referrals).where(
                    outbound_referrals.c.partner_id == message.partner_id,
                    outbound_referrals.c.ticket_number == message.case_no,
                ).values(incident_no=incident_no, delivered_at=now))

    def mark_retry(self, message: OutboxMessage, error: str, next_attempt_at: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == message.id,
                                              outbox.c.state == PENDING)
                         .values(next_attempt_at=next_attempt_at, last_error=error[:500]))

    def mark_dead(self, message: OutboxMessage, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == message.id,
                                              outbox.c.state == PENDING)
                         .values(state=DEAD, last_error=error[:500]))

    # --- what the administrator page shows -----------------------------------------

    def dead_letters(self, limit: int = 100, offset: int = 0) -> list[OutboxMessage]:
        """Messages that gave up, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox).where(outbox.c.state == DEAD)
                                .order_by(outbox.c.id.desc()).limit(limit).offset(offset)).all()
        return [OutboxMessage.from_row(r) for r in rows]

    def requeue(self, message_id: str) -> bool:
        """Give a dead message a fresh set of attempts (the admin's "retry" button)."""
        with self.engine.begin() as conn:
            result = conn.execute(update(outbox).where(outbox.c.message_id == message_id,
                                                       outbox.c.state == DEAD)
                                  .values(state=PENDING, attempts=0,
                                          next_attempt_at=self.clock()))
            return bool(result.rowcount)

    def outbox_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox.c.state, func.count())
                                .group_by(outbox.c.state)).all()
        counts = {PENDING: 0, DELIVERED: 0, DEAD: 0}
        counts.update({str(state): int(n) for state, n in rows})
        return counts

    def messages(self, state: str | None = None) -> list[OutboxMessage]:
        query = select(outbox).order_by(outbox.c.id)
        if state is not None:
            query = query.where(outbox.c.state == state)
        with self.engine.connect() as conn:
            return [OutboxMessage.from_row(r) for r in conn.execute(query).all()]

    def outbound_incident(self, partner_id: str, ticket_number: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(outbound_referrals.c.incident_no).where(
                outbound_referrals.c.partner_id == partner_id,
                outbound_referrals.c.ticket_number == ticket_number)).scalar_one_or_none()
        return None if value is None else str(value)
