"""In a real Chromium, the desk's ticket shows the caller's speech and the browser plays it.

The ticket is made the IVR's way (StoreTicketPort in SQLite, speech file linked by its
name in the recordings folder) and read by the desk's StoreTickets port.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from ami_bridge import events as ev
from desk.app import build_desk_app
from desk.clock import SystemClock
from desk.kb import load_kb
from desk.memory import RecordingAmi, RecordingPolice110
from desk.services import DeskDeps
from desk.ticket_store_port import StoreTickets
from hotline.bus import EventBus
from ivr.record import IvrPath, PathStep
from ivr.ticket_port import StoreTicketPort
from recordings.store import RecordingStore
from tests.integration.desk.deskbrowser import DeskPage, chromium, serve
from tests.unit.desk.conftest import PASSWORD, make_users
from tests.unit.desk.eventkit import agent_event
from tests.unit.ivr.fakes import CALLER
from tickets.migrate import upgrade
from tickets.store import TicketStore
from tickets.workcalendar import WorkCalendar

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[3]
CALL = "1764122400.21"
SECONDS = 0.5


def speech_ticket(tmp_path: Path) -> tuple[TicketStore, RecordingStore]:
    db = create_engine(f"sqlite:///{tmp_path / 'tickets.db'}")
    upgrade(db)
    return TicketStore(db, WorkCalendar()), RecordingStore(tmp_path / "rec")


async def test_desk_shows_and_plays_the_callers_speech(tmp_path: Path) -> None:
    store, recordings = speech_ticket(tmp_path)
    wav = recordings.write_wav(recordings.speech_name(CALL, "ab12", date.today()),
                               b"\x10\x00\xf0\xff" * int(8000 * SECONDS), 16000)
    path = IvrPath(CALL, CALLER, 1.7e9, 9.0, (PathStep(0.0, "speech", "start"),), "queue",
                   "property", "property", "speech", "物业不修电梯", speech_recordings=(str(wav),))
    number = await StoreTicketPort(store, recordings=recordings).create_ticket(
        CALL, "13800138000", "物业不修电梯", None, path)
    name = str(recordings.relative(wav))
    bus = EventBus()
    deps = DeskDeps(tickets=StoreTickets(store), bus=bus, ami=RecordingAmi(),
                    kb=load_kb(PROJECT / "config" / "kb"), users=make_users(),
                    clock=SystemClock(), police110=RecordingPolice110(),
                    recordings_dir=recordings.root)
    try:
        async with serve(build_desk_app(deps)) as base, chromium() as browser:
            desk = await DeskPage.open(browser, base)
            await desk.login("agent1001", PASSWORD)
            bus.publish(agent_event(ev.AgentConnect, "PJSIP/1001", CALL, number))
            await desk.wait_for_ticket(number)
            row = f'#ticket-recordings .recording[data-recording="{name}"]'
            await desk.page.wait_for_selector(row, timeout=5_000)
            assert await desk.page.text_content(f"{row} span") == "来电诉求录音"
            # The browser loads the file through the desk and decodes it as audio.
            duration = await desk.page.eval_on_selector(f"{row} audio", """audio =>
                new Promise((resolve, reject) => {
                  audio.onloadedmetadata = () => resolve(audio.duration);
                  audio.onerror = () => reject(new Error("audio error " + audio.error.code));
                  audio.preload = "metadata";
                  audio.load();
                })""")
            assert abs(duration - SECONDS) < 0.05, duration
            assert desk.errors == []
            await desk.close()
    finally:
        store.close()
