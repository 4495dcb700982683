"""The exchange's rules, free of HTTP: who may call, what a referral or feedback does.

Idempotency: an inbound referral is keyed on (partner, incident number); a duplicate gets
the ticket number given the first time. Order: feedback carries a per-case `seq`; a seq not
above the last applied one is answered but never applied, so an older status can never
overwrite a newer one. Per-case work is serialised by a fixed set of striped locks so two
copies of the same message arriving together cannot interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from police110 import errors
from police110.errors import ExchangeError
from police110.messages import Feedback, InboundReferral, OutboundReferral, feedback_body
from police110.partners import ExchangeConfig, Partner
from police110.ports import TicketPort
from police110.signing import SignedRequest
from police110.store import Police110Store

log = logging.getLogger(__name__)

_STRIPES = 64


class Doorbell:
    """Wakes the outbox sender as soon as something is queued (instead of at its next poll)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def ring(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()


@dataclass(frozen=True)
class ReferralAnswer:
    incident_no: str
    ticket_number: str
    created: bool


@dataclass(frozen=True)
class FeedbackAnswer:
    ticket_number: str
    seq: int
    applied: bool
    reason: str  # "applied" | "duplicate" | "stale"


class Exchange:
    def __init__(self, config: ExchangeConfig, store: Police110Store, tickets: TicketPort,
                 doorbell: Doorbell | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.store = store
        self.tickets = tickets
        self.doorbell = doorbell or Doorbell()
        self.clock = clock
        self._locks = tuple(asyncio.Lock() for _ in range(_STRIPES))

    def _lock(self, *parts: str) -> asyncio.Lock:
        return self._locks[zlib.crc32("\x00".join(parts).encode()) % _STRIPES]

    async def authenticate(self, method: str, path_qs: str, headers: Mapping[str, str],
                           body: bytes) -> Partner:
        """The partner who signed this request, or ExchangeError (401) saying why not."""
        signed = SignedRequest.from_headers(headers)
        partner = self.config.partner(signed.partner_id)
        if partner is None:
            raise ExchangeError(errors.UNKNOWN_PARTNER)
        limits = self.config.limits
        signed.check_fresh(self.clock(), limits.max_clock_skew_s)
        signed.check_signature(partner.key.reveal().encode(), method, path_qs, body)
        # Only signed requests reach the nonce table, so strangers cannot fill it.
        fresh = await asyncio.to_thread(self.store.remember_nonce, partner.id, signed.nonce,
                                        int(signed.timestamp) + limits.nonce_ttl_s)
        if not fresh:
            raise ExchangeError(errors.REPLAYED_NONCE)
        return partner

    async def receive_referral(self, partner: Partner, referral: InboundReferral) -> ReferralAnswer:
        async with self._lock("ref", partner.id, referral.incident_no):
            known = await asyncio.to_thread(self.store.referral_ticket, partner.id,
                                            referral.incident_no)
            if known is not None:
                return ReferralAnswer(referral.incident_no, known, created=False)
            try:
                ticket = await asyncio.to_thread(self.tickets.create_from_referral,
                                                 referral.incident_no, referral.payload())
            except Exception as exc:
                log.exception("ticket store refused referral %s", referral.incident_no)
                raise ExchangeError(errors.TICKETS_UNAVAILABLE) from exc
            stored = await asyncio.to_thread(self.store.record_referral, partner.id,
                                             referral.incident_no, ticket)
        log.info("referral %s from %s -> ticket %s", referral.incident_no, partner.id, stored)
        return ReferralAnswer(referral.incident_no, stored, created=stored == ticket)

    async def referral_ticket(self, partner: Partner, incident_no: str) -> str:
        ticket = await asyncio.to_thread(self.store.referral_ticket, partner.id, incident_no)
        if ticket is None:
            raise ExchangeError(errors.UNKNOWN_REFERRAL)
        return ticket

    async def receive_feedback(self, partner: Partner, fb: Feedback) -> FeedbackAnswer:
        # A partner reports only on tickets exchanged with it, not on any ticket number.
        if not await asyncio.to_thread(self.store.partner_has_ticket, partner.id, fb.case_no):
            raise ExchangeError(errors.UNKNOWN_TICKET)
        async with self._lock("fb", partner.id, fb.case_no):
            last = await asyncio.to_thread(self.store.last_feedback_seq, "in", partner.id,
                                           fb.case_no)
            if fb.seq <= last:
                reason = "duplicate" if fb.seq == last else "stale"
                return FeedbackAnswer(fb.case_no, fb.seq, applied=False, reason=reason)
            try:
                found = await asyncio.to_thread(
                    lambda: self.tickets.apply_feedback(
                        fb.case_no, status=fb.status, seq=fb.seq, note=fb.note,
                        occurred_at=fb.occurred_at, source=partner.id))
            except Exception as exc:
                log.exception("ticket store refused feedback on %s", fb.case_no)
                raise ExchangeError(errors.TICKETS_UNAVAILABLE) from exc
            if not found:
                raise ExchangeError(errors.UNKNOWN_TICKET)
            await asyncio.to_thread(self.store.record_feedback, "in", partner.id, fb.case_no,
                                    fb.seq, fb.status)
        return FeedbackAnswer(fb.case_no, fb.seq, applied=True, reason="applied")

    # --- outbound: only ever queued here; the sender does the network ------------------

    async def push_referral(self, partner_id: str, referral: OutboundReferral) -> str:
        """Queue a police matter for 110 (once per ticket and partner); its message id."""
        self._require_partner(partner_id)
        message_id, _new = await asyncio.to_thread(
            self.store.enqueue_referral, partner_id, referral.ticket_number, referral.body)
        self.doorbell.ring()
        return message_id

    async def push_feedback(self, partner_id: str, incident_no: str, ticket_number: str,
                            status: str, note: str = "", occurred_at: str = "") -> str:
        """Queue our outcome on a referral 110 gave us; seq is allocated by the store."""
        self._require_partner(partner_id)

        def body(message_id: str, seq: int) -> dict[str, object]:
            return feedback_body(message_id, incident_no, ticket_number, seq, status, note,
                                 occurred_at)

        message_id = await asyncio.to_thread(self.store.enqueue_feedback, partner_id,
                                             incident_no, body, status)
        self.doorbell.ring()
        return message_id

    def _require_partner(self, partner_id: str) -> Partner:
        partner = self.config.partner(partner_id)
        if partner is None or not partner.base_url:
            raise ValueError(f"partner {partner_id!r} unknown or has no base_url")
        return partner
