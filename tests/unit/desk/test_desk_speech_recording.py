"""The caller's speech linked by the IVR shows on the desk and plays from it.

Real pieces: the IVR's StoreTicketPort creates the ticket in SQLite and links the speech
file; the desk reads it through its StoreTickets port; the recording is served from its
place in the recordings folder (`<day>/<call id>/speech-<uuid>.wav`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import create_engine

from ami_bridge import events as ev
from desk.app import build_desk_app
from desk.services import DeskDeps
from desk.ticket_store_port import StoreTickets
from hotline.bus import EventBus
from ivr.record import IvrPath, PathStep
from ivr.ticket_port import StoreTicketPort
from recordings.store import RecordingStore
from tests.unit.desk.conftest import another_client, login
from tests.unit.desk.eventkit import agent_event, next_message
from tests.unit.ivr.fakes import CALLER
from tests.unit.tickets.storekit import FakeClock, build_store
from tickets.store import TicketStore

CALL = "1764122400.10"


@pytest.fixture
def store(tmp_path: Path) -> TicketStore:
    return build_store(create_engine(f"sqlite:///{tmp_path / 't.db'}"), FakeClock())


@pytest.fixture
def recordings(tmp_path: Path) -> RecordingStore:
    return RecordingStore(tmp_path / "rec")


@pytest.fixture
async def speech_ticket(store: TicketStore, recordings: RecordingStore) -> tuple[str, str]:
    """(ticket number, the speech file's name in the folder), made the way the IVR does."""
    wav = recordings.write_wav(recordings.speech_name(CALL, "ab12", date(2026, 11, 26)),
                               b"\x01\x00" * 1600, 16000)
    path = IvrPath(CALL, CALLER, 1.7e9, 9.0, (PathStep(0.0, "speech", "start"),), "queue",
                   "property", "property", "speech", "物业不修电梯",
                   speech_recordings=(str(wav),))
    number = await StoreTicketPort(store, recordings=recordings).create_ticket(
        CALL, "13800138000", "物业不修电梯", None, path)
    return number, str(recordings.relative(wav))


@pytest.fixture
async def client(deps: DeskDeps, store: TicketStore, recordings: RecordingStore
                 ) -> AsyncIterator[TestClient[object, object]]:
    app = build_desk_app(replace(deps, tickets=StoreTickets(store),
                                 recordings_dir=recordings.root))
    client: TestClient[object, object] = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


@pytest.mark.parametrize("ticket_var", [True, False])  # TICKET_ID on the call, or found by call
async def test_speech_recording_pops_and_plays(client: TestClient[object, object], bus: EventBus,
                                               speech_ticket: tuple[str, str],
                                               recordings: RecordingStore,
                                               ticket_var: bool) -> None:
    number, name = speech_ticket
    await login(client, "agent1001")
    ws = await client.ws_connect("/ws")
    ticket_id = number if ticket_var else None
    bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001", CALL, ticket_id))
    bus.publish(agent_event(ev.AgentConnect, "PJSIP/1001", CALL, ticket_id))
    pop = await next_message(ws, "pop")
    await ws.close()
    assert pop["ticket"]["number"] == number
    assert pop["ticket"]["recordings"] == [name]
    assert name.startswith(f"2026-11-26/{CALL}/speech-")

    ticket = await (await client.get(f"/api/tickets/{number}")).json()
    assert ticket["recordings"] == [name]
    resp = await client.get(f"/api/tickets/{number}/recordings/{name}")
    assert resp.status == 200, await resp.text()
    assert await resp.read() == recordings.resolve(name).read_bytes()
    async with another_client(client, "admin") as admin:
        status = await (await admin.get("/api/admin/status")).json()
        [access] = status["recording_accesses"]
        assert (access["recording"], access["action"]) == (name, "play")


async def test_only_the_tickets_own_recordings_are_served(
        client: TestClient[object, object], bus: EventBus, speech_ticket: tuple[str, str],
        recordings: RecordingStore) -> None:
    number, name = speech_ticket
    other = recordings.write_wav(recordings.speech_name("1764122999.1", "zz", date(2026, 11, 26)),
                                 b"\x00\x00", 16000)
    await login(client, "agent1001")
    ws = await client.ws_connect("/ws")
    bus.publish(agent_event(ev.AgentConnect, "PJSIP/1001", CALL, number))
    await next_message(ws, "pop")
    await ws.close()
    base = f"/api/tickets/{number}/recordings/"
    assert (await client.get(base + str(recordings.relative(other)))).status == 404
    day, call, file = name.split("/")
    assert (await client.get(f"{base}{day}/{call}/..%2F{call}%2F{file}")).status == 404
    assert (await client.get(f"{base}%2F{name}")).status == 404
    assert (await client.get(base + name)).status == 200
