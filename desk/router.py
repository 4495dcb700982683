"""The desk's one bus listener: every event the desk cares about goes to its handler.

Pops run as tasks (chained per call, see PendingPops) so a slow ticket lookup for
one call never delays the pops of others; the rest is quick bookkeeping done inline.
"""

from __future__ import annotations

import logging

from ami_bridge import events as ev
from desk.live import LiveBoard
from desk.metrics import DeskMetrics
from desk.notifier import Notifier
from desk.ports import Clock, IvrCallEnded, SpeechPartial
from desk.screenpop import PendingPops, PopService
from hotline.asterisk_config import line_of_queue
from hotline.bus import Subscription

log = logging.getLogger(__name__)


class EventRouter:
    def __init__(
        self,
        pops: PopService,
        live: LiveBoard,
        notifier: Notifier,
        metrics: DeskMetrics,
        clock: Clock,
    ) -> None:
        self._pops = pops
        self._live = live
        self._notifier = notifier
        self._metrics = metrics
        self._clock = clock
        self.pending = PendingPops()

    async def run(self, subscription: Subscription) -> None:
        async for event in subscription:
            try:
                self.handle(event)
            except Exception:
                log.exception("desk: event %s not handled", type(event).__name__)

    def handle(self, event: object) -> None:
        received = self._clock.monotonic()
        if isinstance(event, ev.AgentCalled):
            e_called = event
            self.pending.start(event.linkedid, lambda: self._pops.on_called(e_called, received))
        elif isinstance(event, ev.AgentConnect):
            e_connect = event
            self.pending.start(event.linkedid, lambda: self._pops.on_connect(e_connect, received))
        elif isinstance(event, ev.AgentComplete):
            e_complete = event

            async def complete() -> None:
                self._pops.on_complete(e_complete)

            self.pending.start(event.linkedid, complete)
        elif isinstance(event, ev.HotlineVars):
            self._pops.remember_vars(event)
        elif isinstance(event, ev.QueueCallerJoin):
            self._metrics.calls.labels(line_of_queue(event.queue)).inc()
            self._live.queue_join(event)
            self._queues_changed()
        elif isinstance(event, ev.QueueCallerLeave):
            self._live.queue_leave(event.linkedid)
            self._queues_changed()
        elif isinstance(event, ev.QueueCallerAbandon):
            self._metrics.abandoned.labels(line_of_queue(event.queue)).inc()
            self._live.queue_leave(event.linkedid)
            self._queues_changed()
            self._call_gone(event.linkedid)
        elif isinstance(event, SpeechPartial):
            if event.lag_s is not None:
                self._metrics.asr_lag.observe(event.lag_s)
            item = self._live.speech(event)
            self._notifier.to_supervisors(
                {"type": "ivr_partial", "call": self._live.ivr_json(item)}
            )
        elif isinstance(event, IvrCallEnded):
            self._metrics.ivr_outcomes.labels(event.outcome).inc()
            if self._live.ivr_ended(event):
                self._notifier.to_supervisors({"type": "ivr_gone", "call_id": event.call_id})
        elif isinstance(event, ev.Hangup):
            if self._live.ivr_ended(event):
                self._notifier.to_supervisors({"type": "ivr_gone", "call_id": event.linkedid})
            if event.uniqueid == event.linkedid:  # the caller's own channel
                self._call_gone(event.linkedid)

    def _call_gone(self, linkedid: str) -> None:
        # In the per-call chain, so it lands after any pop still being built for the call.
        async def gone() -> None:
            self._pops.call_gone(linkedid)

        self.pending.start(linkedid, gone)

    def _queues_changed(self) -> None:
        self._notifier.to_supervisors({"type": "queues", "queues": self._live.queues_json()})
