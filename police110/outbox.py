"""The outbox sender: the only code that talks to partners.

It claims due messages (a lease, see store.py), signs and POSTs each one with its
`Idempotency-Key`, and records the result: delivered, retry later (exponential backoff
with jitter) or dead-letter after `max_attempts` or on an answer retrying cannot fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from yarl import URL

from police110.partners import ExchangeConfig, OutboxPolicy
from police110.service import Doorbell
from police110.signing import signed_headers
from police110.store import KIND_REFERRAL, OutboxMessage, Police110Store

log = logging.getLogger(__name__)

# Answers worth trying again: the partner is busy, or its keys/clock are being fixed.
RETRYABLE_STATUSES = frozenset({401, 403, 408, 425, 429})
NONCE_PURGE_INTERVAL_S = 60.0


def backoff_delay(attempts: int, policy: OutboxPolicy, rng: random.Random) -> float:
    """Delay before the next try after `attempts` failed ones ("equal jitter").

    The ceiling doubles per attempt up to backoff_max_s; the delay is drawn from its
    upper half, so retries of many messages failed together spread out but never
    come back sooner than half the planned wait.
    """
    exponent = min(max(attempts - 1, 0), 60)
    ceiling = min(policy.backoff_max_s, policy.backoff_initial_s * 2.0 ** exponent)
    return rng.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class SendResult:
    """What one try produced: delivered, or an error and whether retrying may help."""

    delivered: bool
    retryable: bool
    error: str = ""
    response: str = ""


class OutboxSender:
    def __init__(self, config: ExchangeConfig, store: Police110Store,
                 session: aiohttp.ClientSession, doorbell: Doorbell | None = None,
                 clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.store = store
        self.session = session
        self.doorbell = doorbell or Doorbell()
        self.clock = clock
        self.rng = rng or random.Random()
        self._next_purge = 0.0

    @property
    def policy(self) -> OutboxPolicy:
        return self.config.outbox

    async def run(self) -> None:
        """Send until cancelled; cancellation leaves unsent messages due for the next run."""
        log.info("police110 outbox sender started")
        try:
            while True:
                sent = await self.run_once()
                await self._purge_nonces()
                if sent:
                    continue
                next_due = await asyncio.to_thread(self.store.next_due_at)
                wait = self.policy.poll_interval_s
                if next_due is not None:
                    wait = min(wait, max(next_due - self.clock(), 0.01))
                await self.doorbell.wait(wait)
        finally:
            log.info("police110 outbox sender stopped")

    async def run_once(self) -> int:
        """Claim one batch of due messages and try each once; how many were tried."""
        # The lease must outlast the whole batch: a message may queue behind the
        # concurrency gate for several rounds before its own request even starts.
        rounds = -(-self.policy.batch_size // self.policy.concurrency)
        lease = rounds * self.policy.request_timeout_s + 1.0
        batch = await asyncio.to_thread(self.store.claim_due, self.policy.batch_size, lease)
        if not batch:
            return 0
        gate = asyncio.Semaphore(self.policy.concurrency)

        async def one(message: OutboxMessage) -> None:
            async with gate:
                await self._deliver(message)

        await asyncio.gather(*(one(m) for m in batch))
        return len(batch)

    async def _deliver(self, message: OutboxMessage) -> None:
        try:
            result = await self._send(message)
        except asyncio.CancelledError:
            # Shutting down: hand the message back at once rather than after its lease.
            self.store.mark_retry(message, "sender stopped", self.clock())
            raise
        if result.delivered:
            incident = _incident_no(result.response) if message.kind == KIND_REFERRAL else None
            await asyncio.to_thread(self.store.mark_delivered, message, result.response,
                                    incident)
            log.info("police110 %s %s delivered to %s (attempt %d)", message.kind,
                     message.message_id, message.partner_id, message.attempts)
        elif not result.retryable or message.attempts >= self.policy.max_attempts:
            await asyncio.to_thread(self.store.mark_dead, message, result.error)
            log.warning("police110 %s %s dead-lettered after %d attempts: %s", message.kind,
                        message.message_id, message.attempts, result.error)
        else:
            delay = backoff_delay(message.attempts, self.policy, self.rng)
            await asyncio.to_thread(self.store.mark_retry, message, result.error,
                                    self.clock() + delay)
            log.info("police110 %s %s attempt %d failed (%s); retry in %.1fs", message.kind,
                     message.message_id, message.attempts, result.error, delay)

    async def _send(self, message: OutboxMessage) -> SendResult:
        partner = self.config.partner(message.partner_id)
        if partner is None or not partner.base_url:
            return SendResult(False, False, "partner not configured")
        url = URL(partner.base_url + message.path)
        body = message.body.encode("utf-8")
        headers = signed_headers(self.config.self_id, self.config.self_key.reveal().encode(),
                                 "POST", url.raw_path_qs, body, self.clock())
        headers["Content-Type"] = "application/json; charset=utf-8"
        headers["Idempotency-Key"] = message.message_id
        timeout = aiohttp.ClientTimeout(total=self.policy.request_timeout_s)
        try:
            async with self.session.post(url, data=body, headers=headers,
                                         timeout=timeout) as response:
                text = await response.text(errors="replace")
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return SendResult(False, True, f"{type(exc).__name__}: {exc}"[:300])
        if 200 <= status < 300:
            return SendResult(True, False, response=text)
        retryable = status >= 500 or status in RETRYABLE_STATUSES
        return SendResult(False, retryable, f"HTTP {status}: {text[:200]}")

    async def _purge_nonces(self) -> None:
        now = self.clock()
        if now >= self._next_purge:
            self._next_purge = now + NONCE_PURGE_INTERVAL_S
            await asyncio.to_thread(self.store.purge_nonces)


def _incident_no(response: str) -> str | None:
    try:
        value = json.loads(response).get("incident_no")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def outbox_sender_ctx(config: ExchangeConfig, store: Police110Store, doorbell: Doorbell,
                      ) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx running the sender for the application's lifetime."""

    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            sender = OutboxSender(config, store, session, doorbell)
            task = asyncio.create_task(sender.run(), name="police110-outbox")
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return ctx
