"""Drives one call's CallMachine over its FastAGI channel and the ports.

Thin on purpose: every decision is in the machine; this file only turns steps
into AGI commands or port calls and their outcomes back into events. Whatever
goes wrong here, the call is sent on to the general queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hotline.bus import EventBus
from hotline.logs import CallLog, mask_phone
from ivr.agi import AgiRequest, AgiResponse, digit_of, quote
from ivr.channel import AgiChannel, AgiConnectionLost
from ivr.config import GENERAL_LINE
from ivr.machine import (
    CallMachine,
    CreateTicket,
    DigitsEntered,
    Event,
    Finish,
    HungUp,
    KeyPressed,
    NoInput,
    Play,
    PromptDone,
    ReadDigits,
    Routed,
    RouteText,
    SpeechHeard,
    SpeechUnavailable,
    StartSpeech,
    Step,
    TicketCreated,
    WaitDigit,
)
from ivr.ports import RouterPort, SpeechPort, SpeechResult, TicketPort
from ivr.record import CallerContext, IvrPath
from ivr.store import IvrSnapshot, IvrStore

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai_today() -> date:
    return datetime.now(SHANGHAI).date()


@dataclass(frozen=True)
class IvrServices:
    """What one call needs; built once by the composition root."""

    store: IvrStore
    bus: EventBus | None = None
    speech: SpeechPort | None = None
    router: RouterPort | None = None
    tickets: TicketPort | None = None
    today: Callable[[], date] = shanghai_today
    # Bounds on the ports, so a slow dependency costs the caller a moment, not the call.
    port_timeout: float = 3.0
    # Longest time one AGI command may take (the longest prompt plus margin).
    command_timeout: float = 180.0
    # Dead man's switch: before each step the IVR sets the channel's TIMEOUT(absolute)
    # to the step's length plus this margin. Should this process hang, Asterisk ends
    # the AGI within that time and the dialplan's `T` extension queues the caller.
    lease_margin: float = 10.0


@dataclass(frozen=True)
class IvrError:
    """Published when a call had to be sent to the general queue because of a fault."""

    call_id: str
    error: str


class CallRunner:
    def __init__(self, services: IvrServices, request: AgiRequest, channel: AgiChannel) -> None:
        self.services = services
        self.request = request
        self.channel = channel
        self.log = CallLog(log, request.call_id)
        self._snapshot: IvrSnapshot | None = None

    async def run(self) -> IvrPath | None:
        try:
            return await self._run()
        except (AgiConnectionLost, ConnectionError):
            self.log.info("FastAGI connection closed by Asterisk")
            return None
        except Exception as exc:
            self.log.exception("IVR failed; sending the call to the general queue")
            if self.services.bus is not None:
                self.services.bus.publish(IvrError(self.request.call_id, repr(exc)[:200]))
            await self._fallback()
            return None

    async def _fallback(self) -> None:
        queue = "general"
        if self._snapshot is not None:
            queue = self._snapshot.config.queue_of(GENERAL_LINE)
        try:
            for name, value in (("ROUTE_QUEUE", queue), ("ROUTE_ACTION", "queue"),
                                ("ROUTE_LINE", GENERAL_LINE)):
                await self.channel.command(f"SET VARIABLE {name} {quote(value)}", 2.0)
        except Exception:  # the dialplan's own default is general: nothing more to do
            self.log.warning("could not set the fallback route", exc_info=True)

    async def _caller(self, recent_days: int) -> CallerContext:
        number = self.request.caller
        recent, count = False, 0
        if number and self.services.tickets is not None:
            try:
                recent, count = await asyncio.wait_for(
                    self.services.tickets.caller_context(number), self.services.port_timeout)
            except Exception:
                self.log.warning("caller history unavailable", exc_info=True)
        return CallerContext(number, self.request.trunk, self.request.get("agi_context"),
                             recent, count)

    async def _run(self) -> IvrPath:
        snapshot = self._snapshot = self.services.store.current
        caller = await self._caller(snapshot.config.recent_days)
        self.log.info("IVR start caller=%s trunk=%s recent=%s", mask_phone(caller.number),
                      caller.trunk, caller.called_recently)
        machine = CallMachine(snapshot.config, self.request.call_id, caller, time.time(),
                              self.services.today())
        step: Step = machine.start(time.monotonic())
        while not isinstance(step, Finish):
            event = await self._execute(step)
            step = machine.feed(event, time.monotonic())
        await self._finish(step)
        return step.path

    async def _finish(self, finish: Finish) -> None:
        path = finish.path
        if path.action != "hangup" and not self.channel.hung_up:
            # the dialplan takes over: a fresh bound, which it clears at once
            await self._lease(0)
            for name, value in finish.variables:
                await self.channel.command(f"SET VARIABLE {name} {quote(value)}", 5.0)
        self.log.info("IVR done action=%s queue=%s path=%s in %.1fs", path.action, path.queue,
                      path.summary(), path.duration)
        if self.services.bus is not None:
            self.services.bus.publish(path)

    # -- steps -----------------------------------------------------------------------
    async def _agi(self, command: str, timeout: float | None = None) -> AgiResponse:
        return await self.channel.command(command, timeout or self.services.command_timeout)

    def _sound(self, key: str) -> str:
        assert self._snapshot is not None
        return self._snapshot.catalog.sound(key)

    async def _lease(self, seconds: float) -> None:
        lease = int(seconds + self.services.lease_margin + 0.999)
        await self._agi(f"SET VARIABLE TIMEOUT(absolute) {lease}", 5.0)

    def _step_seconds(self, step: Step) -> float | None:
        """How long a step may keep the caller before the IVR speaks again."""
        assert self._snapshot is not None
        catalog = self._snapshot.catalog
        if isinstance(step, Play):
            return catalog.duration(step.prompt.key)
        if isinstance(step, WaitDigit):
            return step.timeout
        if isinstance(step, ReadDigits):
            return catalog.duration(step.prompt.key) + step.timeout * (step.max_digits + 1)
        if isinstance(step, StartSpeech):
            return step.max_seconds + 5
        return None

    async def _execute(self, step: Step) -> Event:
        seconds = self._step_seconds(step)
        if seconds is not None and not self.channel.hung_up:
            await self._lease(seconds)
        if isinstance(step, Play):
            r = await self._agi(f"STREAM FILE {self._sound(step.prompt.key)} {quote(step.escape)}")
            if r.hangup or self.channel.hung_up:
                return HungUp()
            digit = digit_of(r)
            if digit is not None:
                return KeyPressed(digit)
            if r.number == -1 and r.extra.get("endpos", "0") != "0":
                return HungUp()  # it was playing: the caller went away mid-prompt
            if r.number == -1 or not r.ok:
                self.log.warning("prompt %s could not be played (%s)", step.prompt.key, r)
                return PromptDone(failed=True)
            return PromptDone()
        if isinstance(step, WaitDigit):
            r = await self._agi(f"WAIT FOR DIGIT {int(step.timeout * 1000)}",
                                step.timeout + 10)
            if r.hangup or self.channel.hung_up or r.number == -1 or not r.ok:
                return HungUp()
            digit = digit_of(r)
            return KeyPressed(digit) if digit is not None else NoInput()
        if isinstance(step, ReadDigits):
            r = await self._agi(f"GET DATA {self._sound(step.prompt.key)} "
                                f"{int(step.timeout * 1000)} {step.max_digits}")
            if r.hangup or self.channel.hung_up or r.result == "-1" or not r.ok:
                return HungUp()
            return DigitsEntered(r.result)
        if isinstance(step, StartSpeech):
            return await self._speech(step)
        if isinstance(step, RouteText):
            return await self._route(step.text)
        if isinstance(step, CreateTicket):
            return await self._ticket(step)
        raise TypeError(f"unknown step {step!r}")

    async def _speech(self, step: StartSpeech) -> Event:
        port = self.services.speech
        session = None
        if port is not None:
            session = (port.open_session(self.request.call_id, grammar=step.grammar)
                       if step.grammar else port.open_session(self.request.call_id))
        if session is None:
            return SpeechUnavailable()
        try:
            r = await self._agi(session.agi_command, step.max_seconds + 15)
            if r.hangup or self.channel.hung_up:
                session.cancel()
                return HungUp()
            result = await session.result(self.services.port_timeout)
        except (AgiConnectionLost, ConnectionError):
            session.cancel()
            raise
        except Exception:
            self.log.warning("speech step failed; back to the key menu", exc_info=True)
            session.cancel()
            return SpeechHeard(SpeechResult("", "error"))
        return SpeechHeard(result)

    async def _route(self, text: str) -> Event:
        router = self.services.router
        if router is None:
            return Routed(None)
        try:
            decision = await asyncio.wait_for(asyncio.to_thread(router.route, text),
                                              self.services.port_timeout)
        except Exception:
            self.log.warning("routing failed; general line", exc_info=True)
            return Routed(None)
        return Routed(decision)

    async def _ticket(self, step: CreateTicket) -> Event:
        tickets = self.services.tickets
        if tickets is None:
            return TicketCreated(None)
        try:
            number = await asyncio.wait_for(
                tickets.create_ticket(self.request.call_id, self.request.caller, step.transcript,
                                      step.decision, step.path),
                self.services.port_timeout)
        except Exception:
            self.log.warning("ticket creation failed; call goes on without one", exc_info=True)
            return TicketCreated(None)
        return TicketCreated(number)
