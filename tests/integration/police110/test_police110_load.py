"""1,000 referrals each way through a partner that goes down and fails at random."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import pytest
from aiohttp import web

from police110.http import Police110Deps, build_police110_app
from police110.messages import OutboundReferral
from police110.partners import OutboxPolicy
from police110.service import Exchange
from police110.store import DEAD, DELIVERED, PENDING, Police110Store
from tests.integration.police110.police110_testkit import (
    PARTNER_ID,
    Fake110,
    FakeTickets,
    Faults,
    make_config,
)

N = 1000
FAST_POLICY = OutboxPolicy(max_attempts=60, backoff_initial_s=0.05, backoff_max_s=0.8,
                           request_timeout_s=2.0, batch_size=50, concurrency=8,
                           poll_interval_s=0.2)


async def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.mark.integration
async def test_thousand_referrals_each_way_survive_outage_and_random_failures(tmp_path):
    partner = Fake110(Faults(fail_rate=0.15, fail_after_apply_rate=0.05))
    await partner.start()
    store = Police110Store.from_url(f"sqlite:///{tmp_path / 'exchange.db'}")
    store.create_tables()
    tickets = FakeTickets(fail_rate=0.03)
    exchange = Exchange(make_config(partner.base_url, FAST_POLICY), store, tickets)
    root = web.Application()
    root.add_subapp("/api/110", build_police110_app(Police110Deps(exchange)))
    runner = web.AppRunner(root)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    our_url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/110"
    started = time.monotonic()
    try:
        # Outbound: 1,000 police matters found on 12345 queued for 110.
        our_tickets = [f"P{i:07d}" for i in range(N)]
        for number in our_tickets:
            tickets.add_ticket(number)
            await exchange.push_referral(PARTNER_ID, OutboundReferral(
                number, "刑事案件", f"来电反映正在发生盗窃 {number}", "13800138000", "某区某路"))

        # Inbound: 1,000 non-police matters from 110, 10% of them sent twice at once.
        rng = random.Random(3)
        gate = asyncio.Semaphore(16)
        answers: dict[str, set[str]] = {}

        async def refer(i: int) -> None:
            body = {"incident_no": f"J2026-{i:06d}", "category": "噪音扰民",
                    "summary": f"楼上装修噪音 {i}", "caller_number": "13900001111"}
            async with gate:
                copies = 2 if rng.random() < 0.1 else 1
                results = await asyncio.gather(*(
                    partner.call_until_done(our_url, "/referrals", body) for _ in range(copies)))
            for status, data in results:
                assert status in (200, 201), data
                answers.setdefault(body["incident_no"], set()).add(data["ticket_number"])

        async def outage() -> None:
            await asyncio.sleep(0.3)
            await partner.go_down()
            await asyncio.sleep(1.5)
            await partner.come_up()

        await asyncio.gather(outage(), *(refer(i) for i in range(N)))

        async def outbox_drained() -> bool:
            return (await asyncio.to_thread(store.outbox_counts))[PENDING] == 0

        await _wait_for(outbox_drained, 120, "the outbox to drain")

        # Outbound: every message delivered at least once, applied once, none lost or dead.
        counts = store.outbox_counts()
        assert counts == {PENDING: 0, DELIVERED: N, DEAD: 0}
        messages = store.messages()
        ids = {m.message_id for m in messages}
        assert len(ids) == N
        assert set(partner.applied) == ids
        assert all(partner.received[i] >= 1 for i in ids)
        assert set(partner.apply_count.values()) == {1}
        redelivered = sum(1 for i in ids if partner.received[i] > 1)
        assert redelivered > 0, "faults should have forced some redeliveries"
        assert partner.bad_signatures == 0
        for number in our_tickets:
            assert store.outbound_incident(PARTNER_ID, number) == partner.incidents[number]

        # Inbound: one ticket per incident, the same number answered to every copy.
        assert len(answers) == N
        assert all(len(v) == 1 for v in answers.values())
        assert len(tickets.by_incident) == N
        assert {next(iter(v)) for v in answers.values()} == set(tickets.by_incident.values())
        assert tickets.failures > 0, "the ticket store should have failed at random"

        # Feedback both ways, out of order and duplicated.
        sample = our_tickets[:200]
        statuses = ["received", "dispatched", "resolved"]
        sends = [(n, seq) for n in sample for seq in (1, 2, 3)]
        sends += [(n, 3) for n in sample[:50]] + [(n, 1) for n in sample[50:100]]
        rng.shuffle(sends)

        async def feed(number: str, seq: int) -> None:
            async with gate:
                status, data = await partner.call_until_done(
                    our_url, "/feedback",
                    {"ticket_number": number, "seq": seq, "status": statuses[seq - 1]})
            assert status == 200, data

        await asyncio.gather(*(feed(n, s) for n, s in sends))
        for number in sample:
            history = tickets.feedback[number]
            seqs = [seq for seq, _ in history]
            assert seqs == sorted(set(seqs)), f"{number} applied out of order: {history}"
            assert history[-1] == (3, "resolved")

        for incident in list(tickets.by_incident)[:200]:
            ticket = tickets.by_incident[incident]
            await exchange.push_feedback(PARTNER_ID, incident, ticket, "in_progress")
            await exchange.push_feedback(PARTNER_ID, incident, ticket, "resolved", "已办结")
        await _wait_for(outbox_drained, 60, "the feedback to drain")
        feedback_msgs = [m for m in store.messages() if m.kind == "feedback"]
        assert len(feedback_msgs) == 400 and all(m.state == DELIVERED for m in feedback_msgs)
        per_incident = Counter(m.case_no for m in feedback_msgs)
        assert set(per_incident.values()) == {2}
        for incident in per_incident:
            assert partner.feedback_state[incident] == (2, "resolved")
        print(f"\nexchange load: {N} each way + 1000 feedback in "
              f"{time.monotonic() - started:.1f}s, {redelivered} outbound redelivered, "
              f"{tickets.failures} ticket-store failures injected")
    finally:
        await runner.cleanup()
        await partner.stop()
