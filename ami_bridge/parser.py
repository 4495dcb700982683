"""A pure, incremental parser for the Asterisk Manager Interface byte stream.

The stream is a banner line (`Asterisk Call Manager/9.0.0\\r\\n`) followed by
messages: `Key: Value\\r\\n` lines ended by an empty line. We split on bytes and
decode each *whole* message, so a multi-byte UTF-8 character split between two
TCP reads is never damaged (panoramisk decodes every read on its own and drops it).

Whatever the chunking of the input, `AmiStreamParser` yields the same messages and
the same junk count: that property is tested with hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TERMINATOR = b"\r\n\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class AmiMessage:
    """One AMI message: headers in wire order (a key may repeat, e.g. ChanVariable)."""

    headers: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str = "") -> str:
        """First value of `key` (AMI keys are case-insensitive)."""
        lowered = key.lower()
        for k, v in self.headers:
            if k.lower() == lowered:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        lowered = key.lower()
        return [v for k, v in self.headers if k.lower() == lowered]

    def as_dict(self) -> dict[str, str | list[str]]:
        """Headers as a dict; a repeated key becomes a list, in order."""
        out: dict[str, str | list[str]] = {}
        for k, v in self.headers:
            if k in out:
                prev = out[k]
                out[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
            else:
                out[k] = v
        return out

    @property
    def event(self) -> str:
        return self.get("Event")

    @property
    def is_response(self) -> bool:
        return bool(self.get("Response"))

    def to_bytes(self) -> bytes:
        """Wire form; `parse_message(m.to_bytes()[:-4]) == m` for any well-formed message."""
        return b"".join(f"{k}: {v}\r\n".encode() for k, v in self.headers) + b"\r\n"


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What one `feed` produced: whole messages, and how many bad pieces were skipped."""

    messages: list[AmiMessage] = field(default_factory=list)
    junk: int = 0
    banner: str | None = None


def parse_message(raw: bytes) -> tuple[AmiMessage | None, int]:
    """Parse one message body (without its terminator).

    Returns the message (None when nothing usable is left) and how many junk lines
    were dropped: lines without ': ', and the whole message when it is not UTF-8.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, 1
    junk = 0
    headers: list[tuple[str, str]] = []
    for line in text.split("\r\n"):
        if not line:
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            # Asterisk writes "Key: " with an empty value; a bare "Key:" at line end is
            # the same thing with trailing space stripped by some proxies.
            if line.endswith(":") and " " not in line:
                headers.append((line[:-1], ""))
                continue
            junk += 1
            continue
        headers.append((key, value))
    if not headers:
        return None, junk or 1
    return AmiMessage(tuple(headers)), junk


class AmiStreamParser:
    """Incremental wrapper around `parse_message`: feed bytes, get whole messages.

    A message longer than `max_message_bytes` is dropped whole (counted once as junk)
    without buffering it: a peer sending a 1 MB header cannot make us hold 1 MB.
    """

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._discarding = False
        self._banner_done = False

    def reset(self) -> None:
        """Forget partial input (a new connection starts with a new banner)."""
        self._buffer.clear()
        self._discarding = False
        self._banner_done = False

    def feed(self, data: bytes) -> ParseResult:
        buf = self._buffer
        buf += data
        messages: list[AmiMessage] = []
        junk = 0
        banner: str | None = None

        if not self._banner_done:
            if len(buf) < len(BANNER_PREFIX) and BANNER_PREFIX.startswith(bytes(buf)):
                return ParseResult(messages, junk, banner)
            if buf.startswith(BANNER_PREFIX):
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) <= self.max_message_bytes:
                        return ParseResult(messages, junk, banner)
                    # A banner that never ends is junk; fall through to the message rules.
                else:
                    banner = buf[len(BANNER_PREFIX) : end].decode("utf-8", "replace")
                    del buf[: end + 2]
            self._banner_done = True

        start = 0
        limit = self.max_message_bytes
        while True:
            end = buf.find(TERMINATOR, start)
            if end < 0:
                break
            if self._discarding:
                self._discarding = False
            elif end - start > limit:
                junk += 1
            else:
                message, bad = parse_message(bytes(buf[start:end]))
                junk += bad
                if message is not None:
                    messages.append(message)
            start = end + len(TERMINATOR)
        if start:
            del buf[:start]
        # No terminator in what is left: if it is already longer than any message we
        # accept (plus 3 bytes that may be the start of a terminator), drop it now.
        if len(buf) > limit + len(TERMINATOR) - 1:
            if not self._discarding:
                junk += 1
                self._discarding = True
            del buf[: len(buf) - (len(TERMINATOR) - 1)]
        return ParseResult(messages, junk, banner)
