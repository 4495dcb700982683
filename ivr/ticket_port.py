"""The TicketPort over the project's TicketStore (tickets/): the ticket made in the call.

The store is synchronous SQLAlchemy, so every call runs in a worker thread and the
event loop keeps serving other callers while the database writes.

The caller's speech files (absolute paths in the IVR path, from the speech outcome)
are linked to the ticket right after it is created, in the same worker thread, as
names relative to the recordings folder. A link that fails is logged with the call
id and dropped: the ticket and the call matter more than the link.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, is_dataclass
from typing import Any

from hotline.logs import CallLog
from ivr.config import POLICE_LINE
from ivr.ports import RouteDecision
from ivr.record import IvrPath
from recordings.store import RecordingStore
from tickets.commands import NewTicket
from tickets.store import TicketStore
from tickets.vocab import Channel, RecordingKind

log = logging.getLogger(__name__)

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
    def __init__(self, store: TicketStore, recent_days: int = 7,
                 recordings: RecordingStore | None = None) -> None:
        self.store = store
        self.recent_days = recent_days
        # Where speech files live; without it they cannot be named relatively, so not linked.
        self.recordings = recordings

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
        # One thread for both steps: should the IVR stop waiting, the link is still made.
        return await asyncio.to_thread(self._create_and_link, new, call_id,
                                       ivr_path.speech_recordings)

    def _create_and_link(self, new: NewTicket, call_id: str,
                         speech_recordings: tuple[str, ...]) -> str:
        number = str(self.store.create_ticket(new, "ivr").number)
        for path in speech_recordings:
            self.link_speech(number, call_id, path)
        return number

    def link_speech(self, number: str, call_id: str, path: str) -> bool:
        """Link one speech file to the ticket; False (logged) when it cannot be."""
        call_log = CallLog(log, call_id)
        if self.recordings is None:
            call_log.warning("speech recording %s not linked to ticket %s: no recordings folder"
                             " given to the ticket port", path, number)
            return False
        try:
            relative = self.recordings.relative(path)
            self.store.add_recording(number, call_id, RecordingKind.SPEECH, str(relative), "ivr")
        except Exception:  # any fault (path, database) must leave the ticket and the call be
            call_log.warning("speech recording %s not linked to ticket %s", path, number,
                             exc_info=True)
            return False
        return True

    async def caller_context(self, caller: str) -> tuple[bool, int]:
        tickets = await asyncio.to_thread(self.store.history_for_caller, caller,
                                          self.recent_days)
        return bool(tickets), len(tickets)
