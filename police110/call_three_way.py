"""Three-way call with 110 from the desk: the desk's `Police110Port.start_three_way`.

1. The 110 exchange is originated (AMI Originate, Async) straight into a fresh
   ConfBridge room, `hotline-3way-party` context, with the citizen's number as caller
   id, so 110 sees who needs help.
2. Nothing else moves until 110 has answered and entered the room (its BridgeEnter
   on the bus). If 110 is busy, unreachable or does not answer within
   `ring_seconds`, its leg is hung up and the caller stays with the agent: the
   agent's call is never touched.
3. Then the caller and the agent are redirected together (Redirect with
   ExtraChannel: moving one alone would hang up the other) into the same room, the
   agent as the marked user (`hotline-3way-agent`).

The outcome goes to the ticket through `TransferOutcomePort` like the IVR's transfer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from ami_bridge.events import BridgeEnter, Hangup, Newchannel
from desk.ports import ThreeWayRequest, ThreeWayResult
from hotline.bus import EventBus, Subscription
from hotline.logs import CallLog, mask_phone
from police110.call_outcome import PoliceTransferOutcome, TransferOutcomePort

log = logging.getLogger(__name__)

SendAction = Callable[[Mapping[str, str]], Awaitable[Mapping[str, str]]]

# Channel names as Asterisk makes them (PJSIP/1001-0000002a, Local/x@ctx-00000003;2):
# anything else could smuggle AMI headers into our actions.
_CHANNEL = re.compile(r"^[A-Za-z0-9_./@;:+\-]{3,120}$")
_HEADER_SAFE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_NUMBER_SAFE = re.compile(r"^\+?[0-9]{1,20}$")
# Q.850 causes Asterisk gives a 110 leg that failed before answering.
_BUSY_CAUSES = frozenset({"17", "21"})


@dataclass(frozen=True)
class ThreeWaySettings:
    endpoint: str = "PJSIP/police110"
    party_context: str = "hotline-3way-party"
    agent_context: str = "hotline-3way-agent"
    ring_seconds: float = 20.0  # how long 110 may ring before the agent keeps the call
    join_timeout: float = 5.0  # caller and agent entering the room after the Redirect


@dataclass(frozen=True)
class _PoliceLeg:
    answered: bool
    outcome: str  # answered, no-answer, busy, unavailable, cancelled, failed
    detail: str  # the cause or error, for the agent's message and the log
    bridge_id: str = ""
    channel: str = ""


class ThreeWayCaller:
    """Implements desk.ports.Police110Port over AMI actions and the bridge's events."""

    def __init__(
        self,
        send_action: SendAction,
        bus: EventBus,
        outcomes: TransferOutcomePort | None = None,
        settings: ThreeWaySettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._send = send_action
        self._bus = bus
        self._outcomes = outcomes
        self._settings = settings or ThreeWaySettings()
        self._clock = clock
        self._wall = wall
        self._new_id = new_id
        self._background: set[asyncio.Task[Mapping[str, str]]] = set()

    async def start_three_way(self, request: ThreeWayRequest) -> ThreeWayResult:
        for name in (request.caller_channel, request.agent_channel):
            if not _CHANNEL.match(name):
                return ThreeWayResult(False, "通话通道无效，无法发起三方通话")
        sub = self._bus.subscribe()
        try:
            return await self._three_way(request, sub)
        finally:
            sub.close()

    async def close(self) -> None:
        """Wait for Originate replies still outstanding (call on shutdown)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    # -- the steps --------------------------------------------------------------------

    async def _three_way(self, request: ThreeWayRequest, sub: Subscription) -> ThreeWayResult:
        caller_number = await self._getvar(request.caller_channel, "CALLERID(num)")
        call_id = await self._getvar(request.caller_channel, "HOTLINE_CALL_ID")
        agent_ok = await self._getvar(request.agent_channel, "CHANNEL(state)")
        if caller_number is None or agent_ok is None:
            return ThreeWayResult(False, "市民或坐席的通话已不存在，无法发起三方通话")
        call_log = CallLog(log, call_id or request.caller_channel)
        token = self._new_id()[:16]
        room, police_id = f"3w{token}", f"hotline-3w-{token}"
        started = self._clock()
        call_log.info("three-way with 110 for ticket %s, caller %s, room %s",
                      request.ticket_number, mask_phone(caller_number), room)
        originate = self._originate(room, police_id, caller_number, call_id or "",
                                    request.ticket_number)
        leg = await self._wait_police(sub, police_id, request.caller_channel, originate)
        if not leg.answered:
            if leg.channel:
                await self._hangup(leg.channel)
            await self._record(request, call_id, leg.outcome, started)
            call_log.info("110 did not join the three-way: %s (%s)", leg.outcome, leg.detail)
            why = {"busy": "110 忙线", "no-answer": "110 无人接听", "cancelled": "市民已挂机"}
            return ThreeWayResult(
                False, f"{why.get(leg.outcome, '110 无法接通')}，通话仍保持在您与市民之间")
        reply = await self._send({
            "Action": "Redirect",
            "Channel": request.caller_channel,
            "Context": self._settings.party_context,
            "Exten": room,
            "Priority": "1",
            "ExtraChannel": request.agent_channel,
            "ExtraContext": self._settings.agent_context,
            "ExtraExten": room,
            "ExtraPriority": "1",
        })
        if reply.get("Response") != "Success":
            await self._hangup(leg.channel)
            await self._record(request, call_id, "failed", started)
            call_log.warning("three-way Redirect refused: %s", reply.get("Message", ""))
            return ThreeWayResult(False, "无法转入三方通话，通话仍保持在您与市民之间")
        joined = await self._wait_joined(
            sub, leg.bridge_id, {request.caller_channel, request.agent_channel})
        await self._record(request, call_id, "answered", started)
        if not joined:
            call_log.warning("110 answered but caller/agent not seen in room %s", room)
            return ThreeWayResult(False, "110 已接通，但未能确认市民和坐席已进入三方通话")
        return ThreeWayResult(True, "三方通话已建立：市民、坐席与 110")

    def _originate(self, room: str, police_id: str, caller_number: str, call_id: str,
                   ticket: str) -> asyncio.Task[Mapping[str, str]]:
        number = caller_number if _NUMBER_SAFE.match(caller_number) else ""
        variables = [f"HOTLINE_CITIZEN_NUMBER={number}"]
        # The same headers as the dialplan's transfer (police-110-headers), so 110 can
        # match its record to our ticket.
        if _HEADER_SAFE.match(call_id):
            variables += [f"HOTLINE_CALL_ID={call_id}",
                          f"PJSIP_HEADER(add,X-Hotline-Call-Id)={call_id}"]
        if _HEADER_SAFE.match(ticket):
            variables += [f"TICKET_ID={ticket}", f"PJSIP_HEADER(add,X-Hotline-Ticket-Id)={ticket}"]
        action = {
            "Action": "Originate",
            "Channel": self._settings.endpoint,
            "Context": self._settings.party_context,
            "Exten": room,
            "Priority": "1",
            # Asterisk's own bound is a little longer: we decide the no-answer ourselves.
            "Timeout": str(int((self._settings.ring_seconds + 5) * 1000)),
            "ChannelId": police_id,
            "Async": "true",
            "Variable": ",".join(variables),
        }
        if number:
            action["CallerID"] = f"<{number}>"
        # The reply may only come with the OriginateResponse (answer or failure), so it
        # runs on its own; the bus tells us about the leg sooner and in more detail.
        task = asyncio.ensure_future(self._send(action))
        self._background.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Mapping[str, str]]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("Originate reply: %r", task.exception())

    async def _wait_police(self, sub: Subscription, police_id: str, caller_channel: str,
                           originate: asyncio.Task[Mapping[str, str]]) -> _PoliceLeg:
        deadline = self._clock() + self._settings.ring_seconds
        channel = ""
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                return _PoliceLeg(False, "no-answer", "ring timeout", channel=channel)
            if originate.done() and not originate.cancelled() and originate.exception() is None:
                reply = originate.result()
                if reply.get("Response") not in ("Success", None):
                    return _PoliceLeg(False, "failed", reply.get("Message", ""), channel=channel)
            try:
                event = await asyncio.wait_for(sub.get(), min(remaining, 0.5))
            except TimeoutError:
                continue
            if isinstance(event, Newchannel) and event.uniqueid == police_id:
                channel = event.channel
            elif isinstance(event, BridgeEnter) and event.uniqueid == police_id:
                return _PoliceLeg(True, "answered", "", event.bridge_id, event.channel)
            elif isinstance(event, Hangup) and event.uniqueid == police_id:
                outcome = "busy" if event.cause in _BUSY_CAUSES else "unavailable"
                return _PoliceLeg(False, outcome, f"cause {event.cause} {event.cause_txt}")
            elif isinstance(event, Hangup) and event.channel == caller_channel:
                return _PoliceLeg(False, "cancelled", "caller hung up", channel=channel)

    async def _wait_joined(self, sub: Subscription, bridge_id: str, channels: set[str]) -> bool:
        waiting = set(channels)
        deadline = self._clock() + self._settings.join_timeout
        while waiting:
            remaining = deadline - self._clock()
            if remaining <= 0:
                return False
            try:
                event = await asyncio.wait_for(sub.get(), remaining)
            except TimeoutError:
                return False
            if isinstance(event, BridgeEnter) and event.bridge_id == bridge_id:
                waiting.discard(event.channel)
        return True

    # -- small AMI helpers ------------------------------------------------------------

    async def _getvar(self, channel: str, variable: str) -> str | None:
        """The value, "" when unset, None when the channel does not exist."""
        reply = await self._send({"Action": "Getvar", "Channel": channel, "Variable": variable})
        if reply.get("Response") != "Success":
            return None
        return reply.get("Value", "") or ""

    async def _hangup(self, channel: str) -> None:
        if channel:
            with contextlib.suppress(Exception):  # already gone is fine
                await self._send({"Action": "Hangup", "Channel": channel})

    async def _record(self, request: ThreeWayRequest, call_id: str | None, outcome: str,
                      started: float) -> None:
        record = PoliceTransferOutcome(
            ticket_number=request.ticket_number, call_id=call_id or "", kind="three_way",
            outcome=outcome, dial_status="", ring_seconds=round(self._clock() - started, 3),
            at=self._wall())
        self._bus.publish(record)
        if self._outcomes is None or not request.ticket_number:
            return
        try:
            await self._outcomes.record_transfer(record)
        except Exception:  # the agent's call matters more than the record
            log.exception("could not record the three-way outcome on ticket %s",
                          request.ticket_number)
