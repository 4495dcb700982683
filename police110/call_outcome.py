"""What happened when a call was put through to 110, as the ticket records it.

Both ways of reaching 110 on a call end in one `PoliceTransferOutcome`: the IVR's
transfer (the dialplan's `hotline-police` Dial, seen by `TransferOutcomeRecorder`)
and the desk's three-way call (`ThreeWayCaller`). The ticket store implements
`TransferOutcomePort`; anything but `answered` means the emergency went to an agent
and the ticket should carry the `emergency` flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

TransferKind = Literal["transfer", "three_way"]

# Asterisk's DIALSTATUS (DialEnd's DialStatus) -> the ticket's outcome word.
_OUTCOME_OF_DIALSTATUS: Mapping[str, str] = {
    "ANSWER": "answered",
    "NOANSWER": "no-answer",
    "BUSY": "busy",
    "CHANUNAVAIL": "unavailable",
    "CONGESTION": "congestion",
    "CANCEL": "cancelled",  # the caller hung up while 110 was ringing
}
OUTCOMES: frozenset[str] = frozenset({*_OUTCOME_OF_DIALSTATUS.values(), "failed"})


def outcome_of(dial_status: str) -> str:
    """The outcome word for a DIALSTATUS; anything unexpected is `failed`."""
    return _OUTCOME_OF_DIALSTATUS.get(dial_status.strip().upper(), "failed")


@dataclass(frozen=True)
class PoliceTransferOutcome:
    """One attempt to reach 110 during a call, and how it ended."""

    ticket_number: str  # "" when the call had no ticket yet (then nothing is recorded)
    call_id: str  # the call's Linkedid
    kind: TransferKind
    outcome: str  # one of OUTCOMES
    dial_status: str  # Asterisk's word for it (ANSWER, NOANSWER, BUSY...); "" if none
    ring_seconds: float  # from the 110 leg's start to its answer or failure
    at: float  # wall clock (epoch seconds) of the outcome

    @property
    def answered(self) -> bool:
        return self.outcome == "answered"


class TransferOutcomePort(Protocol):
    async def record_transfer(self, outcome: PoliceTransferOutcome) -> None:
        """Write the outcome to the ticket `outcome.ticket_number` (flag `emergency`
        when it was not answered)."""
        ...
