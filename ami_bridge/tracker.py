"""Call state built from AMI events: channels by Uniqueid, grouped into calls by Linkedid.

The tracker is plain synchronous code fed one event at a time, so it can be tested
and benchmarked without a socket. After a reconnect the bridge hands it a fresh
snapshot from Asterisk (`reconcile`): channels that died while we were away are
closed, channels we missed are added, queue positions are refreshed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ami_bridge import events as ev


@dataclass
class ChannelState:
    uniqueid: str
    linkedid: str
    channel: str
    caller_num: str
    caller_name: str
    state: str
    started_at: float
    vars: dict[str, str] = field(default_factory=dict)


@dataclass
class CallState:
    """One call: the caller's channel and every channel linked to it (agents, Local legs)."""

    linkedid: str
    caller_num: str
    caller_name: str
    started_at: float
    channels: dict[str, ChannelState] = field(default_factory=dict)
    queue: str = ""
    position: int = 0
    agent: str = ""
    answered_at: float | None = None
    vars: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallView:
    """A read-only snapshot of a call, for /status, the desk and tests."""

    linkedid: str
    caller_num: str
    caller_name: str
    channels: tuple[str, ...]
    queue: str
    position: int
    agent: str
    started_at: float
    answered_at: float | None
    vars: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CallEnded:
    """Published when the last channel of a call is gone."""

    linkedid: str
    caller_num: str
    queue: str
    agent: str
    reason: str  # "hangup" or "lost-while-disconnected"


@dataclass(frozen=True)
class SnapshotChannel:
    """One channel as Asterisk reports it in CoreShowChannel."""

    uniqueid: str
    linkedid: str
    channel: str
    caller_num: str
    caller_name: str
    state: str


@dataclass(frozen=True)
class SnapshotQueueEntry:
    """One waiting caller as Asterisk reports it in QueueEntry."""

    queue: str
    uniqueid: str
    position: int


