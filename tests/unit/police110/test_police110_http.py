"""The sub-application through a real HTTP client: signatures, replays, limits, errors."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from police110.http import Police110Deps, build_police110_app
from police110.service import Exchange
from police110.signing import signed_headers
from police110.store import Police110Store
from tests.unit.police110.police110_unitkit import OTHER_KEY, PARTNER_KEY, Tickets, exchange_config


@pytest.fixture
async def api(tmp_path) -> AsyncIterator[tuple[TestClient[Any, Any], Tickets]]:  # type: ignore[no-untyped-def]
    store = Police110Store.from_url(f"sqlite:///{tmp_path / 'h.db'}")
    store.create_tables()
    tickets = Tickets()
    exchange = Exchange(exchange_config(), store, tickets)
    root = web.Application()
    root.add_subapp("/api/110", build_police110_app(Police110Deps(exchange, run_sender=False)))
    async with TestClient(TestServer(root)) as client:
        yield client, tickets


def _signed(path: str, body: bytes, method: str = "POST", *, key: str = PARTNER_KEY,
            partner: str = "city-110", now: float | None = None,
            nonce: str | None = None) -> dict[str, str]:
    headers = signed_headers(partner, key.encode(), method, path, body,
                             time.time() if now is None else now, nonce)
    headers["Content-Type"] = "application/json"
    return headers


async def _post(client: TestClient[Any, Any], path: str, obj: Any, **kw: Any) -> tuple[int, Any]:
    body = json.dumps(obj, ensure_ascii=False).encode()
    resp = await client.post(path, data=body, headers=_signed(path, body, **kw))
    return resp.status, await resp.json()


REFERRAL = {"incident_no": "J2026-000001", "category": "噪音", "summary": "夜间施工噪音",
            "caller_number": "13800138000", "address": "某路 1 号"}


def _error_id(data: Any) -> str:
    assert set(data) == {"error"} and data["error"]["message"]
    return str(data["error"]["id"])


async def test_referral_creates_a_ticket_once_and_answers_its_number(api):
    client, tickets = api
    status, first = await _post(client, "/api/110/referrals", REFERRAL)
    assert status == 201 and first["created"] is True
    status, again = await _post(client, "/api/110/referrals", REFERRAL)
    assert status == 200 and again == {**first, "created": False}
    assert tickets.by_incident == {"J2026-000001": first["ticket_number"]}
    resp = await client.get("/api/110/referrals/J2026-000001",
                            headers=_signed("/api/110/referrals/J2026-000001", b"", "GET"))
    assert resp.status == 200 and (await resp.json())["ticket_number"] == first["ticket_number"]


async def test_unsigned_request_refused(api):
    client, tickets = api
    resp = await client.post("/api/110/referrals", json=REFERRAL)
    assert resp.status == 401 and _error_id(await resp.json()) == "unsigned"
    assert tickets.by_incident == {}


async def test_badly_signed_requests_refused(api):
    client, tickets = api
    body = json.dumps(REFERRAL).encode()
    cases = {
        "wrong key": _signed("/api/110/referrals", body, key=OTHER_KEY),
        "other partner's key": _signed("/api/110/referrals", body, partner="county-110"),
        "body changed": _signed("/api/110/referrals", body.replace(b"J2026", b"J2027")),
        "query not signed": _signed("/api/110/referrals", body),
    }
    for name, headers in cases.items():
        path = "/api/110/referrals?x=1" if name == "query not signed" else "/api/110/referrals"
        resp = await client.post(path, data=body, headers=headers)
        assert resp.status == 401, name
        assert _error_id(await resp.json()) == "bad-signature", name
    resp = await client.post("/api/110/referrals", data=body,
                             headers=_signed("/api/110/referrals", body, partner="nobody"))
    assert _error_id(await resp.json()) == "unknown-partner"
    assert tickets.by_incident == {}


async def test_query_string_is_covered_when_signed(api):
    client, _ = api
    path = "/api/110/referrals/J1?trace=a%20b&x=1"
    resp = await client.get(path, headers=_signed(path, b"", "GET"))
    assert resp.status == 404 and _error_id(await resp.json()) == "unknown-referral"


async def test_stale_and_future_timestamps_refused(api):
    client, _ = api
    for skew in (-301, 301):
        status, data = await _post(client, "/api/110/referrals", REFERRAL,
                                   now=time.time() + skew)
        assert status == 401 and _error_id(data) == "stale-timestamp"


async def test_replayed_request_refused(api):
    client, _ = api
    body = json.dumps(REFERRAL).encode()
    headers = _signed("/api/110/referrals", body)
    first = await client.post("/api/110/referrals", data=body, headers=headers)
    assert first.status == 201
    replay = await client.post("/api/110/referrals", data=body, headers=headers)
    assert replay.status == 401 and _error_id(await replay.json()) == "replayed-nonce"


async def test_malformed_json_gets_400_with_an_error_id(api):
    client, _ = api
    for raw in (b"{not json", b"", b"\xff\xfe\x00", b"[" * 100000):
        resp = await client.post("/api/110/referrals", data=raw,
                                 headers=_signed("/api/110/referrals", raw))
        assert resp.status in (400, 413), raw[:10]
        assert _error_id(await resp.json()) in ("malformed-json", "body-too-large")
    raw = b"{not json"
    resp = await client.post("/api/110/feedback", data=raw,
                             headers=_signed("/api/110/feedback", raw))
    assert resp.status == 400 and _error_id(await resp.json()) == "malformed-json"


async def test_invalid_fields_get_422_naming_the_field(api):
    client, _ = api
    for body, field in (({**REFERRAL, "incident_no": "has space"}, "incident_no"),
                        ({**REFERRAL, "summary": 5}, "summary"),
                        ({**REFERRAL, "extra": 1}, "extra"),
                        ({"incident_no": "J1"}, "summary")):
        status, data = await _post(client, "/api/110/referrals", body)
        assert status == 422 and _error_id(data) == "invalid-body"
        assert data["error"]["details"]["field"] == field
    status, data = await _post(client, "/api/110/referrals", [1, 2])
    assert status == 422 and _error_id(data) == "invalid-body"


async def test_body_over_the_limit_refused_before_signature_work(api):
    client, _ = api
    big = json.dumps({**REFERRAL, "summary": "x" * 5000}).encode()  # limit is 4096 here
    resp = await client.post("/api/110/referrals", data=big,
                             headers=_signed("/api/110/referrals", big))
    assert resp.status == 413 and _error_id(await resp.json()) == "body-too-large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(10):
            yield b"x" * 1000

    resp = await client.post("/api/110/referrals", data=chunks(),
                             headers=_signed("/api/110/referrals", b""))
    assert resp.status == 413 and _error_id(await resp.json()) == "body-too-large"


async def test_unknown_route_and_method_are_json_errors(api):
    client, _ = api
    resp = await client.get("/api/110/nothing-here", headers=_signed("/api/110/nothing-here",
                                                                     b"", "GET"))
    assert resp.status == 404 and _error_id(await resp.json()) == "not-found"
    resp = await client.delete("/api/110/feedback",
                               headers=_signed("/api/110/feedback", b"", "DELETE"))
    assert resp.status == 405 and _error_id(await resp.json()) == "method-not-allowed"


async def test_feedback_out_of_order_never_overwrites_newer(api):
    client, tickets = api
    _, referral = await _post(client, "/api/110/referrals", REFERRAL)
    ticket = referral["ticket_number"]
    fb = {"ticket_number": ticket, "status": "resolved", "seq": 3, "note": "已处置"}
    assert await _post(client, "/api/110/feedback", fb) == (
        200, {"ticket_number": ticket, "seq": 3, "applied": True, "reason": "applied"})
    status, old = await _post(client, "/api/110/feedback", {**fb, "seq": 2,
                                                            "status": "dispatched"})
    assert (status, old["applied"], old["reason"]) == (200, False, "stale")
    status, dup = await _post(client, "/api/110/feedback", fb)
    assert (dup["applied"], dup["reason"]) == (False, "duplicate")
    assert tickets.applied == [(ticket, 3, "resolved")]
    status, data = await _post(client, "/api/110/feedback", {**fb, "ticket_number": "T404"})
    assert status == 404 and _error_id(data) == "unknown-ticket"
    # T-KNOWN-1 exists in the ticket store but was never exchanged with this partner.
    status, data = await _post(client, "/api/110/feedback", {**fb, "ticket_number": "T-KNOWN-1"})
    assert status == 404 and _error_id(data) == "unknown-ticket"
    # Another partner may not report on city-110's ticket.
    status, data = await _post(client, "/api/110/feedback", {**fb, "seq": 9},
                               partner="county-110", key=OTHER_KEY)
    assert status == 404 and _error_id(data) == "unknown-ticket"
    assert tickets.applied == [(ticket, 3, "resolved")]


async def test_openapi_document_is_served_without_signature(api):
    client, _ = api
    resp = await client.get("/api/110/openapi.json")
    doc = await resp.json()
    assert resp.status == 200 and doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/referrals", "/referrals/{incident_no}", "/feedback"}
    assert "HOTLINE-HMAC-SHA256-V1" in doc["info"]["description"]


async def test_only_the_document_itself_skips_the_signature(api):
    client, _ = api
    for path in ("/api/110/referrals/openapi.json", "/api/110/x/openapi.json"):
        resp = await client.get(path)
        assert resp.status == 401 and _error_id(await resp.json()) == "unsigned", path
