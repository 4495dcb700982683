from __future__ import annotations

import asyncio
import json
import random
import time

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st

from police110.messages import OutboundReferral
from police110.outbox import OutboxSender, backoff_delay
from police110.partners import OutboxPolicy
from police110.signing import SignedRequest
from police110.store import DEAD, DELIVERED, PENDING, Police110Store
from tests.unit.police110.police110_unitkit import SELF_KEY, exchange_config

FAST = OutboxPolicy(max_attempts=3, backoff_initial_s=0.001, backoff_max_s=0.002,
                    request_timeout_s=1.0, batch_size=10, concurrency=2, poll_interval_s=0.05)


@given(attempts=st.integers(1, 200), initial=st.floats(0.01, 10), cap=st.floats(10, 3600),
       seed=st.integers(0, 2**32))
def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half(attempts, initial, cap,
                                                                     seed):
    policy = OutboxPolicy(backoff_initial_s=initial, backoff_max_s=cap)
    ceiling = min(cap, initial * 2.0 ** min(attempts - 1, 60))
    delay = backoff_delay(attempts, policy, random.Random(seed))
    assert ceiling / 2 <= delay <= ceiling


def _store(tmp_path) -> Police110Store:  # type: ignore[no-untyped-def]
    s = Police110Store.from_url(f"sqlite:///{tmp_path / 'o.db'}")
    s.create_tables()
    s.enqueue_referral("city-110", "T1", OutboundReferral("T1", "盗窃", "正在发生").body)
    return s


async def _partner(handler) -> TestServer:  # type: ignore[no-untyped-def]
    app = web.Application()
    app.router.add_post("/api/12345/referrals", handler)
    server = TestServer(app)
    await server.start_server()
    return server


async def _run_until(sender: OutboxSender, store: Police110Store, state: str) -> None:
    deadline = time.monotonic() + 10
    while store.outbox_counts()[state] == 0:
        assert time.monotonic() < deadline, store.messages()
        await sender.run_once()
        await asyncio.sleep(0.005)


async def test_delivery_is_signed_carries_the_key_and_records_the_incident(tmp_path):
    seen: list[tuple[str, dict[str, object]]] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        SignedRequest.from_headers(request.headers).check_signature(
            SELF_KEY.encode(), request.method, request.raw_path, body)
        assert request.headers["X-Partner-Id"] == "hotline12345"
        data = json.loads(body)
        seen.append((request.headers["Idempotency-Key"], data))
        return web.json_response({"incident_no": "J-77"})

    server = await _partner(handler)
    store = _store(tmp_path)
    config = exchange_config(str(server.make_url("/api/12345")), FAST)
    async with aiohttp.ClientSession() as session:
        await _run_until(OutboxSender(config, store, session), store, DELIVERED)
    await server.close()
    [message] = store.messages()
    assert seen == [(message.message_id, json.loads(message.body))]
    assert store.outbound_incident("city-110", "T1") == "J-77"


async def test_server_errors_retry_then_dead_letter_after_max_attempts(tmp_path):
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"error": {"id": "internal"}}, status=503)

    server = await _partner(handler)
    store = _store(tmp_path)
    config = exchange_config(str(server.make_url("/api/12345")), FAST)
    async with aiohttp.ClientSession() as session:
        await _run_until(OutboxSender(config, store, session), store, DEAD)
    await server.close()
    [dead] = store.dead_letters()
    assert calls == dead.attempts == FAST.max_attempts
    assert dead.last_error.startswith("HTTP 503")


async def test_a_refusal_retrying_cannot_fix_is_dead_at_once(tmp_path):
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"error": {"id": "invalid-body"}}, status=422)

    server = await _partner(handler)
    store = _store(tmp_path)
    config = exchange_config(str(server.make_url("/api/12345")), FAST)
    async with aiohttp.ClientSession() as session:
        await _run_until(OutboxSender(config, store, session), store, DEAD)
    await server.close()
    assert store.dead_letters()[0].attempts == 1


async def test_unreachable_partner_is_retried_not_lost(tmp_path):
    store = _store(tmp_path)
    config = exchange_config("http://127.0.0.1:9/api/12345", FAST)  # discard port: refused
    async with aiohttp.ClientSession() as session:
        assert await OutboxSender(config, store, session).run_once() == 1
    [m] = store.messages()
    assert m.state == PENDING and m.attempts == 1 and m.last_error


async def test_cancelling_the_sender_mid_send_hands_the_message_back(tmp_path):
    entered = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        entered.set()
        await asyncio.sleep(30)
        return web.json_response({})

    server = await _partner(handler)
    store = _store(tmp_path)
    config = exchange_config(str(server.make_url("/api/12345")), FAST)
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(OutboxSender(config, store, session).run())
        await asyncio.wait_for(entered.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await server.close()
    [m] = store.messages()
    assert m.state == PENDING and m.next_attempt_at <= time.time()
