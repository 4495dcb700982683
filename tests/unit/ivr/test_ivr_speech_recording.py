"""The caller's speech recording goes from the speech outcome to the ticket's recordings."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from hotline.bus import EventBus
from ivr.machine import CreateTicket, SpeechHeard
from ivr.ports import SpeechResult
from ivr.record import IvrPath, PathStep
from ivr.runner import IvrServices
from ivr.server import IvrServer
from ivr.ticket_port import StoreTicketPort
from recordings.store import RecordingStore, UnsafePath
from tickets.store import TicketStore
from tickets.vocab import RecordingKind

from ..tickets.storekit import FakeClock, build_store
from .fakes import CALLER, Decision, Driver, FakeRouter, FakeSession, FakeSpeech
from .test_ivr_machine import answer
from .test_ivr_server import caller, fake_asterisk, make_store, variables

DAY = date(2026, 11, 26)
CALL = "1764145000.42"


def tickets_in(tmp_path: Path) -> TicketStore:
    return build_store(create_engine(f"sqlite:///{tmp_path / 't.db'}"), FakeClock())


def speech_file(recordings: RecordingStore, session: str = "ab12") -> Path:
    name = recordings.speech_name(CALL, session, DAY)
    return recordings.write_wav(name, b"\x00\x01" * 800, 16000)


def ivr_path(*recordings: str) -> IvrPath:
    return IvrPath(CALL, CALLER, 1.7e9, 9.0, (PathStep(0.0, "speech", "start"),),
                   "queue", "property", "property", "speech", "物业不修电梯",
                   speech_recordings=recordings)


# -- the machine: pure, the path comes in with the speech outcome -----------------------

def test_speech_recording_rides_on_the_ticket_step() -> None:
    d = Driver()
    heard = SpeechHeard(SpeechResult("小区物业不给修电梯", "silence", "/rec/2026/s1.wav"))
    answer(d, ["9"], speech=heard, decision=Decision("property"))
    [ticket] = [s for s in d.steps if isinstance(s, CreateTicket)]
    assert ticket.path.speech_recordings == ("/rec/2026/s1.wav",)
    assert d.finish.path.speech_recordings == ("/rec/2026/s1.wav",)


def test_speech_not_understood_is_still_linked_to_the_key_chosen_ticket() -> None:
    d = Driver()
    heard = SpeechHeard(SpeechResult("", "silence", "/rec/2026/s2.wav"))
    answer(d, ["9", "1"], speech=heard)
    [ticket] = [s for s in d.steps if isinstance(s, CreateTicket)]
    assert ticket.path.line == "enterprise"
    assert ticket.path.speech_recordings == ("/rec/2026/s2.wav",)


def test_no_recording_no_link() -> None:
    d = Driver()
    answer(d, ["9"], speech=SpeechHeard(SpeechResult("物业", "silence")),
           decision=Decision("property"))
    [ticket] = [s for s in d.steps if isinstance(s, CreateTicket)]
    assert ticket.path.speech_recordings == ()
    d = Driver()
    answer(d, ["2"])
    [ticket] = [s for s in d.steps if isinstance(s, CreateTicket)]
    assert ticket.path.speech_recordings == ()


# -- the ticket port over a real SQLite store --------------------------------------------

async def test_store_port_links_speech_relative_to_the_recordings_folder(tmp_path: Path) -> None:
    store = tickets_in(tmp_path)
    recordings = RecordingStore(tmp_path / "rec")
    wav = speech_file(recordings)
    port = StoreTicketPort(store, recordings=recordings)
    number = await port.create_ticket(CALL, "13800138000", "物业不修电梯",
                                      Decision("property"), ivr_path(str(wav)))
    [rec] = store.recordings(number)
    assert rec.kind is RecordingKind.SPEECH and rec.call_id == CALL
    assert rec.path == f"2026-11-26/{CALL}/speech-ab12.wav"
    assert recordings.resolve(rec.path) == wav and wav.is_file()
    assert ("recording", rec.path) in {(e.field, e.after) for e in store.audit_trail(number)}


async def test_every_speech_step_is_linked(tmp_path: Path) -> None:
    store = tickets_in(tmp_path)
    recordings = RecordingStore(tmp_path / "rec")
    first, second = speech_file(recordings, "s1"), speech_file(recordings, "s2")
    port = StoreTicketPort(store, recordings=recordings)
    number = await port.create_ticket(CALL, "", "", None, ivr_path(str(first), str(second)))
    assert [r.path.rsplit("/", 1)[1] for r in store.recordings(number)] == [
        "speech-s1.wav", "speech-s2.wav"]


@pytest.mark.parametrize("where", ["outside", "root"])
async def test_file_outside_the_folder_is_not_linked_but_the_ticket_stands(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, where: str) -> None:
    store = tickets_in(tmp_path)
    recordings = RecordingStore(tmp_path / "rec")
    path = str(tmp_path / "elsewhere.wav") if where == "outside" else str(recordings.root)
    port = StoreTicketPort(store, recordings=recordings)
    with caplog.at_level(logging.WARNING, "ivr.ticket_port"):
        number = await port.create_ticket(CALL, "", "说了话", None, ivr_path(path))
    assert store.get(number).transcript == "说了话"
    assert store.recordings(number) == []
    [record] = [r for r in caplog.records if "not linked" in r.getMessage()]
    assert record.__dict__["call_id"] == CALL and number in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], UnsafePath)


async def test_database_refusing_the_link_keeps_the_ticket(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tickets_in(tmp_path)
    recordings = RecordingStore(tmp_path / "rec")
    wav = speech_file(recordings)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(store, "add_recording", broken)
    port = StoreTicketPort(store, recordings=recordings)
    with caplog.at_level(logging.WARNING, "ivr.ticket_port"):
        number = await port.create_ticket(CALL, "", "", None, ivr_path(str(wav)))
    assert store.get(number).call_id == CALL
    assert any(r.__dict__.get("call_id") == CALL and "not linked" in r.getMessage()
               for r in caplog.records)


async def test_port_without_recordings_folder_logs_and_creates(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = tickets_in(tmp_path)
    with caplog.at_level(logging.WARNING, "ivr.ticket_port"):
        number = await StoreTicketPort(store).create_ticket(
            CALL, "", "", None, ivr_path("/var/rec/x.wav"))
    assert store.recordings(number) == []
    assert any("no recordings folder" in r.getMessage() for r in caplog.records)


# -- the whole IVR over FastAGI: speech outcome -> runner -> machine -> port -> SQLite -----

async def test_speech_call_over_fastagi_links_the_recording(tmp_path: Path) -> None:
    store = tickets_in(tmp_path)
    recordings = RecordingStore(tmp_path / "rec")
    wav = speech_file(recordings)
    speech = FakeSpeech([FakeSession(SpeechResult("物业不修电梯", "silence", str(wav)))])
    services = IvrServices(make_store(tmp_path), EventBus(), speech,
                           FakeRouter(Decision("property")),
                           StoreTicketPort(store, recordings=recordings))
    async with IvrServer(services, "127.0.0.1", 0) as srv:
        commands = await fake_asterisk(srv.port, caller(["9"]))
    number = variables(commands)["TICKET_ID"]
    assert number
    [rec] = store.recordings(number)
    assert rec.kind is RecordingKind.SPEECH and recordings.resolve(rec.path) == wav
