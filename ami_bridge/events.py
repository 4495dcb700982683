"""Typed AMI events: one frozen dataclass per event the service acts on.

Everything else stays a `RawEvent` carrying its `AmiMessage`. Field names follow
the AMI headers (Uniqueid -> uniqueid, CallerIDNum -> caller_num). Channel
variables listed in manager.conf `channelvars=` arrive on every channel event as
`ChanVariable: NAME=value` headers and are collected into `vars`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

from ami_bridge.parser import AmiMessage

# Our channel variables (set by the IVR, read by the dialplan, the tracker and the desk).
OUR_VARIABLES = ("ROUTE_QUEUE", "TICKET_ID", "IVR_PATH", "HOTLINE_CALL_ID", "HOTLINE_EMERGENCY")

Headers = dict[str, str]


def _vars(msg: AmiMessage, prefix: str = "") -> dict[str, str]:
    """Collect `ChanVariable: NAME=value` (and the `ChanVariable(NAME): value` form)."""
    out: dict[str, str] = {}
    tag = f"{prefix}chanvariable"
    for key, value in msg.headers:
        low = key.lower()
        if low == tag:
            name, _, val = value.partition("=")
            out[name] = val
        elif low.startswith(tag + "(") and low.endswith(")"):
            out[key[len(tag) + 1 : -1]] = value
    return out


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """Fields every channel event carries (a channel snapshot)."""

    channel: str
    uniqueid: str
    linkedid: str
    caller_num: str
    caller_name: str
    state: str
    context: str
    exten: str
    vars: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


class ChannelFields(TypedDict):
    """The keyword arguments of a ChannelEvent (tests build events from these too)."""

    channel: str
    uniqueid: str
    linkedid: str
    caller_num: str
    caller_name: str
    state: str
    context: str
    exten: str
    vars: dict[str, str]


class _DestKw(TypedDict):
    dest_channel: str
    dest_uniqueid: str


class _AgentKw(_DestKw):
    queue: str
    interface: str
    member_name: str


def _channel_fields(h: Headers, msg: AmiMessage, prefix: str = "") -> ChannelFields:
    return {
        "channel": h.get(f"{prefix}Channel", ""),
        "uniqueid": h.get(f"{prefix}Uniqueid", ""),
        "linkedid": h.get(f"{prefix}Linkedid", "") or h.get(f"{prefix}Uniqueid", ""),
        "caller_num": h.get(f"{prefix}CallerIDNum", ""),
        "caller_name": h.get(f"{prefix}CallerIDName", ""),
        "state": h.get(f"{prefix}ChannelStateDesc", ""),
        "context": h.get(f"{prefix}Context", ""),
        "exten": h.get(f"{prefix}Exten", ""),
        "vars": _vars(msg, prefix.lower()),
    }


@dataclass(frozen=True, slots=True)
class Newchannel(ChannelEvent):
    pass


@dataclass(frozen=True, slots=True)
class Newstate(ChannelEvent):
    pass


@dataclass(frozen=True, slots=True)
class Hangup(ChannelEvent):
    cause: str = ""
    cause_txt: str = ""


@dataclass(frozen=True, slots=True)
class DialBegin(ChannelEvent):
    dest_channel: str = ""
    dest_uniqueid: str = ""
    dial_string: str = ""


@dataclass(frozen=True, slots=True)
class DialEnd(ChannelEvent):
    dest_channel: str = ""
    dest_uniqueid: str = ""
    dial_status: str = ""


@dataclass(frozen=True, slots=True)
class BridgeEnter(ChannelEvent):
    bridge_id: str = ""


@dataclass(frozen=True, slots=True)
class BridgeLeave(ChannelEvent):
    bridge_id: str = ""


@dataclass(frozen=True, slots=True)
class QueueCallerJoin(ChannelEvent):
    queue: str = ""
    position: int = 0
    count: int = 0


@dataclass(frozen=True, slots=True)
class QueueCallerLeave(ChannelEvent):
    queue: str = ""
    position: int = 0
    count: int = 0


@dataclass(frozen=True, slots=True)
class QueueCallerAbandon(ChannelEvent):
    queue: str = ""
    position: int = 0
    hold_time: int = 0


@dataclass(frozen=True, slots=True)
class AgentEvent(ChannelEvent):
    """Queue agent events: the `channel` fields describe the caller, `dest_*` the agent leg."""

    queue: str = ""
    interface: str = ""
    member_name: str = ""
    dest_channel: str = ""
    dest_uniqueid: str = ""


@dataclass(frozen=True, slots=True)
class AgentCalled(AgentEvent):
    pass


@dataclass(frozen=True, slots=True)
class AgentConnect(AgentEvent):
    hold_time: int = 0
    ring_time: int = 0


@dataclass(frozen=True, slots=True)
class AgentComplete(AgentEvent):
    hold_time: int = 0
    talk_time: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class HotlineVars:
    """Our variables, announced by the IVR with `UserEvent(HotlineRoute,...)`."""

    uniqueid: str
    linkedid: str
    values: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class HotlineEmergency:
    """The dialplan could not reach 110: the call goes to an agent flagged as an emergency."""

    uniqueid: str
    linkedid: str
    ticket: str
    reason: str
    dial_status: str


@dataclass(frozen=True, slots=True)
class HotlineRecording:
    """The dialplan started recording a call: `path` is relative to the recordings folder."""

    uniqueid: str
    linkedid: str
    ticket: str
    path: str


@dataclass(frozen=True, slots=True)
class FullyBooted:
    status: str = ""


@dataclass(frozen=True, slots=True)
class RawEvent:
    """Any event we do not act on, kept as parsed."""

    name: str
    message: AmiMessage


AmiEvent = (
    Newchannel
    | Newstate
    | Hangup
    | DialBegin
    | DialEnd
    | BridgeEnter
    | BridgeLeave
    | QueueCallerJoin
    | QueueCallerLeave
    | QueueCallerAbandon
    | AgentCalled
    | AgentConnect
    | AgentComplete
    | HotlineVars
    | HotlineEmergency
    | HotlineRecording
    | FullyBooted
    | RawEvent
)


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _dest(h: Headers) -> _DestKw:
    return {"dest_channel": h.get("DestChannel", ""), "dest_uniqueid": h.get("DestUniqueid", "")}


def _agent(h: Headers) -> _AgentKw:
    return {
        "queue": h.get("Queue", ""),
        "interface": h.get("Interface", ""),
        "member_name": h.get("MemberName", ""),
        **_dest(h),
    }


def _user_event(h: Headers, msg: AmiMessage) -> AmiEvent:
    name = h.get("UserEvent")
    if name == "HotlineEmergency":
        uid = h.get("Uniqueid", "")
        return HotlineEmergency(
            uid,
            h.get("Linkedid", "") or uid,
            h.get("Ticket", ""),
            h.get("Reason", ""),
            h.get("DialStatus", ""),
        )
    if name == "HotlineRecording":
        uid = h.get("Uniqueid", "")
        return HotlineRecording(
            uid, h.get("Linkedid", "") or uid, h.get("Ticket", ""), h.get("Path", "")
        )
    if name != "HotlineRoute":
        return RawEvent("UserEvent", msg)
    values = {k: v for k, v in h.items() if k in OUR_VARIABLES}
    uniqueid = h.get("Uniqueid", "")
    return HotlineVars(uniqueid, h.get("Linkedid", "") or uniqueid, values)


_Decoder = Callable[[Headers, AmiMessage], AmiEvent]

_DECODERS: dict[str, _Decoder] = {
    "Newchannel": lambda h, m: Newchannel(**_channel_fields(h, m)),
    "Newstate": lambda h, m: Newstate(**_channel_fields(h, m)),
    "Hangup": lambda h, m: Hangup(
        **_channel_fields(h, m), cause=h.get("Cause", ""), cause_txt=h.get("Cause-txt", "")
    ),
    "DialBegin": lambda h, m: DialBegin(
        **_channel_fields(h, m), **_dest(h), dial_string=h.get("DialString", "")
    ),
    "DialEnd": lambda h, m: DialEnd(
        **_channel_fields(h, m), **_dest(h), dial_status=h.get("DialStatus", "")
    ),
    "BridgeEnter": lambda h, m: BridgeEnter(
        **_channel_fields(h, m), bridge_id=h.get("BridgeUniqueid", "")
    ),
    "BridgeLeave": lambda h, m: BridgeLeave(
        **_channel_fields(h, m), bridge_id=h.get("BridgeUniqueid", "")
    ),
    "QueueCallerJoin": lambda h, m: QueueCallerJoin(
        **_channel_fields(h, m),
        queue=h.get("Queue", ""),
        position=_int(h.get("Position", "")),
        count=_int(h.get("Count", "")),
    ),
    "QueueCallerLeave": lambda h, m: QueueCallerLeave(
        **_channel_fields(h, m),
        queue=h.get("Queue", ""),
        position=_int(h.get("Position", "")),
        count=_int(h.get("Count", "")),
    ),
    "QueueCallerAbandon": lambda h, m: QueueCallerAbandon(
        **_channel_fields(h, m),
        queue=h.get("Queue", ""),
        position=_int(h.get("Position", "")),
        hold_time=_int(h.get("HoldTime", "")),
    ),
    "AgentCalled": lambda h, m: AgentCalled(**_channel_fields(h, m), **_agent(h)),
    "AgentConnect": lambda h, m: AgentConnect(
        **_channel_fields(h, m),
        **_agent(h),
        hold_time=_int(h.get("HoldTime", "")),
        ring_time=_int(h.get("RingTime", "")),
    ),
    "AgentComplete": lambda h, m: AgentComplete(
        **_channel_fields(h, m),
        **_agent(h),
        hold_time=_int(h.get("HoldTime", "")),
        talk_time=_int(h.get("TalkTime", "")),
        reason=h.get("Reason", ""),
    ),
    "UserEvent": _user_event,
    "FullyBooted": lambda h, m: FullyBooted(h.get("Status", "")),
}


def decode_event(msg: AmiMessage) -> AmiEvent:
    """Turn a parsed message into a typed event (or a RawEvent)."""
    name = msg.get("Event")
    decoder = _DECODERS.get(name)
    if decoder is None:
        return RawEvent(name, msg)
    # First value wins for repeated keys, as AMI lists the channel's own fields first.
    headers: Headers = {}
    for k, v in msg.headers:
        headers.setdefault(k, v)
    return decoder(headers, msg)


def is_acted_on(name: str) -> bool:
    return name in _DECODERS
