"""What the exchange needs from the ticket store (tickets/ implements it).

Both calls are synchronous (the store is SQLAlchemy) and are run off the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class TicketPort(Protocol):
    def create_from_referral(self, incident_no: str, payload: Mapping[str, str]) -> str:
        """Create a ticket for a 110 referral and return its number.

        Must be idempotent on `incident_no`: a second call returns the same number and
        creates nothing (the exchange may call it twice when a duplicate arrives while
        the first is still being stored).
        """
        ...

    def apply_feedback(self, ticket_number: str, *, status: str, seq: int, note: str,
                       occurred_at: str, source: str) -> bool:
        """Record a 110 outcome on the ticket; False when no such ticket exists.

        `seq` grows with every update of that ticket from `source`; the exchange already
        refuses older ones, and a store shared by several processes should also ignore a
        `seq` not above the last one it applied.
        """
        ...
