"""What the desk needs from the rest of the service, as Protocols.

The desk never imports the ticket store, the AMI bridge or the 110 exchange:
the composition root hands it objects that satisfy these ports. Unit tests use
the in-memory versions in `desk.memory`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

LINES: tuple[str, ...] = (
    "enterprise",
    "property",
    "hr_social_security",
    "womens_rights",
    "market_regulation",
    "general",
    "police_110",
)
LINE_NAMES_ZH: Mapping[str, str] = {
    "enterprise": "企业服务",
    "property": "物业服务",
    "hr_social_security": "人社服务",
    "womens_rights": "妇女维权",
    "market_regulation": "市场监管",
    "general": "综合服务",
    "police_110": "110 警务",
}
KINDS_ZH: Mapping[str, str] = {
    "consultation": "咨询",
    "complaint": "投诉",
    "report": "举报",
    "help": "求助",
    "suggestion": "建议",
    "praise": "表扬",
}
# Fields an agent may correct before dispatch; the ones routing predicts become training data.
EDITABLE_FIELDS: tuple[str, ...] = ("line", "kind", "sla_days", "summary", "address", "caller_name")
PREDICTED_FIELDS: frozenset[str] = frozenset({"line", "kind", "sla_days"})


@dataclass(frozen=True)
class Entity:
    key: str  # phone, address, enterprise, amount, date
    value: str


@dataclass(frozen=True)
class TicketRecord:
    """A ticket as the desk shows it (the ticket store's adapter builds these)."""

    number: str
    created_at: datetime
    caller_number: str
    transcript: str
    line: str
    kind: str
    sla_days: int
    status: str = "new"
    channel: str = "phone"
    summary: str = ""
    address: str = ""
    caller_name: str = ""
    department: str = ""
    due_at: datetime | None = None
    confidence: float = 0.0
    explanation: tuple[str, ...] = ()
    needs_confirmation: bool = False
    flags: frozenset[str] = frozenset()  # repeat_caller, petition, enterprise_escalation, emergency
    entities: tuple[Entity, ...] = ()
    call_id: str = ""  # Asterisk Linkedid of the call that created it
    ivr_path: str = ""
    recordings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DispatchRequest:
    """One-step dispatch: the agent's corrections plus the department, in one audited change."""

    number: str
    department: str
    changes: Mapping[str, str | int]
    who: str
    dispatched_at: datetime
    # Seconds from the agent answering to the dispatch; None when dispatched outside a call.
    answer_to_dispatch_s: float | None = None
    # Fields the routing predicted that the agent changed: (field, predicted, corrected).
    corrections: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class TicketFilter:
    line: str | None = None
    status: str | None = None
    caller_number: str | None = None
    text: str | None = None
    limit: int = 100


@dataclass(frozen=True)
class AuditEntry:
    number: str
    who: str
    at: datetime
    field: str
    before: str
    after: str


class TicketNotFound(LookupError):
    pass


class TicketPort(Protocol):
    async def get(self, number: str) -> TicketRecord | None: ...

    async def find_by_call(self, call_id: str) -> TicketRecord | None:
        """The ticket created during the call whose Linkedid is `call_id`."""
        ...

    async def history_for_caller(
        self, caller_number: str, exclude: str = "", limit: int = 10
    ) -> Sequence[TicketRecord]: ...

    async def answered(self, number: str, who: str, at: datetime) -> None:
        """The agent answered the call of this ticket: start of answer-to-dispatch."""
        ...

    async def dispatch(self, request: DispatchRequest) -> TicketRecord:
        """Apply changes, set department and status 'dispatched', audit every field.

        Raises TicketNotFound for an unknown number.
        """
        ...

    async def list_tickets(self, where: TicketFilter) -> Sequence[TicketRecord]: ...

    async def audit_trail(self, number: str) -> Sequence[AuditEntry]: ...


class AmiActionPort(Protocol):
    async def send_action(self, action: Mapping[str, str]) -> Mapping[str, str]:
        """Send one AMI action; the reply's headers (Response: Success|Error, Message)."""
        ...


@dataclass(frozen=True)
class ThreeWayRequest:
    ticket_number: str
    caller_channel: str
    agent_channel: str
    who: str


@dataclass(frozen=True)
class ThreeWayResult:
    ok: bool
    message: str


class Police110Port(Protocol):
    async def start_three_way(self, request: ThreeWayRequest) -> ThreeWayResult: ...


@dataclass(frozen=True)
class ConfigStatus:
    """One administrator-edited config file as the admin page shows it."""

    name: str
    path: str
    ok: bool
    issues: tuple[str, ...] = ()
    last_reload: datetime | None = None


class ConfigStatusPort(Protocol):
    def config_status(self) -> Sequence[ConfigStatus]: ...


@dataclass(frozen=True)
class RecordingAccess:
    who: str
    at: datetime
    ticket_number: str
    recording: str
    action: str  # play | download


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC time."""
        ...

    def monotonic(self) -> float: ...


@dataclass(frozen=True)
class NoConfig:
    """A ConfigStatusPort for when nothing reports config status (tests, bench)."""

    items: tuple[ConfigStatus, ...] = field(default_factory=tuple)

    def config_status(self) -> Sequence[ConfigStatus]:
        return self.items


# Events the desk listens for that the speech engine and the IVR publish on the bus.
# (Defined here until they move to a shared module; the desk only reads them.)


@dataclass(frozen=True)
class SpeechPartial:
    """A caller still in the IVR: the recognizer's text so far (or the final text)."""

    call_id: str  # the call's Linkedid
    text: str
    final: bool = False
    caller_number: str = ""
    lag_s: float | None = None  # audio-to-text lag the recognizer measured


@dataclass(frozen=True)
class IvrCallEnded:
    """The IVR let go of a call: queued to a line, sent to 110, or the caller hung up."""

    call_id: str
    outcome: str  # queued | police_110 | hangup | fallback
