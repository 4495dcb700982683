"""The desk's TicketPort over the real ticket store (tickets.TicketStore).

The store is synchronous SQLAlchemy: every call runs in a worker thread so the
event loop (and every other agent's screen-pop) never waits on the database.

Mapping notes: the store has no columns for the agent's summary, address and
caller name; they live in the ticket's `entities` bag (keys `summary`, `address`,
`caller_name`), which the store audits like any other change. The address routing
extracted pre-fills the form; an agent's correction replaces it (as plain text). The store itself
computes answer-to-dispatch from `answered()` and records line/kind corrections.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Any

from desk.agents import DeskRefused
from desk.ports import (
    AuditEntry,
    DispatchRequest,
    Entity,
    TicketFilter,
    TicketNotFound,
    TicketRecord,
)
from tickets import Status, TicketStore
from tickets import TicketFilter as StoreFilter
from tickets.errors import TicketError
from tickets.errors import TicketNotFound as StoreNotFound
from tickets.models import Ticket

HISTORY_DAYS = 180
TEXT_FIELDS_IN_ENTITIES = ("summary", "address", "caller_name")
TICKET_NUMBER = re.compile(r"^\d{8}-\d+$")


def _entity_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("value", ""))
    if isinstance(value, list) and value:
        return _entity_value(value[0])
    return "" if value is None else str(value)


def entities_of(raw: Any) -> tuple[Entity, ...]:
    """Entities as routing stored them: {key: value | {value,...} | [..]} or [{key, value}]."""
    if isinstance(raw, Mapping):
        items = [(str(k), _entity_value(v)) for k, v in raw.items()]
    elif isinstance(raw, list):
        items = [(str(e.get("key", "")), _entity_value(e)) for e in raw if isinstance(e, Mapping)]
    else:
        items = []
    return tuple(Entity(k, v) for k, v in items if k and v and k not in TEXT_FIELDS_IN_ENTITIES)


def explanation_lines(raw: Any) -> tuple[str, ...]:
    """Readable lines from routing's Explanation (rules fired, phrases hit, scores)."""
    if not isinstance(raw, Mapping):
        return ()
    lines: list[str] = []
    for rule in raw.get("rules") or []:
        if isinstance(rule, Mapping):
            target = rule.get("line") or rule.get("kind") or ""
            lines.append(f"规则 {rule.get('name', '')} → {target}")
    scores = raw.get("line_scores") or {}
    ranked = (
        sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        if isinstance(scores, Mapping)
        else []
    )
    hits = raw.get("line_hits") or {}
    for line, _score in ranked[:2]:
        for hit in (hits.get(line) or [])[:4] if isinstance(hits, Mapping) else []:
            if isinstance(hit, Mapping):
                lines.append(
                    f"{hit.get('label', '')} → {line} ({float(hit.get('weight', 0)):+.1f})"
                )
    if ranked:
        lines.append("得分: " + ", ".join(f"{k} {float(v):.2f}" for k, v in ranked[:3]))
    if raw.get("decided_by"):
        lines.append(f"判定: {raw['decided_by']}")
    return tuple(lines)


def record_of(t: Ticket, recordings: Sequence[str] = ()) -> TicketRecord:
    bag = t.entities if isinstance(t.entities, Mapping) else {}
    flags = frozenset(
        name
        for name in ("repeat_caller", "petition", "enterprise_escalation", "emergency")
        if getattr(t, name)
    )
    return TicketRecord(
        number=t.number,
        created_at=t.created_at,
        caller_number=t.caller_number or "",
        transcript=t.transcript,
        line=t.line,
        kind=t.kind,
        sla_days=t.sla_days,
        status=str(t.status),
        channel=str(t.channel),
        summary=_entity_value(bag.get("summary")),
        address=_entity_value(bag.get("address")),
        caller_name=_entity_value(bag.get("caller_name")),
        department=t.department or "",
        due_at=t.due_at,
        confidence=t.confidence or 0.0,
        explanation=explanation_lines(t.explanation),
        needs_confirmation=t.low_confidence,
        flags=flags,
        entities=entities_of(t.entities),
        call_id=t.call_id or "",
        ivr_path=">".join(str(step) for step in (t.ivr_path or [])),
        recordings=tuple(recordings),
    )


