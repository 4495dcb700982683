"""The speech step in a real call on the sandbox Asterisk.

An AMI Originate makes a Local/ call: one half plays espeak-ng speech (16 kHz signed
linear) as the caller, the other runs the IVR's `Dial(AudioSocket/HOST:PORT/UUID/
c(slin16))` into our service. Partials must arrive, and the final transcript must equal
the transcript of the same file read directly (the test model has dither off). A leg
that carried A-law labelled as linear, or 8 kHz audio, would still give text, but not
the same text.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asr.engine import SpeechEngine, transcribe_pcm
from asr.events import SpeechPartial
from asr.service import SpeechService
from asr.settings import AsrSettings
from hotline.bus import EventBus
from hotline.settings import Settings
from recordings.store import RecordingStore
from tests.integration.asr.speech_kit import SENTENCE
from tests.integration.sandbox.amiraw import RawAmi

pytestmark = pytest.mark.integration

DIAL_PREFIX = "EXEC Dial AudioSocket/"


async def originate_speaker(settings: Settings, target: str, sound: str) -> str:
    """Start the Local/ test call; returns the Originate response."""
    ami = await RawAmi.connect(settings.ami.host, settings.ami.port)
    try:
        login = await ami.login(settings.ami.username, settings.ami_secret().reveal())
        assert login.get("Response") == "Success", f"AMI login refused: {login}"
        response = await ami.action(
            "Originate", Channel="Local/listen@asr-test", Context="asr-test", Exten="speak",
            Priority="1", Async="true", Timeout="10000", Codecs="slin16",
            Variable=f"__ASR_TEST_TARGET={target},__ASR_TEST_FILE={sound}")
        return response.get("Response", "")
    finally:
        await ami.close()


async def test_speech_step_on_sandbox_asterisk(
        sandbox: Settings, make_engine: Callable[..., Any], speak: Callable[[str, int], bytes],
        tmp_path: Path) -> None:
    engine: SpeechEngine = await make_engine(max_streams=2)
    bus = EventBus()
    events = bus.subscribe()
    service = SpeechService(engine, bus, AsrSettings(end_silence=1.0),
                            RecordingStore(tmp_path / "rec"))
    await service.start("127.0.0.1", 0)
    # The sound file must be inside the chroot Asterisk runs in.
    sounds = Path(sandbox.sandbox.root) / "tmp" / "hotline-asr-test"
    sounds.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex
    pcm = speak(SENTENCE, 16000)
    (sounds / f"{name}.sln16").write_bytes(pcm)
    os.chmod(sounds / f"{name}.sln16", 0o644)
    try:
        expected = await engine.run(transcribe_pcm, engine.model, pcm, 16000)
        session = service.open_session("sandbox-asr-1")
        assert session is not None
        assert session.agi_command.startswith(DIAL_PREFIX)
        target = session.agi_command.removeprefix(DIAL_PREFIX)
        assert target.endswith("/c(slin16)")

        answer = await originate_speaker(sandbox, target, f"/tmp/hotline-asr-test/{name}")
        assert answer == "Success", f"Originate failed: {answer}"
        result = await session.result(timeout=60)

        assert session.connected, "Asterisk never connected to the AudioSocket server"
        assert result.ended_by == "silence"
        assert result.partials, "no partial result arrived during the call"
        seen: list[object] = []
        while not events._queue.empty():
            seen.append(events._queue.get_nowait())
        assert any(isinstance(e, SpeechPartial) for e in seen)
        assert expected, "the test model recognised nothing in the file itself"
        assert result.text == expected
        # The leg carried the file bit for bit (16 kHz signed linear, no transcoding):
        # the saved recording is zeros, then exactly the file's samples.
        assert result.recording_path is not None
        with wave.open(result.recording_path) as wav:
            assert wav.getframerate() == 16000
            recorded = wav.readframes(wav.getnframes())
        start = len(recorded) - len(recorded.lstrip(b"\x00"))
        start -= start % 2
        body = pcm.lstrip(b"\x00")
        assert recorded[start : start + len(body)] == body
    finally:
        await service.close()
        with contextlib.suppress(FileNotFoundError):
            (sounds / f"{name}.sln16").unlink()
        await asyncio.sleep(0)
