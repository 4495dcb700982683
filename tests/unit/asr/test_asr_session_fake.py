"""The AudioSocket session logic over real TCP, with a stand-in recognizer (no model).

The real-model tests live in tests/integration/asr; these cover protocol edge cases
quickly: bad frames, keys, rate labels, and that every path gives the recognizer back.
"""

from __future__ import annotations

import asyncio
import json
import struct
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import asr.engine
from asr import audiosocket as wire
from asr.engine import Decoder, SpeechEngine
from asr.loopback import play_call
from asr.model import ModelLayout
from asr.service import SpeechService
from asr.settings import AsrSettings
from hotline.bus import EventBus


class CountingRecognizer:
    """Says how many bytes it heard, so tests can check what reached it."""

    def __init__(self) -> None:
        self.bytes = 0

    def AcceptWaveform(self, data: bytes) -> bool:
        self.bytes += len(data)
        return False

    def PartialResult(self) -> str:
        return json.dumps({"partial": f"heard {self.bytes}"})

    def FinalResult(self) -> str:
        text, self.bytes = f"heard {self.bytes}", 0
        return json.dumps({"text": text})


@pytest.fixture
async def service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[SpeechService]:
    def fake_decoder(model: Any, rate: int, grammar: Any = None) -> Decoder:
        return Decoder(CountingRecognizer(), [], grammar=grammar is not None)

    monkeypatch.setattr(asr.engine, "new_decoder", fake_decoder)
    engine = SpeechEngine(None, ModelLayout(tmp_path, 16000, True), max_streams=2, threads=1)
    await engine.prewarm()
    svc = SpeechService(engine, EventBus(), AsrSettings(end_silence=0.3, no_input_timeout=1.0,
                                                         max_duration=3.0), None)
    await svc.start("127.0.0.1", 0)
    yield svc
    await svc.close()
    await engine.close()


def tone(seconds: float, rate: int) -> bytes:
    return struct.pack("<2h", 4000, -4000) * int(seconds * rate / 2)


async def raw_call(service: SpeechService, session_uuid: str, payload: bytes) -> bytes:
    """Send raw bytes after the UUID frame; return everything the server sent back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    writer.write(bytes(wire.Uuid(uuid.UUID(session_uuid))) + payload)
    received = await asyncio.wait_for(reader.read(-1), 10)
    writer.close()
    return received


async def test_leading_digital_silence_not_decoded(service: SpeechService) -> None:
    session = service.open_session("c-1")
    assert session is not None
    await play_call("127.0.0.1", service.port, session.uuid, bytes(16000) + tone(1.0, 16000),
                    16000, trailing_silence=0.1)
    result = await session.result(timeout=10)
    assert result.ended_by == "silence"
    # 1 s of tone and 0.1 s of trailing silence; none of the 0.5 s of leading zeros.
    assert result.text == f"heard {32000 + 3200}"
    assert result.partials and result.partials[0].startswith("heard ")


async def test_8k_leg_is_resampled_to_model_rate(service: SpeechService) -> None:
    session = service.open_session("c-2")
    assert session is not None
    await play_call("127.0.0.1", service.port, session.uuid, tone(1.0, 8000), 8000)
    result = await session.result(timeout=10)
    heard = int(result.text.split()[1])
    assert abs(heard - 32000) <= 8  # 1 s at 16 kHz, give or take the filter's edge


async def test_bad_frame_ends_step_and_frees_recognizer(service: SpeechService) -> None:
    session = service.open_session("c-3")
    assert session is not None
    back = await raw_call(service, session.uuid, bytes(wire.Audio(tone(0.1, 16000), 16000))
                          + b"\x42\x00\x00")
    result = await session.result(timeout=10)
    assert result.ended_by == "hangup"
    assert service.engine is not None and service.engine.active == 0
    assert back  # silence frames went out before the bad frame


async def test_hangup_frame_and_other_keys(service: SpeechService) -> None:
    session = service.open_session("c-4")
    assert session is not None
    back = await raw_call(service, session.uuid, bytes(wire.Dtmf("5")) + bytes(wire.Hangup()))
    assert (await session.result(timeout=10)).ended_by == "hangup"
    frames, rest = wire.parse_buffer(back)
    assert rest == b"" and not any(isinstance(f, wire.Hangup) for f in frames)


async def test_hash_ends_with_hangup_frame_back(service: SpeechService) -> None:
    session = service.open_session("c-5")
    assert session is not None
    back = await raw_call(service, session.uuid, bytes(wire.Dtmf("#")))
    assert (await session.result(timeout=10)).ended_by == "dtmf"
    frames, _ = wire.parse_buffer(back)
    assert isinstance(frames[-1], wire.Hangup)


async def test_a_short_answer_ends_on_any_key_and_says_which(service: SpeechService) -> None:
    """需要报警吗: a caller may press 2 instead of saying 不是; free speech ignores the key."""
    session = service.open_session("c-5b", grammar=("是", "不是"))
    assert session is not None
    await raw_call(service, session.uuid, bytes(wire.Dtmf("2")) + bytes(wire.Dtmf("1")))
    result = await session.result(timeout=10)
    assert (result.ended_by, result.key) == ("dtmf", "2")  # the first key counts
    free = service.open_session("c-5c")
    assert free is not None
    await raw_call(service, free.uuid, bytes(wire.Dtmf("2")) + bytes(wire.Hangup()))
    result = await free.result(timeout=10)
    assert (result.ended_by, result.key) == ("hangup", "")


async def test_audio_faster_than_real_time_is_capped(service: SpeechService) -> None:
    session = service.open_session("c-6")
    assert session is not None
    await play_call("127.0.0.1", service.port, session.uuid, tone(20.0, 16000), 16000,
                    realtime=False)
    result = await session.result(timeout=10)
    assert result.ended_by == "max_duration"
    assert service.engine is not None and service.engine.active == 0


async def test_pool_limit_and_cancel(service: SpeechService) -> None:
    first = service.open_session("c-7")
    second = service.open_session("c-8")
    assert first is not None and second is not None
    assert service.open_session("c-9") is None
    first.cancel()
    first.cancel()
    assert (await first.result(timeout=10)).ended_by == "hangup"
    assert service.open_session("c-9") is not None
    assert service.open_session("../../etc") is None  # unsafe call ids never get a session
