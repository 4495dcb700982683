"""A stand-in for the 110 system and a ticket store, for the exchange's integration tests.

`Fake110` is a real aiohttp server: it receives our pushes (checking the signature with
its own HMAC code, not ours, so a shared bug cannot hide), applies each message_id once,
and calls our API as a client. Faults on demand: down, slow, HTTP 500 (before or after
applying), duplicate deliveries, out-of-order feedback.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from hotline.settings import Secret
from police110.partners import ExchangeConfig, Limits, OutboxPolicy, Partner

PARTNER_ID = "city-110"
SELF_ID = "hotline12345"
PARTNER_KEY = "p" * 8 + secrets.token_hex(16)
SELF_KEY = "s" * 8 + secrets.token_hex(16)
PARTNER_PREFIX = "/api/12345"


def make_config(partner_url: str, policy: OutboxPolicy | None = None,
                limits: Limits | None = None) -> ExchangeConfig:
    return ExchangeConfig(
        self_id=SELF_ID, self_key=Secret(SELF_KEY),
        partners={PARTNER_ID: Partner(PARTNER_ID, "测试110", partner_url.rstrip("/"),
                                      Secret(PARTNER_KEY))},
        limits=limits or Limits(),
        outbox=policy or OutboxPolicy(),
    )


def hand_signed(key: str, partner_id: str, method: str, path_qs: str, body: bytes,
                timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The documented canonical string, written out independently of police110.signing."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(12)
    canonical = (f"HOTLINE-HMAC-SHA256-V1\n{method}\n{path_qs}\n{ts}\n{nonce}\n"
                 f"{hashlib.sha256(body).hexdigest()}")
    sig = hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return {"X-Partner-Id": partner_id, "X-Timestamp": ts, "X-Nonce": nonce,
            "X-Signature": sig}


class FakeTickets:
    """A thread-safe TicketPort: idempotent on incident_no, records every feedback applied."""

    def __init__(self, fail_rate: float = 0.0, seed: int = 7) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.fail_rate = fail_rate
        self.by_incident: dict[str, str] = {}
        self.tickets: set[str] = set()
        self.create_calls = 0
        self.failures = 0
        self.feedback: dict[str, list[tuple[int, str]]] = {}

    def add_ticket(self, number: str) -> None:
        with self._lock:
            self.tickets.add(number)

    def _maybe_fail(self) -> None:
        if self.fail_rate and self._rng.random() < self.fail_rate:
            self.failures += 1
            raise RuntimeError("ticket store hiccup")

    def create_from_referral(self, incident_no: str, payload: Mapping[str, str]) -> str:
        with self._lock:
            self.create_calls += 1
            self._maybe_fail()
            ticket = self.by_incident.get(incident_no)
            if ticket is None:
                ticket = f"T{len(self.by_incident) + 1:08d}"
                self.by_incident[incident_no] = ticket
                self.tickets.add(ticket)
            # A failure after the ticket was stored: the caller sees an error but a retry
            # must get the same ticket back.
            self._maybe_fail()
            return ticket

    def apply_feedback(self, ticket_number: str, *, status: str, seq: int, note: str,
                       occurred_at: str, source: str) -> bool:
        with self._lock:
            if ticket_number not in self.tickets:
                return False
            self.feedback.setdefault(ticket_number, []).append((seq, status))
            return True


@dataclass
class Faults:
    down: bool = False
    slow_s: float = 0.0
    fail_rate: float = 0.0  # HTTP 500 before applying
    fail_after_apply_rate: float = 0.0  # applied, then HTTP 500 (the answer is "lost")
    rng: random.Random = field(default_factory=lambda: random.Random(11))


class Fake110:
    """Plays the 110 system on a real port."""

    def __init__(self, faults: Faults | None = None, verify_key: str = SELF_KEY) -> None:
        self.faults = faults or Faults()
        self.verify_key = verify_key
        self.received: Counter[str] = Counter()  # message_id -> deliveries seen
        self.applied: dict[str, dict[str, Any]] = {}  # message_id -> body, first delivery only
        self.apply_count: Counter[str] = Counter()
        self.incidents: dict[str, str] = {}  # our ticket -> their incident
        self.feedback_state: dict[str, tuple[int, str]] = {}  # incident -> (seq, status)
        self.bad_signatures = 0
        self.in_flight = 0
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PARTNER_PREFIX}"

    # --- server side: our pushes arrive here -----------------------------------------

    def _verify(self, request: web.Request, body: bytes) -> bool:
        h = request.headers
        canonical = (f"HOTLINE-HMAC-SHA256-V1\n{request.method}\n{request.raw_path}\n"
                     f"{h.get('X-Timestamp', '')}\n{h.get('X-Nonce', '')}\n"
                     f"{hashlib.sha256(body).hexdigest()}")
        expected = hmac.new(self.verify_key.encode(), canonical.encode(),
                            hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(h.get("X-Timestamp", "0") or 0)) <= 300
        return (h.get("X-Partner-Id") == SELF_ID and fresh
                and hmac.compare_digest(expected, h.get("X-Signature", "")))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.faults.down and request.transport is not None:
            request.transport.close()  # a partner going away mid-connection
            raise web.HTTPServiceUnavailable()
        body = await request.read()
        if not self._verify(request, body):
            self.bad_signatures += 1
            return web.json_response({"error": {"id": "bad-signature"}}, status=401)
        data = json.loads(body)
        key = request.headers["Idempotency-Key"]
        assert key == data["message_id"]
        self.received[key] += 1
        self.in_flight += 1
        try:
            if self.faults.slow_s:
                await asyncio.sleep(self.faults.slow_s)
            if self.faults.fail_rate and self.faults.rng.random() < self.faults.fail_rate:
                return web.json_response({"error": {"id": "internal"}}, status=500)
            answer = self._apply(key, data, request.path)
            if (self.faults.fail_after_apply_rate
                    and self.faults.rng.random() < self.faults.fail_after_apply_rate):
                return web.json_response({"error": {"id": "internal"}}, status=500)
            return web.json_response(answer)
        finally:
            self.in_flight -= 1

    def _apply(self, key: str, data: dict[str, Any], path: str) -> dict[str, Any]:
        if key not in self.applied:
            self.applied[key] = data
            self.apply_count[key] += 1
            if path.endswith("/referrals"):
                self.incidents.setdefault(data["ticket_number"], f"J{len(self.incidents) + 1:08d}")
            else:
                seq, status = data["seq"], data["status"]
                if seq > self.feedback_state.get(data["incident_no"], (0, ""))[0]:
                    self.feedback_state[data["incident_no"]] = (seq, status)
        if path.endswith("/referrals"):
            return {"incident_no": self.incidents[data["ticket_number"]]}
        return {"ok": True}

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(f"{PARTNER_PREFIX}/referrals", self._handle)
        app.router.add_post(f"{PARTNER_PREFIX}/feedback", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await self._open_site()
        self._session = aiohttp.ClientSession()

    async def _open_site(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        if not self.port:
            self.port = int(self._runner.addresses[0][1])

    async def go_down(self) -> None:
        self.faults.down = True
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def come_up(self) -> None:
        self.faults.down = False
        await self._open_site()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- client side: 110 calls our API ------------------------------------------------

    async def call(self, our_url: str, method: str, path: str, body: Any = None,
                   *, key: str = PARTNER_KEY) -> tuple[int, Any]:
        """One signed request to our service; (status, parsed JSON)."""
        assert self._session is not None
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        url = our_url.rstrip("/") + path
        path_qs = "/" + url.split("/", 3)[3]
        headers = hand_signed(key, PARTNER_ID, method, path_qs, raw)
        headers["Content-Type"] = "application/json"
        async with self._session.request(method, url, data=raw, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)

    async def call_until_done(self, our_url: str, path: str, body: Any,
                              attempts: int = 50) -> tuple[int, Any]:
        """What a sensible 110 client does: retry 5xx and connection errors."""
        delay = 0.02
        for _ in range(attempts):
            try:
                status, data = await self.call(our_url, "POST", path, body)
            except aiohttp.ClientError:
                status, data = 0, None
            if 0 < status < 500:
                return status, data
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        raise AssertionError(f"{path} never accepted: last status {status}")
