"""The bridge's supervisor against an in-process fake AMI: login, resync, reconnect, junk."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from ami_bridge.bridge import AmiBridge
from ami_bridge.tracker import CallTracker
from hotline.bus import EventBus
from hotline.settings import AmiSettings, Secret
from tests.unit.ami.fake_ami import FakeAmi


async def wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    yield server
    await server.stop()


def make_bridge(fake: FakeAmi, secret: str = "s3cret") -> tuple[AmiBridge, CallTracker]:
    settings = AmiSettings(
        port=fake.port,
        backoff_initial=0.05,
        backoff_max=0.2,
        ping_interval=0.3,
        connect_timeout=1.0,
    )
    tracker = CallTracker(time.monotonic)
    return AmiBridge(settings, Secret(secret), tracker, EventBus()), tracker


async def test_login_resync_and_events(fake: FakeAmi) -> None:
    fake.channels = [
        {
            "Channel": "PJSIP/callers-1",
            "Uniqueid": "1.1",
            "Linkedid": "1.1",
            "CallerIDNum": "13800138000",
            "CallerIDName": "李四",
            "ChannelStateDesc": "Up",
        }
    ]
    fake.queue_entries = [{"Queue": "property", "Uniqueid": "1.1", "Position": "1"}]
    bridge, tracker = make_bridge(fake)
    task = asyncio.create_task(bridge.run())
    try:
        await bridge.wait_up(5)
        assert bridge.status().ok
        assert [(c.caller_name, c.queue) for c in tracker.calls()] == [("李四", "property")]
        fake.event(Event="Hangup", Channel="PJSIP/callers-1", Uniqueid="1.1", Linkedid="1.1")
        await wait_for(lambda: len(tracker) == 0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert bridge.status().state == "stopped"


async def test_wrong_secret_is_refused_and_never_logged(
    fake: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bridge, _ = make_bridge(fake, secret="wrong-secret-value")
    task = asyncio.create_task(bridge.run())
    try:
        await wait_for(lambda: len(fake.secrets_seen) >= 2)
        assert not bridge.status().ok
        assert "refused" in (bridge.status().last_error or "") or "failed" in (
            bridge.status().last_error or ""
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert "wrong-secret-value" not in caplog.text
    assert "wrong-secret-value" not in repr(bridge.status())


async def test_reconnects_with_backoff_and_status_goes_fail_then_ok(fake: FakeAmi) -> None:
    bridge, _ = make_bridge(fake)
    task = asyncio.create_task(bridge.run())
    try:
        await bridge.wait_up(5)
        first_since = bridge.status().since
        fake.channels = []
        fake.drop_all()
        await wait_for(lambda: not bridge.status().ok)
        await wait_for(lambda: bridge.status().ok and bridge.status().connects == 2)
        assert bridge.status().since != first_since
        assert fake.logins == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_calls_that_died_while_away_are_closed(fake: FakeAmi) -> None:
    fake.channels = [
        {
            "Channel": "PJSIP/callers-2",
            "Uniqueid": "2.1",
            "Linkedid": "2.1",
            "CallerIDNum": "1",
            "ChannelStateDesc": "Up",
        }
    ]
    bridge, tracker = make_bridge(fake)
    task = asyncio.create_task(bridge.run())
    try:
        await bridge.wait_up(5)
        assert len(tracker) == 1
        fake.channels = []
        fake.drop_all()
        await wait_for(lambda: bridge.status().connects == 2 and bridge.status().ok)
        assert len(tracker) == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_junk_is_counted_and_connection_kept(fake: FakeAmi) -> None:
    bridge, tracker = make_bridge(fake)
    task = asyncio.create_task(bridge.run())
    try:
        await bridge.wait_up(5)
        fake.send_raw(b"no colon here\r\n\r\n")
        fake.send_raw(b"Event: Big\r\nX: " + b"x" * (1 << 20) + b"\r\n\r\n")
        fake.send_raw(b"\x00\xff\xfe\x80\r\n\r\n")
        fake.event(
            Event="Newchannel",
            Channel="PJSIP/callers-3",
            Uniqueid="3.1",
            Linkedid="3.1",
            CallerIDNum="139",
        )
        await wait_for(lambda: len(tracker) == 1)
        assert bridge.status().junk == 3
        assert bridge.status().connects == 1 and bridge.status().ok
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_unanswered_ping_forces_reconnect(fake: FakeAmi) -> None:
    bridge, _ = make_bridge(fake)
    task = asyncio.create_task(bridge.run())
    try:
        await bridge.wait_up(5)
        # Stop answering pings on the open connection: the keep-alive must notice.
        fake._answer = lambda *a, **k: None  # type: ignore[method-assign]
        await wait_for(lambda: not bridge.status().ok, timeout=5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_single_reply_actions_do_not_wait_for_an_event_list(fake: FakeAmi) -> None:
    bridge, _ = make_bridge(fake)
    task = asyncio.create_task(bridge.run())
    try:
        await bridge.wait_up(5)
        reply = await bridge.send_action(
            {"Action": "QueueAdd", "Queue": "property", "Interface": "PJSIP/1001"}, timeout=2
        )
        assert reply.success
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
