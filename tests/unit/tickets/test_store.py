"""TicketStore behaviour. Runs on SQLite here and, unchanged, on PostgreSQL in
tests/integration/tickets/test_tickets_store_pg.py (it imports these tests)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from tickets.commands import NewTicket, TicketFilter
from tickets.errors import DuplicateExternalRef, InvalidChange, InvalidTransition, TicketNotFound
from tickets.models import AuditEntry, Ticket
from tickets.store import TicketStore
from tickets.vocab import Channel, RecordingKind, Status
from tickets.workcalendar import BEIJING, WorkCalendar

from .storekit import FakeClock

MOBILE = "13912345678"


def new(**kw: object) -> NewTicket:
    base: dict[str, object] = {
        "channel": Channel.PHONE, "line": "property", "kind": "complaint", "sla_days": 7,
        "call_id": "1700000000.1", "caller_number": "+86 139 1234 5678",
        "transcript": "物叶 不 管 电梯 坏 了", "normalized_text": "物业不管电梯坏了",
        "ivr_path": ("main", "speech"), "explanation": {"rules": ["property.elevator"]},
        "confidence": 0.91, "entities": {"address": "谯城区"},
    }
    base.update(kw)
    return NewTicket(**base)  # type: ignore[arg-type]


def audit(store: TicketStore, number: str) -> list[tuple[str, str, object, object]]:
    return [(a.who, a.field, a.before, a.after) for a in store.audit_trail(number)]


def test_create_fills_every_field(store: TicketStore, clock: FakeClock) -> None:
    t = store.create_ticket(new(), who="ivr")
    got = store.get(t.number)
    assert got.number == "20261126-0001"
    assert got.channel == Channel.PHONE
    assert got.caller_key == MOBILE
    assert got.caller_number == "+86 139 1234 5678"
    assert got.status == Status.NEW
    assert got.ivr_path == ["main", "speech"]
    assert got.explanation == {"rules": ["property.elevator"]}
    assert got.entities == {"address": "谯城区"}
    assert got.created_at == clock.now
    assert got.created_at.tzinfo is not None
    assert got.due_at == WorkCalendar().due_at(clock.now, 7).due_utc
    assert got.due_flag is None
    assert not got.repeat_caller
    assert audit(store, t.number) == [("ivr", "created", None, t.number)]


def test_numbers_follow_beijing_date_and_daily_sequence(store: TicketStore,
                                                        clock: FakeClock) -> None:
    assert store.create_ticket(new()).number == "20261126-0001"
    assert store.create_ticket(new()).number == "20261126-0002"
    # 16:30 UTC is 00:30 the next day in Beijing: a new day, a new sequence.
    clock.now = dt.datetime(2026, 11, 26, 16, 30, tzinfo=dt.UTC)
    assert store.create_ticket(new()).number == "20261127-0001"


def test_unknown_number(store: TicketStore) -> None:
    with pytest.raises(TicketNotFound):
        store.get("20261126-9999")


def test_withheld_caller_has_no_key_and_is_never_repeat(store: TicketStore) -> None:
    for _ in range(3):
        t = store.create_ticket(new(caller_number="anonymous"))
    assert t.caller_key is None
    assert not t.repeat_caller
    assert store.history_for_caller("anonymous", 30) == []
    assert not store.is_repeat_caller(None, 30, 1)


def test_repeat_caller_flag_and_history(store: TicketStore, clock: FakeClock) -> None:
    first = store.create_ticket(new(caller_number="013912345678"))
    clock.advance(days=1, hours=1)
    second = store.create_ticket(new(caller_number="139 1234 5678"))
    clock.advance(days=1, hours=1)
    third = store.create_ticket(new(caller_number="+8613912345678"))
    # Default policy: 2 earlier tickets within 30 days.
    assert (first.repeat_caller, second.repeat_caller, third.repeat_caller) == (False, False, True)
    assert store.is_repeat_caller(MOBILE, within_days=30, threshold=3)
    assert not store.is_repeat_caller(MOBILE, within_days=30, threshold=4)
    assert not store.is_repeat_caller(MOBILE, within_days=1, threshold=2)
    history = store.history_for_caller("+86 139-1234-5678", days=30)
    assert [h.number for h in history] == [third.number, second.number, first.number]
    assert [h.number for h in store.history_for_caller(MOBILE, days=1)] == [third.number]
    clock.advance(days=40)
    assert store.history_for_caller(MOBILE, days=30) == []
    assert not store.create_ticket(new()).repeat_caller


def test_update_writes_one_audit_entry_per_changed_field(store: TicketStore,
                                                         clock: FakeClock) -> None:
    t = store.create_ticket(new())
    clock.advance(minutes=1)
    after = store.update(t.number, {"grade": "紧急", "petition": True, "line": "property"},
                         who="agent:1001")
    assert after.grade == "紧急"
    assert after.petition
    assert after.updated_at == clock.now
    assert audit(store, t.number)[1:] == [
        ("agent:1001", "grade", None, "紧急"),
        ("agent:1001", "petition", False, True),
    ]
    entries = store.audit_trail(t.number)
    assert entries[-1].at == clock.now
    # Nothing changed: nothing written.
    store.update(t.number, {"grade": "紧急"}, who="agent:1001")
    assert len(store.audit_trail(t.number)) == 3


def test_invalid_transition_is_refused_and_nothing_written(store: TicketStore) -> None:
    t = store.create_ticket(new())
    with pytest.raises(InvalidTransition) as info:
        store.update(t.number, {"status": "replied", "grade": "普通"}, who="x")
    assert info.value.details["allowed"] == ["closed", "dispatched"]
    assert "new" in str(info.value)
    assert "不能" in info.value.message_zh
    got = store.get(t.number)
    assert got.status == Status.NEW
    assert got.grade is None
    assert len(store.audit_trail(t.number)) == 1


def test_full_lifecycle_and_closed_is_final(store: TicketStore) -> None:
    t = store.create_ticket(new())
    store.dispatch(t.number, "谯城区住建局", {}, who="1001")
    for status in ("replied", "reviewed", "closed"):
        store.update(t.number, {"status": status}, who="dept")
    assert store.get(t.number).status == Status.CLOSED
    for status in ("new", "dispatched", "replied", "reviewed"):
        with pytest.raises(InvalidTransition):
            store.update(t.number, {"status": status}, who="x")
    statuses = [(a.before, a.after) for a in store.audit_trail(t.number) if a.field == "status"]
    assert statuses == [("new", "dispatched"), ("dispatched", "replied"),
                        ("replied", "reviewed"), ("reviewed", "closed")]


def test_bad_changes_refused(store: TicketStore) -> None:
    t = store.create_ticket(new())
    for changes in ({"transcript": "x"}, {"sla_days": 5}, {"sla_days": True}, {"line": ""},
                    {"emergency": "yes"}, {"status": "lost"},
                    {"answered_at": dt.datetime(2026, 1, 1)}):
        with pytest.raises(InvalidChange):
            store.update(t.number, changes, who="x")
    with pytest.raises(InvalidChange, match="department"):
        store.update(t.number, {"status": "dispatched"}, who="x")
    assert len(store.audit_trail(t.number)) == 1


def test_sla_change_moves_the_deadline(store: TicketStore, clock: FakeClock) -> None:
    t = store.create_ticket(new(sla_days=7))
    after = store.update(t.number, {"sla_days": 1, "kind": "help"}, who="1001")
    assert after.due_at == WorkCalendar().due_at(t.created_at, 1).due_utc
    fields = [a.field for a in store.audit_trail(t.number)]
    assert fields == ["created", "sla_days", "kind", "due_at"]


def test_dispatch_one_step_with_timings_and_correction(store: TicketStore,
                                                       clock: FakeClock) -> None:
    t = store.create_ticket(new(line="general", kind="consultation", sla_days=1))
    clock.advance(seconds=5)
    store.answered(t.number, who="1001")
    answered_at = clock.now
    clock.advance(seconds=2)
    store.answered(t.number, who="1002")  # a transfer does not restart the clock
    clock.advance(seconds=83.5)
    done = store.dispatch(t.number, "谯城区市场监管局",
                          {"line": "market_regulation", "kind": "complaint", "sla_days": 7},
                          who="1001")
    assert done.status == Status.DISPATCHED
    assert done.department == "谯城区市场监管局"
    assert done.answered_at == answered_at
    assert done.dispatched_at == clock.now
    assert done.answer_to_dispatch_s == pytest.approx(85.5)
    [correction] = store.corrections()
    assert (correction.old_line, correction.old_kind) == ("general", "consultation")
    assert (correction.new_line, correction.new_kind) == ("market_regulation", "complaint")
    assert correction.by == "1001"
    assert correction.text == "物业不管电梯坏了"
    fields = {a.field for a in store.audit_trail(t.number)}
    assert {"answered_at", "line", "kind", "sla_days", "due_at", "department", "status",
            "dispatched_at", "answer_to_dispatch_s"} <= fields


def test_dispatch_without_correction_keeps_no_training_row(store: TicketStore) -> None:
    t = store.create_ticket(new())
    store.dispatch(t.number, "物业办", {"grade": "普通"}, who="1001")
    assert store.corrections() == []
    assert store.get(t.number).answer_to_dispatch_s is None  # never answered (web ticket)


def test_dispatch_refuses_status_and_empty_department(store: TicketStore) -> None:
    t = store.create_ticket(new())
    with pytest.raises(InvalidChange):
        store.dispatch(t.number, " ", {}, who="1001")
    with pytest.raises(InvalidChange):
        store.dispatch(t.number, "物业办", {"status": "closed"}, who="1001")
    store.dispatch(t.number, "物业办", {}, who="1001")
    with pytest.raises(InvalidTransition):
        store.dispatch(t.number, "物业办", {}, who="1001")


def test_external_ref_unique_and_found(store: TicketStore) -> None:
    t = store.create_ticket(new(channel=Channel.POLICE110, external_source="police110",
                                external_ref="110-20261126-0042", caller_number=None))
    found = store.find_by_external_ref("police110", "110-20261126-0042")
    assert found is not None
    assert found.number == t.number
    assert store.find_by_external_ref("police110", "nope") is None
    with pytest.raises(DuplicateExternalRef) as info:
        store.create_ticket(new(external_source="police110", external_ref="110-20261126-0042"))
    assert info.value.number == t.number
    # Tickets without a reference never collide.
    store.create_ticket(new())
    store.create_ticket(new())


def test_recordings(store: TicketStore) -> None:
    t = store.create_ticket(new())
    rec = store.add_recording(t.number, "1700000000.1", RecordingKind.SPEECH,
                              "2026/11/26/1700000000.1-speech.wav")
    assert rec.id
    assert [r.path for r in store.recordings(t.number)] == ["2026/11/26/1700000000.1-speech.wav"]
    for bad in ("/var/spool/x.wav", "../x.wav"):
        with pytest.raises(InvalidChange):
            store.add_recording(t.number, None, RecordingKind.CALL, bad)
    assert audit(store, t.number)[-1][1] == "recording"


def test_find_by_call(store: TicketStore) -> None:
    store.create_ticket(new(call_id="a"))
    t = store.create_ticket(new(call_id="b"))
    found = store.find_by_call("b")
    assert found is not None
    assert found.number == t.number
    assert store.find_by_call("zzz") is None


def test_list_filters(store: TicketStore, clock: FakeClock) -> None:
    a = store.create_ticket(new(line="property", sla_days=1))
    b = store.create_ticket(new(line="enterprise", emergency=True))
    c = store.create_ticket(new(line="property", channel=Channel.WEB))
    store.dispatch(c.number, "物业办", {}, who="1001")
    numbers = lambda f: [t.number for t in store.list_tickets(f)]  # noqa: E731
    assert numbers(TicketFilter()) == [c.number, b.number, a.number]
    assert numbers(TicketFilter(newest_first=False, limit=2)) == [a.number, b.number]
    assert numbers(TicketFilter(line="property")) == [c.number, a.number]
    assert numbers(TicketFilter(statuses=frozenset({Status.DISPATCHED}))) == [c.number]
    assert numbers(TicketFilter(channel=Channel.WEB)) == [c.number]
    assert numbers(TicketFilter(emergency=True)) == [b.number]
    assert numbers(TicketFilter(caller_key=MOBILE, offset=1, limit=1)) == [b.number]
    # a (1 working day) is overdue on Monday 2026-11-30 at 12:00 Beijing; the others are not.
    monday = dt.datetime(2026, 11, 30, 12, 0, tzinfo=BEIJING)
    assert numbers(TicketFilter(overdue_at=monday)) == [a.number]


def test_deadline_estimated_then_refreshed_when_calendar_learns_the_year(
        store: TicketStore, clock: FakeClock) -> None:
    clock.now = dt.datetime(2027, 2, 5, 2, 0, tzinfo=dt.UTC)  # Friday, 10:00 Beijing
    t = store.create_ticket(new(sla_days=3))
    assert t.due_flag == "weekday-estimate"
    assert t.due_at.astimezone(BEIJING).date() == dt.date(2027, 2, 10)
    assert [x.number for x in store.list_tickets(TicketFilter(flagged_deadline=True))] == [
        t.number]
    from tickets.holidays import parse_holidays
    store.use_calendar(WorkCalendar(parse_holidays(
        "years:\n  2027:\n    holidays: [{from: 2027-02-06, to: 2027-02-13}]\n"
        "    workdays: [2027-02-14]\n")))
    assert store.refresh_estimated_deadlines() == [t.number]
    got = store.get(t.number)
    assert got.due_flag is None
    assert got.due_at.astimezone(BEIJING).date() == dt.date(2027, 2, 16)
    assert {a.field for a in store.audit_trail(t.number)} >= {"due_at", "due_flag"}
    assert store.refresh_estimated_deadlines() == []


def test_every_change_is_in_the_audit_table(store: TicketStore) -> None:
    t = store.create_ticket(new())
    store.answered(t.number, "1001")
    store.dispatch(t.number, "物业办", {"line": "general", "emergency": True}, who="1001")
    store.update(t.number, {"status": "replied"}, who="物业办")
    with store.engine.connect() as conn:
        rows = conn.execute(select(AuditEntry.field, AuditEntry.who)
                            .join(Ticket).where(Ticket.number == t.number)).all()
    assert sorted(f for f, _ in rows) == sorted([
        "created", "answered_at", "line", "emergency", "department", "status",
        "dispatched_at", "answer_to_dispatch_s", "status"])


def test_numbers_unique_under_two_threads(store: TicketStore) -> None:
    per_thread = 200
    made: list[list[str]] = [[], []]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(slot: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                made[slot].append(store.create_ticket(new(call_id=f"{slot}-{i}")).number)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in (0, 1)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    numbers = made[0] + made[1]
    assert len(numbers) == 2 * per_thread
    assert len(set(numbers)) == 2 * per_thread
    assert sorted(int(n.split("-")[1]) for n in numbers) == list(range(1, 2 * per_thread + 1))
    assert len(store.list_tickets(TicketFilter(limit=1000))) == 2 * per_thread


def test_logs_never_carry_the_full_number(store: TicketStore,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    t = store.create_ticket(new(caller_number="+86 139 1234 5678"))
    store.answered(t.number, "1001")
    store.dispatch(t.number, "物业办", {}, who="1001")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert t.number in text
    assert "139******78" in text
    assert "12345678" not in text
    assert any(getattr(r, "call_id", None) == "1700000000.1" for r in caplog.records)
