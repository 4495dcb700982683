"""The AMI bridge: one supervised connection to one Asterisk.

Connect, log in (awaited explicitly), re-read the calls in progress from Asterisk,
then stream events into the tracker and the event bus until the connection drops;
then back off exponentially and start again. `status()` always says the truth:
ok only while logged in and receiving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ami_bridge import events as ev
from ami_bridge.parser import DEFAULT_MAX_MESSAGE_BYTES, AmiMessage
from ami_bridge.protocol import SupervisedManager, protocol_factory
from ami_bridge.tracker import CallTracker, SnapshotChannel, SnapshotQueueEntry
from hotline.bus import EventBus
from hotline.settings import AmiSettings, Secret

log = logging.getLogger(__name__)


class AmiLoginRefused(Exception):
    """Asterisk answered the Login action with an error (wrong user or secret, or ACL)."""


@dataclass(frozen=True)
class AmiStatus:
    ok: bool
    state: str  # "connecting", "up", "down", "stopped"
    since: str  # ISO time (UTC) of the last change between ok and not ok
    last_event_at: str | None
    last_error: str | None
    connects: int
    events: int
    junk: int
    ami_protocol_version: str | None


@dataclass(frozen=True)
class BridgeUp:
    """Published on the bus when the bridge is logged in and resynchronised."""

    at: float


@dataclass(frozen=True)
class BridgeDown:
    at: float
    reason: str


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds") if ts else None


class AmiBridge:
    def __init__(
        self,
        settings: AmiSettings,
        secret: Secret,
        tracker: CallTracker,
        bus: EventBus,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._secret = secret
        self._tracker = tracker
        self._bus = bus
        self._max_message_bytes = max_message_bytes
        self._wall = wall_clock
        self._manager: SupervisedManager | None = None
        self._lost: asyncio.Event = asyncio.Event()
        self._up = asyncio.Event()
        self._resync_task: asyncio.Task[None] | None = None
        self._state = "connecting"
        self._since = wall_clock()
        self._last_event_at: float | None = None
        self._last_error: str | None = None
        self._connects = 0
        self._events = 0
        self._junk = 0
        self._version: str | None = None

    # -- public ----------------------------------------------------------------

    def status(self) -> AmiStatus:
        return AmiStatus(
            ok=self._state == "up",
            state=self._state,
            since=_iso(self._since) or "",
            last_event_at=_iso(self._last_event_at),
            last_error=self._last_error,
            connects=self._connects,
            events=self._events,
            junk=self._junk,
            ami_protocol_version=self._version,
        )

    async def wait_up(self, timeout: float) -> None:
        await asyncio.wait_for(self._up.wait(), timeout)

    async def send_action(
        self, action: dict[str, str], timeout: float = 5.0, event_list: bool = False
    ) -> Any:
        """Send an AMI action; returns panoramisk's reply.

        `event_list` actions (CoreShowChannels, QueueStatus...) return every message up to
        their *Complete event. Others return their one response: we say so explicitly,
        because panoramisk otherwise guesses from the reply's text, and its guess for
        QueueAdd ("Added interface to queue") waits for events that never come.
        """
        manager = self._manager
        if manager is None or self._state != "up":
            raise ConnectionError("AMI is not connected")
        return await asyncio.wait_for(
            manager.send_action(dict(action), as_list=event_list), timeout
        )

    async def run(self) -> None:
        """Supervise the connection until cancelled."""
        delay = self._settings.backoff_initial
        while True:
            try:
                await self._session()
                delay = self._settings.backoff_initial  # a session that got up resets the backoff
            except asyncio.CancelledError:
                self._set_state("stopped", None)
                self._close()
                raise
            except AmiLoginRefused as exc:
                self._set_state("down", str(exc))
                log.error("AMI login refused for user %s", self._settings.username)
            except (OSError, TimeoutError, ConnectionError) as exc:
                self._set_state("down", f"{type(exc).__name__}: {exc}")
                log.warning(
                    "AMI connection to %s:%s failed: %s",
                    self._settings.host,
                    self._settings.port,
                    self._last_error,
                )
            self._close()
            # Full jitter keeps several bridges from hammering a restarted Asterisk together.
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, self._settings.backoff_max)

    # -- one connection ------------------------------------------------------------

    async def _session(self) -> None:
        loop = asyncio.get_running_loop()
        self._lost = asyncio.Event()
        self._state_if_not("connecting")
        manager = SupervisedManager(
            host=self._settings.host,
            port=self._settings.port,
            loop=loop,
            protocol_factory=protocol_factory(self, self._max_message_bytes),
            ping_delay=10**9,
            forgetable_actions=("ping", "login", "coreshowchannels", "queuestatus"),
        )
        self._manager = manager
        async with _step("connect"):
            await asyncio.wait_for(manager.connect(), self._settings.connect_timeout)
        async with _step("login"):
            await self._login(manager)
        self._connects += 1
        async with _step("resync"):
            await self._resync()
        self._set_state("up", None)
        self._up.set()
        self._bus.publish(BridgeUp(self._wall()))
        log.info("AMI bridge up (%s:%s)", self._settings.host, self._settings.port)
        pinger = asyncio.create_task(self._keepalive())
        try:
            await self._lost.wait()
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger
        self._up.clear()
        raise ConnectionError(self._last_error or "AMI connection lost")

    async def _answer(
        self, action: dict[str, str], timeout: float, event_list: bool = False
    ) -> Any:
        """Send an action during set-up; a connection lost meanwhile fails it at once.

        A peer that closes right after accepting (a proxy, an Asterisk shutting down) may do
        so before our action is even written: waiting for a reply would only burn the timeout.
        """
        manager = self._manager
        if manager is None or self._lost.is_set():
            raise ConnectionError("AMI connection lost")
        reply = asyncio.ensure_future(manager.send_action(action, as_list=event_list))
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {reply, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
        if reply in done:
            return reply.result()
        reply.cancel()
        if lost in done:
            raise ConnectionError(self._last_error or "AMI connection lost")
        raise TimeoutError

    async def _login(self, manager: SupervisedManager) -> None:
        reply = await self._answer(
            {
                "Action": "Login",
                "Username": self._settings.username,
                "Secret": self._secret.reveal(),
                "Events": "on",
            },
            self._settings.connect_timeout,
        )
        if not reply.success:
            raise AmiLoginRefused(reply.get("Message", "login refused"))
        manager.authenticated = True

    async def _keepalive(self) -> None:
        """Ping; a connection that stops answering is closed, which starts a reconnect."""
        while True:
            await asyncio.sleep(self._settings.ping_interval)
            manager = self._manager
            if manager is None:
                return
            try:
                await asyncio.wait_for(
                    manager.send_action({"Action": "Ping"}, as_list=False),
                    self._settings.connect_timeout,
                )
            except (TimeoutError, ConnectionError):
                log.warning("AMI ping unanswered; closing the connection")
                self._close()
                self.on_connection_lost(TimeoutError("ping unanswered"))
                return

    async def _resync(self) -> None:
        """Re-read channels and queue entries so calls in progress are not lost."""
        timeout = max(self._settings.connect_timeout, 10.0)
        channels_reply = await self._answer({"Action": "CoreShowChannels"}, timeout, True)
        queues_reply = await self._answer({"Action": "QueueStatus"}, timeout, True)
        channels = [
            SnapshotChannel(
                m.get("Uniqueid"),
                m.get("Linkedid"),
                m.get("Channel"),
                m.get("CallerIDNum"),
                m.get("CallerIDName"),
                m.get("ChannelStateDesc"),
            )
            for m in _raw_list(channels_reply)
            if m.event == "CoreShowChannel"
        ]
        entries = [
            SnapshotQueueEntry(m.get("Queue"), m.get("Uniqueid"), int(m.get("Position") or 0))
            for m in _raw_list(queues_reply)
            if m.event == "QueueEntry"
        ]
        added, closed = self._tracker.reconcile(channels, entries)
        log.info("AMI resync: %d channels live, %d added, %d closed", len(channels), added, closed)

    def _resync_soon(self) -> None:
        if self._resync_task is None or self._resync_task.done():
            self._resync_task = asyncio.ensure_future(self._resync_guarded())

    async def _resync_guarded(self) -> None:
        try:
            await self._resync()
        except (TimeoutError, ConnectionError) as exc:
            log.warning("AMI resync failed: %s", exc)

    def _close(self) -> None:
        manager = self._manager
        if manager is None:
            return
        manager.close()
        self._fail_pending()

    def _fail_pending(self) -> None:
        """Actions still waiting will never be answered on this connection: fail them now."""
        manager = self._manager
        if manager is None:
            return
        while manager.awaiting_actions:
            action = manager.awaiting_actions.popleft()
            if not action.future.done():
                action.future.set_exception(ConnectionError("AMI connection lost"))
        protocol = manager.protocol
        if protocol is not None:
            for action in list(protocol.responses.values()):
                if not action.future.done():
                    action.future.set_exception(ConnectionError("AMI connection lost"))
            protocol.responses.clear()

    def _set_state(self, state: str, error: str | None) -> None:
        was_ok = self._state == "up"
        if (state == "up") != was_ok:
            self._since = self._wall()
            if was_ok:
                self._bus.publish(BridgeDown(self._wall(), error or state))
        self._state = state
        if error:
            self._last_error = error

    def _state_if_not(self, state: str) -> None:
        if self._state != "up":
            self._state = state

    # -- StreamSink ---------------------------------------------------------------

    def on_banner(self, version: str) -> None:
        self._version = version

    def on_event(self, message: AmiMessage) -> None:
        self._events += 1
        self._last_event_at = self._wall()
        event = ev.decode_event(message)
        self._tracker.apply(event)
        if isinstance(event, ev.FullyBooted) and self._state == "up":
            self._resync_soon()
        if not isinstance(event, ev.RawEvent):
            self._bus.publish(event)

    def on_junk(self, count: int) -> None:
        self._junk += count
        log.warning("AMI: skipped %d malformed message part(s) (total %d)", count, self._junk)

    def on_connection_lost(self, exc: Exception | None) -> None:
        self._set_state(
            "down", f"connection lost: {exc}" if exc else "connection closed by Asterisk"
        )
        self._lost.set()


@contextlib.asynccontextmanager
async def _step(name: str) -> AsyncIterator[None]:
    """Name the step a timeout happened in: a bare TimeoutError says nothing in a log."""
    try:
        yield
    except TimeoutError as exc:
        raise TimeoutError(f"{name} timed out") from exc


def _raw_list(reply: Any) -> list[AmiMessage]:
    items = reply if isinstance(reply, list) else [reply]
    return [m.raw for m in items if getattr(m, "raw", None) is not None]
