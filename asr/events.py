"""Events and results of the speech step (frozen: they cross tasks and the bus)."""

from __future__ import annotations

from dataclasses import dataclass

from asr.turn import EndReason


@dataclass(frozen=True)
class SpeechPartial:
    """Text recognised so far in a caller's turn; the desk shows it live."""

    call_id: str
    text: str
    at: float  # wall-clock time (time.time()) the text was produced


@dataclass(frozen=True)
class SpeechFinal:
    """The final transcript of a caller's turn."""

    call_id: str
    text: str
    ended_by: EndReason
    at: float


@dataclass(frozen=True)
class SpeechResult:
    """What the IVR gets back from the speech step."""

    text: str
    ended_by: EndReason
    recording_path: str | None  # absolute path of the caller's speech (WAV), if saved
    partials: tuple[str, ...]
    key: str = ""  # the key that ended the turn (ended_by "dtmf"), e.g. 1 in a yes/no step
