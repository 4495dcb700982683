"""AudioSocket frames: fixtures, round trips, arbitrary chunking, refusals."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asr import audiosocket as wire

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "audiosocket"
SESSION_UUID = uuid.UUID("40325ec2-5efd-4bd3-805f-53576e581d13")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "expected_type"),
    [
        ("uuid.bin", wire.Uuid),
        ("audio-slin8-20ms.bin", wire.Audio),
        ("audio-slin16-20ms.bin", wire.Audio),
        ("dtmf-hash.bin", wire.Dtmf),
        ("hangup.bin", wire.Hangup),
        ("error-code.bin", wire.Error),
    ],
)
def test_fixture_round_trip(name: str, expected_type: type) -> None:
    data = fixture(name)
    frame = wire.parse(data)
    assert isinstance(frame, expected_type)
    assert bytes(frame) == data


def test_fixture_values() -> None:
    assert wire.parse(fixture("uuid.bin")) == wire.Uuid(SESSION_UUID)
    slin8 = wire.parse(fixture("audio-slin8-20ms.bin"))
    slin16 = wire.parse(fixture("audio-slin16-20ms.bin"))
    assert isinstance(slin8, wire.Audio) and isinstance(slin16, wire.Audio)
    assert (slin8.rate, slin8.duration) == (8000, 0.02)
    assert (slin16.rate, slin16.duration, slin16.kind) == (16000, 0.02, wire.Kind.AUDIO_SLIN16)
    assert wire.parse(fixture("dtmf-hash.bin")) == wire.Dtmf("#")
    assert wire.parse(fixture("error-code.bin")) == wire.Error(b"\x01")


def test_session_stream_in_any_chunks() -> None:
    data = fixture("session-slin16.bin")
    kinds = [type(f) for f in wire.parse_buffer(data)[0]]
    assert kinds == [wire.Uuid, wire.Audio, wire.Audio, wire.Audio, wire.Dtmf, wire.Dtmf,
                     wire.Hangup]
    for size in (1, 2, 3, 7, 100, 641, 642, 643):
        reader = wire.FrameReader()
        frames: list[wire.Frame] = []
        for i in range(0, len(data), size):
            frames += reader.feed(data[i : i + size])
        assert [type(f) for f in frames] == kinds
        assert reader.pending == 0


def test_partial_frame_waits_for_rest() -> None:
    data = fixture("audio-slin16-20ms.bin")
    reader = wire.FrameReader()
    assert reader.feed(data[:2]) == []
    assert reader.feed(data[2:100]) == []
    assert reader.pending == 100
    assert reader.feed(data[100:]) == [wire.parse(data)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x42\x00\x00", "unknown frame kind 0x42"),
        (b"\x01\x00\x03abc", "UUID: payload is 3 bytes"),
        (b"\x00\x00\x01x", "hangup: unexpected 1-byte payload"),
        (b"\x03\x00\x02##", "DTMF: payload is 2 bytes"),
        (b"\x03\x00\x01x", "not a telephone key"),
        (b"\x10\x00\x03abc", "odd payload length 3"),
        (b"\x12\x00\x00", "empty payload"),
    ],
)
def test_bad_frames_refused(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        wire.parse(data)
    with pytest.raises(ValueError, match=message):
        wire.FrameReader().feed(data)


def test_parse_wants_exactly_one_frame() -> None:
    with pytest.raises(ValueError, match="exactly one frame"):
        wire.parse(fixture("hangup.bin") * 2)
    with pytest.raises(ValueError, match="exactly one frame"):
        wire.parse(fixture("uuid.bin")[:-1])


def test_silence_frame_sizes() -> None:
    assert len(wire.silence(8000).pcm) == 320
    assert len(wire.silence(16000).pcm) == 640
    assert wire.silence(16000).kind == wire.Kind.AUDIO_SLIN16
    with pytest.raises(ValueError, match="no frame kind for 11025 Hz"):
        wire.Audio(b"\x00\x00", 11025)


def test_every_rate_kind_maps_back() -> None:
    assert sorted(wire.AUDIO_RATES) == list(range(0x10, 0x19))
    for kind, rate in wire.AUDIO_RATES.items():
        assert wire.Audio(b"\x01\x00", rate).kind == kind


frames_strategy = st.one_of(
    st.just(wire.Hangup()),
    st.uuids().map(wire.Uuid),
    st.sampled_from(sorted(wire.DTMF_KEYS)).map(wire.Dtmf),
    st.builds(wire.Error, st.binary(max_size=8)),
    st.builds(
        wire.Audio,
        st.binary(min_size=1, max_size=600).map(lambda b: b + b),  # even length
        st.sampled_from(sorted(wire.KIND_FOR_RATE)),
    ),
)


@given(frame=frames_strategy)
def test_round_trip(frame: wire.Frame) -> None:
    assert wire.parse(bytes(frame)) == frame


@given(frames=st.lists(frames_strategy, max_size=20), cuts=st.lists(st.integers(0, 30000)))
def test_any_chunking_gives_same_frames(frames: list[wire.Frame], cuts: list[int]) -> None:
    data = b"".join(bytes(f) for f in frames)
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    reader = wire.FrameReader()
    out: list[wire.Frame] = []
    for start, end in itertools.pairwise(points):
        out += reader.feed(data[start:end])
    assert out == frames
    assert reader.pending == 0
