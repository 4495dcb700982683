"""110 on the call, against the sandbox Asterisk: the IVR's transfer and the desk's
three-way call.

Real pieces: the IVR's FastAGI server in-process with config/ivr.yaml (key 6 is the
police option), the dialplan's `hotline-police` and `hotline-3way-*` contexts, sipp
callers with RFC 4733 keys, sipp phones for agent 1003 (5083) and the 110 stand-in
(5090), the AMI bridge feeding `TransferOutcomeRecorder` and `ThreeWayCaller`. A raw
AMI connection (with Asterisk's event timestamps) watches what Asterisk did.

The 110 stand-in checks what 110 receives: its INVITE must carry the citizen's
number in From and our ticket number in X-Hotline-Ticket-Id (sipp `check_it`: a
mismatch fails its call). Other suites share the sandbox and port 5090 in parallel,
so the stand-in may see a foreign call: the tests require their own call to have
succeeded, not every call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ami_bridge.bridge import AmiBridge
from ami_bridge.tracker import CallTracker
from desk.ports import ThreeWayRequest
from desk.wiring import BridgeActions
from hotline.bus import EventBus
from hotline.settings import Settings
from ivr.ports import RouteDecision
from ivr.record import IvrPath
from police110.call import (
    PoliceTransferOutcome,
    ThreeWayCaller,
    ThreeWaySettings,
    TransferOutcomeRecorder,
)
from tests.integration.ivr.harness import (
    GENERAL_QUEUE,
    AmiEvents,
    key_caller_scenario,
    running_ivr,
    staffed,
)
from tests.integration.sandbox.amiraw import Message
from tests.integration.sipp import UAS_SCENARIO, SippProcess, _udp_port_free, start_uac, start_uas

pytestmark = pytest.mark.integration

POLICE_PORT = 5090
# Agent 1003's phone: 1001 is the one every other suite staffs (they run in parallel on
# the same sandbox, and a busy 1001 would hold our caller in the queue).
AGENT, AGENT_PORT = "1003", 5083
# Decision (the IVR hands the call back with ROUTE_ACTION=police110) to 110 answering.
TRANSFER_LIMIT_S = 2.0
# The dialplan's default ring time for 110 before the general line takes the call.
DIALPLAN_RING_S = 20


# -- fakes of the service's ports -------------------------------------------------------

@dataclass
class TicketsFake:
    """The IVR's TicketPort and the TransferOutcomePort: one ticket number per call."""

    number: str
    created: list[str] = field(default_factory=list)
    outcomes: list[PoliceTransferOutcome] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def create_ticket(self, call_id: str, caller: str, transcript: str,
                            decision: RouteDecision | None, ivr_path: IvrPath) -> str:
        self.created.append(call_id)
        return self.number

    async def caller_context(self, caller: str) -> tuple[bool, int]:
        return False, 0

    async def record_transfer(self, outcome: PoliceTransferOutcome) -> None:
        self.outcomes.append(outcome)
        self.changed.set()

    async def wait_outcome(self, timeout: float) -> PoliceTransferOutcome:
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no transfer outcome recorded within {timeout} s") from None
        return self.outcomes[-1]


# -- helpers ------------------------------------------------------------------------------

def unique_number() -> str:
    return "137" + str(uuid.uuid4().int)[:8]


def ticket_number() -> str:
    return "T110" + uuid.uuid4().hex[:8].upper()


def police_scenario(tmp: Path, number: str, ticket: str) -> Path:
    """The answering phone's scenario, refusing an INVITE without our number and ticket."""
    text = UAS_SCENARIO.read_text()
    anchor = '<ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="invite_cseq"/>'
    assert anchor in text, "hotline/sipp/uas_answer.xml changed: update police_scenario"
    checks = (
        f'<ereg regexp="sip:{number}@" search_in="hdr" header="From:" check_it="true" '
        'assign_to="from_number"/>\n'
        f'      <ereg regexp="{ticket}" search_in="hdr" header="X-Hotline-Ticket-Id:" '
        'check_it="true" assign_to="ticket_hdr"/>\n'
        '      <log message="110 got [$from_number] ticket [$ticket_hdr]"/>')
    path = tmp / f"police-{number}.xml"
    tmp.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(anchor, anchor + "\n      " + checks))
    return path


