"""Screen-pop: the ticket on the agent's screen as the phone rings, confirmed on answer.

AgentCalled names the ringing phone (`Interface: PJSIP/1001`): that finds the
agent. The ticket is found by the TICKET_ID channel variable (on the event, or
announced earlier by the IVR's HotlineRoute user event), else by the call's
Linkedid. The pop is built once on AgentCalled and re-sent on AgentConnect, so the
answer costs no lookup. Only the agent tied to the phone receives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ami_bridge import events as ev
from desk.agents import ActiveCall, AgentService
from desk.config import DeskConfig
from desk.kb import KnowledgeBase
from desk.metrics import DeskMetrics
from desk.notifier import Notifier
from desk.payloads import history_json, hits_json, ticket_json
from desk.ports import LINE_NAMES_ZH, Clock, TicketPort, TicketRecord
from desk.users import User, UserDirectory
from hotline.asterisk_config import line_of_queue
from hotline.logs import CallLog

log = logging.getLogger(__name__)

WITHHELD = frozenset({"", "anonymous", "unknown", "restricted", "<unknown>"})
MAX_REMEMBERED_CALLS = 2000
ASSIGNED_PER_AGENT = 200  # an agent may still dispatch any of their last 200 tickets


@dataclass(frozen=True)
class _Sent:
    username: str
    received: float  # monotonic time the AMI event reached the desk
    linkedid: str
    stage: str


@dataclass(frozen=True)
class RenderedPop:
    pop_id: str
    linkedid: str
    username: str
    stage: str  # ringing | answered
    latency_s: float


class _Lru(OrderedDict[str, Any]):
    def __init__(self, limit: int = MAX_REMEMBERED_CALLS) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class PopService:
    def __init__(
        self,
        tickets: TicketPort,
        users: UserDirectory,
        kb: KnowledgeBase,
        agents: AgentService,
        notifier: Notifier,
        metrics: DeskMetrics,
        clock: Clock,
        config: DeskConfig,
    ) -> None:
        self._tickets = tickets
        self._users = users
        self._kb = kb
        self._agents = agents
        self._notifier = notifier
        self._metrics = metrics
        self._clock = clock
        self._config = config
        self._ticket_ids = _Lru()  # linkedid -> TICKET_ID from HotlineRoute user events
        self._pops = _Lru()  # linkedid -> pop payload built on AgentCalled
        self._ringing: dict[str, set[str]] = {}  # linkedid -> usernames whose phone rings
        self._sent: dict[str, _Sent] = {}  # pop_id -> what was sent, awaiting the page's ack
        self._ids = itertools.count(1)
        # username -> ticket numbers popped to them (the latest ASSIGNED_PER_AGENT).
        self._assigned: dict[str, _Lru] = {}
        # Called when a page confirms a pop is drawn (the bench listens here).
        self.rendered_hooks: list[Callable[[RenderedPop], None]] = []

    # -- what the router calls --------------------------------------------------------

    def remember_vars(self, e: ev.HotlineVars) -> None:
        ticket_id = e.values.get("TICKET_ID")
        if ticket_id:
            self._ticket_ids.remember(e.linkedid, ticket_id)

    async def on_called(self, e: ev.AgentCalled, received: float) -> None:
        user = self._users.by_endpoint(e.interface)
        if user is None:
            return
        call = ActiveCall(e.linkedid, line_of_queue(e.queue), e.channel, e.dest_channel)
        self._ringing.setdefault(e.linkedid, set()).add(user.username)
        pop = await self._build(e, user)
        call.ticket_number = pop["ticket"]["number"] if pop["ticket"] else ""
        self._agents.on_called(user, call)
        self._send(user, {**pop, "stage": "ringing"}, received)

    async def on_connect(self, e: ev.AgentConnect, received: float) -> None:
        user = self._users.by_endpoint(e.interface)
        self._metrics.queue_wait.labels(line_of_queue(e.queue) or "unknown").observe(e.hold_time)
        for other in self._ringing.pop(e.linkedid, set()) - {user.username if user else ""}:
            other_user = self._users.get(other)
            if other_user is not None:
                self._agents.on_ring_cancelled(other_user, e.linkedid)
                self._notifier.to_user(other, {"type": "pop_cancel", "linkedid": e.linkedid})
        if user is None:
            return
        pop = self._pops.get(e.linkedid) or await self._build(e, user)
        call = ActiveCall(
            e.linkedid,
            line_of_queue(e.queue),
            e.channel,
            e.dest_channel,
            pop["ticket"]["number"] if pop["ticket"] else "",
        )
        self._agents.on_connect(user, call)
        self._send(
            user,
            {
                **pop,
                "stage": "answered",
                "answered_at": call.answered_at.isoformat() if call.answered_at else None,
            },
            received,
        )
        # After the pop is on its way: the store starts the answer-to-dispatch clock.
        if call.ticket_number and call.answered_at is not None:
            try:
                await self._tickets.answered(call.ticket_number, user.username, call.answered_at)
            except Exception:
                CallLog(log, e.linkedid).exception("could not mark %s answered", call.ticket_number)

    def on_complete(self, e: ev.AgentComplete) -> None:
        user = self._users.by_endpoint(e.interface)
        self.call_gone(e.linkedid)
        if user is not None:
            self._agents.on_complete(user, e.linkedid)
            self._notifier.to_user(user.username, {"type": "call_ended", "linkedid": e.linkedid})

    def call_gone(self, linkedid: str) -> None:
        """The caller hung up or abandoned: stop the ringing desks, forget the call."""
        for username in self._ringing.pop(linkedid, set()):
            user = self._users.get(username)
            if user is not None:
                self._agents.on_ring_cancelled(user, linkedid)
                self._notifier.to_user(
                    username, {"type": "pop_cancel", "linkedid": linkedid, "reason": "caller_left"}
                )
        self._pops.pop(linkedid, None)
        self._ticket_ids.pop(linkedid, None)

    def rendered(self, username: str, pop_id: str) -> float | None:
        """The browser says it drew pop `pop_id`: observe the latency from the AMI event."""
        sent = self._sent.pop(pop_id, None)
        if sent is None or sent.username != username:
            return None
        latency = self._clock.monotonic() - sent.received
        self._metrics.screenpop.labels("rendered").observe(latency)
        for hook in self.rendered_hooks:
            hook(RenderedPop(pop_id, sent.linkedid, username, sent.stage, latency))
        return latency

    def may_handle(self, user: User, ticket_number: str) -> bool:
        return user.is_supervisor or ticket_number in self._assigned.get(user.username, {})

    # -- building and sending ----------------------------------------------------------

    async def _find_ticket(self, e: ev.AgentEvent) -> TicketRecord | None:
        ticket_id = e.vars.get("TICKET_ID") or self._ticket_ids.get(e.linkedid)
        if ticket_id:
            ticket = await self._tickets.get(ticket_id)
            if ticket is not None:
                return ticket
        return await self._tickets.find_by_call(e.linkedid)

    async def _build(self, e: ev.AgentEvent, user: User) -> dict[str, Any]:
        calllog = CallLog(log, e.linkedid)
        ticket = await self._find_ticket(e)
        history: list[TicketRecord] = []
        caller = ticket.caller_number if ticket else e.caller_num
        if caller.lower() not in WITHHELD:
            history = list(
                await self._tickets.history_for_caller(
                    caller,
                    exclude=ticket.number if ticket else "",
                    limit=self._config.history_limit,
                )
            )
        suggestions = []
        if ticket is not None:
            text = " ".join(x for x in (ticket.summary, ticket.transcript) if x)
            suggestions = hits_json(self._kb.search(text, self._config.kb_suggestions, ticket.line))
            self._assigned.setdefault(user.username, _Lru(ASSIGNED_PER_AGENT)).remember(
                ticket.number, True
            )
        else:
            calllog.warning("no ticket for the call ringing at %s", e.interface)
        pop: dict[str, Any] = {
            "type": "pop",
            "linkedid": e.linkedid,
            "queue": line_of_queue(e.queue),
            "queue_zh": LINE_NAMES_ZH.get(line_of_queue(e.queue), e.queue),
            # The agent on the call sees the full number (see desk.payloads).
            "caller_number": caller,
            "ticket": ticket_json(ticket, reveal_number=True) if ticket else None,
            "history": history_json(history),
            "repeat": bool(history) or bool(ticket and "repeat_caller" in ticket.flags),
            "kb": suggestions,
        }
        self._pops.remember(e.linkedid, pop)
        return pop

    def _send(self, user: User, pop: dict[str, Any], received: float) -> None:
        pop_id = f"p{next(self._ids)}"
        message = {**pop, "pop_id": pop_id}
        if self._notifier.to_user(user.username, message):
            self._sent[pop_id] = _Sent(user.username, received, pop["linkedid"], pop["stage"])
            if len(self._sent) > MAX_REMEMBERED_CALLS:  # acks never came: forget the oldest
                self._sent.pop(next(iter(self._sent)))
            self._metrics.screenpop.labels("sent").observe(self._clock.monotonic() - received)


class PendingPops:
    """Per-call ordering: AgentConnect waits for its AgentCalled pop to be built."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, linkedid: str, work: Callable[[], Awaitable[None]]) -> None:
        previous = self._tasks.get(linkedid)

        async def chained() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await previous
            await work()

        task = asyncio.create_task(chained())
        self._tasks[linkedid] = task
        task.add_done_callback(lambda t: self._done(linkedid, t))

    def _done(self, linkedid: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(linkedid) is task:
            del self._tasks[linkedid]
        if not task.cancelled() and task.exception() is not None:
            CallLog(log, linkedid).error("screen-pop failed", exc_info=task.exception())

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
