"""Agent state: lines served, pause with a reason, ringing, on a call, wrap-up.

Queue membership lives in Asterisk (QueueAdd/QueueRemove/QueuePause through AMI);
this service mirrors it per agent so the desk and the supervisor page can show it,
and pauses the agent for wrap-up after each call so the ticket can be finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from desk import actions
from desk.notifier import Notifier
from desk.ports import LINE_NAMES_ZH, AmiActionPort, Clock
from desk.users import User

log = logging.getLogger(__name__)

STATUS_ZH = {
    "offline": "未签入",
    "free": "空闲",
    "ringing": "振铃",
    "busy": "通话中",
    "wrapup": "话后处理",
    "paused": "小休",
}


class AmiActionFailed(Exception):
    """Asterisk refused the action or AMI is down; `message` is said to the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DeskRefused(Exception):
    """The request does not fit the agent's state (no call, line not allowed...)."""

    def __init__(self, error_id: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message
        self.status = status


@dataclass
class ActiveCall:
    linkedid: str
    queue: str
    caller_channel: str
    agent_channel: str = ""
    ticket_number: str = ""
    answered_mono: float | None = None
    answered_at: datetime | None = None
    on_hold: bool = False


@dataclass
class AgentState:
    user: User
    lines: set[str] = field(default_factory=set)
    paused: bool = False
    pause_reason: str = ""
    wrapup_until: float | None = None
    ringing: ActiveCall | None = None
    call: ActiveCall | None = None
    last_call: ActiveCall | None = None  # the call just ended: its ticket is finished in wrap-up

    @property
    def status(self) -> str:
        if self.call is not None:
            return "busy"
        if self.ringing is not None:
            return "ringing"
        if self.wrapup_until is not None:
            return "wrapup"
        if self.paused:
            return "paused"
        return "free" if self.lines else "offline"


async def send_checked(ami: AmiActionPort, action: Mapping[str, str],
                       already_done: str = "") -> None:
    """Send an AMI action; a refusal is an error unless its message says `already_done`
    (a desk reopened after a crash finds the agent still in the queue: that is fine)."""
    try:
        reply = await ami.send_action(action)
    except (ConnectionError, OSError, TimeoutError) as exc:
        raise AmiActionFailed("与交换机的连接中断,操作未执行") from exc
    message = str(reply.get("Message", ""))
    if already_done and already_done.lower() in message.lower():
        return
    if str(reply.get("Response", "")).lower() != "success":
        log.warning("AMI %s refused: %s", action.get("Action"), reply.get("Message", ""))
        raise AmiActionFailed(f"交换机拒绝了操作: {reply.get('Message', '未知原因')}")


class AgentService:
    def __init__(
        self, ami: AmiActionPort, notifier: Notifier, clock: Clock, wrapup_s: float
    ) -> None:
        self._ami = ami
        self._notifier = notifier
        self._clock = clock
        self._wrapup_s = wrapup_s
        self._states: dict[str, AgentState] = {}
        self._wrapup_tasks: dict[str, asyncio.Task[None]] = {}

    def state(self, user: User) -> AgentState:
        st = self._states.get(user.username)
        if st is None:
            st = self._states[user.username] = AgentState(user)
        return st

    def known(self) -> list[AgentState]:
        return list(self._states.values())

    def state_json(self, st: AgentState) -> dict[str, Any]:
        now = self._clock.monotonic()
        return {
            "username": st.user.username,
            "name": st.user.name,
            "endpoint": st.user.endpoint,
            "lines": sorted(st.lines),
            "lines_zh": [LINE_NAMES_ZH.get(x, x) for x in sorted(st.lines)],
            "allowed_lines": list(st.user.lines),
            "status": st.status,
            "status_zh": STATUS_ZH[st.status],
            "pause_reason": st.pause_reason,
            "wrapup_left_s": round(max(0.0, st.wrapup_until - now), 1) if st.wrapup_until else None,
            "on_hold": bool(st.call and st.call.on_hold),
            "ticket": (
                st.call.ticket_number
                if st.call
                else st.last_call.ticket_number
                if st.last_call
                else ""
            ),
        }

    def _changed(self, st: AgentState) -> None:
        message = {"type": "agent_state", "agent": self.state_json(st)}
        self._notifier.to_user(st.user.username, message)
        self._notifier.to_supervisors(message)

    # -- requests from the agent's desk ------------------------------------------

    async def login_line(self, user: User, line: str) -> AgentState:
        if line not in user.lines:
            raise DeskRefused(
                "line-not-allowed", f"您未被授权接听 {LINE_NAMES_ZH.get(line, line)}", 403
            )
        st = self.state(user)
        await send_checked(self._ami, actions.queue_add(line, user.endpoint, user.name),
                           already_done="Already there")
        st.lines.add(line)
        self._changed(st)
        return st

    async def logout_line(self, user: User, line: str) -> AgentState:
        st = self.state(user)
        if line in st.lines:
            await send_checked(self._ami, actions.queue_remove(line, user.endpoint),
                               already_done="Not there")
            st.lines.discard(line)
            self._changed(st)
        return st

    async def pause(self, user: User, reason: str) -> AgentState:
        st = self.state(user)
        reason = reason.strip()[:40] or "小休"
        await send_checked(self._ami, actions.queue_pause(user.endpoint, True, reason))
        st.paused, st.pause_reason = True, reason
        self._changed(st)
        return st

    async def unpause(self, user: User) -> AgentState:
        st = self.state(user)
        await send_checked(self._ami, actions.queue_pause(user.endpoint, False))
        st.paused, st.pause_reason = False, ""
        self._end_wrapup_timer(st)
        self._changed(st)
        return st

    async def finish_wrapup(self, user: User) -> AgentState:
        st = self.state(user)
        if st.wrapup_until is not None:
            self._end_wrapup_timer(st)
            if not st.paused:
                await send_checked(self._ami, actions.queue_pause(user.endpoint, False))
            self._changed(st)
        return st

    # -- events from Asterisk ----------------------------------------------------

    def on_called(self, user: User, call: ActiveCall) -> None:
        st = self.state(user)
        st.ringing = call
        self._changed(st)

    def on_ring_cancelled(self, user: User, linkedid: str) -> None:
        st = self.state(user)
        if st.ringing is not None and st.ringing.linkedid == linkedid:
            st.ringing = None
            self._changed(st)

    def on_connect(self, user: User, call: ActiveCall) -> AgentState:
        st = self.state(user)
        st.ringing = None
        call.answered_mono = self._clock.monotonic()
        call.answered_at = self._clock.now()
        st.call = call
        self._changed(st)
        return st

    def on_complete(self, user: User, linkedid: str) -> None:
        st = self.state(user)
        if st.call is None or st.call.linkedid != linkedid:
            return
        st.last_call, st.call = st.call, None
        if self._wrapup_s > 0:
            st.wrapup_until = self._clock.monotonic() + self._wrapup_s
            self._wrapup_tasks[user.username] = asyncio.create_task(self._wrapup(st))
        self._changed(st)

    async def _wrapup(self, st: AgentState) -> None:
        try:
            await send_checked(
                self._ami, actions.queue_pause(st.user.endpoint, True, actions.PAUSE_REASON_WRAPUP)
            )
            await asyncio.sleep(self._wrapup_s)
            st.wrapup_until = None
            if not st.paused:
                await send_checked(self._ami, actions.queue_pause(st.user.endpoint, False))
        except AmiActionFailed as exc:
            log.warning("wrap-up pause for %s failed: %s", st.user.username, exc.message)
            st.wrapup_until = None
        finally:
            self._wrapup_tasks.pop(st.user.username, None)
        self._changed(st)

    def _end_wrapup_timer(self, st: AgentState) -> None:
        st.wrapup_until = None
        task = self._wrapup_tasks.pop(st.user.username, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        tasks = list(self._wrapup_tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
