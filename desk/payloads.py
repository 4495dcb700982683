"""JSON shapes sent to the browser, and the one place that decides on number masking.

Masking rule: the agent on the call sees their caller's full number (they may have
to call back or confirm it); every list, history and supervisor view shows it masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from desk.kb import Hit
from desk.ports import KINDS_ZH, LINE_NAMES_ZH, AuditEntry, TicketRecord
from hotline.logs import mask_phone

FLAG_NAMES_ZH = {
    "repeat_caller": "重复来电",
    "petition": "信访件",
    "enterprise_escalation": "涉企升级",
    "emergency": "紧急",
    "low_confidence": "需确认线路",
}

STATUS_ZH = {
    "new": "新建",
    "dispatched": "已派发",
    "replied": "已答复",
    "reviewed": "已回访",
    "closed": "已办结",
}


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def ticket_json(t: TicketRecord, reveal_number: bool) -> dict[str, Any]:
    flags = set(t.flags)
    if t.needs_confirmation:
        flags.add("low_confidence")
    return {
        "number": t.number,
        "created_at": iso(t.created_at),
        "caller_number": t.caller_number if reveal_number else mask_phone(t.caller_number),
        "caller_masked": not reveal_number,
        "caller_name": t.caller_name,
        "channel": t.channel,
        "transcript": t.transcript,
        "summary": t.summary,
        "address": t.address,
        "line": t.line,
        "line_zh": LINE_NAMES_ZH.get(t.line, t.line),
        "kind": t.kind,
        "kind_zh": KINDS_ZH.get(t.kind, t.kind),
        "sla_days": t.sla_days,
        "due_at": iso(t.due_at),
        "status": t.status,
        "status_zh": STATUS_ZH.get(t.status, t.status),
        "department": t.department,
        "confidence": round(t.confidence, 2),
        "explanation": list(t.explanation),
        "needs_confirmation": t.needs_confirmation,
        "flags": sorted(flags),
        "flags_zh": [FLAG_NAMES_ZH.get(f, f) for f in sorted(flags)],
        "entities": [{"key": e.key, "value": e.value} for e in t.entities],
        "ivr_path": t.ivr_path,
        "recordings": list(t.recordings),
    }


def history_json(items: Sequence[TicketRecord]) -> list[dict[str, Any]]:
    return [
        {
            "number": t.number,
            "created_at": iso(t.created_at),
            "line_zh": LINE_NAMES_ZH.get(t.line, t.line),
            "kind_zh": KINDS_ZH.get(t.kind, t.kind),
            "status": t.status,
            "status_zh": STATUS_ZH.get(t.status, t.status),
            "summary": t.summary or t.transcript[:60],
            "department": t.department,
        }
        for t in items
    ]


def hits_json(hits: Sequence[Hit]) -> list[dict[str, Any]]:
    return [
        {
            "id": h.article.id,
            "title": h.article.title,
            "line_zh": LINE_NAMES_ZH.get(h.article.line, ""),
            "answer": h.article.answer,
            "score": h.score,
        }
        for h in hits
    ]


def audit_json(items: Sequence[AuditEntry]) -> list[dict[str, Any]]:
    return [
        {"who": a.who, "at": iso(a.at), "field": a.field, "before": a.before, "after": a.after}
        for a in items
    ]
