"""Validation of the changes an agent or a department makes to a ticket."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tickets.commands import SLA_CLASSES
from tickets.errors import InvalidChange, InvalidTransition
from tickets.models import Ticket
from tickets.vocab import TRANSITIONS, Status

FLAGS = ("repeat_caller", "petition", "enterprise_escalation", "emergency", "low_confidence")
# What `update` may change. Transcript, caller and the time of receipt are evidence and
# stay as recorded; due_at follows sla_days.
EDITABLE = frozenset({
    "line", "kind", "sla_days", "status", "department", "grade", "normalized_text",
    "entities", "answered_at", *FLAGS,
})


def validate_changes(ticket: Ticket, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Checked and coerced values, or InvalidChange / InvalidTransition. Writes nothing."""
    n = ticket.number
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise InvalidChange(n, ", ".join(unknown), "not editable", "不可修改")
    out: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "status":
            try:
                status = Status(value)
            except ValueError:
                raise InvalidChange(n, field, f"unknown status {value!r}",
                                    f"未知的状态 {value!r}") from None
            if status != ticket.status and status not in TRANSITIONS[ticket.status]:
                raise InvalidTransition(n, ticket.status.value, status.value,
                                        sorted(s.value for s in TRANSITIONS[ticket.status]))
            value = status
        elif field == "sla_days":
            if isinstance(value, bool) or value not in SLA_CLASSES:
                raise InvalidChange(n, field, f"must be one of {sorted(SLA_CLASSES)}",
                                    f"应为 {sorted(SLA_CLASSES)} 之一")
        elif field in ("line", "kind"):
            if not isinstance(value, str) or not value.strip():
                raise InvalidChange(n, field, "must be a non-empty string", "不能为空")
        elif field in FLAGS:
            if not isinstance(value, bool):
                raise InvalidChange(n, field, "must be true or false", "应为是或否")
        elif field == "answered_at":
            if not isinstance(value, dt.datetime) or value.tzinfo is None:
                raise InvalidChange(n, field, "must be an aware datetime", "时间无效")
        elif field == "entities":
            if not isinstance(value, dict):
                raise InvalidChange(n, field, "must be a mapping", "格式无效")
        elif field == "department" and value is not None and not str(value).strip():
            raise InvalidChange(n, field, "must not be empty", "不能为空")
        out[field] = value
    if out.get("status") == Status.DISPATCHED and not (out.get("department")
                                                       or ticket.department):
        raise InvalidChange(n, "department", "required to dispatch", "派单需要指定承办单位")
    return out
