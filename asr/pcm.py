"""16-bit PCM helpers from the standard library's audioop.

audioop is deprecated (removed in Python 3.13; the project targets 3.11-3.12, and
`audioop-lts` restores it later). pydub uses it too. Importing it here, once, with
the deprecation warning silenced keeps test output clean.
"""

from __future__ import annotations

import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


def rms(pcm: bytes) -> int:
    """Root mean square of 16-bit samples (a trailing odd byte is ignored)."""
    return audioop.rms(pcm[: len(pcm) - len(pcm) % 2], 2)


def ratecv(pcm: bytes, source_rate: int, target_rate: int, state: Any) -> tuple[bytes, Any]:
    return audioop.ratecv(pcm, 2, 1, source_rate, target_rate, state)


def strip_leading_zeros(pcm: bytes) -> bytes:
    """Drop digital silence (all-zero samples) before the first sound.

    A line is pure zeros until something is played into it (Asterisk fills the gap
    before the caller's audio starts); decoding those zeros skews the model's running
    feature normalisation, so the start of the speech came out differently depending
    on how long the gap was. Skipping them makes a turn's text independent of it.
    """
    stripped = pcm.lstrip(b"\x00")
    offset = len(pcm) - len(stripped)
    return pcm[offset - offset % 2 :]
