"""Screen-pop: the right agent, the right ticket, on ringing and on answer; nobody else's."""

from __future__ import annotations

import asyncio

from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient

from ami_bridge import events as ev
from desk.memory import InMemoryTicketStore, RecordingAmi
from desk.ports import IvrCallEnded, SpeechPartial
from hotline.bus import EventBus
from tests.unit.desk.conftest import FakeClock, another_client, desk_of, login
from tests.unit.desk.eventkit import agent_event, next_message, no_message


async def test_pop_on_agent_called_then_confirmed_on_connect(
    app_client: TestClient, bus: EventBus
) -> None:
    await login(app_client, "agent1001")
    ws = await app_client.ws_connect("/ws")
    hello = await next_message(ws, "hello")
    assert hello["agent"]["endpoint"] == "PJSIP/1001"
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001"))
    pop = await next_message(ws, "pop")
    assert pop["stage"] == "ringing"
    ticket = pop["ticket"]
    assert ticket["number"] == "20261126-0001"
    assert ticket["line"] == "property" and ticket["line_zh"] == "物业服务"
    assert ticket["confidence"] == 0.86
    assert ticket["explanation"][0].startswith("物业费")
    assert "物业费" in ticket["transcript"]
    # The agent on the call sees the caller's full number.
    assert ticket["caller_number"] == "13800138000"
    assert [h["number"] for h in pop["history"]] == ["20261120-0042"]
    assert pop["repeat"] is True
    assert pop["kb"][0]["id"] == "prop-001"
    bus.publish(agent_event(ev.AgentConnect, "PJSIP/1001", hold_time=12))
    answered = await next_message(ws, "pop")
    assert answered["stage"] == "answered"
    assert answered["ticket"]["number"] == "20261126-0001"
    me = await (await app_client.get("/api/me")).json()
    assert me["agent"]["status"] == "busy"
    assert me["agent"]["ticket"] == "20261126-0001"
    await ws.close()


async def test_ticket_found_by_linkedid_or_ivr_user_event(
    app_client: TestClient, bus: EventBus, tickets: InMemoryTicketStore
) -> None:
    await login(app_client, "agent1001")
    ws = await app_client.ws_connect("/ws")
    # No TICKET_ID on the event: found through the call's Linkedid.
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001", ticket_id=None))
    assert (await next_message(ws, "pop"))["ticket"]["number"] == "20261126-0001"
    # TICKET_ID announced earlier by the IVR's HotlineRoute user event.
    from tests.unit.desk.conftest import make_ticket

    tickets.add(make_ticket("20261126-0002", call_id="other"))
    bus.publish(ev.HotlineVars("1764122999.1", "1764122999.1", {"TICKET_ID": "20261126-0002"}))
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001", linkedid="1764122999.1", ticket_id=None))
    assert (await next_message(ws, "pop"))["ticket"]["number"] == "20261126-0002"
    # Unknown call: a pop without a ticket still tells the agent who is calling on which line.
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001", linkedid="nope", ticket_id=None))
    empty = await next_message(ws, "pop")
    assert empty["ticket"] is None and empty["queue_zh"] == "物业服务"
    await ws.close()


async def test_pop_goes_only_to_the_ringing_agent(app_client: TestClient, bus: EventBus) -> None:
    await login(app_client, "agent1001")
    async with another_client(app_client, "agent1002") as other:
        ws1 = await app_client.ws_connect("/ws")
        ws2 = await other.ws_connect("/ws")
        await next_message(ws2, "hello")
        bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001"))
        assert (await next_message(ws1, "pop"))["ticket"]["number"] == "20261126-0001"
        await no_message(ws2, "pop")
        await ws1.close()
        await ws2.close()


async def test_agent_cannot_subscribe_to_another_agents_pops(
    app_client: TestClient, bus: EventBus
) -> None:
    await login(app_client, "agent1001")
    try:
        await app_client.ws_connect("/ws?agent=agent1002")
    except WSServerHandshakeError as exc:
        assert exc.status == 403
    else:
        raise AssertionError("subscribed to another agent's desk")
    ws = await app_client.ws_connect("/ws?agent=agent1001")
    await ws.send_json({"type": "subscribe", "agent": "agent1002"})
    refused = await next_message(ws, "error")
    assert refused["error_id"] == "not-your-desk"
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1002"))
    await no_message(ws, "pop")
    await ws.close()


async def test_other_ringing_agents_told_when_one_answers(
    app_client: TestClient, bus: EventBus
) -> None:
    await login(app_client, "agent1001")
    async with another_client(app_client, "agent1002") as other:
        ws1 = await app_client.ws_connect("/ws")
        ws2 = await other.ws_connect("/ws")
        bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001"))
        bus.publish(agent_event(ev.AgentCalled, "PJSIP/1002"))
        await next_message(ws1, "pop")
        await next_message(ws2, "pop")
        bus.publish(agent_event(ev.AgentConnect, "PJSIP/1001"))
        assert (await next_message(ws2, "pop_cancel"))["linkedid"] == "1764122400.10"
        assert (await next_message(ws1, "pop"))["stage"] == "answered"
        await ws1.close()
        await ws2.close()