@contextlib.asynccontextmanager
async def bridge_and_bus(settings: Settings) -> AsyncIterator[tuple[AmiBridge, EventBus]]:
    bus = EventBus()
    tracker = CallTracker(time.monotonic, on_call_ended=bus.publish)
    bridge = AmiBridge(settings.ami, settings.ami_secret(), tracker, bus)
    task = asyncio.create_task(bridge.run())
    try:
        try:
            await bridge.wait_up(10)
        except TimeoutError:
            raise AssertionError(f"AMI bridge not up: {bridge.status()}") from None
        yield bridge, bus
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def recording(bus: EventBus, tickets: TicketsFake) -> AsyncIterator[TransferOutcomeRecorder]:
    recorder = TransferOutcomeRecorder(bus, tickets)
    started = asyncio.Event()
    task = asyncio.create_task(recorder.run(started))
    await started.wait()
    try:
        yield recorder
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def police_port_free() -> None:
    if not _udp_port_free(POLICE_PORT):
        raise AssertionError(f"127.0.0.1:{POLICE_PORT} is taken: another 110 stand-in is "
                             "running (a parallel test?); this test needs it absent")


def stamp(event: Message) -> float:
    """Asterisk's own time of an event (manager.conf timestampevents = yes)."""
    return float(event["Timestamp"])


def is_event(name: str, **fields: str) -> Callable[[Message], bool]:
    def match(e: Message) -> bool:
        return e.get("Event") == name and all(e.get(k) == v for k, v in fields.items())
    return match


def trail(ami: AmiEvents, number: str) -> list[str]:
    """What Asterisk reported about one caller: event names and dialplan places."""
    return [f"{e.get('Event')}@{e.get('Context')}:{e.get('Priority')}" for e in ami.events
            if e.get("CallerIDNum") == number][-40:]


async def hang_up_leftovers(ami: AmiEvents, number: str) -> list[str]:
    """Hang up every channel still up for our caller (caller, agent, 110 legs): a sipp
    killed at the end of a failed test sends no BYE, and its channels would stay."""
    listed = await ami.action("CoreShowChannels")
    action_id = listed.get("ActionID", "")
    await ami.wait_for(is_event("CoreShowChannelsComplete", ActionID=action_id), 5)
    mine = [e["Channel"] for e in ami.events
            if e.get("Event") == "CoreShowChannel" and e.get("ActionID") == action_id
            and number in (e.get("CallerIDNum"), e.get("ConnectedLineNum"))]
    for channel in mine:
        await ami.action("Hangup", Channel=channel)
    return mine


async def ivr_path(sub_get: Callable[[], object], timeout: float) -> IvrPath:
    async def first() -> IvrPath:
        while True:
            item = await sub_get()  # type: ignore[misc]
            if isinstance(item, IvrPath):
                return item
    try:
        return await asyncio.wait_for(first(), timeout)
    except TimeoutError:
        raise AssertionError(f"the IVR did not finish a call within {timeout} s") from None


async def police_caller(tmp: Path, number: str, hold_ms: int) -> SippProcess:
    scenario = key_caller_scenario(tmp / "keys", "6")
    return await start_uac(tmp, [(number, "报警人")], hold_ms=hold_ms, scenario=scenario)


# -- the IVR's transfer -----------------------------------------------------------------

