"""The desk over the real ticket store (SQLite): pop, answer, dispatch, audit, corrections."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ami_bridge import events as ev
from desk.app import build_desk_app
from desk.ports import TicketFilter
from desk.services import DeskDeps
from desk.ticket_store_port import StoreTickets, entities_of, explanation_lines
from hotline.bus import EventBus
from tests.unit.desk.conftest import login
from tests.unit.desk.eventkit import agent_event, next_message
from tickets import Channel, NewTicket, TicketStore, WorkCalendar, make_engine, upgrade

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path: Path) -> TicketStore:
    engine = make_engine(f"sqlite:///{tmp_path / 'tickets.db'}")
    upgrade(engine)
    return TicketStore(engine, WorkCalendar(), clock=lambda: NOW)


def new_ticket(call_id: str, caller: str = "13905581234", **kw: object) -> NewTicket:
    values: dict[str, object] = dict(
        channel=Channel.PHONE,
        line="property",
        kind="complaint",
        sla_days=7,
        call_id=call_id,
        caller_number=caller,
        transcript="物业费 涨了 一倍 也不公示",
        confidence=0.81,
        ivr_path=("menu", "2", "speech"),
        explanation={
            "rules": [],
            "line_hits": {
                "property": [{"label": "物业费", "weight": 3.0, "source": "routing.yaml:12"}]
            },
            "line_scores": {"property": 3.2, "general": 0.4},
            "decided_by": "scores",
        },
        entities={
            "address": [{"value": "谯城区幸福路阳光小区", "start": 3, "end": 12}],
            "phone": [{"value": "13905581234", "start": 20, "end": 31}],
        },
        received_at=NOW - dt.timedelta(minutes=1),
    )
    values.update(kw)
    return NewTicket(**values)  # type: ignore[arg-type]


async def test_store_port_reads(store: TicketStore) -> None:
    old = store.create_ticket(new_ticket("c-0", received_at=NOW - dt.timedelta(days=3)))
    new = store.create_ticket(new_ticket("c-1"))
    port = StoreTickets(store)
    rec = await port.find_by_call("c-1")
    assert rec is not None and rec.number == new.number
    # The address routing found pre-fills the form's address field.
    assert rec.address == "谯城区幸福路阳光小区"
    assert [(e.key, e.value) for e in rec.entities] == [("phone", "13905581234")]
    assert rec.explanation[0] == "物业费 → property (+3.0)"
    assert rec.ivr_path == "menu>2>speech"
    assert rec.due_at is not None
    assert await port.get("20990101-0001") is None
    history = await port.history_for_caller("13905581234", exclude=new.number)
    assert [t.number for t in history] == [old.number]
    listed = await port.list_tickets(TicketFilter(line="property"))
    assert {t.number for t in listed} == {old.number, new.number}
    assert [t.number for t in await port.list_tickets(TicketFilter(text=new.number))] == [
        new.number
    ]


def test_explanation_and_entities_tolerate_shapes() -> None:
    assert explanation_lines(None) == ()
    assert explanation_lines({"rules": [{"name": "violence_now", "line": "police_110"}]}) == (
        "规则 violence_now → police_110",
    )
    assert entities_of([{"key": "phone", "value": "13800138000"}])[0].value == "13800138000"
    assert entities_of({"amount": 35000})[0].value == "35000"


@pytest.fixture
async def store_client(store: TicketStore, deps: DeskDeps) -> AsyncIterator[TestClient]:
    from dataclasses import replace

    app = build_desk_app(replace(deps, tickets=StoreTickets(store)))
    client: TestClient = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


async def test_pop_and_dispatch_through_the_store(
    store_client: TestClient, store: TicketStore, bus: EventBus
) -> None:
    ticket = store.create_ticket(new_ticket("1764122400.10"))
    csrf = await login(store_client, "agent1001")
    ws = await store_client.ws_connect("/ws")
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001", ticket_id=ticket.number))
    pop = await next_message(ws, "pop")
    assert pop["ticket"]["number"] == ticket.number
    assert pop["ticket"]["line"] == "property"
    bus.publish(agent_event(ev.AgentConnect, "PJSIP/1001", ticket_id=ticket.number))
    await next_message(ws, "pop")
    resp = await store_client.post(
        f"/api/tickets/{ticket.number}/dispatch",
        headers={"X-CSRF-Token": csrf},
        json={
            "department": "市住房和城乡建设局",
            "changes": {"line": "general", "summary": "物业费上涨未公示", "sla_days": 3},
        },
    )
    assert resp.status == 200, await resp.text()
    saved = store.get(ticket.number)
    assert saved.status == "dispatched"
    assert saved.department == "市住房和城乡建设局"
    assert saved.line == "general"
    assert saved.entities["summary"] == "物业费上涨未公示"
    assert saved.answered_at is not None and saved.answer_to_dispatch_s is not None
    trail = {(a.field, a.who) for a in store.audit_trail(ticket.number)}
    assert {
        ("line", "agent1001"),
        ("department", "agent1001"),
        ("status", "agent1001"),
        ("answered_at", "agent1001"),
        ("sla_days", "agent1001"),
    } <= trail
    [correction] = store.corrections()
    assert (correction.old_line, correction.new_line, correction.by) == (
        "property",
        "general",
        "agent1001",
    )
    # The store refuses a second dispatch; the desk says so in Chinese.
    resp = await store_client.post(
        f"/api/tickets/{ticket.number}/dispatch",
        headers={"X-CSRF-Token": csrf},
        json={"department": "市住房和城乡建设局", "changes": {}},
    )
    assert resp.status == 409
    await ws.close()
