"""End of a caller's turn, on an injected clock."""

from __future__ import annotations

import struct

from asr.pcm import strip_leading_zeros
from asr.turn import TurnClock, is_voice


def clock() -> TurnClock:
    return TurnClock(started_at=100.0, end_silence=1.0, no_input_timeout=5.0, max_duration=30.0)


def test_waits_for_speech_then_gives_up() -> None:
    turn = clock()
    assert turn.check(104.9) is None
    assert turn.check(105.0) == "silence"
    assert not turn.speech_started


def test_silence_after_speech_ends_turn() -> None:
    turn = clock()
    turn.heard_voice(101.0)
    turn.heard_voice(103.0)
    assert turn.check(103.9) is None
    assert turn.check(104.0) == "silence"


def test_talking_on_is_cut_at_max_duration() -> None:
    turn = clock()
    now = 100.0
    while (reason := turn.check(now)) is None:
        turn.heard_voice(now)
        now += 0.02
    assert reason == "max_duration"
    assert 129.9 < now < 130.1


def test_voice_threshold() -> None:
    loud = struct.pack("<160h", *([3000, -3000] * 80))
    quiet = struct.pack("<160h", *([50, -50] * 80))
    assert is_voice(loud, 500)
    assert not is_voice(quiet, 500)
    assert not is_voice(bytes(320), 0)
    assert not is_voice(b"", 0)


def test_leading_digital_silence_is_stripped() -> None:
    assert strip_leading_zeros(b"\x00\x00\x00\x01\x02\x00") == b"\x00\x01\x02\x00"
    assert strip_leading_zeros(b"\x00\x00\x05\x00") == b"\x05\x00"
    assert strip_leading_zeros(bytes(640)) == b""
