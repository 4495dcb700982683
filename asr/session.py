"""One speech step of one call: from `open_session` to the final transcript.

Life of a session:
1. the IVR opens it (a recognizer is already reserved) and sends `agi_command`;
2. Asterisk connects to the AudioSocket server and sends our UUID; the server
   hands the connection to `run()`;
3. `run()` feeds the caller's audio to the recognizer, publishes partials, sends
   silence back every 20 ms (AudioSocket gives up after ~2 s without frames), and
   stops on end of speech, the maximum duration, `#`, or hang-up;
4. the transcript, the saved recording and the partials resolve `result()`.
Whatever happens, the recognizer goes back to the pool and the socket is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from asr import audiosocket as wire
from asr.engine import Recognition, chunk_bytes
from asr.events import SpeechFinal, SpeechPartial, SpeechResult
from asr.pcm import strip_leading_zeros
from asr.resample import Resampler
from asr.settings import AsrSettings
from asr.turn import EndReason, TurnClock, is_voice
from hotline.bus import EventBus
from hotline.logs import CallLog
from recordings.store import RecordingStore

log = logging.getLogger(__name__)

TICK = 0.020  # seconds between silence frames and end-of-speech checks
BATCH_CHUNKS = 1  # decode as soon as 20 ms is there; batches grow by themselves when busy
PARTIAL_INTERVAL = 0.25  # at most this often the recognizer is asked for partial text
READ_SIZE = 4096
MAX_CATCH_UP = 5  # silence frames sent at once after a stall of the event loop
MAX_WRITE_BUFFER = 64 * 1024  # a peer that stops reading this much silence is gone


class SpeechSession:
    """Handle the IVR holds while the caller speaks."""

    def __init__(self, *, call_id: str, uuid: str, agi_command: str, recognition: Recognition,
                 settings: AsrSettings, bus: EventBus, store: RecordingStore | None,
                 on_close: Callable[[SpeechSession], None],
                 monotonic: Callable[[], float] = time.monotonic, end_keys: str = "#") -> None:
        self.call_id = call_id
        self.uuid = uuid
        self.agi_command = agi_command
        self._recognition = recognition
        self._settings = settings
        self._bus = bus
        self._store = store
        self._on_close = on_close
        self._monotonic = monotonic
        self._log = CallLog(log, call_id)
        # Keys that end the turn: # in free speech; any key in a short answer (1 = yes...).
        self._end_keys = end_keys
        self._key = ""
        self._future: asyncio.Future[SpeechResult] = asyncio.get_running_loop().create_future()
        self._ended = asyncio.Event()
        self._end_reason: EndReason | None = None
        self._connected = False
        self._partials: list[str] = []
        self._recorded = bytearray()
        self._leg_rate: int | None = None
        self._pending = bytearray()  # audio at the model's rate, not yet decoded
        self._new_audio = asyncio.Event()
        self._clock: TurnClock | None = None
        self._resampler: Resampler | None = None
        self._max_bytes = 0
        # Measurements (read by the benchmark, worth exporting as metrics): how long each
        # 20 ms of audio waited to be decoded; when the turn ended.
        self.decode_lags: list[float] = []
        self.last_frame_at = 0.0
        self._pending_since = 0.0  # arrival of the oldest audio not yet decoded
        self.ended_at: float | None = None
        self.finished_at: float | None = None
        self._sound_started = False  # digital silence before the first sound is not decoded
        self._concluding: asyncio.Task[None] | None = None  # kept: tasks need a reference
        self._connect_timer = asyncio.get_running_loop().call_later(
            settings.connect_timeout, self._connect_timed_out)

    # ----- the port the IVR uses -------------------------------------------------

    async def result(self, timeout: float) -> SpeechResult:
        """The outcome of the speech step; TimeoutError if not ready within `timeout` s."""
        return await asyncio.wait_for(asyncio.shield(self._future), timeout)

    def cancel(self) -> None:
        """Give up on this step (the call ended, the IVR moved on). Safe to call twice."""
        if self._connected:
            self._end("hangup")
        elif not self._future.done() and not self._ended.is_set():
            self._ended.set()
            self._end_reason = "hangup"
            self._concluding = asyncio.get_running_loop().create_task(self._conclude())

    @property
    def connected(self) -> bool:
        return self._connected

    # ----- connection side -------------------------------------------------------

    def _connect_timed_out(self) -> None:
        if not self._connected:
            self._log.warning("Asterisk did not connect to AudioSocket within %.1f s",
                              self._settings.connect_timeout)
            self.cancel()

    @property
    def last_voice_at(self) -> float | None:
        return self._clock.last_voice_at if self._clock else None

    def _end(self, reason: EndReason) -> None:
        if self._end_reason is None:
            self.ended_at = self._monotonic()
            self._end_reason = reason
            self._ended.set()
            self._new_audio.set()

    async def run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                  wire_reader: wire.FrameReader) -> None:
        """Serve the AudioSocket connection Asterisk opened for this session."""
        if self._ended.is_set():  # cancelled or timed out before Asterisk connected
            await _close(writer, send_hangup=True)
            return
        self._connected = True
        self._connect_timer.cancel()
        self._clock = TurnClock(self._monotonic(), self._settings.end_silence,
                                self._settings.no_input_timeout, self._settings.max_duration)
        self._log.info("speech step connected (session %s)", self.uuid)
        tasks = [
            asyncio.create_task(self._read(reader, wire_reader)),
            asyncio.create_task(self._tick(writer)),
        ]
        decoding = asyncio.create_task(self._decode())
        try:
            await self._ended.wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await _close(writer, send_hangup=self._end_reason != "hangup")
            self._new_audio.set()
            with contextlib.suppress(Exception):
                await decoding
            await self._conclude()

    async def _read(self, reader: asyncio.StreamReader, wire_reader: wire.FrameReader) -> None:
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:  # Asterisk often just closes: EOF is a hangup
                    self._end("hangup")
                    return
                for frame in wire_reader.feed(data):
                    self._on_frame(frame)
        except ValueError as exc:
            self._log.warning("bad AudioSocket frame, ending the step: %s", exc)
            self._end("hangup")
        except ConnectionError:
            self._end("hangup")

    def _on_frame(self, frame: wire.Frame) -> None:
        if isinstance(frame, wire.Audio):
            self._on_audio(frame)
        elif isinstance(frame, wire.Dtmf):
            if frame.digit in self._end_keys and not self._key:
                self._key = frame.digit
                self._end("dtmf")
        elif isinstance(frame, wire.Hangup | wire.Error):
            if isinstance(frame, wire.Error):
                self._log.warning("AudioSocket error frame from Asterisk: %s", frame.code.hex())
            self._end("hangup")

    def _on_audio(self, frame: wire.Audio) -> None:
        if self._leg_rate is None:
            self._leg_rate = frame.rate
            self._resampler = Resampler(frame.rate, self._recognition.sample_rate)
            self._max_bytes = int((self._settings.max_duration + 5) * frame.rate * 2)
        elif frame.rate != self._leg_rate:
            self._log.warning("audio rate changed %d -> %d Hz mid-call, ignoring frame",
                              self._leg_rate, frame.rate)
            return
        assert self._clock is not None and self._resampler is not None
        if len(self._recorded) > self._max_bytes:
            # Audio faster than real time (not a phone): the wall-clock cap alone would
            # let memory grow, so cap the amount too.
            self._end("max_duration")
            return
        if is_voice(frame.pcm, self._settings.voice_rms):
            self._clock.heard_voice(self._monotonic())
        self._recorded += frame.pcm
        self.last_frame_at = self._monotonic()
        audio = self._resampler.convert(frame.pcm)
        if not self._sound_started:
            audio = strip_leading_zeros(audio)
            self._sound_started = bool(audio)
        if audio:
            if not self._pending:
                self._pending_since = self.last_frame_at
            self._pending += audio
            self._new_audio.set()

    async def _tick(self, writer: asyncio.StreamWriter) -> None:
        assert self._clock is not None
        rate = self._leg_rate or self._settings.leg_rate
        quiet = bytes(wire.silence(rate))
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            if self._leg_rate is not None and self._leg_rate != rate:
                rate = self._leg_rate
                quiet = bytes(wire.silence(rate))
            transport = writer.transport
            if transport.is_closing() or transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
                self._end("hangup")
                return
            # On an absolute schedule, so a busy machine's late wake-ups do not thin the
            # stream out; after a long stall, at most MAX_CATCH_UP frames make up for it.
            now = loop.time()
            due = min(MAX_CATCH_UP, 1 + int((now - next_at) / TICK))
            writer.write(quiet * due)
            next_at = max(next_at + due * TICK, now - TICK)
            reason = self._clock.check(self._monotonic())
            if reason is not None:
                self._end(reason)
                return
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    async def _decode(self) -> None:
        size = chunk_bytes(self._recognition.sample_rate)
        last_partial_at = 0.0
        last_text = ""
        while True:
            await self._new_audio.wait()
            self._new_audio.clear()
            ending = self._ended.is_set()
            # Whole chunks only while the call goes on, so slicing never depends on timing.
            pending = len(self._pending)
            if not ending and pending < size * BATCH_CHUNKS:
                continue  # not a whole chunk yet
            usable = pending if ending else pending - pending % size
            if usable:
                data = bytes(self._pending[:usable])
                del self._pending[:usable]
                now = self._monotonic()
                oldest, newest = self._pending_since, self.last_frame_at
                self._pending_since = newest  # what stays behind is newer
                want = not ending and now - last_partial_at >= PARTIAL_INTERVAL
                text = await self._recognition.accept(
                    [data[i : i + size] for i in range(0, len(data), size)], want)
                if not ending:
                    self._note_lags(oldest, newest, usable // size)
                if want:
                    last_partial_at = now
                if text and text != last_text:
                    last_text = text
                    self._partials.append(text)
                    self._bus.publish(SpeechPartial(self.call_id, text, time.time()))
            if ending and not self._pending:
                return

    def _note_lags(self, oldest: float, newest: float, chunks: int) -> None:
        """One lag per 20 ms chunk (arrivals spread evenly between the batch's ends).

        Per chunk, not per batch: a stream that falls behind decodes few big batches,
        so counting batches would hide exactly the lag that matters.
        """
        done = self._monotonic()
        for index in range(chunks):
            arrived = oldest + (newest - oldest) * (index / max(1, chunks - 1))
            self.decode_lags.append(done - arrived)

    async def _conclude(self) -> None:
        self._connect_timer.cancel()
        reason: EndReason = self._end_reason or "hangup"
        try:
            text = await self._recognition.finish()
        except Exception:
            self._log.exception("recognizer failed while finishing")
            text = ""
        path = await self._save_recording()
        self._on_close(self)
        self.finished_at = self._monotonic()
        self._log.info("speech step ended by %s: %d characters", reason, len(text))
        self._bus.publish(SpeechFinal(self.call_id, text, reason, time.time()))
        if not self._future.done():
            self._future.set_result(SpeechResult(text, reason, path, tuple(self._partials),
                                                  self._key))

    async def _save_recording(self) -> str | None:
        if self._store is None or not self._recorded or self._leg_rate is None:
            return None
        store = self._store
        name = store.speech_name(self.call_id, self.uuid, date.today())
        try:
            path: Path = await asyncio.to_thread(
                store.write_wav, name, bytes(self._recorded), self._leg_rate)
        except OSError:
            self._log.exception("could not save the caller's speech")
            return None
        return str(path)


async def _close(writer: asyncio.StreamWriter, send_hangup: bool) -> None:
    """Tell Asterisk we are done (so Dial returns and the IVR carries on), then close."""
    with contextlib.suppress(ConnectionError, RuntimeError, TimeoutError):
        if send_hangup and not writer.transport.is_closing():
            writer.write(bytes(wire.Hangup()))
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    with contextlib.suppress(Exception):
        writer.transport.abort()
