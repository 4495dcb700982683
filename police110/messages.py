"""The JSON bodies of the exchange, parsed into frozen dataclasses.

The rules here are the ones written in `openapi.py`; a body that breaks one is refused
with `invalid-body` and the name of the field, never with a 5xx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from police110 import errors
from police110.errors import ExchangeError

CASE_NO = re.compile(r"[A-Za-z0-9-]{1,40}")
PHONE = re.compile(r"[0-9+-]{3,20}")
FEEDBACK_STATUSES = ("received", "dispatched", "in_progress", "resolved", "returned", "closed")
MAX_SEQ = 2**31 - 1


def _invalid(field: str, reason: str) -> ExchangeError:
    return ExchangeError(errors.INVALID_BODY, {"field": field, "reason": reason})


def _text(obj: dict[str, Any], name: str, max_len: int, *, required: bool,
          pattern: re.Pattern[str] | None = None) -> str:
    value = obj.get(name)
    if value is None:
        if required:
            raise _invalid(name, "required")
        return ""
    if not isinstance(value, str):
        raise _invalid(name, "expected a string")
    if required and not value:
        raise _invalid(name, "must not be empty")
    if len(value) > max_len:
        raise _invalid(name, f"longer than {max_len}")
    if pattern is not None and value and not pattern.fullmatch(value):
        raise _invalid(name, "bad format")
    return value


def _only(obj: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ExchangeError(errors.INVALID_BODY, {"reason": "expected a JSON object"})
    extra = sorted(set(obj) - allowed)
    if extra:
        raise _invalid(extra[0], "unknown field")
    return obj


@dataclass(frozen=True)
class InboundReferral:
    """A non-police matter 110 hands over to 12345."""

    incident_no: str
    category: str
    summary: str
    caller_number: str
    address: str
    occurred_at: str

    FIELDS = frozenset({"incident_no", "category", "summary", "caller_number", "address",
                        "occurred_at"})

    @classmethod
    def parse(cls, obj: Any) -> InboundReferral:
        data = _only(obj, set(cls.FIELDS))
        return cls(
            incident_no=_text(data, "incident_no", 40, required=True, pattern=CASE_NO),
            category=_text(data, "category", 64, required=False),
            summary=_text(data, "summary", 2000, required=True),
            caller_number=_text(data, "caller_number", 20, required=False, pattern=PHONE),
            address=_text(data, "address", 200, required=False),
            occurred_at=_text(data, "occurred_at", 40, required=False),
        )

    def payload(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in sorted(self.FIELDS)}


@dataclass(frozen=True)
class Feedback:
    """An outcome update about one case; `seq` grows with every update of that case."""

    case_no: str  # our ticket number inbound, their incident number outbound
    seq: int
    status: str
    note: str
    occurred_at: str

    @classmethod
    def parse_inbound(cls, obj: Any) -> Feedback:
        data = _only(obj, {"ticket_number", "seq", "status", "note", "occurred_at"})
        seq = data.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise _invalid("seq", "expected an integer")
        if not 1 <= seq <= MAX_SEQ:
            raise _invalid("seq", f"expected 1..{MAX_SEQ}")
        status = data.get("status")
        if status not in FEEDBACK_STATUSES:
            raise _invalid("status", "unknown status")
        return cls(
            case_no=_text(data, "ticket_number", 40, required=True, pattern=CASE_NO),
            seq=seq,
            status=str(status),
            note=_text(data, "note", 2000, required=False),
            occurred_at=_text(data, "occurred_at", 40, required=False),
        )


@dataclass(frozen=True)
class OutboundReferral:
    """A police matter found on 12345, pushed to 110."""

    ticket_number: str
    category: str
    summary: str
    caller_number: str = ""
    address: str = ""
    occurred_at: str = ""

    def body(self, message_id: str) -> dict[str, Any]:
        return {"message_id": message_id, "ticket_number": self.ticket_number,
                "category": self.category, "summary": self.summary,
                "caller_number": self.caller_number, "address": self.address,
                "occurred_at": self.occurred_at}


def feedback_body(message_id: str, incident_no: str, ticket_number: str, seq: int,
                  status: str, note: str, occurred_at: str) -> dict[str, Any]:
    """Our outcome feedback on a referral 110 gave us."""
    return {"message_id": message_id, "incident_no": incident_no,
            "ticket_number": ticket_number, "seq": seq, "status": status, "note": note,
            "occurred_at": occurred_at}
