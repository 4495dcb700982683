"""PoliceDialTracker and TransferOutcomeRecorder over AMI events captured on the sandbox.

The byte strings below were captured on 2026-11-26 from Asterisk 22.10.1 while
tests/integration/police110/test_call_sandbox.py ran (the numbers are test numbers):
an IVR transfer that 110 answered, one it did not (NOANSWER after the 20 s ring),
and the DialBegin of a three-way Originate (no calling channel).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from ami_bridge.events import AmiEvent, Hangup, decode_event
from ami_bridge.parser import AmiStreamParser
from hotline.bus import EventBus
from police110.call import (
    OUTCOMES,
    PoliceDialTracker,
    PoliceTransferOutcome,
    TransferOutcomeRecorder,
    outcome_of,
)

BEGIN_ANSWERED = b"".join((
    b'Event: DialBegin\r\n',
    b'Privilege: call,all\r\n',
    b'Timestamp: 1795684247.252322\r\n',
    b'Channel: PJSIP/callers-00000316\r\n',
    b'ChannelState: 6\r\n',
    b'ChannelStateDesc: Up\r\n',
    b'CallerIDNum: 13723889807\r\n',
    b'CallerIDName: \xe6\x8a\xa5\xe8\xad\xa6\xe4\xba\xba\r\n',
    b'ConnectedLineNum: <unknown>\r\n',
    b'ConnectedLineName: <unknown>\r\n',
    b'Language: zh\r\n',
    b'AccountCode: \r\n',
    b'Context: hotline-police\r\n',
    b'Exten: s\r\n',
    b'Priority: 4\r\n',
    b'Uniqueid: 1795684239.1058\r\n',
    b'Linkedid: 1795684239.1058\r\n',
    b'ChanVariable: ROUTE_QUEUE=general\r\n',
    b'ChanVariable: TICKET_ID=T110EB7F839F\r\n',
    b'ChanVariable: IVR_PATH=main:6>police_110\r\n',
    b'ChanVariable: HOTLINE_CALL_ID=1795684239.1058\r\n',
    b'DestChannel: PJSIP/police110-00000317\r\n',
    b'DestChannelState: 0\r\n',
    b'DestChannelStateDesc: Down\r\n',
    b'DestCallerIDNum: s\r\n',
    b'DestCallerIDName: <unknown>\r\n',
    b'DestConnectedLineNum: 13723889807\r\n',
    b'DestConnectedLineName: \xe6\x8a\xa5\xe8\xad\xa6\xe4\xba\xba\r\n',
    b'DestLanguage: zh\r\n',
    b'DestAccountCode: \r\n',
    b'DestContext: agents\r\n',
    b'DestExten: s\r\n',
    b'DestPriority: 1\r\n',
    b'DestUniqueid: 1795684247.1059\r\n',
    b'DestLinkedid: 1795684239.1058\r\n',
    b'DestChanVariable: ROUTE_QUEUE=\r\n',
    b'DestChanVariable: TICKET_ID=T110EB7F839F\r\n',
    b'DestChanVariable: IVR_PATH=\r\n',
    b'DestChanVariable: HOTLINE_CALL_ID=1795684239.1058\r\n',
    b'DialString: police110\r\n',
    b'\r\n',
))
END_ANSWERED = b"".join((
    b'Event: DialEnd\r\n',
    b'Privilege: call,all\r\n',
    b'Timestamp: 1795684247.258735\r\n',
    b'Channel: PJSIP/callers-00000316\r\n',
    b'ChannelState: 6\r\n',
    b'ChannelStateDesc: Up\r\n',
    b'CallerIDNum: 13723889807\r\n',
    b'CallerIDName: \xe6\x8a\xa5\xe8\xad\xa6\xe4\xba\xba\r\n',
    b'ConnectedLineNum: s\r\n',
    b'ConnectedLineName: <unknown>\r\n',
    b'Language: zh\r\n',
    b'AccountCode: \r\n',
    b'Context: hotline-police\r\n',
    b'Exten: s\r\n',
    b'Priority: 4\r\n',
    b'Uniqueid: 1795684239.1058\r\n',
    b'Linkedid: 1795684239.1058\r\n',
    b'ChanVariable: ROUTE_QUEUE=general\r\n',
    b'ChanVariable: TICKET_ID=T110EB7F839F\r\n',
    b'ChanVariable: IVR_PATH=main:6>police_110\r\n',
    b'ChanVariable: HOTLINE_CALL_ID=1795684239.1058\r\n',
    b'DestChannel: PJSIP/police110-00000317\r\n',
    b'DestChannelState: 6\r\n',
    b'DestChannelStateDesc: Up\r\n',
    b'DestCallerIDNum: s\r\n',
    b'DestCallerIDName: <unknown>\r\n',
    b'DestConnectedLineNum: 13723889807\r\n',
    b'DestConnectedLineName: \xe6\x8a\xa5\xe8\xad\xa6\xe4\xba\xba\r\n',
    b'DestLanguage: zh\r\n',
    b'DestAccountCode: \r\n',
    b'DestContext: agents\r\n',
    b'DestExten: \r\n',
    b'DestPriority: 1\r\n',
    b'DestUniqueid: 1795684247.1059\r\n',
    b'DestLinkedid: 1795684239.1058\r\n',
    b'DestChanVariable: ROUTE_QUEUE=\r\n',
    b'DestChanVariable: TICKET_ID=T110EB7F839F\r\n',
    b'DestChanVariable: IVR_PATH=\r\n',
    b'DestChanVariable: HOTLINE_CALL_ID=1795684239.1058\r\n',
    b'DialStatus: ANSWER\r\n',
    b'\r\n',
))
BEGIN_UNANSWERED = b"".join((
    b'Event: DialBegin\r\n',
    b'Privilege: call,all\r\n',
    b'Timestamp: 1795684271.817446\r\n',
    b'Channel: PJSIP/callers-0000031a\r\n',
    b'ChannelState: 6\r\n',
    b'ChannelStateDesc: Up\r\n',
    b'CallerIDNum: 13715231883\r\n',
    b'CallerIDName: \xe6\x8a\xa5\xe8\xad\xa6\xe4\xba\xba\r\n',
    b'ConnectedLineNum: <unknown>\r\n',
    b'ConnectedLineName: <unknown>\r\n',
    b'Language: zh\r\n',
    b'AccountCode: \r\n',
    b'Context: hotline-police\r\n',
    b'Exten: s\r\n',
    b'Priority: 4\r\n',
    b'Uniqueid: 1795684264.1062\r\n',
    b'Linkedid: 1795684264.1062\r\n',
    b'ChanVariable: ROUTE_QUEUE=general\r\n',
    b'ChanVariable: TICKET_ID=T11001D39000\r\n',
    b'ChanVariable: IVR_PATH=main:6>police_110\r\n',
    b'ChanVariable: HOTLINE_CALL_ID=1795684264.1062\r\n',
    b'DestChannel: PJSIP/police110-0000031b\r\n',
    b'DestChannelState: 0\r\n',
    b'DestChannelStateDesc: Down\r\n',
    b'DestCallerIDNum: s\r\n',
    b'DestCallerIDName: <unknown>\r\n',
    b'DestConnectedLineNum: 13715231883\r\n',
    b'DestConnectedLineName: \xe6\x8a\xa5\xe8\xad\xa6\xe4\xba\xba\r\n',
    b'DestLanguage: zh\r\n',
    b'DestAccountCode: \r\n',
    b'DestContext: agents\r\n',
    b'DestExten: s\r\n',
    b'DestPriority: 1\r\n',
    b'DestUniqueid: 1795684271.1063\r\n',
    b'DestLinkedid: 1795684264.1062\r\n',
    b'DestChanVariable: ROUTE_QUEUE=\r\n',
    b'DestChanVariable: TICKET_ID=T11001D39000\r\n',
    b'DestChanVariable: IVR_PATH=\r\n',
    b'DestChanVariable: HOTLINE_CALL_ID=1795684264.1062\r\n',
    b'DialString: police110\r\n',
    b'\r\n',
))
END_NOANSWER = b"".join((
    b'Event: DialEnd\r\n',
    b'Privilege: call,all\r\n',
    b'Timestamp: 1795684291.836276\r\n',
    b'Channel: PJSIP/callers-0000031a\r\n',
    b'ChannelState: 6\r\n',
    b'ChannelStateDesc: Up\r\n',
    b'CallerIDNum: 13715231883\r\n',
    b'CallerIDName: \xe6\x8a\xa5\xe8\xad\xa6\xe4\xba\xba\r\n',
    b'ConnectedLineNum: s\r\n',
    b'ConnectedLineName: <unknown>\r\n',
    b'Language: zh\r\n',
    b'AccountCode: \r\n',
    b'Context: hotline-police\r\n',
    b'Exten: s\r\n',
    b'Priority: 4\r\n',
    b'Uniqueid: 1795684264.1062\r\n',
    b'Linkedid: 1795684264.1062\r\n',
    b'ChanVariable: ROUTE_QUEUE=general\r\n',
    b'ChanVariable: TICKET_ID=T11001D39000\r\n',
    b'ChanVariable: IVR_PATH=main:6>police_110\r\n',
    b'ChanVariable: HOTLINE_CALL_ID=1795684264.1062\r\n',
    b'DestChannel: PJSIP/police110-0000031b\r\n',
    b'DestChannelState: 0\r\n',
    b'DestChannelStateDesc: Down\r\n',
    b'DestCallerIDNum: s\r\n',
    b'DestCallerIDName: <unknown>\r\n',
    b'DestConnectedLineNum: 13715231883\r\n',
    b'DestConnectedLineName: \xe6\x8a\xa5\xe8\xad\xa6\xe4\xba\xba\r\n',
    b'DestLanguage: zh\r\n',
    b'DestAccountCode: \r\n',
    b'DestContext: agents\r\n',
    b'DestExten: s\r\n',
    b'DestPriority: 1\r\n',
    b'DestUniqueid: 1795684271.1063\r\n',
    b'DestLinkedid: 1795684264.1062\r\n',
    b'DestChanVariable: ROUTE_QUEUE=\r\n',
    b'DestChanVariable: TICKET_ID=T11001D39000\r\n',
    b'DestChanVariable: IVR_PATH=\r\n',
    b'DestChanVariable: HOTLINE_CALL_ID=1795684264.1062\r\n',
    b'DialStatus: NOANSWER\r\n',
    b'\r\n',
))
BEGIN_ORIGINATED = b"".join((
    b'Event: DialBegin\r\n',
    b'Privilege: call,all\r\n',
    b'Timestamp: 1795684302.623821\r\n',
    b'DestChannel: PJSIP/police110-0000031e\r\n',
    b'DestChannelState: 0\r\n',
    b'DestChannelStateDesc: Down\r\n',
    b'DestCallerIDNum: 13723376649\r\n',
    b'DestCallerIDName: <unknown>\r\n',
    b'DestConnectedLineNum: 13723376649\r\n',
    b'DestConnectedLineName: <unknown>\r\n',
    b'DestLanguage: zh\r\n',
    b'DestAccountCode: \r\n',
    b'DestContext: agents\r\n',
    b'DestExten: s\r\n',
    b'DestPriority: 1\r\n',
    b'DestUniqueid: hotline-3w-de718fcd669e40b4\r\n',
    b'DestLinkedid: hotline-3w-de718fcd669e40b4\r\n',
    b'DestChanVariable: ROUTE_QUEUE=\r\n',
    b'DestChanVariable: TICKET_ID=T110D11583B6\r\n',
    b'DestChanVariable: IVR_PATH=\r\n',
    b'DestChanVariable: HOTLINE_CALL_ID=1795684294.1064\r\n',
    b'DialString: police110\r\n',
    b'\r\n',
))


def decode(raw: bytes) -> AmiEvent:
    parsed = AmiStreamParser().feed(raw)
    assert len(parsed.messages) == 1 and parsed.junk == 0
    return decode_event(parsed.messages[0])


@pytest.mark.parametrize(("status", "outcome"), [
    ("ANSWER", "answered"), ("NOANSWER", "no-answer"), ("BUSY", "busy"),
    ("CHANUNAVAIL", "unavailable"), ("CONGESTION", "congestion"), ("CANCEL", "cancelled"),
    ("answer ", "answered"), ("DONTCALL", "failed"), ("", "failed"),
])
def test_outcome_of_dial_status(status: str, outcome: str) -> None:
    assert outcome_of(status) == outcome
    assert outcome in OUTCOMES


def test_answered_transfer_is_paired_with_its_ticket() -> None:
    tracker = PoliceDialTracker()
    assert tracker.observe(decode(BEGIN_ANSWERED), now=100.0, wall=1.0) is None
    assert tracker.ringing == 1
    outcome = tracker.observe(decode(END_ANSWERED), now=100.25, wall=2.0)
    assert outcome == PoliceTransferOutcome(
        ticket_number="T110EB7F839F", call_id="1795684239.1058", kind="transfer",
        outcome="answered", dial_status="ANSWER", ring_seconds=0.25, at=2.0)
    assert outcome.answered
    assert tracker.ringing == 0


def test_unanswered_transfer_is_no_answer() -> None:
    tracker = PoliceDialTracker()
    tracker.observe(decode(BEGIN_UNANSWERED), now=0.0, wall=0.0)
    outcome = tracker.observe(decode(END_NOANSWER), now=20.0, wall=0.0)
    assert outcome is not None
    assert (outcome.outcome, outcome.dial_status, outcome.ticket_number) == (
        "no-answer", "NOANSWER", "T11001D39000")
    assert not outcome.answered


def test_dial_end_without_its_begin_and_other_dials_are_ignored() -> None:
    tracker = PoliceDialTracker()
    assert tracker.observe(decode(END_ANSWERED), 0.0, 0.0) is None  # began before we started
    # A three-way Originate has no calling channel: ThreeWayCaller records those itself.
    assert tracker.observe(decode(BEGIN_ORIGINATED), 0.0, 0.0) is None
    assert tracker.ringing == 0
    # The same dial from another context (an agent dialling 110) is not an IVR transfer.
    other = PoliceDialTracker(context="police-110")
    assert other.observe(decode(BEGIN_ANSWERED), 0.0, 0.0) is None
    assert other.ringing == 0


def test_open_dials_are_bounded_and_forgotten_on_hangup() -> None:
    tracker = PoliceDialTracker(max_open=1)
    begin = decode(BEGIN_ANSWERED)
    tracker.observe(decode(BEGIN_UNANSWERED), 0.0, 0.0)
    tracker.observe(begin, 0.0, 0.0)
    assert tracker.ringing == 1  # the oldest was dropped
    assert tracker.observe(decode(END_NOANSWER), 0.0, 0.0) is None
    gone = Hangup(channel="PJSIP/police110-00000317", uniqueid="1795684247.1059",
                  linkedid="1795684239.1058", caller_num="", caller_name="", state="Down",
                  context="agents", exten="s")
    tracker.observe(gone, 0.0, 0.0)
    assert tracker.ringing == 0


@dataclass
class Tickets:
    fail_first: bool = False
    recorded: list[PoliceTransferOutcome] = field(default_factory=list)
    calls: int = 0

    async def record_transfer(self, outcome: PoliceTransferOutcome) -> None:
        self.calls += 1
        if self.fail_first and self.calls == 1:
            raise ConnectionError("ticket store down")
        self.recorded.append(outcome)


async def run_recorder(tickets: Tickets, events: list[bytes]) -> tuple[TransferOutcomeRecorder,
                                                                      list[object]]:
    bus = EventBus()
    seen = bus.subscribe()
    recorder = TransferOutcomeRecorder(bus, tickets)
    started = asyncio.Event()
    task = asyncio.create_task(recorder.run(started))
    await started.wait()
    for raw in events:
        bus.publish(decode(raw))
    for _ in range(50):
        await asyncio.sleep(0.01)
        if recorder.recorded + recorder.failures >= len(events) // 2:
            break
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return recorder, [e for e in seen.drain() if isinstance(e, PoliceTransferOutcome)]


async def test_recorder_writes_each_outcome_to_its_ticket_and_the_bus() -> None:
    tickets = Tickets()
    recorder, published = await run_recorder(
        tickets, [BEGIN_ANSWERED, BEGIN_UNANSWERED, END_NOANSWER, END_ANSWERED])
    assert [(o.ticket_number, o.outcome) for o in tickets.recorded] == [
        ("T11001D39000", "no-answer"), ("T110EB7F839F", "answered")]
    assert published == tickets.recorded
    assert recorder.recorded == 2


async def test_a_failing_ticket_store_does_not_stop_the_recorder() -> None:
    tickets = Tickets(fail_first=True)
    recorder, _ = await run_recorder(
        tickets, [BEGIN_ANSWERED, END_ANSWERED, BEGIN_UNANSWERED, END_NOANSWER])
    assert recorder.failures == 1
    assert [o.outcome for o in tickets.recorded] == ["no-answer"]
