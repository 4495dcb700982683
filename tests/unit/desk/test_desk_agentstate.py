"""Agent state and call control through AMI actions, refusals said in Chinese."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from ami_bridge import events as ev
from desk import actions
from desk.memory import RecordingAmi, RecordingPolice110
from hotline.bus import EventBus
from tests.unit.desk.conftest import login
from tests.unit.desk.eventkit import agent_event, next_message


async def test_lines_login_logout(app_client: TestClient, ami: RecordingAmi) -> None:
    h = {"X-CSRF-Token": await login(app_client, "agent1001")}
    resp = await app_client.post("/api/lines/property/login", headers=h)
    assert resp.status == 200
    assert (await resp.json())["status"] == "free"
    await app_client.post("/api/lines/general/login", headers=h)
    me = await (await app_client.get("/api/me")).json()
    assert me["agent"]["lines"] == ["general", "property"]
    resp = await app_client.post("/api/lines/hr_social_security/login", headers=h)
    assert resp.status == 403
    assert "未被授权" in (await resp.json())["message"]
    await app_client.post("/api/lines/property/logout", headers=h)
    assert ami.actions == [
        actions.queue_add("property", "PJSIP/1001", "坐席 张敏"),
        actions.queue_add("general", "PJSIP/1001", "坐席 张敏"),
        {"Action": "QueueRemove", "Queue": "property", "Interface": "PJSIP/1001"},
    ]
    assert ami.actions[0]["StateInterface"] == "PJSIP/1001"


async def test_ami_refusal_reported(app_client: TestClient, ami: RecordingAmi) -> None:
    ami.reply = {"Response": "Error", "Message": "Unable to add interface to queue: No such queue"}
    h = {"X-CSRF-Token": await login(app_client, "agent1001")}
    resp = await app_client.post("/api/lines/property/login", headers=h)
    assert resp.status == 502
    body = await resp.json()
    assert body["error_id"] == "ami-failed"
    assert "No such queue" in body["message"]
    me = await (await app_client.get("/api/me")).json()
    assert me["agent"]["lines"] == []


async def test_already_in_the_queue_counts_as_joined(
    app_client: TestClient, ami: RecordingAmi
) -> None:
    # A desk reopened after a crash finds its agent still a member in Asterisk.
    ami.reply = {"Response": "Error", "Message": "Unable to add interface: Already there"}
    h = {"X-CSRF-Token": await login(app_client, "agent1001")}
    resp = await app_client.post("/api/lines/property/login", headers=h)
    assert resp.status == 200
    me = await (await app_client.get("/api/me")).json()
    assert me["agent"]["lines"] == ["property"]


async def test_pause_and_unpause(app_client: TestClient, ami: RecordingAmi) -> None:
    h = {"X-CSRF-Token": await login(app_client, "agent1001")}
    await app_client.post("/api/lines/property/login", headers=h)
    body = await (await app_client.post("/api/pause", headers=h, json={"reason": "用餐"})).json()
    assert (body["status"], body["pause_reason"]) == ("paused", "用餐")
    body = await (await app_client.post("/api/unpause", headers=h)).json()
    assert body["status"] == "free"
    assert ami.actions[-2:] == [
        actions.queue_pause("PJSIP/1001", True, "用餐"),
        actions.queue_pause("PJSIP/1001", False),
    ]


async def test_call_control_needs_a_call(app_client: TestClient) -> None:
    h = {"X-CSRF-Token": await login(app_client, "agent1001")}
    resp = await app_client.post("/api/call/hold", headers=h)
    assert resp.status == 409
    assert (await resp.json())["message"] == "当前没有通话"


async def test_hold_transfer_and_three_way(
    app_client: TestClient, bus: EventBus, ami: RecordingAmi, police110: RecordingPolice110
) -> None:
    h = {"X-CSRF-Token": await login(app_client, "agent1001")}
    ws = await app_client.ws_connect("/ws")
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001"))
    bus.publish(agent_event(ev.AgentConnect, "PJSIP/1001"))
    await next_message(ws, "pop")
    await next_message(ws, "pop")
    caller, agent = "PJSIP/trunk-00001001", "PJSIP/1001-00001001a"
    resp = await app_client.post("/api/call/hold", headers=h)
    assert resp.status == 200
    assert (await resp.json())["agent"]["on_hold"] is True
    await app_client.post("/api/call/unhold", headers=h)
    assert ami.actions == [actions.hold(caller, agent, "desk-hold"), actions.unhold(caller, agent)]
    assert ami.actions[0]["ExtraChannel"] == agent
    await app_client.post("/api/call/transfer", headers=h, json={"target": "hr_social_security"})
    assert ami.actions[-1] == {
        "Action": "Redirect",
        "Channel": caller,
        "Context": "desk-transfer",
        "Exten": "hr_social_security",
        "Priority": "1",
    }
    await app_client.post("/api/call/transfer", headers=h, json={"target": "legal"})
    assert ami.actions[-1]["Exten"] == "2001"
    resp = await app_client.post("/api/call/transfer", headers=h, json={"target": "police_110"})
    assert resp.status == 400  # police matters take the 110 path, not a blind transfer
    resp = await app_client.post("/api/call/transfer", headers=h, json={"target": "nowhere"})
    assert resp.status == 400
    resp = await app_client.post("/api/call/three-way-110", headers=h)
    assert resp.status == 200
    [req] = police110.requests
    assert (req.caller_channel, req.agent_channel, req.ticket_number, req.who) == (
        caller,
        agent,
        "20261126-0001",
        "agent1001",
    )
    await ws.close()


def test_action_builders() -> None:
    assert actions.queue_pause("PJSIP/1002", False) == {
        "Action": "QueuePause",
        "Interface": "PJSIP/1002",
        "Paused": "false",
    }
    assert actions.transfer("PJSIP/x-1", "desk-transfer", "2001")["Exten"] == "2001"
    assert actions.unhold("C", "A") == {
        "Action": "Bridge",
        "Channel1": "A",
        "Channel2": "C",
        "Tone": "no",
    }