async def transfer_to_answering_110(settings: Settings, tmp: Path) -> tuple[float, float]:
    """One police call by key 6 to an answering 110 stand-in; checks the ticket records
    it. Returns (IVR hand-over -> 110 answered, key press -> 110 answered) in seconds."""
    number, ticket = unique_number(), ticket_number()
    tickets = TicketsFake(ticket)
    ivr_bus = EventBus()
    paths = ivr_bus.subscribe()
    async with (AmiEvents.connect(settings) as ami, bridge_and_bus(settings) as (_, bus),
                recording(bus, tickets), running_ivr(settings, bus=ivr_bus, tickets=tickets),
                contextlib.AsyncExitStack() as stack):
        police = await start_uas(tmp, port=POLICE_PORT, user="110",
                                 scenario=police_scenario(tmp, number, ticket))
        stack.push_async_callback(police.stop)
        caller = await police_caller(tmp, number, hold_ms=12000)
        stack.push_async_callback(caller.stop)
        stack.push_async_callback(hang_up_leftovers, ami, number)
        path = await ivr_path(paths.get, 30)
        assert path.action == "police110" and path.ticket_id == ticket, path
        (begin,) = await ami.wait_for(
            lambda e: is_event("DialBegin", CallerIDNum=number)(e)
            and e.get("DestChannel", "").startswith("PJSIP/police110-"), 10)
        (end,) = await ami.wait_for(is_event("DialEnd", DestUniqueid=begin["DestUniqueid"]), 10)
        assert end["DialStatus"] == "ANSWER", end
        key_at = path.started_at + next(s.at for s in path.steps
                                        if s.kind == "key" and s.detail == "6")
        handed_over = path.started_at + path.duration
        # The ticket says so: the recorder saw the 110 leg answered.
        outcome = await tickets.wait_outcome(5)
        assert (outcome.ticket_number, outcome.kind, outcome.outcome) == (
            ticket, "transfer", "answered"), outcome
        assert outcome.call_id == begin["Linkedid"]
        # The caller hangs up; 110's phone answered a call carrying the citizen's number
        # and our ticket (check_it fails any other: a parallel run's call may reach it),
        # and the caller was never queued as well.
        result = await caller.wait(20)
        assert result.failed == 0, result.describe()
        await ami.wait_for(is_event("Hangup", Uniqueid=begin["DestUniqueid"]), 5)
        got = await police.stop()
        assert got.successful >= 1, got.describe()
        assert not any(is_event("QueueCallerJoin", CallerIDNum=number)(e) for e in ami.events)
        return stamp(end) - handed_over, stamp(end) - key_at


async def test_police_key_reaches_110_within_2s_of_the_key(sandbox: Settings,
                                                            tmp_path: Path) -> None:
    """With config/ivr.yaml as shipped (a short police prompt): key press to 110 answering
    within 2 s, and the dialplan's part of it (IVR hand-over to answer) a small fraction."""
    from_handover, from_key = await transfer_to_answering_110(sandbox, tmp_path)
    print(f"\n110 transfer: IVR hand-over -> 110 answered {from_handover:.3f} s; "
          f"key press -> 110 answered {from_key:.3f} s")
    assert from_key < TRANSFER_LIMIT_S, from_key
    assert from_handover < TRANSFER_LIMIT_S, from_handover


async def test_no_110_sends_the_caller_to_general_with_the_emergency_flag(
        sandbox: Settings, tmp_path: Path) -> None:
    police_port_free()
    number, ticket = unique_number(), ticket_number()
    tickets = TicketsFake(ticket)
    async with (AmiEvents.connect(sandbox) as ami, bridge_and_bus(sandbox) as (_, bus),
                recording(bus, tickets), running_ivr(sandbox, tickets=tickets),
                contextlib.AsyncExitStack() as stack):
        caller = await police_caller(tmp_path, number, hold_ms=DIALPLAN_RING_S * 1000 + 22000)
        stack.push_async_callback(caller.stop)
        stack.push_async_callback(hang_up_leftovers, ami, number)
        (begin,) = await ami.wait_for(
            lambda e: is_event("DialBegin", CallerIDNum=number)(e)
            and e.get("DestChannel", "").startswith("PJSIP/police110-"), 25)
        (join,) = await ami.wait_for(is_event("QueueCallerJoin", CallerIDNum=number),
                                     DIALPLAN_RING_S + 10)
        assert join["Queue"] == GENERAL_QUEUE, join
        waited = stamp(join) - stamp(begin)
        print(f"\nno 110: DialBegin -> general queue {waited:.1f} s")
        assert waited < DIALPLAN_RING_S + 5, waited
        (flag,) = await ami.wait_for(is_event("UserEvent", UserEvent="HotlineEmergency",
                                              CallerIDNum=number), 5)
        assert flag["Ticket"] == ticket and flag["Reason"] == "police_110", flag
        for variable, value in (("HOTLINE_EMERGENCY", "police_110"), ("QUEUE_PRIO", "10")):
            reply = await ami.action("Getvar", Channel=join["Channel"], Variable=variable)
            assert reply.get("Value") == value, (variable, reply)
        outcome = await tickets.wait_outcome(5)
        print(f"no 110: recorded {outcome}")
        assert outcome.ticket_number == ticket and not outcome.answered, outcome
        assert outcome.outcome in ("no-answer", "unavailable"), outcome
        assert flag["DialStatus"] == outcome.dial_status, (flag, outcome)


