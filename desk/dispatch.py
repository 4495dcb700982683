"""One-step dispatch: the agent's corrections and the department in one audited change.

Fields the routing predicted (line, kind, 137 class) that the agent changed are
passed on as corrections: the ticket store keeps them as training data for the
routing classifier. The time from answering the call to dispatching is measured
here, where both moments are known.
"""

from __future__ import annotations

from collections.abc import Mapping

from desk.agents import AgentService, DeskRefused
from desk.config import DeskConfig
from desk.metrics import DeskMetrics
from desk.ports import (
    EDITABLE_FIELDS,
    KINDS_ZH,
    LINES,
    PREDICTED_FIELDS,
    Clock,
    DispatchRequest,
    TicketNotFound,
    TicketPort,
    TicketRecord,
)
from desk.screenpop import PopService
from desk.users import User

SLA_CLASSES = (1, 3, 7)


def clean_changes(raw: Mapping[str, object]) -> dict[str, str | int]:
    """Validate the edited fields; DeskRefused (400) names the first bad one."""
    out: dict[str, str | int] = {}
    for name, value in raw.items():
        if name not in EDITABLE_FIELDS:
            raise DeskRefused("bad-field", f"不能修改字段: {name}", 400)
        if name == "sla_days":
            days = int(value) if isinstance(value, str) and value.isdigit() else value
            if isinstance(days, bool) or not isinstance(days, int) or days not in SLA_CLASSES:
                raise DeskRefused("bad-sla", "办理时限应为 1、3 或 7 个工作日", 400)
            out[name] = days
            continue
        if not isinstance(value, str):
            raise DeskRefused("bad-field", f"字段 {name} 应为文本", 400)
        value = value.strip()
        if name == "line" and value not in LINES:
            raise DeskRefused("bad-line", "未知线路", 400)
        if name == "kind" and value not in KINDS_ZH:
            raise DeskRefused("bad-kind", "未知诉求类型", 400)
        if len(value) > 2000:
            raise DeskRefused("too-long", f"字段 {name} 过长", 400)
        out[name] = value
    return out


def corrections(
    ticket: TicketRecord, changes: Mapping[str, str | int]
) -> tuple[tuple[str, str, str], ...]:
    return tuple(
        (name, str(getattr(ticket, name)), str(value))
        for name, value in sorted(changes.items())
        if name in PREDICTED_FIELDS and str(getattr(ticket, name)) != str(value)
    )


class DispatchService:
    def __init__(
        self,
        tickets: TicketPort,
        agents: AgentService,
        pops: PopService,
        clock: Clock,
        metrics: DeskMetrics,
        config: DeskConfig,
    ) -> None:
        self._tickets = tickets
        self._agents = agents
        self._pops = pops
        self._clock = clock
        self._metrics = metrics
        self._config = config

    async def dispatch(
        self, user: User, number: str, department: str, raw_changes: Mapping[str, object]
    ) -> TicketRecord:
        if department not in self._config.departments:
            raise DeskRefused("bad-department", "请选择承办单位", 400)
        if not self._pops.may_handle(user, number):
            raise DeskRefused("not-your-ticket", "该工单不是分配给您的", 403)
        ticket = await self._tickets.get(number)
        if ticket is None:
            raise DeskRefused("no-such-ticket", "工单不存在", 404)
        if ticket.status not in ("new",):
            raise DeskRefused("already-dispatched", "工单已派发", 409)
        changes = clean_changes(raw_changes)
        changes = {k: v for k, v in changes.items() if str(getattr(ticket, k)) != str(v)}
        st = self._agents.state(user)
        call = (
            st.call
            if st.call and st.call.ticket_number == number
            else (st.last_call if st.last_call and st.last_call.ticket_number == number else None)
        )
        elapsed = (
            self._clock.monotonic() - call.answered_mono
            if call is not None and call.answered_mono is not None
            else None
        )
        request = DispatchRequest(
            number,
            department,
            changes,
            user.username,
            self._clock.now(),
            round(elapsed, 3) if elapsed is not None else None,
            corrections(ticket, changes),
        )
        try:
            updated = await self._tickets.dispatch(request)
        except TicketNotFound as exc:
            raise DeskRefused("no-such-ticket", "工单不存在", 404) from exc
        self._metrics.dispatches.inc()
        if elapsed is not None:
            self._metrics.answer_to_dispatch.observe(elapsed)
        return updated
