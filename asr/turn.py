"""When a caller's turn ends: a pure state machine, the clock passed in.

A caller who stops talking may send no audio at all (silence suppression), so the
end is decided on the wall clock, checked every 20 ms by the connection, not on
the amount of audio received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from asr.pcm import rms

EndReason = Literal["silence", "max_duration", "dtmf", "hangup"]


def is_voice(pcm: bytes, threshold: int) -> bool:
    """True when a frame of 16-bit audio is louder than `threshold` (RMS)."""
    return len(pcm) >= 2 and rms(pcm) > threshold


@dataclass
class TurnClock:
    started_at: float
    end_silence: float
    no_input_timeout: float
    max_duration: float
    last_voice_at: float | None = None

    def heard_voice(self, now: float) -> None:
        self.last_voice_at = now

    @property
    def speech_started(self) -> bool:
        return self.last_voice_at is not None

    def check(self, now: float) -> EndReason | None:
        """The reason the turn is over at `now`, or None while it goes on."""
        if now - self.started_at >= self.max_duration:
            return "max_duration"
        if self.last_voice_at is None:
            return "silence" if now - self.started_at >= self.no_input_timeout else None
        return "silence" if now - self.last_voice_at >= self.end_silence else None
