"""What callers hand to the TicketStore: one frozen dataclass per command or query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tickets.vocab import Channel, Status

SLA_CLASSES = frozenset({1, 3, 7})  # the "137" rule


@dataclass(frozen=True)
class NewTicket:
    """A ticket as the IVR (routing decision), the web form or the 110 exchange fills it."""

    channel: Channel
    line: str
    kind: str
    sla_days: int
    call_id: str | None = None
    caller_number: str | None = None  # raw; normalised into caller_key by the store
    transcript: str = ""
    normalized_text: str = ""
    department: str | None = None
    grade: str | None = None
    ivr_path: tuple[str, ...] = ()
    explanation: Mapping[str, Any] = field(default_factory=dict)
    confidence: float | None = None
    entities: Mapping[str, Any] = field(default_factory=dict)
    repeat_caller: bool = False  # the store also sets it from the caller's history
    petition: bool = False
    enterprise_escalation: bool = False
    emergency: bool = False
    low_confidence: bool = False
    external_source: str | None = None
    external_ref: str | None = None
    received_at: dt.datetime | None = None  # when the caller stopped speaking; default now


@dataclass(frozen=True)
class RepeatPolicy:
    """At least `threshold` earlier tickets in `within_days` days make a repeat caller."""

    within_days: int = 30
    threshold: int = 2


@dataclass(frozen=True)
class TicketFilter:
    statuses: frozenset[Status] = frozenset()
    line: str | None = None
    kind: str | None = None
    department: str | None = None
    channel: Channel | None = None
    caller_key: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    overdue_at: dt.datetime | None = None  # open (new/dispatched) and due before this instant
    emergency: bool | None = None
    repeat_caller: bool | None = None
    flagged_deadline: bool | None = None
    limit: int = 100
    offset: int = 0
    newest_first: bool = True