async def test_rendered_ack_measures_latency(
    app_client: TestClient, bus: EventBus, clock: FakeClock
) -> None:
    await login(app_client, "agent1001")
    ws = await app_client.ws_connect("/ws")
    seen = []
    desk_of(app_client).pops.rendered_hooks.append(seen.append)
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001"))
    pop = await next_message(ws, "pop")
    clock.advance(0.04)
    await ws.send_json({"type": "rendered", "pop_id": pop["pop_id"]})
    for _ in range(50):
        if seen:
            break
        await asyncio.sleep(0.01)
    assert len(seen) == 1
    assert abs(seen[0].latency_s - 0.04) < 1e-9
    metrics = await (await app_client.get("/metrics")).text()
    assert 'desk_screenpop_latency_seconds_count{stage="rendered"} 1.0' in metrics
    # An ack for a pop that was not this user's is ignored.
    await ws.send_json({"type": "rendered", "pop_id": "p999"})
    await ws.close()


async def test_wrapup_after_call_then_back_to_free(
    app_client: TestClient, bus: EventBus, ami: RecordingAmi
) -> None:
    await login(app_client, "agent1001")
    ws = await app_client.ws_connect("/ws")
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001"))
    bus.publish(agent_event(ev.AgentConnect, "PJSIP/1001"))
    bus.publish(agent_event(ev.AgentComplete, "PJSIP/1001", talk_time=60, reason="caller"))
    await next_message(ws, "call_ended")
    for _ in range(100):  # wrap-up is 0.05 s in the test config
        if {"Action": "QueuePause", "Interface": "PJSIP/1001", "Paused": "false"} in ami.actions:
            break
        await asyncio.sleep(0.01)
    assert ami.actions == [
        {"Action": "QueuePause", "Interface": "PJSIP/1001", "Paused": "true", "Reason": "话后处理"},
        {"Action": "QueuePause", "Interface": "PJSIP/1001", "Paused": "false"},
    ]
    await ws.close()


async def test_supervisor_sees_ivr_partials_masked_agents_do_not(
    app_client: TestClient, bus: EventBus
) -> None:
    await login(app_client, "agent1001")
    async with another_client(app_client, "supervisor") as sup:
        ws_agent = await app_client.ws_connect("/ws")
        ws_sup = await sup.ws_connect("/ws")
        hello = await next_message(ws_sup, "hello")
        assert "queues" in hello["live"]
        bus.publish(
            SpeechPartial("1764122500.3", "我要投诉 物业", caller_number="13912345678", lag_s=0.12)
        )
        partial = await next_message(ws_sup, "ivr_partial")
        assert partial["call"]["text"] == "我要投诉 物业"
        assert partial["call"]["caller"] == "139******78"
        await no_message(ws_agent, "ivr_partial")
        live = await (await sup.get("/api/live")).json()
        assert live["ivr"][0]["call_id"] == "1764122500.3"
        bus.publish(IvrCallEnded("1764122500.3", "queued"))
        assert (await next_message(ws_sup, "ivr_gone"))["call_id"] == "1764122500.3"
        metrics = await (await app_client.get("/metrics")).text()
        assert 'hotline_ivr_outcomes_total{outcome="queued"} 1.0' in metrics
        assert "hotline_asr_lag_seconds_count 1.0" in metrics
        await ws_agent.close()
        await ws_sup.close()


async def test_live_queues_count_waiting_callers(
    app_client: TestClient, bus: EventBus, clock: FakeClock
) -> None:
    await login(app_client, "supervisor")
    ws = await app_client.ws_connect("/ws")
    join = ev.QueueCallerJoin(
        channel="PJSIP/trunk-1",
        uniqueid="9.1",
        linkedid="9.1",
        caller_num="13800000000",
        caller_name="",
        state="Up",
        context="q",
        exten="s",
        queue="general",
        position=1,
        count=1,
    )
    bus.publish(join)
    queues = (await next_message(ws, "queues"))["queues"]
    general = next(q for q in queues if q["line"] == "general")
    assert general["waiting"] == 1
    clock.advance(42)
    live = await (await app_client.get("/api/live")).json()
    general = next(q for q in live["queues"] if q["line"] == "general")
    assert general["longest_wait_s"] == 42
    metrics = await (await app_client.get("/metrics")).text()
    assert 'hotline_queue_waiting_calls{line="general"} 1.0' in metrics
    assert 'hotline_calls_total{line="general"} 1.0' in metrics
    bus.publish(
        ev.QueueCallerAbandon(
            channel="PJSIP/trunk-1",
            uniqueid="9.1",
            linkedid="9.1",
            caller_num="13800000000",
            caller_name="",
            state="Up",
            context="q",
            exten="s",
            queue="general",
            position=1,
            hold_time=42,
        )
    )
    queues = (await next_message(ws, "queues"))["queues"]
    assert next(q for q in queues if q["line"] == "general")["waiting"] == 0
    await ws.close()


async def test_caller_hangs_up_while_ringing(app_client: TestClient, bus: EventBus) -> None:
    await login(app_client, "agent1001")
    ws = await app_client.ws_connect("/ws")
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001"))
    await next_message(ws, "pop")
    me = await (await app_client.get("/api/me")).json()
    assert me["agent"]["status"] == "ringing"
    bus.publish(
        ev.Hangup(
            channel="PJSIP/trunk-00001001",
            uniqueid="1764122400.10",
            linkedid="1764122400.10",
            caller_num="13800138000",
            caller_name="",
            state="Up",
            context="q",
            exten="s",
            cause="16",
            cause_txt="Normal",
        )
    )
    assert (await next_message(ws, "pop_cancel"))["linkedid"] == "1764122400.10"
    me = await (await app_client.get("/api/me")).json()
    assert me["agent"]["status"] == "offline"
    await ws.close()
