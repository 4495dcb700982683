"""Adapters of the composition root, on a real SQLite ticket store."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ami_bridge.events import HotlineRecording
from hotline.bus import EventBus
from hotline.wiring import ConfigBoard, LiveRouter, PoliceTickets, link_call_recordings
from hotline.yamlconf import ConfigError, ConfigIssue
from tickets.commands import NewTicket
from tickets.engine import make_engine
from tickets.migrate import upgrade
from tickets.store import TicketStore
from tickets.vocab import Channel
from tickets.workcalendar import WorkCalendar


@dataclass(frozen=True)
class FakeDecision:
    line: str
    kind: str = "help"
    sla_days: int = 1
    confidence: float = 0.9
    low_confidence: bool = False
    normalised: str = ""
    entities: tuple[object, ...] = field(default_factory=tuple)


class FakeRouter:
    def __init__(self, line: str) -> None:
        self.line = line

    def route(self, text: str) -> FakeDecision:
        return FakeDecision(self.line, normalised=text)


@pytest.fixture
def store(tmp_path: Path) -> TicketStore:
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    upgrade(engine)
    return TicketStore(engine, WorkCalendar())


def test_referral_is_routed_and_idempotent(store: TicketStore) -> None:
    port = PoliceTickets(store, LiveRouter(FakeRouter("property")))  # type: ignore[arg-type]
    payload = {"summary": "小区物业费乱收费", "caller_number": "13800138000", "address": "阳光小区"}
    first = port.create_from_referral("JJ20261126001", payload)
    assert port.create_from_referral("JJ20261126001", payload) == first
    ticket = store.get(first)
    assert ticket.line == "property" and ticket.channel == Channel.POLICE110
    assert ticket.external_ref == "JJ20261126001"


def test_referral_our_rules_call_police_goes_to_general_flagged(store: TicketStore) -> None:
    port = PoliceTickets(store, LiveRouter(FakeRouter("police_110")))  # type: ignore[arg-type]
    number = port.create_from_referral("JJ2", {"summary": "有人打架"})
    ticket = store.get(number)
    assert ticket.line == "general" and ticket.low_confidence


def test_feedback_applied_once_and_never_older(store: TicketStore) -> None:
    port = PoliceTickets(store, LiveRouter(FakeRouter("general")))  # type: ignore[arg-type]
    number = port.create_from_referral("JJ3", {"summary": "咨询"})
    kw = {"note": "", "occurred_at": "", "source": "city-110"}
    assert port.apply_feedback(number, status="handled", seq=2, **kw)
    assert port.apply_feedback(number, status="received", seq=1, **kw)  # older: ignored
    assert port.apply_feedback(number, status="handled", seq=2, **kw)  # duplicate: ignored
    events = store.events(number, "police110_feedback")
    assert [e.after["seq"] for e in events] == [2]
    assert not port.apply_feedback("20990101-9999", status="x", seq=1, **kw)


async def test_recording_event_links_the_file_to_the_ticket(store: TicketStore) -> None:
    ticket = store.create_ticket(NewTicket(channel=Channel.PHONE, line="general",
                                           kind="consultation", sla_days=3))
    bus = EventBus()
    task = asyncio.create_task(link_call_recordings(bus, store))
    await asyncio.sleep(0)
    bus.publish(HotlineRecording("1.1", "1.1", ticket.number, "2026-11-26/1.1/call.wav"))
    bus.publish(HotlineRecording("2.1", "2.1", ticket.number, "../../etc/passwd"))
    for _ in range(100):
        if store.recordings(ticket.number):
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    task.cancel()
    assert [r.path for r in store.recordings(ticket.number)] == ["2026-11-26/1.1/call.wav"]


def test_config_board_keeps_last_reload_on_refusal(tmp_path: Path) -> None:
    board = ConfigBoard()
    board.loaded("ivr.yaml", tmp_path / "ivr.yaml")
    board.refused("ivr.yaml", tmp_path / "ivr.yaml",
                  ConfigError([ConfigIssue("ivr.yaml", 3, "错误", "bad")]))
    (status,) = board.config_status()
    assert not status.ok and status.last_reload is not None
    assert status.issues == ("ivr.yaml:3: 错误 (bad)",)


async def test_transfer_outcome_goes_on_the_ticket_and_flags_no_answer(store: TicketStore) -> None:
    from hotline.wiring import TransferOutcomes
    from police110.call import PoliceTransferOutcome

    ticket = store.create_ticket(NewTicket(channel=Channel.PHONE, line="police_110",
                                           kind="help", sla_days=1))
    outcomes = TransferOutcomes(store)
    await outcomes.record_transfer(PoliceTransferOutcome(
        ticket.number, "1.1", "transfer", "no-answer", "NOANSWER", 20.0, 0.0))
    (event,) = store.events(ticket.number, "police110_transfer")
    assert event.after["outcome"] == "no-answer"
    assert store.get(ticket.number).emergency


async def test_a_failing_background_part_is_restarted() -> None:
    from hotline.app import supervised

    runs: list[int] = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError("watcher crashed")

    await asyncio.wait_for(supervised("flaky", flaky, max_delay=0.01), 10)
    assert len(runs) == 3
