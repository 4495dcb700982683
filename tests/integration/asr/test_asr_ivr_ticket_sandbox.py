"""A speech call on the sandbox Asterisk ends as a ticket that lists the caller's speech.

The whole way, with real peers: a Local/ caller dials 12345 and presses 9; the IVR
(FastAGI, in-process) starts the speech step; the caller is then redirected to play
espeak-ng speech, which reaches the speech service over AudioSocket; the transcript is
routed (no router: the general line) and the ticket is created in SQLite by the real
StoreTicketPort, which links the saved speech file by its name in the recordings folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from asr.engine import SpeechEngine, transcribe_pcm
from asr.service import SpeechService
from asr.session import SpeechSession
from asr.settings import AsrSettings
from hotline.bus import EventBus
from hotline.settings import Settings
from ivr.runner import IvrServices
from ivr.server import IvrServer
from ivr.service import build_missing_prompts, make_ivr_store
from ivr.ticket_port import StoreTicketPort
from recordings.store import RecordingStore
from tests.integration.asr.speech_kit import SENTENCE
from tests.integration.ivr.harness import AmiEvents
from tickets.migrate import upgrade
from tickets.store import TicketStore
from tickets.vocab import RecordingKind
from tickets.workcalendar import WorkCalendar

pytestmark = pytest.mark.integration

SOUNDS = "tmp/hotline-asr-test"  # inside the chroot Asterisk runs in


class WatchedSpeech:
    """The speech service as the IVR's port, noting when the IVR opens the step."""

    def __init__(self, service: SpeechService) -> None:
        self.service = service
        self.opened = asyncio.Event()
        self.sessions: list[SpeechSession] = []

    def open_session(self, call_id: str) -> SpeechSession | None:
        session = self.service.open_session(call_id)
        if session is not None:
            self.sessions.append(session)
        self.opened.set()
        return session


@contextlib.asynccontextmanager
async def ivr_with_speech(settings: Settings, speech: WatchedSpeech,
                          tickets: StoreTicketPort) -> AsyncIterator[None]:
    await asyncio.to_thread(build_missing_prompts, settings)
    store = make_ivr_store(settings)
    issues = await asyncio.to_thread(store.load)
    assert not issues, issues
    server = IvrServer(IvrServices(store, EventBus(), speech=speech, tickets=tickets),
                       settings.agi.host, settings.agi.port)
    await server.start()
    try:
        yield
    finally:
        await server.close()


def sound_file(sandbox: Settings, pcm: bytes) -> tuple[Path, str]:
    """The caller's speech where Asterisk can play it: (file, name for Playback)."""
    folder = Path(sandbox.sandbox.root) / SOUNDS
    folder.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex
    path = folder / f"{name}.sln16"
    path.write_bytes(pcm)
    os.chmod(path, 0o644)
    return path, f"/{SOUNDS}/{name}"


def wav_frames(path: Path) -> tuple[int, bytes]:
    with wave.open(str(path)) as wav:
        return wav.getframerate(), wav.readframes(wav.getnframes())


async def test_speech_call_ticket_lists_the_speech_recording(
        sandbox: Settings, make_engine: Callable[..., Any], speak: Callable[[str, int], bytes],
        tmp_path: Path) -> None:
    engine: SpeechEngine = await make_engine(max_streams=2)
    recordings = RecordingStore(tmp_path / "rec")
    service = SpeechService(engine, EventBus(), AsrSettings(end_silence=1.0), recordings)
    await service.start("127.0.0.1", 0)
    db = create_engine(f"sqlite:///{tmp_path / 'tickets.db'}")
    upgrade(db)
    store = TicketStore(db, WorkCalendar())
    speech = WatchedSpeech(service)
    pcm = speak(SENTENCE, 16000)
    sound, playback = sound_file(sandbox, pcm)
    number = "139" + str(uuid.uuid4().int)[:8]
    caller_id = f"test-{uuid.uuid4().hex[:12]}"
    try:
        async with AmiEvents.connect(sandbox) as ami, \
                ivr_with_speech(sandbox, speech, StoreTicketPort(store, recordings=recordings)):
            reply = await ami.action(
                "Originate", Channel="Local/12345@from-callers", Context="ivr-test-caller",
                Exten="listen", Priority="1", CallerID=f"测试 <{number}>", Async="true",
                ChannelId=caller_id, OtherChannelId=f"{caller_id}-ivr",
                Variable="IVR_TEST_KEYS=9,IVR_TEST_DELAY=1.5,IVR_TEST_HOLD=60")
            assert reply.get("Response") == "Success", reply
            seen = await ami.wait_for(
                lambda e: e.get("Uniqueid") == caller_id and "Channel" in e, 10)
            channel = seen[0]["Channel"]
            await asyncio.wait_for(speech.opened.wait(), 40)
            assert speech.sessions, "no recognizer was free for the speech step"
            # The IVR is listening: the caller now says the sentence.
            for name, value in (("ASR_TEST_FILE", playback), ("ASR_TEST_HOLD", "30")):
                r = await ami.action("Setvar", Channel=channel, Variable=name, Value=value)
                assert r.get("Response") == "Success", r
            r = await ami.action("Redirect", Channel=channel, Context="asr-test", Exten="speak",
                                 Priority="1")
            assert r.get("Response") == "Success", r
            joined, *_ = await ami.wait_for(
                lambda e: e.get("Event") == "QueueCallerJoin" and e.get("CallerIDNum") == number,
                60)
        result = await speech.sessions[0].result(timeout=5)
        ticket = store.get(joined["ChanVariable(TICKET_ID)"])
        assert result.ended_by == "silence" and result.text, result
        assert ticket.transcript == result.text and ticket.line == "general"
        [rec] = store.recordings(ticket.number)
        assert rec.kind is RecordingKind.SPEECH and rec.call_id == ticket.call_id
        assert not rec.path.startswith("/") and rec.path.endswith(".wav"), rec.path
        saved = recordings.resolve(rec.path)
        assert result.recording_path is not None and saved == Path(result.recording_path)
        assert saved.is_file()
        rate, recorded = wav_frames(saved)
        # The file holds what the caller said: read directly, it gives the same words
        # (the test model has dither off) - not silence, not another call's audio.
        assert rate == 16000
        assert await engine.run(transcribe_pcm, engine.model, recorded, rate) == result.text
    finally:
        await service.close()
        store.close()
        with contextlib.suppress(FileNotFoundError):
            sound.unlink()