# -- the desk's three-way call ---------------------------------------------------------

@dataclass(frozen=True)
class AgentCall:
    caller_channel: str
    agent_channel: str


async def caller_with_agent(ami: AmiEvents, tmp: Path, number: str,
                            stack: contextlib.AsyncExitStack) -> tuple[SippProcess, AgentCall]:
    """A sipp caller who pressed 0 and was answered by our agent from the general queue."""
    scenario = key_caller_scenario(tmp / "keys", "0", duration=50.0)
    caller = await start_uac(tmp, [(number, "市民")], hold_ms=45000, scenario=scenario)
    stack.push_async_callback(caller.stop)
    stack.push_async_callback(hang_up_leftovers, ami, number)  # runs before the stops
    try:
        (join,) = await ami.wait_for(is_event("QueueCallerJoin", CallerIDNum=number), 25)
    except AssertionError:
        raise AssertionError(f"caller never queued: {trail(ami, number)}\n"
                             f"{(await caller.stop()).describe()}") from None
    (connect,) = await ami.wait_for(
        lambda e: e.get("Event") == "AgentConnect" and join["Uniqueid"] in (
            e.get("Uniqueid"), e.get("DestUniqueid")), 20)
    agent = next((connect[k] for k in ("Channel", "DestChannel")
                  if connect.get(k, "").startswith(f"PJSIP/{AGENT}-")), None)
    assert agent is not None, f"another agent took our caller (parallel test?): {connect}"
    return caller, AgentCall(join["Channel"], agent)


async def bridge_of(ami: AmiEvents, channel: str, within: float = 3.0) -> str:
    """The channel's bridge peer. Asterisk sets BRIDGEPEER a moment after the answer that
    caller_with_agent waits for, so an empty value is asked again for up to `within` s."""
    deadline = time.monotonic() + within
    while True:
        reply = await ami.action("Getvar", Channel=channel, Variable="BRIDGEPEER")
        assert reply.get("Response") == "Success", reply
        value = str(reply.get("Value", "") or "")
        if value or time.monotonic() >= deadline:
            return value
        await asyncio.sleep(0.1)


