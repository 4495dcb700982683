"""What the IVR needs from the speech engine, the router and the ticket store.

The lead wires the real services to these protocols in the composition root;
each one is optional: without a speech engine the caller gets the key menus,
without a router speech goes to the general line, without a ticket store the
call is queued with no ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ivr.record import IvrPath


class SpeechOutcome(Protocol):
    """What the speech step hands back (asr.events.SpeechResult has this shape)."""

    @property
    def text(self) -> str: ...

    @property
    def ended_by(self) -> str: ...  # "silence", "max_duration", "dtmf", "hangup", ...

    @property
    def recording_path(self) -> str | None: ...

    @property
    def key(self) -> str: ...  # the key that ended a short-answer step, "" if none


@dataclass(frozen=True)
class SpeechResult:
    """A SpeechOutcome of our own (tests, and a failed speech step)."""

    text: str
    ended_by: str
    recording_path: str | None = None
    key: str = ""


class SpeechSession(Protocol):
    @property
    def agi_command(self) -> str:
        """The AGI command that streams the call's audio.

        For example `EXEC AudioSocket <uuid>,host:port`.
        """
        ...

    async def result(self, timeout: float) -> SpeechOutcome: ...

    def cancel(self) -> None: ...


class SpeechPort(Protocol):
    def open_session(self, call_id: str,
                     grammar: Sequence[str] | None = None) -> SpeechSession | None:
        """A session, or None when no recognizer is free (the IVR then offers the key menu).

        `grammar` (short answers such as 是/不是) restricts recognition to those phrases
        where the model allows it; such a step also ends on any key.
        """
        ...


class RouteDecision(Protocol):
    @property
    def line(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def sla_days(self) -> int: ...

    @property
    def confidence(self) -> float: ...

    @property
    def low_confidence(self) -> bool: ...


class RouterPort(Protocol):
    def route(self, text: str) -> RouteDecision:
        """CPU-bound (normalisation, jieba): the runner calls it off the event loop."""
        ...


class TicketPort(Protocol):
    async def create_ticket(self, call_id: str, caller: str, transcript: str,
                            decision: RouteDecision | None, ivr_path: IvrPath) -> str:
        """Create the call's ticket; returns its number. `decision` is None for key-chosen lines.

        The caller's speech files (`ivr_path.speech_recordings`, absolute) are linked to the
        ticket as speech recordings; a failure to link is logged and never fails the ticket.
        """
        ...

    async def caller_context(self, caller: str) -> tuple[bool, int]:
        """(called in the last N days, how many calls) for a caller number."""
        ...
