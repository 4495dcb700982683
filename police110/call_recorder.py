"""The ticket learns how the IVR's 110 transfer ended, from the AMI Dial events.

The dialplan's `hotline-police` context dials the 110 exchange from the caller's
channel; Asterisk reports DialBegin then DialEnd for that leg, both carrying the
caller channel's TICKET_ID (manager.conf `channelvars`). `PoliceDialTracker` pairs
them (pure, no I/O); `TransferOutcomeRecorder` feeds it from the event bus, writes
each outcome through `TransferOutcomePort` and publishes it on the bus for the desk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from ami_bridge.events import DialBegin, DialEnd, Hangup
from hotline.bus import EventBus
from hotline.logs import CallLog
from police110.call_outcome import PoliceTransferOutcome, TransferOutcomePort, outcome_of

log = logging.getLogger(__name__)

TRANSFER_CONTEXT = "hotline-police"  # the dialplan context that dials 110 for the IVR
POLICE_CHANNEL_PREFIX = "PJSIP/police110-"


@dataclass(frozen=True)
class _Ringing:
    ticket_number: str
    call_id: str
    started: float  # monotonic


class PoliceDialTracker:
    """Pairs the DialBegin and DialEnd of 110 legs dialled by `hotline-police`."""

    def __init__(
        self,
        *,
        context: str = TRANSFER_CONTEXT,
        channel_prefix: str = POLICE_CHANNEL_PREFIX,
        max_open: int = 1000,
    ) -> None:
        self._context = context
        self._prefix = channel_prefix
        self._max_open = max_open
        # dest uniqueid of the 110 leg -> what we knew when it started ringing
        self._open: OrderedDict[str, _Ringing] = OrderedDict()

    @property
    def ringing(self) -> int:
        return len(self._open)

    def observe(self, event: object, now: float, wall: float) -> PoliceTransferOutcome | None:
        """Feed one event; returns the outcome when a 110 leg's dial has ended."""
        if isinstance(event, DialBegin) and self._ours(event.context, event.dest_channel):
            self._open[event.dest_uniqueid] = _Ringing(
                event.vars.get("TICKET_ID", ""), event.linkedid, now
            )
            while len(self._open) > self._max_open:  # a lost DialEnd must not leak forever
                self._open.popitem(last=False)
            return None
        if isinstance(event, DialEnd) and event.dest_uniqueid in self._open:
            ringing = self._open.pop(event.dest_uniqueid)
            return PoliceTransferOutcome(
                ticket_number=event.vars.get("TICKET_ID", "") or ringing.ticket_number,
                call_id=ringing.call_id,
                kind="transfer",
                outcome=outcome_of(event.dial_status),
                dial_status=event.dial_status,
                ring_seconds=round(now - ringing.started, 3),
                at=wall,
            )
        if isinstance(event, Hangup):
            self._open.pop(event.uniqueid, None)  # DialEnd always comes first; belt and braces
        return None

    def _ours(self, context: str, dest_channel: str) -> bool:
        return context == self._context and dest_channel.startswith(self._prefix)


class TransferOutcomeRecorder:
    """Runs until cancelled: bus events in, transfer outcomes to the ticket store out."""

    def __init__(
        self,
        bus: EventBus,
        tickets: TransferOutcomePort,
        *,
        tracker: PoliceDialTracker | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._bus = bus
        self._tickets = tickets
        self._tracker = tracker or PoliceDialTracker()
        self._clock = clock
        self._wall = wall
        self.recorded = 0
        self.failures = 0

    async def run(self, started: asyncio.Event | None = None) -> None:
        sub = self._bus.subscribe()
        if started is not None:
            started.set()
        try:
            while True:
                event = await sub.get()
                outcome = self._tracker.observe(event, self._clock(), self._wall())
                if outcome is not None:
                    await self._record(outcome)
        finally:
            sub.close()

    async def _record(self, outcome: PoliceTransferOutcome) -> None:
        call_log = CallLog(log, outcome.call_id)
        self._bus.publish(outcome)
        if not outcome.ticket_number:
            call_log.warning("110 transfer ended (%s) on a call without a ticket", outcome.outcome)
            return
        try:
            await self._tickets.record_transfer(outcome)
        except Exception:  # the store being down must not stop the next call's record
            self.failures += 1
            call_log.exception("could not record the 110 transfer on ticket %s",
                               outcome.ticket_number)
            return
        self.recorded += 1
        call_log.info("110 transfer %s after %.1f s (ticket %s)", outcome.outcome,
                      outcome.ring_seconds, outcome.ticket_number)