async def test_three_way_joins_caller_agent_and_110(sandbox: Settings, tmp_path: Path) -> None:
    number, ticket = unique_number(), ticket_number()
    tickets = TicketsFake(ticket)
    async with (AmiEvents.connect(sandbox) as ami, bridge_and_bus(sandbox) as (bridge, bus),
                running_ivr(sandbox, tickets=tickets),
                staffed(ami, f"PJSIP/{AGENT}", queues=(GENERAL_QUEUE,)),
                contextlib.AsyncExitStack() as stack):
        agent_phone = await start_uas(tmp_path, port=AGENT_PORT, user=AGENT)
        stack.push_async_callback(agent_phone.stop)
        police = await start_uas(tmp_path, port=POLICE_PORT, user="110",
                                 scenario=police_scenario(tmp_path, number, ticket))
        stack.push_async_callback(police.stop)
        caller, call = await caller_with_agent(ami, tmp_path, number, stack)
        three_way = ThreeWayCaller(BridgeActions(bridge.send_action).send_action, bus, tickets)
        stack.push_async_callback(three_way.close)
        t0 = time.monotonic()
        result = await three_way.start_three_way(
            ThreeWayRequest(ticket, call.caller_channel, call.agent_channel, "tester"))
        print(f"\nthree-way: start_three_way returned in {time.monotonic() - t0:.2f} s: "
              f"{result}")
        assert result.ok, (result, trail(ami, number))
        (police_join,) = await ami.wait_for(
            lambda e: e.get("Event") == "ConfbridgeJoin"
            and e.get("Channel", "").startswith("PJSIP/police110-"), 5)
        room = police_join["Conference"]
        members = await ami.wait_for(is_event("ConfbridgeJoin", Conference=room), 5, count=3)
        channels = {e["Channel"] for e in members}
        assert channels == {call.caller_channel, call.agent_channel, police_join["Channel"]}, (
            channels)
        # The same softmix bridge for the three legs.
        entered = {e["BridgeUniqueid"] for e in ami.events if e.get("Event") == "BridgeEnter"
                   and e.get("Channel") in channels and e.get("BridgeTechnology") == "softmix"}
        assert len(entered) == 1, entered
        outcome = await tickets.wait_outcome(5)
        assert (outcome.kind, outcome.outcome, outcome.ticket_number) == (
            "three_way", "answered", ticket), outcome
        # The agent hangs up: the room ends (the agent is the marked user) and 110's phone
        # gets its BYE; its INVITE had the citizen's number and our ticket (check_it).
        await ami.action("Hangup", Channel=call.agent_channel)
        await ami.wait_for(is_event("Hangup", Channel=police_join["Channel"]), 5)
        got = await police.stop()
        assert got.successful >= 1, got.describe()
        result_caller = await caller.wait(10)
        assert result_caller.failed == 0, result_caller.describe()


async def test_three_way_without_110_keeps_the_caller_with_the_agent(
        sandbox: Settings, tmp_path: Path) -> None:
    police_port_free()
    number, ticket = unique_number(), ticket_number()
    tickets = TicketsFake(ticket)
    async with (AmiEvents.connect(sandbox) as ami, bridge_and_bus(sandbox) as (bridge, bus),
                running_ivr(sandbox, tickets=tickets),
                staffed(ami, f"PJSIP/{AGENT}", queues=(GENERAL_QUEUE,)),
                contextlib.AsyncExitStack() as stack):
        agent_phone = await start_uas(tmp_path, port=AGENT_PORT, user=AGENT)
        stack.push_async_callback(agent_phone.stop)
        caller, call = await caller_with_agent(ami, tmp_path, number, stack)
        assert await bridge_of(ami, call.caller_channel) == call.agent_channel
        three_way = ThreeWayCaller(BridgeActions(bridge.send_action).send_action, bus,
                                   tickets, ThreeWaySettings(ring_seconds=6))
        stack.push_async_callback(three_way.close)
        t0 = time.monotonic()
        result = await three_way.start_three_way(
            ThreeWayRequest(ticket, call.caller_channel, call.agent_channel, "tester"))
        took = time.monotonic() - t0
        print(f"\nthree-way without 110: {result} after {took:.1f} s")
        assert not result.ok and "市民" in result.message, result
        assert took < 6 + 3, took
        # Still talking to each other, never moved to a conference.
        assert await bridge_of(ami, call.caller_channel) == call.agent_channel
        assert await bridge_of(ami, call.agent_channel) == call.caller_channel
        assert not any(is_event("ConfbridgeJoin", Channel=call.caller_channel)(e)
                       for e in ami.events)
        await asyncio.sleep(1.0)  # the dropped 110 leg does not take the call with it
        assert await bridge_of(ami, call.caller_channel) == call.agent_channel
        outcome = await tickets.wait_outcome(5)
        assert outcome.kind == "three_way" and outcome.outcome == "no-answer", outcome
        await ami.action("Hangup", Channel=call.agent_channel)
        result_caller = await caller.wait(10)
        assert result_caller.failed == 0, result_caller.describe()
