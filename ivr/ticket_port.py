"""The TicketPort over the project's TicketStore (tickets/): the ticket made in the call.

The store is synchronous SQLAlchemy, so every call runs in a worker thread and the
event loop keeps serving other callers while the database writes.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, is_dataclass
from typing import Any

from ivr.config import POLICE_LINE
from ivr.ports import RouteDecision
from ivr.record import IvrPath
from tickets.commands import NewTicket
from tickets.store import TicketStore
from tickets.vocab import Channel

# A line chosen by keys says nothing of the request itself: the agent sets the kind;
# until then it is a consultation on the 3-working-day class.
KEYS_KIND = "consultation"
KEYS_SLA_DAYS = 3


def path_entries(path: IvrPath) -> tuple[str, ...]:
    """The path as the ticket keeps it: one `at_seconds kind detail` string a step."""
    return tuple(f"{s.at:.1f}s {s.kind} {s.detail}".strip() for s in path.steps)


def _explanation(decision: RouteDecision | None) -> dict[str, Any]:
    explanation = getattr(decision, "explanation", None)
    if explanation is not None and is_dataclass(explanation) and not isinstance(explanation, type):
        return asdict(explanation)
    return {}


def _entities(decision: RouteDecision | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entity in getattr(decision, "entities", ()):
        key = getattr(entity, "key", None)
        if key is not None and is_dataclass(entity) and not isinstance(entity, type):
            out[str(key)] = asdict(entity)
    return out


class StoreTicketPort:
    def __init__(self, store: TicketStore, recent_days: int = 7) -> None:
        self.store = store
        self.recent_days = recent_days

    def new_ticket(self, call_id: str, caller: str, transcript: str,
                   decision: RouteDecision | None, path: IvrPath) -> NewTicket:
        return NewTicket(
            channel=Channel.PHONE,
            line=path.line or "general",
            kind=decision.kind if decision is not None else KEYS_KIND,
            sla_days=decision.sla_days if decision is not None else KEYS_SLA_DAYS,
            call_id=call_id,
            caller_number=caller or None,
            transcript=transcript,
            normalized_text=str(getattr(decision, "normalised", "")),
            ivr_path=path_entries(path),
            explanation=_explanation(decision),
            confidence=decision.confidence if decision is not None else None,
            entities=_entities(decision),
            emergency=path.line == POLICE_LINE,
            low_confidence=decision.low_confidence if decision is not None else False,
        )

    async def create_ticket(self, call_id: str, caller: str, transcript: str,
                            decision: RouteDecision | None, ivr_path: IvrPath) -> str:
        new = self.new_ticket(call_id, caller, transcript, decision, ivr_path)
        ticket = await asyncio.to_thread(self.store.create_ticket, new, "ivr")
        return str(ticket.number)

    async def caller_context(self, caller: str) -> tuple[bool, int]:
        tickets = await asyncio.to_thread(self.store.history_for_caller, caller,
                                          self.recent_days)
        return bool(tickets), len(tickets)