def _refused(exc: TicketError) -> DeskRefused:
    return DeskRefused(exc.error_id, exc.message_zh, exc.http_status)


class StoreTickets:
    """TicketPort for `desk.services.DeskDeps`, wrapping a TicketStore."""

    def __init__(self, store: TicketStore) -> None:
        self._store = store

    def _get(self, number: str) -> TicketRecord | None:
        try:
            ticket = self._store.get(number)
        except StoreNotFound:
            return None
        return record_of(ticket, [r.path for r in self._store.recordings(number)])

    async def get(self, number: str) -> TicketRecord | None:
        return await asyncio.to_thread(self._get, number)

    def _find_by_call(self, call_id: str) -> TicketRecord | None:
        ticket = self._store.find_by_call(call_id)
        if ticket is None:
            return None
        # The pop falls back here when the call carries no TICKET_ID: with its recordings,
        # so the caller's speech shows the same either way.
        return record_of(ticket, [r.path for r in self._store.recordings(ticket.number)])

    async def find_by_call(self, call_id: str) -> TicketRecord | None:
        return await asyncio.to_thread(self._find_by_call, call_id) if call_id else None

    async def history_for_caller(
        self, caller_number: str, exclude: str = "", limit: int = 10
    ) -> Sequence[TicketRecord]:
        found = await asyncio.to_thread(
            self._store.history_for_caller, caller_number, HISTORY_DAYS, limit + 1
        )
        return [record_of(t) for t in found if t.number != exclude][:limit]

    async def answered(self, number: str, who: str, at: Any) -> None:
        try:
            await asyncio.to_thread(self._store.answered, number, who, at)
        except TicketError as exc:
            raise _refused(exc) from exc

    def _dispatch(self, request: DispatchRequest) -> TicketRecord:
        current = self._store.get(request.number)
        changes: dict[str, Any] = {
            k: v for k, v in request.changes.items() if k not in TEXT_FIELDS_IN_ENTITIES
        }
        text = {k: v for k, v in request.changes.items() if k in TEXT_FIELDS_IN_ENTITIES}
        if text:
            bag = dict(current.entities) if isinstance(current.entities, Mapping) else {}
            changes["entities"] = {**bag, **text}
        ticket = self._store.dispatch(request.number, request.department, changes, request.who)
        return record_of(ticket)

    async def dispatch(self, request: DispatchRequest) -> TicketRecord:
        try:
            return await asyncio.to_thread(self._dispatch, request)
        except StoreNotFound as exc:
            raise TicketNotFound(request.number) from exc
        except TicketError as exc:
            raise _refused(exc) from exc

    def _list(self, where: TicketFilter) -> list[TicketRecord]:
        if where.text and TICKET_NUMBER.match(where.text):
            one = self._get(where.text)
            return [one] if one is not None else []
        statuses = frozenset({Status(where.status)}) if where.status in set(Status) else frozenset()
        wanted = where.limit if not where.text else 1000
        found = self._store.list_tickets(
            StoreFilter(
                statuses=statuses,
                line=where.line,
                limit=wanted,
                caller_key=self._store.key(where.caller_number) if where.caller_number else None,
            )
        )
        records = [record_of(t) for t in found]
        if where.text:
            records = [r for r in records if where.text in r.transcript or where.text in r.summary]
        return records[: where.limit]

    async def list_tickets(self, where: TicketFilter) -> Sequence[TicketRecord]:
        return await asyncio.to_thread(self._list, where)

    def _audit(self, number: str) -> list[AuditEntry]:
        try:
            rows = self._store.audit_trail(number)
        except StoreNotFound:
            return []
        return [
            AuditEntry(
                number,
                a.who,
                a.at,
                a.field,
                "" if a.before is None else str(a.before),
                "" if a.after is None else str(a.after),
            )
            for a in rows
        ]

    async def audit_trail(self, number: str) -> Sequence[AuditEntry]:
        return await asyncio.to_thread(self._audit, number)
