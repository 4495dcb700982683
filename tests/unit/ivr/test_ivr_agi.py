from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.agi import (
    AgiProtocolError,
    AgiResponse,
    digit_of,
    parse_request,
    parse_response,
    quote,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ivr"


def test_request_fixture() -> None:
    # captured from the sandbox: a sipp caller on the `callers` trunk
    request = parse_request((FIXTURES / "agi_request.bin").read_bytes())
    assert request.script == "ivr"
    assert request.caller == "13800138001"
    assert request.trunk == "callers"
    assert request.get("agi_context") == "from-callers"
    assert request.get("agi_calleridname") == "张三"  # UTF-8 decoded as a whole message
    assert request.get("agi_language") == "zh"


def test_local_channel_request_fixture() -> None:
    request = parse_request((FIXTURES / "agi_request_local.bin").read_bytes())
    assert request.trunk == "12345@from-callers"
    assert request.call_id == "1795682461.591"


def test_request_split_utf8_is_kept() -> None:
    raw = "agi_network_script: ivr\nagi_calleridname: 张三\n\n".encode()
    assert parse_request(raw).get("agi_calleridname") == "张三"


@pytest.mark.parametrize("raw", [
    b"",
    b"agi_network_script: ivr\n",  # not terminated
    b"GET / HTTP/1.1\nHost: x\n\n",
    b"agi_uniqueid: 1\n\n",  # no script
    b"agi_network_script: ivr\nnonsense\n\n",
    b"agi_network_script: " + b"x" * 20000 + b"\n\n",
])
def test_junk_requests_refused(raw: bytes) -> None:
    with pytest.raises(AgiProtocolError):
        parse_request(raw)


@pytest.mark.parametrize(("line", "expected"), [
    (b"200 result=0", AgiResponse(200, "0")),
    (b"200 result=49 endpos=12345", AgiResponse(200, "49", "", {"endpos": "12345"})),
    (b"200 result=-1 endpos=0", AgiResponse(200, "-1", "", {"endpos": "0"})),
    (b"200 result= (timeout)", AgiResponse(200, "", "timeout")),
    (b"200 result=123 (timeout)", AgiResponse(200, "123", "timeout")),
    (b"200 result=1 (hangup)", AgiResponse(200, "1", "hangup")),
    (b"510 Invalid or unknown command", AgiResponse(510, message="Invalid or unknown command")),
    (b"511 Command Not Permitted on a dead channel or intercepted",
     AgiResponse(511, message="Command Not Permitted on a dead channel or intercepted")),
    (b"520-Invalid command syntax.  Proper usage follows:",
     AgiResponse(520, message="Invalid command syntax.  Proper usage follows:")),
])
def test_responses(line: bytes, expected: AgiResponse) -> None:
    assert parse_response(line) == expected


def test_response_meanings() -> None:
    assert parse_response(b"511 Command Not Permitted on a dead channel").hangup
    assert digit_of(parse_response(b"200 result=35 endpos=1")) == "#"
    assert digit_of(parse_response(b"200 result=42")) == "*"
    assert digit_of(parse_response(b"200 result=0 endpos=8000")) is None
    assert digit_of(parse_response(b"200 result=-1")) is None


def test_captured_responses_replay() -> None:
    """Key in a prompt, missing file, timeout, hang-up in GET DATA, then a dead channel."""
    lines = (FIXTURES / "agi_responses_hangup.bin").read_bytes().split(b"\n")
    assert b"HANGUP" in lines
    parsed = [parse_response(line) for line in lines if line and line != b"HANGUP"]
    assert digit_of(parsed[0]) == "5" and parsed[0].extra == {"endpos": "5280"}
    assert parsed[1] == AgiResponse(200, "-1", "", {"endpos": "0"})  # no such sound file
    assert parsed[2].number == 0  # WAIT FOR DIGIT timed out
    assert parsed[3].number == -1  # GET DATA cut by the hang-up
    assert [p.code for p in parsed[4:]] == [200, 200, 511, 511]
    assert parsed[-1].hangup


@given(st.binary(max_size=200))
def test_response_parser_only_raises_protocol_errors(data: bytes) -> None:
    with contextlib.suppress(AgiProtocolError):
        parse_response(data)


@given(st.binary(max_size=300))
def test_request_parser_only_raises_protocol_errors(data: bytes) -> None:
    with contextlib.suppress(AgiProtocolError):
        parse_request(data)


def test_quote_refuses_injection() -> None:
    assert quote("abc") == '"abc"'
    with pytest.raises(ValueError):
        quote('x"\nEXEC Dial')
