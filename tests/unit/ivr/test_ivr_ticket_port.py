from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from ivr.config import POLICE_LINE
from ivr.record import IvrPath, PathStep
from ivr.ticket_port import StoreTicketPort

from ..tickets.storekit import FakeClock, build_store
from .fakes import CALLER, Decision


def path(line: str) -> IvrPath:
    return IvrPath("call-7", CALLER, 1.7e9, 6.2,
                   (PathStep(0.0, "menu", "main"), PathStep(1.5, "key", "2")),
                   "queue", line, line, "selected")


async def test_ticket_from_keys_and_from_speech_in_sqlite(tmp_path: Path) -> None:
    store = build_store(create_engine(f"sqlite:///{tmp_path / 't.db'}"), FakeClock())
    port = StoreTicketPort(store, recent_days=7)
    assert await port.caller_context("13800138000") == (False, 0)

    number = await port.create_ticket("call-7", "13800138000", "", None, path("property"))
    ticket = store.get(number)
    assert ticket.line == "property" and ticket.kind == "consultation" and ticket.sla_days == 3
    assert ticket.ivr_path == ["0.0s menu main", "1.5s key 2"]
    assert ticket.call_id == "call-7" and ticket.due_at is not None

    decision = Decision("womens_rights", kind="help", sla_days=1, confidence=0.8)
    number = await port.create_ticket("call-8", "13800138000", "有人打我", decision,
                                      path("womens_rights"))
    ticket = store.get(number)
    assert (ticket.transcript, ticket.kind, ticket.sla_days) == ("有人打我", "help", 1)
    assert ticket.confidence == 0.8

    police = await port.create_ticket("call-9", "", "", None, path(POLICE_LINE))
    assert store.get(police).emergency
    assert await port.caller_context("13800138000") == (True, 2)
    assert await port.caller_context("") == (False, 0)  # withheld: never a repeat caller
