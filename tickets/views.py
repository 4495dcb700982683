"""Tickets as JSON-ready dicts for the desk and the 110 exchange.

The citizen's number is masked unless the caller of this function has a role that needs
it (the agent on the call); nothing here decides roles.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hotline.logs import mask_phone
from tickets.changes import FLAGS
from tickets.models import AuditEntry, Ticket
from tickets.vocab import STATUS_ZH
from tickets.workcalendar import BEIJING


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def ticket_to_dict(t: Ticket, *, reveal_caller: bool = False) -> dict[str, Any]:
    return {
        "number": t.number,
        "channel": t.channel.value,
        "call_id": t.call_id,
        "caller": (t.caller_key or t.caller_number) if reveal_caller else mask_phone(
            t.caller_key or t.caller_number),
        "caller_withheld": t.caller_key is None,
        "transcript": t.transcript,
        "normalized_text": t.normalized_text,
        "line": t.line,
        "kind": t.kind,
        "sla_days": t.sla_days,
        "due_at": _iso(t.due_at),
        "due_local": t.due_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        "due_estimated": t.due_flag is not None,
        "status": t.status.value,
        "status_zh": STATUS_ZH[t.status],
        "department": t.department,
        "grade": t.grade,
        "ivr_path": list(t.ivr_path),
        "explanation": t.explanation,
        "confidence": t.confidence,
        "entities": t.entities,
        "flags": [name for name in FLAGS if getattr(t, name)],
        "external": ({"source": t.external_source, "ref": t.external_ref}
                     if t.external_ref else None),
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
        "answered_at": _iso(t.answered_at),
        "dispatched_at": _iso(t.dispatched_at),
        "answer_to_dispatch_s": t.answer_to_dispatch_s,
    }


def audit_to_dict(a: AuditEntry) -> dict[str, Any]:
    return {"who": a.who, "at": _iso(a.at), "field": a.field, "before": a.before,
            "after": a.after}
