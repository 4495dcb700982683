"""AudioSocket wire format: a pure parser and serializer over bytes, no I/O.

Every frame is one byte of kind, a two-byte big-endian payload length, then the
payload. Asterisk 22 encodes the sample rate of signed-linear audio in the kind
(0x10 is 8 kHz, 0x11-0x18 the higher rates). Asterisk may also just close the
socket instead of sending a hangup frame, so the connection code treats EOF as
hangup; this module only deals with complete and partial frames.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import IntEnum

HEADER_SIZE = 3
MAX_PAYLOAD = 0xFFFF


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10  # signed linear 16-bit, 8 kHz
    AUDIO_SLIN12 = 0x11
    AUDIO_SLIN16 = 0x12
    AUDIO_SLIN24 = 0x13
    AUDIO_SLIN32 = 0x14
    AUDIO_SLIN44 = 0x15
    AUDIO_SLIN48 = 0x16
    AUDIO_SLIN96 = 0x17
    AUDIO_SLIN192 = 0x18
    ERROR = 0xFF


AUDIO_RATES: dict[Kind, int] = {
    Kind.AUDIO: 8000,
    Kind.AUDIO_SLIN12: 12000,
    Kind.AUDIO_SLIN16: 16000,
    Kind.AUDIO_SLIN24: 24000,
    Kind.AUDIO_SLIN32: 32000,
    Kind.AUDIO_SLIN44: 44100,
    Kind.AUDIO_SLIN48: 48000,
    Kind.AUDIO_SLIN96: 96000,
    Kind.AUDIO_SLIN192: 192000,
}
KIND_FOR_RATE: dict[int, Kind] = {rate: kind for kind, rate in AUDIO_RATES.items()}

DTMF_KEYS = frozenset("0123456789*#ABCD")


@dataclass(frozen=True)
class Hangup:
    """The peer ends the session (kind 0x00, empty payload)."""

    def __bytes__(self) -> bytes:
        return _frame(Kind.HANGUP, b"")


@dataclass(frozen=True)
class Uuid:
    """First frame from Asterisk: the id given in the dialplan, as 16 raw bytes."""

    value: uuid.UUID

    def __bytes__(self) -> bytes:
        return _frame(Kind.UUID, self.value.bytes)


@dataclass(frozen=True)
class Dtmf:
    """A key the caller pressed (one ASCII character)."""

    digit: str

    def __post_init__(self) -> None:
        if self.digit not in DTMF_KEYS:
            raise ValueError(f"AudioSocket DTMF: {self.digit!r} is not a telephone key")

    def __bytes__(self) -> bytes:
        return _frame(Kind.DTMF, self.digit.encode("ascii"))


@dataclass(frozen=True)
class Audio:
    """Signed-linear 16-bit little-endian mono audio at `rate` Hz."""

    pcm: bytes
    rate: int = 8000

    def __post_init__(self) -> None:
        if self.rate not in KIND_FOR_RATE:
            raise ValueError(f"AudioSocket audio: no frame kind for {self.rate} Hz")
        if not self.pcm:
            # Asterisk refuses zero-length audio frames and drops the call.
            raise ValueError("AudioSocket audio: empty payload")
        if len(self.pcm) % 2:
            raise ValueError(
                f"AudioSocket audio: odd payload length {len(self.pcm)} (16-bit samples)"
            )
        if len(self.pcm) > MAX_PAYLOAD:
            raise ValueError(f"AudioSocket audio: payload {len(self.pcm)} bytes > {MAX_PAYLOAD}")

    @property
    def kind(self) -> Kind:
        return KIND_FOR_RATE[self.rate]

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.rate

    def __bytes__(self) -> bytes:
        return _frame(self.kind, self.pcm)


@dataclass(frozen=True)
class Error:
    """The peer reports an error; the payload is an optional application code."""

    code: bytes = b""

    def __bytes__(self) -> bytes:
        return _frame(Kind.ERROR, self.code)


Frame = Hangup | Uuid | Dtmf | Audio | Error


def silence(rate: int, milliseconds: int = 20) -> Audio:
    """A frame of digital silence, sent back to keep the AudioSocket link alive."""
    return Audio(bytes(rate * milliseconds // 1000 * 2), rate)


def _frame(kind: Kind, payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"AudioSocket: payload {len(payload)} bytes > {MAX_PAYLOAD}")
    return bytes((kind,)) + len(payload).to_bytes(2, "big") + payload


def decode(kind_byte: int, payload: bytes) -> Frame:
    """One frame from its kind byte and complete payload; ValueError when malformed."""
    try:
        kind = Kind(kind_byte)
    except ValueError:
        raise ValueError(f"AudioSocket: unknown frame kind 0x{kind_byte:02x}") from None
    if kind is Kind.HANGUP:
        if payload:
            raise ValueError(f"AudioSocket hangup: unexpected {len(payload)}-byte payload")
        return Hangup()
    if kind is Kind.UUID:
        if len(payload) != 16:
            raise ValueError(f"AudioSocket UUID: payload is {len(payload)} bytes, expected 16")
        return Uuid(uuid.UUID(bytes=payload))
    if kind is Kind.DTMF:
        if len(payload) != 1:
            raise ValueError(f"AudioSocket DTMF: payload is {len(payload)} bytes, expected 1")
        return Dtmf(chr(payload[0]))
    if kind is Kind.ERROR:
        return Error(payload)
    return Audio(payload, AUDIO_RATES[kind])


def parse(data: bytes) -> Frame:
    """Exactly one whole frame; ValueError if `data` is shorter, longer or malformed."""
    frames, rest = parse_buffer(data)
    if len(frames) != 1 or rest:
        raise ValueError(
            f"AudioSocket: expected exactly one frame, got {len(frames)} "
            f"and {len(rest)} trailing bytes"
        )
    return frames[0]


def parse_buffer(buffer: bytes) -> tuple[list[Frame], bytes]:
    """All whole frames at the start of `buffer`, and the incomplete rest."""
    frames: list[Frame] = []
    offset = 0
    while len(buffer) - offset >= HEADER_SIZE:
        length = int.from_bytes(buffer[offset + 1 : offset + 3], "big")
        end = offset + HEADER_SIZE + length
        if end > len(buffer):
            break
        frames.append(decode(buffer[offset], buffer[offset + HEADER_SIZE : end]))
        offset = end
    return frames, buffer[offset:]


class FrameReader:
    """Incremental parser: feed it bytes as they arrive, get whole frames back.

    A malformed frame raises ValueError and the reader must not be used again:
    the stream has lost its framing.
    """

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[Frame]:
        frames, self._buffer = parse_buffer(self._buffer + data)
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still waiting for the rest."""
        return len(self._buffer)
