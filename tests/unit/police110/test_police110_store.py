from __future__ import annotations

import json

from police110.messages import OutboundReferral
from police110.store import DEAD, DELIVERED, PENDING, Police110Store


def _queue(store: Police110Store, ticket: str) -> str:
    message_id, _ = store.enqueue_referral("city-110", ticket,
                                           OutboundReferral(ticket, "盗窃", "正在发生").body)
    return message_id


def test_tables_carry_the_prefix(store):
    from police110.store import METADATA
    assert METADATA.tables and all(t.startswith("police110_") for t in METADATA.tables)


def test_nonce_is_accepted_once_and_purged_after_expiry(store, clock):
    assert store.remember_nonce("city-110", "n" * 16, clock.now + 10)
    assert not store.remember_nonce("city-110", "n" * 16, clock.now + 10)
    assert store.remember_nonce("county-110", "n" * 16, clock.now + 10)  # per partner
    assert store.purge_nonces() == 0
    clock.now += 11
    assert store.purge_nonces() == 2


def test_referral_push_is_queued_once_per_ticket(store):
    first = _queue(store, "T1")
    assert store.enqueue_referral("city-110", "T1", lambda m: {"message_id": m}) == (first, False)
    [message] = store.messages()
    assert message.message_id == first and json.loads(message.body)["message_id"] == first


def test_claim_is_a_lease_that_expires_when_the_worker_dies(store, clock):
    _queue(store, "T1")
    [claimed] = store.claim_due(10, lease_s=5)
    assert claimed.attempts == 1
    assert store.claim_due(10, lease_s=5) == []  # leased: nobody else takes it
    clock.now += 5.1  # the worker died without an answer
    [again] = store.claim_due(10, lease_s=5)
    assert again.message_id == claimed.message_id and again.attempts == 2


def test_retry_waits_then_delivered_records_their_incident(store, clock):
    _queue(store, "T1")
    [m] = store.claim_due(10, 5)
    store.mark_retry(m, "HTTP 500", clock.now + 30)
    clock.now += 29
    assert store.claim_due(10, 5) == []
    clock.now += 2
    [m] = store.claim_due(10, 5)
    store.mark_delivered(m, '{"incident_no": "J1"}', "J1")
    assert store.outbox_counts() == {PENDING: 0, DELIVERED: 1, DEAD: 0}
    assert store.outbound_incident("city-110", "T1") == "J1"
    assert store.claim_due(10, 5) == []


def test_dead_letters_listed_newest_first_and_requeued(store):
    for t in ("T1", "T2", "T3"):
        _queue(store, t)
    for m in store.claim_due(10, 5)[:2]:
        store.mark_dead(m, f"HTTP 400 for {m.case_no}")
    dead = store.dead_letters()
    assert [m.case_no for m in dead] == ["T2", "T1"]
    assert dead[0].last_error == "HTTP 400 for T2"
    assert store.requeue(dead[0].message_id)
    assert not store.requeue(dead[0].message_id)  # no longer dead
    assert store.outbox_counts() == {PENDING: 2, DELIVERED: 0, DEAD: 1}
    [m] = [m for m in store.messages(PENDING) if m.case_no == "T2"]
    assert m.attempts == 0


def test_outbound_feedback_seq_grows_per_case(store):
    def body(message_id: str, seq: int) -> dict[str, object]:
        return {"message_id": message_id, "seq": seq}

    store.enqueue_feedback("city-110", "J1", body, "received")
    store.enqueue_feedback("city-110", "J2", body, "received")
    store.enqueue_feedback("city-110", "J1", body, "resolved")
    seqs = [(m.case_no, json.loads(m.body)["seq"]) for m in store.messages()]
    assert seqs == [("J1", 1), ("J2", 1), ("J1", 2)]


def test_inbound_feedback_never_moves_backwards(store):
    assert store.record_feedback("in", "city-110", "T1", 2, "dispatched")
    assert not store.record_feedback("in", "city-110", "T1", 1, "received")
    assert not store.record_feedback("in", "city-110", "T1", 2, "dispatched")
    assert store.record_feedback("in", "city-110", "T1", 5, "resolved")
    assert store.last_feedback_seq("in", "city-110", "T1") == 5


def test_store_survives_reopening(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'reopen.db'}"
    first = Police110Store.from_url(url, clock)
    first.create_tables()
    _queue(first, "T1")
    first.engine.dispose()
    second = Police110Store.from_url(url, clock)
    assert [m.case_no for m in second.claim_due(10, 5)] == ["T1"]
    with second.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_partner_owns_only_tickets_exchanged_with_it(store):
    _queue(store, "T1")
    store.record_referral("city-110", "J9", "T9")
    assert store.partner_has_ticket("city-110", "T1")
    assert store.partner_has_ticket("city-110", "T9")
    assert not store.partner_has_ticket("county-110", "T1")
    assert not store.partner_has_ticket("city-110", "T2")
