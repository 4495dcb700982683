"""Call tracker: grouping by Linkedid, queues, agents, reconcile after a reconnect."""

from __future__ import annotations

from ami_bridge import events as ev
from ami_bridge.parser import parse_message
from ami_bridge.tracker import CallEnded, CallTracker, SnapshotChannel, SnapshotQueueEntry


def event(text: str) -> ev.AmiEvent:
    msg, junk = parse_message(text.replace("\n", "\r\n").encode())
    assert msg is not None and junk == 0
    return ev.decode_event(msg)


def newchannel(uid: str, linked: str, num: str = "13800138000", name: str = "张三") -> ev.AmiEvent:
    return event(
        f"Event: Newchannel\nChannel: PJSIP/x-{uid}\nChannelStateDesc: Down\n"
        f"CallerIDNum: {num}\nCallerIDName: {name}\nUniqueid: {uid}\nLinkedid: {linked}"
    )


def hangup(uid: str, linked: str) -> ev.AmiEvent:
    return event(
        f"Event: Hangup\nChannel: PJSIP/x-{uid}\nUniqueid: {uid}\nLinkedid: {linked}\nCause: 16"
    )


def test_channels_grouped_by_linkedid_and_call_ends_with_last_channel() -> None:
    ended: list[CallEnded] = []
    t = CallTracker(lambda: 1.0, on_call_ended=ended.append)
    t.apply(newchannel("1.1", "1.1"))
    t.apply(newchannel("1.2", "1.1", num="1001", name="agent"))
    assert len(t) == 1
    call = t.calls()[0]
    assert call.caller_num == "13800138000" and call.caller_name == "张三"
    assert len(call.channels) == 2
    t.apply(hangup("1.2", "1.1"))
    assert len(t) == 1 and not ended
    t.apply(hangup("1.1", "1.1"))
    assert len(t) == 0
    assert ended == [CallEnded("1.1", "13800138000", "", "", "hangup")]


def test_queue_join_and_agent_connect() -> None:
    t = CallTracker(lambda: 5.0)
    t.apply(newchannel("2.1", "2.1"))
    t.apply(
        event(
            "Event: QueueCallerJoin\nChannel: PJSIP/x-2.1\nUniqueid: 2.1\nLinkedid: 2.1\n"
            "Queue: property\nPosition: 1\nCount: 1"
        )
    )
    assert t.calls()[0].queue == "property" and t.calls()[0].position == 1
    t.apply(
        event(
            "Event: AgentConnect\nChannel: PJSIP/x-2.1\nUniqueid: 2.1\nLinkedid: 2.1\n"
            "Queue: property\nInterface: PJSIP/1001\nMemberName: 1001\n"
            "DestUniqueid: 2.2\nHoldTime: 3"
        )
    )
    view = t.calls()[0]
    assert view.agent == "1001" and view.answered_at == 5.0


def test_channel_variables_from_channelvars_reach_the_call() -> None:
    t = CallTracker(lambda: 0.0)
    t.apply(newchannel("3.1", "3.1"))
    t.apply(
        event(
            "Event: Newstate\nChannel: PJSIP/x-3.1\nUniqueid: 3.1\nLinkedid: 3.1\n"
            "ChannelStateDesc: Up\n"
            "ChanVariable: ROUTE_QUEUE=enterprise\nChanVariable: TICKET_ID=20261126-0001"
        )
    )
    assert dict(t.calls()[0].vars) == {"ROUTE_QUEUE": "enterprise", "TICKET_ID": "20261126-0001"}


def test_event_for_unknown_channel_creates_it() -> None:
    t = CallTracker(lambda: 0.0)
    t.apply(
        event(
            "Event: QueueCallerJoin\nChannel: PJSIP/x-4.1\nUniqueid: 4.1\nLinkedid: 4.1\n"
            "CallerIDNum: 1390000\nQueue: general\nPosition: 2"
        )
    )
    assert t.calls()[0].queue == "general"


def test_reconcile_closes_dead_adds_missed_and_sets_queues() -> None:
    ended: list[CallEnded] = []
    t = CallTracker(lambda: 0.0, on_call_ended=ended.append)
    t.apply(newchannel("5.1", "5.1"))
    t.apply(newchannel("6.1", "6.1"))
    added, closed = t.reconcile(
        [
            SnapshotChannel("6.1", "6.1", "PJSIP/x-6.1", "1", "", "Up"),
            SnapshotChannel("7.1", "7.1", "PJSIP/x-7.1", "13912345678", "", "Up"),
        ],
        [SnapshotQueueEntry("womens_rights", "7.1", 1)],
    )
    assert (added, closed) == (1, 1)
    assert [e.reason for e in ended] == ["lost-while-disconnected"]
    assert {c.linkedid: c.queue for c in t.calls()} == {"6.1": "", "7.1": "womens_rights"}


def test_hangup_of_unknown_channel_is_harmless() -> None:
    t = CallTracker(lambda: 0.0)
    t.apply(hangup("9.9", "9.9"))
    assert len(t) == 0 and t.calls_ended == 0


def test_unknown_events_stay_raw() -> None:
    e = event("Event: PeerStatus\nPeer: PJSIP/1001\nPeerStatus: Reachable")
    assert isinstance(e, ev.RawEvent) and e.name == "PeerStatus"
