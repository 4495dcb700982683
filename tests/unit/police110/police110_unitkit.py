"""Shared pieces of the police110 unit tests (a uniquely named module, not conftest)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping

from hotline.settings import Secret
from police110.partners import ExchangeConfig, Limits, OutboxPolicy, Partner

PARTNER_KEY = secrets.token_hex(20)
OTHER_KEY = secrets.token_hex(20)
SELF_KEY = secrets.token_hex(20)


class Tickets:
    """Minimal TicketPort: idempotent on incident_no, keeps the feedback it was given."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_incident: dict[str, str] = {}
        self.known: set[str] = {"T-KNOWN-1"}
        self.applied: list[tuple[str, int, str]] = []

    def create_from_referral(self, incident_no: str, payload: Mapping[str, str]) -> str:
        with self.lock:
            ticket = self.by_incident.setdefault(incident_no, f"T{len(self.by_incident) + 1:06d}")
            self.known.add(ticket)
            return ticket

    def apply_feedback(self, ticket_number: str, *, status: str, seq: int, note: str,
                       occurred_at: str, source: str) -> bool:
        with self.lock:
            if ticket_number not in self.known:
                return False
            self.applied.append((ticket_number, seq, status))
            return True


def exchange_config(base_url: str = "http://127.0.0.1:9/x",
                    policy: OutboxPolicy | None = None) -> ExchangeConfig:
    return ExchangeConfig(
        "hotline12345", Secret(SELF_KEY),
        {"city-110": Partner("city-110", "市110", base_url, Secret(PARTNER_KEY)),
         "county-110": Partner("county-110", "县110", "", Secret(OTHER_KEY))},
        Limits(max_body_bytes=4096), policy or OutboxPolicy())


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


