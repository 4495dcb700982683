"""ThreeWayCaller against a scripted Asterisk: AMI replies and bus events in order.

The fake plays what the sandbox showed (tests/integration/police110/
test_call_sandbox.py): the originated 110 leg gets the ChannelId we chose as its
Uniqueid, announces itself with Newchannel, and enters the ConfBridge (BridgeEnter)
when it answers; Redirect moves caller and agent into the same bridge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from ami_bridge.events import BridgeEnter, ChannelFields, Hangup, Newchannel
from desk.ports import ThreeWayRequest
from hotline.bus import EventBus
from police110.call import PoliceTransferOutcome, ThreeWayCaller, ThreeWaySettings

CALLER = "PJSIP/callers-000002f3"
AGENT = "PJSIP/1003-000002f4"
POLICE = "PJSIP/police110-000002f5"
BRIDGE = "85a0309d-2168-498e-a962-cfff9ee21031"
REQUEST = ThreeWayRequest("T110EB7F839F", CALLER, AGENT, "agent1003")


def snapshot(channel: str, uniqueid: str) -> ChannelFields:
    return {"channel": channel, "uniqueid": uniqueid, "linkedid": "1795684239.1058",
            "caller_num": "", "caller_name": "", "state": "Up", "context": "", "exten": "",
            "vars": {}}


@dataclass
class FakeAsterisk:
    """AMI actions in, replies out; what the channels do goes on the bus."""

    bus: EventBus
    police: str = "answer"  # answer | busy | silent
    redirect_ok: bool = True
    caller_exists: bool = True
    actions: list[dict[str, str]] = field(default_factory=list)

    async def send_action(self, action: Mapping[str, str]) -> Mapping[str, str]:
        self.actions.append(dict(action))
        name = action["Action"]
        if name == "Getvar":
            if action["Channel"] == CALLER and not self.caller_exists:
                return {"Response": "Error", "Message": "No such channel"}
            values = {"CALLERID(num)": "13723889807", "HOTLINE_CALL_ID": "1795684239.1058",
                      "CHANNEL(state)": "Up"}
            return {"Response": "Success", "Value": values[action["Variable"]]}
        if name == "Originate":
            asyncio.get_running_loop().call_soon(self._police_leg, action["ChannelId"])
            return {"Response": "Success", "Message": "Originate successfully queued"}
        if name == "Redirect":
            if not self.redirect_ok:
                return {"Response": "Error", "Message": "Redirect failed"}
            for channel in (action["Channel"], action["ExtraChannel"]):
                self.bus.publish(BridgeEnter(**snapshot(channel, channel), bridge_id=BRIDGE))
            return {"Response": "Success", "Message": "Dual Redirect successful"}
        if name == "Hangup":
            return {"Response": "Success"}
        raise AssertionError(f"unexpected action {action}")

    def _police_leg(self, uniqueid: str) -> None:
        self.bus.publish(Newchannel(**snapshot(POLICE, uniqueid)))
        if self.police == "answer":
            self.bus.publish(BridgeEnter(**snapshot(POLICE, uniqueid), bridge_id=BRIDGE))
        elif self.police == "busy":
            self.bus.publish(Hangup(**snapshot(POLICE, uniqueid), cause="17",
                                    cause_txt="User busy"))

    def sent(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.actions if a["Action"] == name]


@dataclass
class Tickets:
    recorded: list[PoliceTransferOutcome] = field(default_factory=list)

    async def record_transfer(self, outcome: PoliceTransferOutcome) -> None:
        self.recorded.append(outcome)


def caller_for(asterisk: FakeAsterisk, tickets: Tickets,
               ring_seconds: float = 2.0) -> ThreeWayCaller:
    return ThreeWayCaller(asterisk.send_action, asterisk.bus, tickets,
                          ThreeWaySettings(ring_seconds=ring_seconds, join_timeout=1.0),
                          new_id=lambda: "de718fcd669e40b4aaaa")


async def test_110_answers_then_caller_and_agent_join_its_room() -> None:
    asterisk, tickets = FakeAsterisk(EventBus()), Tickets()
    result = await caller_for(asterisk, tickets).start_three_way(REQUEST)
    assert result.ok, result
    (originate,) = asterisk.sent("Originate")
    assert originate["Channel"] == "PJSIP/police110"
    assert originate["Context"] == "hotline-3way-party"
    assert originate["Exten"] == "3wde718fcd669e40b4"
    assert originate["ChannelId"] == "hotline-3w-de718fcd669e40b4"
    assert originate["CallerID"] == "<13723889807>"  # 110 sees the citizen's number
    assert "PJSIP_HEADER(add,X-Hotline-Ticket-Id)=T110EB7F839F" in originate["Variable"]
    assert "PJSIP_HEADER(add,X-Hotline-Call-Id)=1795684239.1058" in originate["Variable"]
    (redirect,) = asterisk.sent("Redirect")
    assert redirect == {
        "Action": "Redirect", "Channel": CALLER, "Context": "hotline-3way-party",
        "Exten": "3wde718fcd669e40b4", "Priority": "1", "ExtraChannel": AGENT,
        "ExtraContext": "hotline-3way-agent", "ExtraExten": "3wde718fcd669e40b4",
        "ExtraPriority": "1"}
    assert not asterisk.sent("Hangup")
    (outcome,) = tickets.recorded
    assert (outcome.ticket_number, outcome.kind, outcome.outcome) == (
        "T110EB7F839F", "three_way", "answered")


async def test_110_not_answering_leaves_caller_with_agent() -> None:
    asterisk, tickets = FakeAsterisk(EventBus(), police="silent"), Tickets()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    result = await caller_for(asterisk, tickets, ring_seconds=0.3).start_three_way(REQUEST)
    assert not result.ok and "无人接听" in result.message and "市民" in result.message
    assert 0.3 <= loop.time() - t0 < 1.5
    assert not asterisk.sent("Redirect")  # the agent's call is never touched
    assert [a["Channel"] for a in asterisk.sent("Hangup")] == [POLICE]  # the ringing leg
    assert [o.outcome for o in tickets.recorded] == ["no-answer"]


async def test_110_busy_is_told_to_the_agent() -> None:
    asterisk, tickets = FakeAsterisk(EventBus(), police="busy"), Tickets()
    result = await caller_for(asterisk, tickets).start_three_way(REQUEST)
    assert not result.ok and "忙" in result.message
    assert not asterisk.sent("Redirect")
    assert [o.outcome for o in tickets.recorded] == ["busy"]


async def test_refused_redirect_drops_the_110_leg() -> None:
    asterisk, tickets = FakeAsterisk(EventBus(), redirect_ok=False), Tickets()
    result = await caller_for(asterisk, tickets).start_three_way(REQUEST)
    assert not result.ok
    assert [a["Channel"] for a in asterisk.sent("Hangup")] == [POLICE]
    assert [o.outcome for o in tickets.recorded] == ["failed"]


async def test_a_gone_caller_originates_nothing() -> None:
    asterisk, tickets = FakeAsterisk(EventBus(), caller_exists=False), Tickets()
    result = await caller_for(asterisk, tickets).start_three_way(REQUEST)
    assert not result.ok
    assert not asterisk.sent("Originate")


@pytest.mark.parametrize("channel", ["", "PJSIP/1001\r\nAction: Originate", "a b", "x" * 200])
async def test_unsafe_channel_names_send_no_action(channel: str) -> None:
    asterisk, tickets = FakeAsterisk(EventBus()), Tickets()
    request = ThreeWayRequest("T1", channel, AGENT, "agent1003")
    result = await caller_for(asterisk, tickets).start_three_way(request)
    assert not result.ok
    assert asterisk.actions == []


async def test_caller_hanging_up_while_110_rings_cancels_it() -> None:
    bus = EventBus()
    asterisk, tickets = FakeAsterisk(bus, police="silent"), Tickets()
    asyncio.get_running_loop().call_later(
        0.1, bus.publish, Hangup(**snapshot(CALLER, "1795684239.1058"), cause="16"))
    result = await caller_for(asterisk, tickets, ring_seconds=3).start_three_way(REQUEST)
    assert not result.ok and "挂机" in result.message
    assert [a["Channel"] for a in asterisk.sent("Hangup")] == [POLICE]
    assert [o.outcome for o in tickets.recorded] == ["cancelled"]
