"""Call control from the desk: hold, transfer to a line or a specialist, three-way with 110."""

from __future__ import annotations

from desk import actions
from desk.agents import ActiveCall, AgentService, DeskRefused, send_checked
from desk.config import DeskConfig
from desk.ports import LINES, AmiActionPort, Police110Port, ThreeWayRequest, ThreeWayResult
from desk.users import User


class CallControl:
    def __init__(
        self, ami: AmiActionPort, agents: AgentService, police110: Police110Port, config: DeskConfig
    ) -> None:
        self._ami = ami
        self._agents = agents
        self._police110 = police110
        self._config = config

    def _call(self, user: User) -> ActiveCall:
        call = self._agents.state(user).call
        if call is None or not call.caller_channel:
            raise DeskRefused("no-call", "当前没有通话")
        return call

    async def hold(self, user: User) -> ActiveCall:
        call = self._call(user)
        if not call.agent_channel:
            raise DeskRefused("no-agent-leg", "找不到坐席话机通道,无法保持")
        if not call.on_hold:
            await send_checked(
                self._ami,
                actions.hold(call.caller_channel, call.agent_channel, self._config.hold_context),
            )
            call.on_hold = True
        return call

    async def unhold(self, user: User) -> ActiveCall:
        call = self._call(user)
        if call.on_hold:
            await send_checked(self._ami, actions.unhold(call.caller_channel, call.agent_channel))
            call.on_hold = False
        return call

    async def transfer(self, user: User, target: str) -> ActiveCall:
        """`target`: a line (its queue) or the id of a specialist from desk.yaml."""
        call = self._call(user)
        if target in LINES and target != "police_110":
            action = actions.transfer(call.caller_channel, self._config.transfer_context, target)
        else:
            specialist = next((s for s in self._config.specialists if s.id == target), None)
            if specialist is None:
                raise DeskRefused("unknown-target", "未知的转接目标", 400)
            action = actions.transfer(call.caller_channel, specialist.context, specialist.exten)
        await send_checked(self._ami, action)
        return call

    async def three_way_110(self, user: User) -> ThreeWayResult:
        call = self._call(user)
        return await self._police110.start_three_way(
            ThreeWayRequest(
                ticket_number=call.ticket_number,
                caller_channel=call.caller_channel,
                agent_channel=call.agent_channel,
                who=user.username,
            )
        )
