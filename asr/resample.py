"""Streaming sample-rate conversion of 16-bit mono audio (8 kHz legs for 16 kHz models)."""

from __future__ import annotations

from typing import Any

from asr.pcm import ratecv


class Resampler:
    """Keeps the filter state between frames, so frame edges add no clicks."""

    def __init__(self, source_rate: int, target_rate: int) -> None:
        self.source_rate = source_rate
        self.target_rate = target_rate
        self._state: Any = None

    def convert(self, pcm: bytes) -> bytes:
        if self.source_rate == self.target_rate:
            return pcm
        out, self._state = ratecv(pcm, self.source_rate, self.target_rate, self._state)
        return out
