"""In-memory implementations of the desk's ports: unit tests, the bench and demos.

They behave like the real ones where the desk can tell (audit entries per changed
field, corrections kept, TicketNotFound), so tests through them mean something.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from desk.ports import (
    AuditEntry,
    DispatchRequest,
    ThreeWayRequest,
    ThreeWayResult,
    TicketFilter,
    TicketNotFound,
    TicketRecord,
)


@dataclass
class InMemoryTicketStore:
    tickets: dict[str, TicketRecord] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    corrections: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # number, field, old, new
    dispatches: list[DispatchRequest] = field(default_factory=list)
    answers: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # first answer only

    def add(self, ticket: TicketRecord) -> None:
        self.tickets[ticket.number] = ticket

    async def get(self, number: str) -> TicketRecord | None:
        return self.tickets.get(number)

    async def find_by_call(self, call_id: str) -> TicketRecord | None:
        if not call_id:
            return None
        for ticket in self.tickets.values():
            if ticket.call_id == call_id:
                return ticket
        return None

    async def history_for_caller(
        self, caller_number: str, exclude: str = "", limit: int = 10
    ) -> Sequence[TicketRecord]:
        found = [
            t
            for t in self.tickets.values()
            if caller_number and t.caller_number == caller_number and t.number != exclude
        ]
        found.sort(key=lambda t: t.created_at, reverse=True)
        return found[:limit]

    async def answered(self, number: str, who: str, at: datetime) -> None:
        if number in self.tickets:
            self.answers.setdefault(number, (who, at))

    async def dispatch(self, request: DispatchRequest) -> TicketRecord:
        ticket = self.tickets.get(request.number)
        if ticket is None:
            raise TicketNotFound(request.number)
        values: dict[str, str | int] = dict(request.changes)
        values["department"] = request.department
        values["status"] = "dispatched"
        for name, after in values.items():
            before = getattr(ticket, name)
            if str(before) != str(after):
                self.audit.append(
                    AuditEntry(
                        ticket.number,
                        request.who,
                        request.dispatched_at,
                        name,
                        str(before),
                        str(after),
                    )
                )
        for name, old, new in request.corrections:
            self.corrections.append((ticket.number, name, old, new))
        updated = replace(ticket, **values)  # type: ignore[arg-type]
        self.tickets[ticket.number] = updated
        self.dispatches.append(request)
        return updated

    async def list_tickets(self, where: TicketFilter) -> Sequence[TicketRecord]:
        out = []
        for t in sorted(self.tickets.values(), key=lambda t: t.created_at, reverse=True):
            if where.line and t.line != where.line:
                continue
            if where.status and t.status != where.status:
                continue
            if where.caller_number and t.caller_number != where.caller_number:
                continue
            if where.text and where.text not in t.transcript and where.text not in t.number:
                continue
            out.append(t)
        return out[: where.limit]

    async def audit_trail(self, number: str) -> Sequence[AuditEntry]:
        return [a for a in self.audit if a.number == number]


@dataclass
class RecordingAmi:
    """An AMI action port that records actions and answers Success (or what it is told)."""

    actions: list[dict[str, str]] = field(default_factory=list)
    reply: Mapping[str, str] = field(default_factory=lambda: {"Response": "Success"})

    async def send_action(self, action: Mapping[str, str]) -> Mapping[str, str]:
        self.actions.append(dict(action))
        return self.reply


@dataclass
class RecordingPolice110:
    requests: list[ThreeWayRequest] = field(default_factory=list)

    async def start_three_way(self, request: ThreeWayRequest) -> ThreeWayResult:
        self.requests.append(request)
        return ThreeWayResult(True, "已发起三方通话")
