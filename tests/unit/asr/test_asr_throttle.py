"""Partial text is asked for a few times a second, not on every 20 ms of audio; a
recognition still open when the engine closes gives its recognizer back quietly."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

import asr.engine
import asr.session
from asr.engine import Decoder, SpeechEngine
from asr.loopback import play_call
from asr.model import ModelLayout
from asr.service import SpeechService
from asr.settings import AsrSettings
from hotline.bus import EventBus


class PartialCounter:
    def __init__(self) -> None:
        self.chunks = 0
        self.partials = 0

    def AcceptWaveform(self, data: bytes) -> bool:
        self.chunks += 1
        return False

    def PartialResult(self) -> str:
        self.partials += 1
        return json.dumps({"partial": f"p{self.partials}"})

    def FinalResult(self) -> str:
        return json.dumps({"text": "done"})


@pytest.fixture
def counters(monkeypatch: pytest.MonkeyPatch) -> list[PartialCounter]:
    made: list[PartialCounter] = []

    def fake_decoder(model: Any, rate: int, grammar: Any = None) -> Decoder:
        made.append(PartialCounter())
        return Decoder(made[-1], [], grammar=grammar is not None)

    monkeypatch.setattr(asr.engine, "new_decoder", fake_decoder)
    return made


async def test_partials_are_throttled(counters: list[PartialCounter], tmp_path: Path) -> None:
    engine = SpeechEngine(None, ModelLayout(tmp_path, 16000, True), max_streams=1, threads=1)
    await engine.prewarm()
    service = SpeechService(engine, EventBus(), AsrSettings(end_silence=0.3), None)
    await service.start("127.0.0.1", 0)
    try:
        session = service.open_session("c-1")
        assert session is not None
        seconds = 2.0
        tone = struct.pack("<2h", 4000, -4000) * int(seconds * 16000 / 2)
        await play_call("127.0.0.1", service.port, session.uuid, tone, 16000,
                        trailing_silence=0.5)
        result = await session.result(timeout=10)
    finally:
        await service.close()
        await engine.close()
    [counter] = counters
    assert counter.chunks >= seconds * 50  # every 20 ms of tone reached the recognizer
    most = seconds / asr.session.PARTIAL_INTERVAL + 4  # the tail of silence, rounding
    assert 3 <= counter.partials <= most, counter.partials
    assert result.partials and result.text == "done"


async def test_finish_after_engine_closed(counters: list[PartialCounter],
                                          tmp_path: Path) -> None:
    engine = SpeechEngine(None, ModelLayout(tmp_path, 16000, True), max_streams=1, threads=1)
    await engine.prewarm()
    recognition = engine.try_acquire()
    assert recognition is not None
    await recognition.accept([bytes(640)])
    await engine.close()
    assert await recognition.finish() == ""
    assert engine.active == 0 and engine.closed
