"""Errors of the ticket store: a stable error id, details, and a Chinese message for the desk."""

from __future__ import annotations

from typing import Any

from tickets.vocab import STATUS_ZH, Status


def _zh(status: str) -> str:
    try:
        return STATUS_ZH[Status(status)]
    except ValueError:
        return status


class TicketError(Exception):
    error_id = "ticket-error"
    http_status = 400

    def __init__(self, message_en: str, message_zh: str, **details: Any) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.details = details


class TicketNotFound(TicketError):
    error_id = "no-such-ticket"
    http_status = 404

    def __init__(self, number: str) -> None:
        super().__init__(f"no ticket {number}", f"工单 {number} 不存在", number=number)


class InvalidTransition(TicketError):
    error_id = "invalid-status-transition"
    http_status = 409

    def __init__(self, number: str, before: str, after: str, allowed: list[str]) -> None:
        super().__init__(
            f"ticket {number}: status cannot go from {before} to {after}"
            f" (allowed: {', '.join(allowed) or 'none'})",
            f"工单 {number} 的状态不能从「{_zh(before)}」改为「{_zh(after)}」",
            number=number, before=before, after=after, allowed=allowed,
        )


class InvalidChange(TicketError):
    error_id = "invalid-ticket-change"
    http_status = 400

    def __init__(self, number: str, field: str, reason_en: str, reason_zh: str) -> None:
        super().__init__(f"ticket {number}: {field}: {reason_en}",
                         f"工单 {number} 的 {field}: {reason_zh}", number=number, field=field)


class DuplicateExternalRef(TicketError):
    """The partner's reference already has a ticket: answer with that one (idempotency)."""

    error_id = "duplicate-external-ref"
    http_status = 409

    def __init__(self, source: str, ref: str, number: str) -> None:
        super().__init__(f"{source} {ref} already has ticket {number}",
                         f"{source} 编号 {ref} 已有工单 {number}",
                         source=source, ref=ref, number=number)
        self.number = number
