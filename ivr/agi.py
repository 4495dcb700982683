"""The FastAGI wire format as pure functions over bytes.

Asterisk opens a TCP connection, sends `agi_name: value` header lines ended by
an empty line, then answers each command we write with one status line
(`200 result=49 endpos=1234`, `510 Invalid or unknown command`, a `520-`
block, or a bare `HANGUP` notice when the caller has gone). Decoding happens
here on whole messages only: panoramisk decodes each TCP read on its own and
drops a UTF-8 character split between reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_REQUEST_BYTES = 16 * 1024
HEADER_END = b"\n\n"
HANGUP_LINE = b"HANGUP"

_RESULT = re.compile(r"result=(?P<result>\S*)(?:\s+\((?P<data>[^)]*)\))?(?P<rest>.*)$")
_KV = re.compile(r"(\w+)=(\S+)")


class AgiProtocolError(ValueError):
    """Bytes that are not FastAGI: the connection is dropped, the loop carries on."""


@dataclass(frozen=True)
class AgiRequest:
    """The headers Asterisk sends when a call enters `AGI(agi://...)`."""

    headers: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    @property
    def script(self) -> str:
        """The route: `agi://host:port/ivr?x=1` gives `ivr`."""
        return self.get("agi_network_script").split("?", 1)[0].strip("/")

    @property
    def call_id(self) -> str:
        return self.get("agi_uniqueid") or "unknown"

    @property
    def caller(self) -> str:
        number = self.get("agi_callerid")
        return "" if number in ("", "unknown", "anonymous") else number

    @property
    def trunk(self) -> str:
        """The endpoint the call came in on: `PJSIP/cityA-0000002a` gives `cityA`."""
        channel = self.get("agi_channel")
        tech_and_name = channel.split("/", 1)[-1]
        return tech_and_name.rsplit("-", 1)[0] if "-" in tech_and_name else tech_and_name


def parse_request(data: bytes) -> AgiRequest:
    """Parse the header block (up to and including the blank line)."""
    if len(data) > MAX_REQUEST_BYTES:
        raise AgiProtocolError(f"request headers longer than {MAX_REQUEST_BYTES} bytes")
    if not data.endswith(HEADER_END):
        raise AgiProtocolError("request headers not terminated by an empty line")
    text = data.replace(b"\r\n", b"\n").decode("utf-8", errors="replace")
    headers: dict[str, str] = {}
    for line in text.split("\n"):
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.startswith("agi_"):
            raise AgiProtocolError(f"not an AGI header line: {line[:60]!r}")
        headers[name.strip()] = value.strip()
    if "agi_network_script" not in headers and "agi_request" not in headers:
        raise AgiProtocolError("no agi_network_script or agi_request header")
    return AgiRequest(headers)


@dataclass(frozen=True)
class AgiResponse:
    """One answer to a command.

    `result` is the text after `result=`; `data` what follows it in brackets
    (`timeout`, `hangup`, ...); `extra` the key=value pairs after it (`endpos`).
    """

    code: int
    result: str = ""
    data: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def hangup(self) -> bool:
        # 511: command not permitted on a dead channel.
        return self.code == 511 or self.data == "hangup"

    @property
    def number(self) -> int | None:
        try:
            return int(self.result)
        except ValueError:
            return None


def parse_response(line: bytes) -> AgiResponse:
    """Parse one status line (without its newline). Raises AgiProtocolError on junk."""
    text = line.rstrip(b"\r\n").decode("utf-8", errors="replace")
    code_text, _, rest = text.partition(" ")
    if "-" in code_text:  # `520-Invalid command syntax.` starts a multi-line block
        code_text, _, first = code_text.partition("-")
        rest = f"{first} {rest}".strip()
    if not (len(code_text) == 3 and code_text.isdigit()):
        raise AgiProtocolError(f"not an AGI status line: {text[:60]!r}")
    code = int(code_text)
    if code != 200:
        return AgiResponse(code, message=rest)
    match = _RESULT.match(rest)
    if match is None:
        raise AgiProtocolError(f"200 without result=: {text[:60]!r}")
    extra = dict(_KV.findall(match.group("rest") or ""))
    return AgiResponse(200, match.group("result"), match.group("data") or "", extra)


def quote(argument: str) -> str:
    """Quote one command argument; AGI has no escape for a quote or newline in one."""
    if any(ch in argument for ch in '"\n\r'):
        raise ValueError(f"AGI argument may not contain quotes or newlines: {argument!r}")
    return f'"{argument}"'


def digit_of(response: AgiResponse) -> str | None:
    """The key a STREAM FILE / WAIT FOR DIGIT answer carries (its ASCII code), or None."""
    value = response.number
    if value is None or value <= 0:
        return None
    ch = chr(value)
    return ch if ch in "0123456789*#ABCD" else None
