"""A stand-in for Asterisk's side of AudioSocket, for self-tests and the benchmark.

`play_call` connects like `Dial(AudioSocket/...)` does, sends the UUID, then audio
frames at real-time pace (or not at all, like a phone with silence suppression),
optionally a key, and records what the server sent back. `synthesize` makes
test speech with espeak-ng.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import tempfile
import time
import uuid as uuidlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

with warnings.catch_warnings():
    # pydub imports the deprecated audioop and warns when ffmpeg is absent; PCM WAV and
    # raw signed linear, all this code converts, need neither warning.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

from asr import audiosocket as wire

FRAME_MS = 20


@dataclass
class CallTrace:
    """What the fake Asterisk saw during one call."""

    frames_sent: int = 0
    silence_frames_received: int = 0
    hangup_received: bool = False
    closed_by_server: bool = False
    first_reply_at: float | None = None
    last_audio_sent_at: float | None = None
    ended_at: float | None = None
    received_kinds: set[int] = field(default_factory=set)


def frames_of(pcm: bytes, rate: int) -> list[bytes]:
    size = rate * FRAME_MS // 1000 * 2
    return [bytes(wire.Audio(pcm[i : i + size], rate))
            for i in range(0, len(pcm) - len(pcm) % 2, size) if pcm[i : i + size]]


async def play_call(host: str, port: int, session_uuid: str, pcm: bytes, rate: int, *,
                    trailing_silence: float = 0.0, dtmf: str | None = None,
                    hang_up_after: float | None = None, realtime: bool = True,
                    wait_for_end: float = 30.0) -> CallTrace:
    """Play `pcm` (16-bit mono at `rate`) into the server as one AudioSocket call.

    `trailing_silence` seconds of zero frames follow the speech (a line that keeps
    sending); `dtmf` is sent after the audio; `hang_up_after` closes the socket after
    that many seconds of audio, mid-speech. Returns when the server ends the call.
    """
    trace = CallTrace()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(bytes(wire.Uuid(uuidlib.UUID(session_uuid))))
    listener = asyncio.create_task(_listen(reader, trace))
    frames = frames_of(pcm, rate)
    frames += [bytes(wire.silence(rate, FRAME_MS))] * int(trailing_silence * 1000 / FRAME_MS)
    start = time.monotonic()
    try:
        for index, frame in enumerate(frames):
            if listener.done():
                break
            if hang_up_after is not None and index * FRAME_MS / 1000 >= hang_up_after:
                writer.close()
                trace.ended_at = time.monotonic()
                return trace
            writer.write(frame)
            trace.frames_sent += 1
            if index < len(frames) - int(trailing_silence * 1000 / FRAME_MS):
                trace.last_audio_sent_at = time.monotonic()
            if realtime:
                # Pace on the absolute schedule so scheduling jitter does not accumulate.
                delay = start + (index + 1) * FRAME_MS / 1000 - time.monotonic()
                await asyncio.sleep(max(0.0, delay))
            else:
                await writer.drain()
        if dtmf and not listener.done():
            writer.write(bytes(wire.Dtmf(dtmf)))
        await asyncio.wait_for(asyncio.shield(listener), wait_for_end)
    except ConnectionError:
        # The server ended the call and reset the connection while we were sending.
        trace.closed_by_server = True
        trace.ended_at = trace.ended_at or time.monotonic()
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await listener
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return trace


async def _listen(reader: asyncio.StreamReader, trace: CallTrace) -> None:
    frames = wire.FrameReader()
    while True:
        data = await reader.read(4096)
        if not data:
            trace.closed_by_server = True
            trace.ended_at = trace.ended_at or time.monotonic()
            return
        for frame in frames.feed(data):
            if trace.first_reply_at is None:
                trace.first_reply_at = time.monotonic()
            if isinstance(frame, wire.Audio):
                trace.received_kinds.add(frame.kind)
                if not any(frame.pcm):
                    trace.silence_frames_received += 1
            elif isinstance(frame, wire.Hangup):
                trace.hangup_received = True
                trace.ended_at = time.monotonic()


def synthesize(text: str, rate: int, voice: str = "ko", out: Path | None = None) -> bytes:
    """Speech for `text` with espeak-ng, as 16-bit mono signed linear at `rate`."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True,
                       capture_output=True)
        segment = AudioSegment.from_wav(str(wav))
    segment = segment.set_channels(1).set_sample_width(2).set_frame_rate(rate)
    if out is not None:
        segment.export(str(out), format="wav")
    return bytes(segment.raw_data)
