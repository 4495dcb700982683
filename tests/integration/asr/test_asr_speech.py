"""Speech recognition with the real Vosk test model, through a real TCP AudioSocket.

A fake Asterisk (asr.loopback) plays espeak-ng speech in 20 ms frames at real-time
pace into the service, as `Dial(AudioSocket/...)` would.
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from asr.engine import SpeechEngine, transcribe_pcm
from asr.events import SpeechFinal, SpeechPartial
from asr.loopback import play_call
from asr.resample import Resampler
from asr.service import SpeechService
from asr.settings import AsrSettings
from hotline.bus import EventBus
from recordings.store import RecordingStore
from tests.integration.asr.speech_kit import LONG_SENTENCE, SENTENCE

pytestmark = pytest.mark.integration

# The machine is shared (Asterisk, other tests): decoding may lag behind real time for a
# while after the call ends. Timing checks below use the server's hang-up instant instead.
RESULT_TIMEOUT = 60

Speak = Callable[[str, int], bytes]


async def start_service(engine: SpeechEngine, tmp_path: Path, **overrides: Any) -> SpeechService:
    settings = AsrSettings(**{"end_silence": 1.0, "no_input_timeout": 3.0, **overrides})
    service = SpeechService(engine, EventBus(), settings, RecordingStore(tmp_path / "rec"))
    await service.start("127.0.0.1", 0)
    return service


@pytest.fixture
async def service(make_engine: Callable[..., Any], tmp_path: Path) -> AsyncIterator[SpeechService]:
    svc = await start_service(await make_engine(max_streams=2), tmp_path)
    yield svc
    await svc.close()


async def direct_text(engine: SpeechEngine, pcm: bytes) -> str:
    text: str = await engine.run(transcribe_pcm, engine.model, pcm, engine.sample_rate)
    return text


async def test_engine_transcribes_file_repeatably(make_engine: Callable[..., Any],
                                                  speak: Speak) -> None:
    engine = await make_engine(max_streams=1)
    pcm = speak(SENTENCE, 16000)
    first = await direct_text(engine, pcm)
    assert first, "the test model recognised nothing in the espeak sentence"
    assert await direct_text(engine, pcm) == first  # dither off: same text every time


async def test_grammar_mode_picks_known_words(make_engine: Callable[..., Any],
                                              speak: Speak) -> None:
    engine = await make_engine(max_streams=1)
    assert engine.supports_grammar
    words = ["네", "아니요", "관리비", "상담원"]
    for word in words:
        recognition = engine.try_acquire(grammar=words)
        assert recognition is not None
        pcm = speak(word, 16000)
        await recognition.accept([pcm[i : i + 640] for i in range(0, len(pcm), 640)], False)
        assert await recognition.finish() == word
    assert engine.active == 0


async def test_speech_over_audiosocket_slin16(service: SpeechService, speak: Speak,
                                             tmp_path: Path) -> None:
    assert service.engine is not None
    pcm = speak(SENTENCE, 16000)
    expected = await direct_text(service.engine, pcm)
    events = service.bus.subscribe()
    session = service.open_session("1764145000.12")
    assert session is not None
    assert session.agi_command == (
        f"EXEC Dial AudioSocket/127.0.0.1:{service.port}/{session.uuid}/c(slin16)")

    first_partial_at: list[float] = []

    async def watch() -> None:
        while not isinstance(await events.get(), SpeechPartial):
            pass
        first_partial_at.append(time.monotonic())

    watcher = asyncio.create_task(watch())
    trace = await play_call("127.0.0.1", service.port, session.uuid, pcm, 16000,
                            trailing_silence=4.0)
    result = await session.result(timeout=RESULT_TIMEOUT)
    watcher.cancel()

    assert result.ended_by == "silence"
    # Partials arrive live, while the caller is still speaking.
    assert first_partial_at and trace.last_audio_sent_at is not None
    assert first_partial_at[0] < trace.last_audio_sent_at
    assert result.text == expected
    assert result.partials and result.partials[-1] != ""
    # The server answered with 20 ms slin16 silence all along and hung up at the end.
    assert trace.ended_at is not None and trace.first_reply_at is not None
    assert trace.silence_frames_received >= 0.8 * (trace.ended_at - trace.first_reply_at) / 0.02
    assert trace.received_kinds == {0x12}
    assert trace.hangup_received and trace.closed_by_server
    # Partials were published on the bus while the caller spoke, then the final.
    seen: list[object] = []
    while not events._queue.empty():
        seen.append(events._queue.get_nowait())
    partials = [e for e in seen if isinstance(e, SpeechPartial)]
    finals = [e for e in seen if isinstance(e, SpeechFinal)]
    assert partials and all(e.call_id == "1764145000.12" for e in partials)
    assert [(f.text, f.ended_by) for f in finals] == [(expected, "silence")]
    # The caller's speech was saved as a WAV inside the recordings folder.
    assert result.recording_path is not None
    saved = Path(result.recording_path)
    assert saved.is_relative_to((tmp_path / "rec").resolve())
    with wave.open(str(saved)) as wav:
        assert wav.getframerate() == 16000
        assert abs(wav.getnframes() / 16000 - trace.frames_sent * 0.02) < 0.05
    assert service.engine.active == 0


async def test_8k_leg_is_resampled(service: SpeechService, speak: Speak) -> None:
    assert service.engine is not None
    pcm8 = speak(SENTENCE, 8000)
    # What the server computes: the 8 kHz frames resampled one by one, kept state.
    resampler = Resampler(8000, 16000)
    expected = await direct_text(service.engine, b"".join(
        resampler.convert(pcm8[i : i + 320]) for i in range(0, len(pcm8), 320)))
    session = service.open_session("1764145000.13")
    assert session is not None
    await play_call("127.0.0.1", service.port, session.uuid, pcm8, 8000, trailing_silence=3.0)
    result = await session.result(timeout=RESULT_TIMEOUT)
    assert result.ended_by == "silence"
    assert result.text and result.text == expected


async def test_end_of_speech_when_line_goes_quiet(service: SpeechService, speak: Speak) -> None:
    """A phone with silence suppression sends nothing after speech: the wall clock ends it."""
    pcm = speak(SENTENCE, 16000)
    session = service.open_session("1764145000.14")
    assert session is not None
    trace = await play_call("127.0.0.1", service.port, session.uuid, pcm, 16000)
    result = await session.result(timeout=RESULT_TIMEOUT)
    assert result.ended_by == "silence" and result.text
    assert trace.hangup_received
    assert trace.ended_at is not None and trace.last_audio_sent_at is not None
    assert trace.ended_at - trace.last_audio_sent_at < 1.0 + 0.5


async def test_nothing_said_keeps_link_alive_then_ends(service: SpeechService) -> None:
    session = service.open_session("1764145000.15")
    assert session is not None
    started = time.monotonic()
    trace = await play_call("127.0.0.1", service.port, session.uuid, b"", 16000)
    result = await session.result(timeout=RESULT_TIMEOUT)
    assert (result.ended_by, result.text) == ("silence", "")
    assert trace.ended_at is not None
    assert 2.9 < trace.ended_at - started < 3.5  # no_input_timeout = 3 s
    # ~50 silence frames a second kept AudioSocket from giving up (it quits after ~2 s).
    assert trace.silence_frames_received >= 40 * 2.9


async def test_monologue_cut_at_max_duration(make_engine: Callable[..., Any], speak: Speak,
                                             tmp_path: Path) -> None:
    engine = await make_engine(max_streams=1)
    service = await start_service(engine, tmp_path, max_duration=4.0)
    try:
        pcm = speak(LONG_SENTENCE, 16000) * 4  # ~20 s of talking without a pause
        session = service.open_session("1764145000.16")
        assert session is not None
        started = time.monotonic()
        trace = await play_call("127.0.0.1", service.port, session.uuid, pcm, 16000)
        result = await session.result(timeout=RESULT_TIMEOUT)
        assert result.ended_by == "max_duration"
        assert trace.ended_at is not None
        assert 3.9 < trace.ended_at - started < 4.5
        assert trace.hangup_received and trace.frames_sent < 0.3 * len(pcm) / 640
        assert result.text
        assert engine.active == 0
    finally:
        await service.close()


async def test_hash_key_ends_turn(service: SpeechService, speak: Speak) -> None:
    pcm = speak(SENTENCE, 16000)
    session = service.open_session("1764145000.17")
    assert session is not None
    trace = await play_call("127.0.0.1", service.port, session.uuid, pcm, 16000, dtmf="#")
    result = await session.result(timeout=RESULT_TIMEOUT)
    assert result.ended_by == "dtmf"
    assert result.text
    assert trace.ended_at is not None and trace.last_audio_sent_at is not None
    assert trace.ended_at - trace.last_audio_sent_at < 0.5


async def test_hangup_mid_speech_frees_recognizer_and_socket(
        make_engine: Callable[..., Any], speak: Speak, tmp_path: Path) -> None:
    engine = await make_engine(max_streams=1)
    service = await start_service(engine, tmp_path)
    try:
        session = service.open_session("1764145000.18")
        assert session is not None
        assert service.open_session("1764145000.19") is None  # the one recognizer is busy
        await play_call("127.0.0.1", service.port, session.uuid, speak(LONG_SENTENCE, 16000),
                        16000, hang_up_after=2.0)
        result = await session.result(timeout=RESULT_TIMEOUT)
        assert result.ended_by == "hangup"
        assert engine.active == 0
        assert service.active_sessions == 0
        await asyncio.sleep(0.1)
        assert not service._connections  # the connection task (and its socket) is gone
        again = service.open_session("1764145000.19")
        assert again is not None
        again.cancel()
        assert (await again.result(timeout=RESULT_TIMEOUT)).ended_by == "hangup"
        assert engine.active == 0
    finally:
        await service.close()


async def test_burst_beyond_pool_gets_key_menu(make_engine: Callable[..., Any], speak: Speak,
                                               tmp_path: Path) -> None:
    engine = await make_engine(max_streams=3)
    service = await start_service(engine, tmp_path)
    try:
        pcm = speak(SENTENCE, 16000)
        sessions = [service.open_session(f"1764145001.{i}") for i in range(5)]
        admitted = [s for s in sessions if s is not None]
        assert len(admitted) == 3 and sessions[3] is None and sessions[4] is None
        await asyncio.gather(*(play_call("127.0.0.1", service.port, s.uuid, pcm, 16000,
                                         trailing_silence=2.0) for s in admitted))
        results = [await s.result(timeout=RESULT_TIMEOUT) for s in admitted]
        expected = await direct_text(engine, pcm)
        assert [r.text for r in results] == [expected] * 3
        assert engine.active == 0
        assert service.open_session("1764145001.9") is not None  # capacity is back
    finally:
        await service.close()


async def test_unknown_session_is_hung_up(service: SpeechService) -> None:
    trace = await play_call("127.0.0.1", service.port, "0b6f8e5c-6f5e-4a59-9d8c-5e0a1b2c3d4e",
                            bytes(6400), 16000)
    assert trace.hangup_received and trace.closed_by_server


async def test_asterisk_never_connects(make_engine: Callable[..., Any], tmp_path: Path) -> None:
    engine = await make_engine(max_streams=1)
    service = await start_service(engine, tmp_path, connect_timeout=0.5)
    try:
        session = service.open_session("1764145000.20")
        assert session is not None
        result = await session.result(timeout=3)
        assert (result.ended_by, result.text) == ("hangup", "")
        assert engine.active == 0
    finally:
        await service.close()


async def test_no_model_means_key_menu_only() -> None:
    service = SpeechService(None, EventBus(), AsrSettings(), None)
    await service.start("127.0.0.1", 0)
    try:
        assert service.open_session("1764145000.21") is None
        assert not service.status.ready
    finally:
        await service.close()
