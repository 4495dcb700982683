"""The AMI parser against captured sandbox traffic, any chunking, and junk."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ami_bridge.parser import AmiMessage, AmiStreamParser, parse_message

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"
CAPTURE = FIXTURES / "sandbox-calls.ami"

CHINESE_EVENT = (
    "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/callers-00000001\r\n"
    "ChannelState: 0\r\nChannelStateDesc: Down\r\nCallerIDNum: 13800138000\r\n"
    "CallerIDName: 张三丰\r\nUniqueid: 1764144000.1\r\nLinkedid: 1764144000.1\r\n\r\n"
).encode()


def parse_in_chunks(
    data: bytes, cuts: list[int], limit: int = 64 * 1024
) -> tuple[list[AmiMessage], int, str | None]:
    parser = AmiStreamParser(limit)
    messages: list[AmiMessage] = []
    junk = 0
    banner = None
    prev = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        result = parser.feed(data[prev:cut])
        messages += result.messages
        junk += result.junk
        banner = result.banner or banner
        prev = cut
    return messages, junk, banner


@pytest.fixture(scope="module")
def capture() -> bytes:
    return CAPTURE.read_bytes()


def test_capture_parses_whole(capture: bytes) -> None:
    messages, junk, banner = parse_in_chunks(capture, [])
    assert banner is not None and banner[0].isdigit()
    assert junk == 0
    assert len(messages) > 100
    assert all(m.get("Event") or m.get("Response") for m in messages)
    names = {m.event for m in messages}
    assert {"Newchannel", "Hangup", "QueueCallerJoin"} <= names


def test_capture_holds_chinese_caller_name(capture: bytes) -> None:
    messages, _, _ = parse_in_chunks(capture, [])
    assert any("张" in m.get("CallerIDName") for m in messages)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_chunking_gives_identical_messages(capture: bytes, data: st.DataObject) -> None:
    whole = parse_in_chunks(capture, [])
    cuts = data.draw(st.lists(st.integers(min_value=1, max_value=len(capture) - 1), max_size=400))
    assert parse_in_chunks(capture, cuts) == whole


@given(cut=st.integers(min_value=0, max_value=len(CHINESE_EVENT)))
def test_chinese_caller_name_survives_every_split(cut: int) -> None:
    messages, junk, _ = parse_in_chunks(CHINESE_EVENT, [cut])
    assert junk == 0
    assert [m.get("CallerIDName") for m in messages] == ["张三丰"]


def test_every_single_byte_split_of_chinese_name() -> None:
    for cut in range(len(CHINESE_EVENT) + 1):
        messages, _, _ = parse_in_chunks(CHINESE_EVENT, [cut])
        assert messages[0].get("CallerIDName") == "张三丰"


def test_byte_by_byte_feeding(capture: bytes) -> None:
    head = capture[:20000]
    assert parse_in_chunks(head, list(range(1, len(head)))) == parse_in_chunks(head, [])


def test_line_without_colon_is_counted_and_dropped() -> None:
    raw = b"Event: Hangup\r\nthis line has no colon\r\nUniqueid: 1.2\r\n\r\n"
    messages, junk, _ = parse_in_chunks(raw, [])
    assert junk == 1
    assert messages[0].headers == (("Event", "Hangup"), ("Uniqueid", "1.2"))


def test_one_megabyte_header_is_skipped_and_stream_goes_on() -> None:
    huge = b"Event: Foo\r\nX: " + b"a" * (1 << 20) + b"\r\n\r\n"
    after = b"Event: Hangup\r\nUniqueid: 9.9\r\n\r\n"
    for cuts in ([], list(range(4096, len(huge), 4096))):
        messages, junk, _ = parse_in_chunks(huge + after, cuts)
        assert junk == 1
        assert [m.event for m in messages] == ["Hangup"]


def test_oversized_message_does_not_grow_the_buffer() -> None:
    parser = AmiStreamParser(max_message_bytes=1024)
    for _ in range(1000):
        parser.feed(b"X: " + b"b" * 1000)
    assert len(parser._buffer) < 1024 + 4
    result = parser.feed(b"\r\n\r\nEvent: Ok\r\n\r\n")
    assert [m.event for m in result.messages] == ["Ok"]


def test_binary_bytes_are_counted_and_skipped() -> None:
    raw = b"\xff\xfe\x00\x81garbage\x00\r\n\r\n" + b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\n"
    messages, junk, _ = parse_in_chunks(raw, [3, 7])
    assert junk == 1
    assert [m.event for m in messages] == ["Hangup"]


def test_empty_value_and_repeated_keys() -> None:
    msg, junk = parse_message(
        b"Event: VarSet\r\nAccountCode: \r\nChanVariable: A=1\r\nChanVariable: B=2"
    )
    assert junk == 0 and msg is not None
    assert msg.get("AccountCode") == ""
    assert msg.get_all("chanvariable") == ["A=1", "B=2"]
    assert msg.as_dict()["ChanVariable"] == ["A=1", "B=2"]


@given(
    headers=st.lists(
        st.tuples(
            st.text(
                alphabet=st.characters(blacklist_characters=":\r\n ", blacklist_categories=("Cs",)),
                min_size=1,
                max_size=12,
            ),
            st.text(
                alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
                max_size=30,
            ),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_round_trip(headers: list[tuple[str, str]]) -> None:
    message = AmiMessage(tuple(headers))
    wire = message.to_bytes()
    parsed, junk = parse_message(wire[:-4])
    assert junk == 0
    assert parsed == message
