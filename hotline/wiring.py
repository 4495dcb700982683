"""Adapters the composition root puts between the parts, so no part imports another's internals."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ami_bridge.events import HotlineRecording
from ami_bridge.tracker import CallTracker
from asr import events as asr_events
from desk.ports import ConfigStatus, IvrCallEnded, SpeechPartial
from hotline.bus import EventBus
from hotline.yamlconf import ConfigError
from ivr.record import IvrPath
from police110.call import PoliceTransferOutcome
from routing.decision import Decision
from routing.router import Router
from tickets.commands import NewTicket
from tickets.errors import DuplicateExternalRef, TicketError, TicketNotFound
from tickets.store import TicketStore
from tickets.vocab import Channel, RecordingKind

log = logging.getLogger(__name__)


class LiveRouter:
    """The router in force; a reload of routing.yaml swaps it whole, between two calls."""

    def __init__(self, router: Router) -> None:
        self._router = router

    @property
    def current(self) -> Router:
        return self._router

    def replace(self, router: Router) -> None:
        self._router = router

    def route(self, text: str) -> Decision:
        return self._router.route(text)


@dataclass
class _FileState:
    name: str
    path: str
    ok: bool = True
    issues: tuple[str, ...] = ()
    last_reload: dt.datetime | None = None


@dataclass
class ConfigBoard:
    """Validation result and last good reload of every administrator-edited file."""

    _files: dict[str, _FileState] = field(default_factory=dict)

    def loaded(self, name: str, path: Path) -> None:
        self._files[name] = _FileState(name, str(path), True, (), dt.datetime.now(dt.UTC))

    def refused(self, name: str, path: Path, error: ConfigError) -> None:
        prev = self._files.get(name)
        self._files[name] = _FileState(
            name,
            str(path),
            False,
            tuple(str(i) for i in error.issues),
            prev.last_reload if prev else None,
        )

    def config_status(self) -> Sequence[ConfigStatus]:
        return [
            ConfigStatus(f.name, f.path, f.ok, f.issues, f.last_reload)
            for f in self._files.values()
        ]

    def as_json(self) -> list[dict[str, object]]:
        return [
            {
                "name": f.name,
                "ok": f.ok,
                "issues": list(f.issues),
                "last_reload": f.last_reload.isoformat() if f.last_reload else None,
            }
            for f in self._files.values()
        ]


class PoliceTickets:
    """police110's TicketPort over the ticket store: referrals become routed tickets."""

    SOURCE = "police110"

    def __init__(self, store: TicketStore, router: LiveRouter) -> None:
        self._store = store
        self._router = router

    def create_from_referral(self, incident_no: str, payload: Mapping[str, str]) -> str:
        existing = self._store.find_by_external_ref(self.SOURCE, incident_no)
        if existing is not None:
            return existing.number
        text = payload.get("summary", "")
        decision = self._router.route(text)
        # 110 sends us what it judged not to be a police matter: if our rules still say
        # police, an agent decides (general line, flagged), it is not bounced back.
        line = decision.line if decision.line != "police_110" else "general"
        entities: dict[str, object] = (
            {"address": payload.get("address", "")} if payload.get("address") else {}
        )
        new = NewTicket(
            channel=Channel.POLICE110,
            line=line,
            kind=decision.kind,
            sla_days=decision.sla_days,
            caller_number=payload.get("caller_number") or None,
            transcript=text,
            normalized_text=decision.normalised,
            confidence=decision.confidence,
            entities=entities,
            low_confidence=decision.low_confidence or line != decision.line,
            external_source=self.SOURCE,
            external_ref=incident_no,
        )
        try:
            return self._store.create_ticket(new, who=self.SOURCE).number
        except DuplicateExternalRef as dup:
            return dup.number

    def apply_feedback(
        self, ticket_number: str, *, status: str, seq: int, note: str, occurred_at: str, source: str
    ) -> bool:
        try:
            earlier = self._store.events(ticket_number, "police110_feedback")
        except TicketNotFound:
            return False
        # Several service processes may apply feedback: never let an older one win.
        if any(isinstance(e.after, dict) and e.after.get("seq", -1) >= seq for e in earlier):
            return True
        self._store.record_event(
            ticket_number,
            "police110_feedback",
            {
                "status": status,
                "seq": seq,
                "note": note,
                "occurred_at": occurred_at,
                "source": source,
            },
            who=source,
        )
        return True


class TransferOutcomes:
    """police110's TransferOutcomePort: how a 110 transfer ended goes on the ticket;
    anything but an answer flags it as an emergency for the agent who gets the call."""

    def __init__(self, store: TicketStore) -> None:
        self._store = store

    async def record_transfer(self, outcome: PoliceTransferOutcome) -> None:
        if not outcome.ticket_number:
            return
        await asyncio.to_thread(self._record, outcome)

    def _record(self, outcome: PoliceTransferOutcome) -> None:
        number = outcome.ticket_number
        self._store.record_event(
            number,
            "police110_transfer",
            {
                "kind": outcome.kind,
                "outcome": outcome.outcome,
                "dial_status": outcome.dial_status,
                "ring_seconds": round(outcome.ring_seconds, 2),
                "call_id": outcome.call_id,
            },
            who="dialplan",
        )
        if not outcome.answered:
            self._store.update(number, {"emergency": True}, who="dialplan")


async def translate_for_desk(bus: EventBus, tracker: CallTracker) -> None:
    """Speech and IVR events, said the way the desk's supervisor page reads them."""
    sub = bus.subscribe()
    try:
        async for event in sub:
            match event:
                case asr_events.SpeechPartial(call_id=call_id, text=text, at=at):
                    bus.publish(
                        SpeechPartial(
                            call_id,
                            text,
                            False,
                            _caller(tracker, call_id),
                            max(0.0, time.time() - at),
                        )
                    )
                case asr_events.SpeechFinal(call_id=call_id, text=text, at=at):
                    bus.publish(
                        SpeechPartial(
                            call_id,
                            text,
                            True,
                            _caller(tracker, call_id),
                            max(0.0, time.time() - at),
                        )
                    )
                case IvrPath(call_id=call_id, action=action):
                    bus.publish(IvrCallEnded(call_id, _IVR_OUTCOMES.get(action, "fallback")))
                case _:
                    pass
    finally:
        sub.close()


_IVR_OUTCOMES = {
    "queue": "queued",
    "police110": "police_110",
    "hangup": "hangup",
    "callback": "queued",
    "agent": "queued",
}


def _caller(tracker: CallTracker, call_id: str) -> str:
    call = tracker.call(call_id) or tracker.call_of_channel(call_id)
    return call.caller_num if call is not None else ""


async def link_call_recordings(bus: EventBus, store: TicketStore) -> None:
    """The dialplan says which MixMonitor file belongs to which ticket: keep that link."""
    sub = bus.subscribe()
    try:
        async for event in sub:
            if isinstance(event, HotlineRecording) and event.ticket and event.path:
                try:
                    await asyncio.to_thread(
                        store.add_recording,
                        event.ticket,
                        event.linkedid,
                        RecordingKind.CALL,
                        event.path,
                        "dialplan",
                    )
                except (TicketError, ValueError) as exc:
                    log.warning(
                        "recording %s not linked to ticket %s: %s",
                        event.path,
                        event.ticket,
                        exc,
                        extra={"call_id": event.linkedid},
                    )
    finally:
        sub.close()
