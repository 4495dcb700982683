"""One-step dispatch: corrections, department, audit, answer-to-dispatch time, refusals."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from ami_bridge import events as ev
from desk.memory import InMemoryTicketStore
from hotline.bus import EventBus
from tests.unit.desk.conftest import FakeClock, another_client, login
from tests.unit.desk.eventkit import agent_event, next_message


async def answer_call(client: TestClient, bus: EventBus) -> None:
    ws = await client.ws_connect("/ws")
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001"))
    bus.publish(agent_event(ev.AgentConnect, "PJSIP/1001"))
    await next_message(ws, "pop")
    assert (await next_message(ws, "pop"))["stage"] == "answered"
    await ws.close()


async def test_dispatch_with_corrections_and_audit(
    app_client: TestClient, bus: EventBus, clock: FakeClock, tickets: InMemoryTicketStore
) -> None:
    csrf = await login(app_client, "agent1001")
    await answer_call(app_client, bus)
    clock.advance(42.5)
    resp = await app_client.post(
        "/api/tickets/20261126-0001/dispatch",
        headers={"X-CSRF-Token": csrf},
        json={
            "department": "市住房和城乡建设局",
            "changes": {
                "line": "general",
                "kind": "complaint",
                "sla_days": 3,
                "summary": "反映阳光小区物业费上涨且未公示收费标准",
            },
        },
    )
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["ticket"]["status"] == "dispatched"
    assert body["ticket"]["department"] == "市住房和城乡建设局"
    [request] = tickets.dispatches
    assert request.who == "agent1001"
    assert request.answer_to_dispatch_s == 42.5
    # Unchanged fields (kind) are not sent as changes.
    assert dict(request.changes) == {
        "line": "general",
        "sla_days": 3,
        "summary": "反映阳光小区物业费上涨且未公示收费标准",
    }
    assert request.corrections == (("line", "property", "general"), ("sla_days", "7", "3"))
    trail = {
        (a.field, a.before, a.after, a.who) for a in await tickets.audit_trail("20261126-0001")
    }
    assert ("line", "property", "general", "agent1001") in trail
    assert ("department", "", "市住房和城乡建设局", "agent1001") in trail
    assert ("status", "new", "dispatched", "agent1001") in trail
    assert tickets.corrections == [
        ("20261126-0001", "line", "property", "general"),
        ("20261126-0001", "sla_days", "7", "3"),
    ]
    metrics = await (await app_client.get("/metrics")).text()
    assert "desk_answer_to_dispatch_seconds_count 1.0" in metrics
    # Dispatched once: a second try is refused.
    resp = await app_client.post(
        "/api/tickets/20261126-0001/dispatch",
        headers={"X-CSRF-Token": csrf},
        json={"department": "市住房和城乡建设局", "changes": {}},
    )
    assert resp.status == 409


async def test_dispatch_refusals(
    app_client: TestClient, bus: EventBus, tickets: InMemoryTicketStore
) -> None:
    csrf = await login(app_client, "agent1001")
    h = {"X-CSRF-Token": csrf}
    url = "/api/tickets/20261126-0001/dispatch"
    # Not popped to this agent yet.
    resp = await app_client.post(url, headers=h, json={"department": "市城市管理局", "changes": {}})
    assert resp.status == 403
    await answer_call(app_client, bus)
    for body, error_id in [
        ({"department": "不存在的单位", "changes": {}}, "bad-department"),
        ({"department": "市城市管理局", "changes": {"line": "moon"}}, "bad-line"),
        ({"department": "市城市管理局", "changes": {"kind": "rant"}}, "bad-kind"),
        ({"department": "市城市管理局", "changes": {"sla_days": 5}}, "bad-sla"),
        ({"department": "市城市管理局", "changes": {"status": "closed"}}, "bad-field"),
        ({"department": "市城市管理局", "changes": {"sla_days": True}}, "bad-sla"),
    ]:
        resp = await app_client.post(url, headers=h, json=body)
        assert resp.status == 400, body
        assert (await resp.json())["error_id"] == error_id
    resp = await app_client.post(url, headers=h, data=b"{not json")
    assert resp.status == 400
    assert tickets.dispatches == []


async def test_supervisor_list_masks_numbers_and_filters(app_client: TestClient) -> None:
    await login(app_client, "supervisor")
    body = await (await app_client.get("/api/tickets")).json()
    assert {t["number"] for t in body["tickets"]} == {"20261126-0001", "20261120-0042"}
    assert all(t["caller_number"] == "138******00" for t in body["tickets"])
    body = await (await app_client.get("/api/tickets?status=dispatched")).json()
    assert [t["number"] for t in body["tickets"]] == ["20261120-0042"]
    body = await (await app_client.get("/api/tickets?q=漏水")).json()
    assert [t["number"] for t in body["tickets"]] == ["20261120-0042"]
    assert (await app_client.get("/api/tickets?line=moon")).status == 400
    one = await (await app_client.get("/api/tickets/20261126-0001")).json()
    assert one["caller_number"] == "138******00"


async def test_supervisor_sees_audit_trail(app_client: TestClient, bus: EventBus) -> None:
    csrf = await login(app_client, "agent1001")
    await answer_call(app_client, bus)
    await app_client.post(
        "/api/tickets/20261126-0001/dispatch",
        headers={"X-CSRF-Token": csrf},
        json={"department": "市城市管理局", "changes": {}},
    )
    async with another_client(app_client, "supervisor") as sup:
        audit = (await (await sup.get("/api/tickets/20261126-0001/audit")).json())["audit"]
        assert {(a["field"], a["after"]) for a in audit} == {
            ("department", "市城市管理局"),
            ("status", "dispatched"),
        }


async def test_recording_access_is_logged(
    app_client: TestClient, bus: EventBus, tickets: InMemoryTicketStore, deps
) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    tickets.add(replace(tickets.tickets["20261126-0001"], recordings=("20261126-0001.wav",)))
    (deps.recordings_dir / "20261126-0001.wav").write_bytes(b"RIFF....WAVE")
    await login(app_client, "agent1001")
    url = "/api/tickets/20261126-0001/recordings/20261126-0001.wav"
    assert (await app_client.get(url)).status == 403  # not this agent's ticket yet
    await answer_call(app_client, bus)
    resp = await app_client.get(url + "?download=1")
    assert resp.status == 200
    assert await resp.read() == b"RIFF....WAVE"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert (await app_client.get("/api/tickets/20261126-0001/recordings/..%2Fx.wav")).status == 404
    async with another_client(app_client, "admin") as admin:
        status = await (await admin.get("/api/admin/status")).json()
        [access] = status["recording_accesses"]
        assert access["who"] == "agent1001"
        assert access["ticket"] == "20261126-0001"
        assert access["recording"] == "20261126-0001.wav"
        assert access["action"] == "download"
        assert access["at"] == "2026-11-26T02:00:00+00:00"
