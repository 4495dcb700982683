"""What supervisors watch live: callers waiting per line, and callers still in the IVR
with the recognizer's partial transcript. Numbers are masked here: nobody on the
supervisor page needs them in full."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from ami_bridge import events as ev
from desk.ports import LINE_NAMES_ZH, Clock, IvrCallEnded, SpeechPartial
from hotline.asterisk_config import line_of_queue
from hotline.logs import mask_phone

MAX_IVR_CALLS = 500  # bounds memory if end events are lost


@dataclass
class Waiting:
    linkedid: str
    queue: str
    caller: str  # masked
    since: float


@dataclass
class InIvr:
    call_id: str
    caller: str  # masked
    text: str
    final: bool
    since: float
    updated: float


class LiveBoard:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._waiting: dict[str, Waiting] = {}
        self._ivr: dict[str, InIvr] = {}

    def queue_join(self, e: ev.QueueCallerJoin) -> None:
        self._waiting[e.linkedid] = Waiting(
            e.linkedid, line_of_queue(e.queue), mask_phone(e.caller_num), self._clock.monotonic()
        )
        # A caller who joins a queue has left the IVR.
        self._ivr.pop(e.linkedid, None)

    def queue_leave(self, linkedid: str) -> None:
        self._waiting.pop(linkedid, None)

    def speech(self, e: SpeechPartial) -> InIvr:
        now = self._clock.monotonic()
        item = self._ivr.get(e.call_id)
        if item is None:
            if len(self._ivr) >= MAX_IVR_CALLS:
                oldest = min(self._ivr.values(), key=lambda i: i.updated)
                del self._ivr[oldest.call_id]
            item = self._ivr[e.call_id] = InIvr(
                e.call_id, mask_phone(e.caller_number), "", False, now, now
            )
        item.text, item.final, item.updated = e.text, e.final, now
        return item

    def ivr_ended(self, e: IvrCallEnded | ev.Hangup) -> bool:
        key = e.call_id if isinstance(e, IvrCallEnded) else e.linkedid
        gone = self._ivr.pop(key, None) is not None
        if isinstance(e, ev.Hangup) and e.uniqueid == e.linkedid:
            self._waiting.pop(e.linkedid, None)
        return gone

    def waiting_per_line(self) -> dict[str, int]:
        return dict(Counter(w.queue for w in self._waiting.values()))

    def queues_json(self) -> list[dict[str, Any]]:
        now = self._clock.monotonic()
        out = []
        for line, name in LINE_NAMES_ZH.items():
            if line == "police_110":  # no queue: police matters leave for 110
                continue
            waits = [now - w.since for w in self._waiting.values() if w.queue == line]
            out.append(
                {
                    "line": line,
                    "line_zh": name,
                    "waiting": len(waits),
                    "longest_wait_s": round(max(waits), 1) if waits else 0,
                }
            )
        return out

    def ivr_json(self, item: InIvr) -> dict[str, Any]:
        return {
            "call_id": item.call_id,
            "caller": item.caller,
            "text": item.text,
            "final": item.final,
            "in_ivr_s": round(self._clock.monotonic() - item.since, 1),
        }

    def ivr_calls_json(self) -> list[dict[str, Any]]:
        return [self.ivr_json(i) for i in sorted(self._ivr.values(), key=lambda i: i.since)]
