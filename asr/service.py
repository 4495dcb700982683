"""The speech service: the port the IVR calls, and the AudioSocket server behind it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid as uuidlib
from collections.abc import Sequence

from asr import audiosocket as wire
from asr.engine import SpeechEngine
from asr.model import ModelStatus, status_ok
from asr.session import SpeechSession
from asr.settings import AsrSettings
from hotline.bus import EventBus
from recordings.store import RecordingStore, UnsafePath, check_id

log = logging.getLogger(__name__)


class SpeechService:
    """Admits speech steps, and matches Asterisk's AudioSocket connections to them.

    Built once by the composition root. With no engine (model missing) every
    `open_session` returns None: the IVR runs on key menus only.
    """

    def __init__(self, engine: SpeechEngine | None, bus: EventBus, settings: AsrSettings,
                 store: RecordingStore | None, status: ModelStatus | None = None,
                 owns_engine: bool = False) -> None:
        self.engine = engine
        self.bus = bus
        self.settings = settings
        self.store = store
        self.owns_engine = owns_engine  # close() also closes the engine
        self.status = status or (status_ok(engine.layout.path) if engine else ModelStatus(
            False, "", "语音识别未启用", "speech recognition disabled"))
        self._waiting: dict[uuidlib.UUID, SpeechSession] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.host = settings.advertise_host
        self.port = 0

    # ----- the port the IVR uses -------------------------------------------------

    def open_session(self, call_id: str,
                     grammar: Sequence[str] | None = None) -> SpeechSession | None:
        """Reserve a recognizer for one speech step; None when none is free (key menu).

        `grammar` restricts recognition to those phrases (yes/no, digits) where the
        model supports it.
        """
        if self.engine is None or self._server is None:
            return None
        try:
            check_id(call_id)
        except UnsafePath:
            log.warning("refusing speech step for an unsafe call id")
            return None
        recognition = self.engine.try_acquire(grammar)
        if recognition is None:
            log.info("no recognizer free: key menu", extra={"call_id": call_id})
            return None
        key = uuidlib.uuid4()
        session = SpeechSession(
            call_id=call_id, uuid=str(key), agi_command=self.agi_command(str(key)),
            recognition=recognition, settings=self.settings, bus=self.bus, store=self.store,
            on_close=self._forget,
            # A short answer may be a key as well as a word (需要报警请说"是"或按1).
            end_keys="#0123456789*" if grammar else "#")
        self._waiting[key] = session
        return session

    def agi_command(self, session_uuid: str) -> str:
        # c(slin16) asks Asterisk for 16 kHz signed linear (what Chinese models expect);
        # without a c(...) option the leg carries the caller's codec labelled as slin.
        codec = "slin16" if self.settings.leg_rate == 16000 else "slin"
        return f"EXEC Dial AudioSocket/{self.host}:{self.port}/{session_uuid}/c({codec})"

    @property
    def active_sessions(self) -> int:
        return len(self._waiting)

    def _forget(self, session: SpeechSession) -> None:
        self._waiting.pop(uuidlib.UUID(session.uuid), None)

    # ----- AudioSocket server ----------------------------------------------------

    async def start(self, host: str, port: int) -> None:
        """Listen for Asterisk's AudioSocket connections (port 0: any free port)."""
        self._server = await asyncio.start_server(self._accept, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        if not self.host:
            self.host = host
        log.info("AudioSocket server on %s:%d", host, self.port)

    async def close(self) -> None:
        """Stop listening, end every session, wait for them. Safe to call twice."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for session in list(self._waiting.values()):
            session.cancel()
        for task in list(self._connections):
            with contextlib.suppress(Exception):
                await task
        if self.engine is not None and self.owns_engine:
            await self.engine.close()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._connection(reader, writer))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        try:
            first = await asyncio.wait_for(_first_frame(reader), self.settings.connect_timeout)
        except (TimeoutError, ValueError, ConnectionError) as exc:
            log.warning("AudioSocket connection without a valid UUID frame: %s", exc)
            first = None
        session = self._waiting.get(first.value) if isinstance(first, wire.Uuid) else None
        if session is None:
            if isinstance(first, wire.Uuid):
                log.warning("AudioSocket connection for unknown session %s", first.value)
            with contextlib.suppress(ConnectionError, RuntimeError):
                writer.write(bytes(wire.Hangup()))
                writer.close()
            return
        try:
            await session.run(reader, writer, wire.FrameReader())
        except Exception:
            log.exception("speech step failed", extra={"call_id": session.call_id})
            session.cancel()


async def _first_frame(reader: asyncio.StreamReader) -> wire.Frame | None:
    """The first frame of a connection (Asterisk sends the UUID first); None on EOF."""
    try:
        header = await reader.readexactly(wire.HEADER_SIZE)
        payload = await reader.readexactly(int.from_bytes(header[1:3], "big"))
    except asyncio.IncompleteReadError:
        return None
    return wire.decode(header[0], payload)