class CallTracker:
    def __init__(
        self, clock: Callable[[], float], on_call_ended: Callable[[CallEnded], None] | None = None
    ) -> None:
        self._clock = clock
        self._on_call_ended = on_call_ended
        self._channels: dict[str, ChannelState] = {}
        self._calls: dict[str, CallState] = {}
        self.calls_started = 0
        self.calls_ended = 0

    # -- queries -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._calls)

    def calls(self) -> list[CallView]:
        return [self._view(c) for c in self._calls.values()]

    def call(self, linkedid: str) -> CallView | None:
        call = self._calls.get(linkedid)
        return self._view(call) if call else None

    def call_of_channel(self, uniqueid: str) -> CallView | None:
        chan = self._channels.get(uniqueid)
        return self.call(chan.linkedid) if chan else None

    @staticmethod
    def _view(call: CallState) -> CallView:
        return CallView(
            linkedid=call.linkedid,
            caller_num=call.caller_num,
            caller_name=call.caller_name,
            channels=tuple(c.channel for c in call.channels.values()),
            queue=call.queue,
            position=call.position,
            agent=call.agent,
            started_at=call.started_at,
            answered_at=call.answered_at,
            vars=tuple(sorted(call.vars.items())),
        )

    # -- events --------------------------------------------------------------

    def apply(self, event: ev.AmiEvent) -> None:
        match event:
            case ev.Newchannel() | ev.Newstate() | ev.DialBegin() | ev.BridgeEnter():
                self._ensure_channel(event)
            case ev.Hangup():
                self._on_hangup(event)
            case ev.QueueCallerJoin():
                self._on_queue_join(event)
            case ev.QueueCallerLeave() | ev.QueueCallerAbandon():
                self._on_queue_leave(event)
            case ev.AgentConnect():
                self._on_agent_connect(event)
            case ev.HotlineVars():
                self._on_vars(event)
            case _:
                pass

    def _ensure_channel(self, e: ev.ChannelEvent) -> ChannelState | None:
        if not e.uniqueid:
            return None
        chan = self._channels.get(e.uniqueid)
        if chan is None:
            chan = ChannelState(
                e.uniqueid,
                e.linkedid,
                e.channel,
                e.caller_num,
                e.caller_name,
                e.state,
                self._clock(),
            )
            self._channels[e.uniqueid] = chan
            self._attach(chan)
        else:
            chan.state = e.state or chan.state
            if e.linkedid and e.linkedid != chan.linkedid:
                # Masquerades and transfers can move a channel to another call.
                self._detach(chan, reason="hangup")
                chan.linkedid = e.linkedid
                self._attach(chan)
        if e.vars:
            chan.vars.update(e.vars)
            self._calls[chan.linkedid].vars.update(e.vars)
        return chan

    def _attach(self, chan: ChannelState) -> None:
        call = self._calls.get(chan.linkedid)
        if call is None:
            call = CallState(chan.linkedid, chan.caller_num, chan.caller_name, chan.started_at)
            self._calls[chan.linkedid] = call
            self.calls_started += 1
        call.channels[chan.uniqueid] = chan
        call.vars.update(chan.vars)

    def _detach(self, chan: ChannelState, reason: str) -> None:
        call = self._calls.get(chan.linkedid)
        if call is None:
            return
        call.channels.pop(chan.uniqueid, None)
        if not call.channels:
            del self._calls[chan.linkedid]
            self.calls_ended += 1
            if self._on_call_ended is not None:
                self._on_call_ended(
                    CallEnded(call.linkedid, call.caller_num, call.queue, call.agent, reason)
                )

    def _on_hangup(self, e: ev.ChannelEvent) -> None:
        chan = self._channels.pop(e.uniqueid, None)
        if chan is not None:
            self._detach(chan, reason="hangup")

    def _on_queue_join(self, e: ev.QueueCallerJoin) -> None:
        chan = self._ensure_channel(e)
        if chan is not None:
            call = self._calls[chan.linkedid]
            call.queue, call.position = e.queue, e.position

    def _on_queue_leave(self, e: ev.QueueCallerLeave | ev.QueueCallerAbandon) -> None:
        chan = self._channels.get(e.uniqueid)
        if chan is not None:
            self._calls[chan.linkedid].position = 0

    def _on_agent_connect(self, e: ev.AgentConnect) -> None:
        chan = self._ensure_channel(e)
        if chan is not None:
            call = self._calls[chan.linkedid]
            call.agent = e.member_name or e.interface
            call.queue = e.queue or call.queue
            call.answered_at = self._clock()

    def _on_vars(self, e: ev.HotlineVars) -> None:
        call = self._calls.get(e.linkedid)
        if call is not None:
            call.vars.update(e.values)

    # -- resynchronisation ----------------------------------------------------

    def reconcile(
        self, channels: Iterable[SnapshotChannel], queue_entries: Iterable[SnapshotQueueEntry]
    ) -> tuple[int, int]:
        """Make the tracker match Asterisk's own view; returns (added, closed) channel counts."""
        live = {c.uniqueid: c for c in channels}
        closed = 0
        for uniqueid in [u for u in self._channels if u not in live]:
            chan = self._channels.pop(uniqueid)
            self._detach(chan, reason="lost-while-disconnected")
            closed += 1
        added = 0
        for snap in live.values():
            if snap.uniqueid not in self._channels:
                chan = ChannelState(
                    snap.uniqueid,
                    snap.linkedid or snap.uniqueid,
                    snap.channel,
                    snap.caller_num,
                    snap.caller_name,
                    snap.state,
                    self._clock(),
                )
                self._channels[snap.uniqueid] = chan
                self._attach(chan)
                added += 1
            else:
                self._channels[snap.uniqueid].state = snap.state
        for entry in queue_entries:
            waiting = self._channels.get(entry.uniqueid)
            if waiting is not None:
                call = self._calls[waiting.linkedid]
                call.queue, call.position = entry.queue, entry.position
        return added, closed
