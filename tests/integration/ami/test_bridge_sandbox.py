"""The AMI bridge against the real sandbox Asterisk, with sipp callers.

No IVR runs here, so the dialplan's fallback sends every call to the general line,
where it waits until the caller hangs up: calls stay up as long as sipp holds them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ami_bridge import events as ev
from ami_bridge.bridge import AmiBridge
from ami_bridge.tracker import CallEnded, CallTracker
from hotline.app import SERVICE, Parts, build_app
from hotline.asterisk_config import GENERAL_QUEUE
from hotline.bus import EventBus
from hotline.sandbox import asterisk_rx, sandbox_status, sandbox_up
from hotline.settings import Settings
from tests.integration.ami.tcpproxy import TcpProxy
from tests.integration.sipp import start_uac

pytestmark = pytest.mark.integration


async def eventually(predicate: Callable[[], bool], timeout: float,
                     what: str | Callable[[], str]) -> float:
    """Wait until `predicate()`; returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            said = what() if callable(what) else what
            raise AssertionError(f"not reached within {timeout} s: {said}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def asterisk_calls(settings: Settings) -> dict[str, str]:
    """Asterisk's own list of caller channels from 12345: {uniqueid: caller number}."""
    out = asterisk_rx(settings, "core show channels concise")
    calls = {}
    for line in out.splitlines():
        fields = line.split("!")
        # channel!context!exten!prio!state!app!data!callerid!accountcode!peeraccount!amaflags!
        # duration!bridgeid!uniqueid
        if len(fields) >= 14 and fields[0].startswith("PJSIP/callers-"):
            calls[fields[13]] = fields[7]
    return calls


def numbers(first: int, n: int) -> list[tuple[str, str]]:
    return [(f"1380013{first + i:04d}", f"市民{i}") for i in range(n)]


@pytest.fixture
async def bridge_on(
    sandbox: Settings,
) -> AsyncIterator[Callable[[int], tuple[AmiBridge, CallTracker, EventBus]]]:
    """Start a bridge on a given AMI port (Asterisk's or a proxy's); stopped after the test."""
    tasks: list[asyncio.Task[None]] = []

    def start(port: int) -> tuple[AmiBridge, CallTracker, EventBus]:
        bus = EventBus()
        tracker = CallTracker(time.monotonic, on_call_ended=bus.publish)
        ami = replace(
            sandbox.ami, port=port, backoff_initial=0.1, backoff_max=1.0, ping_interval=1.0
        )
        bridge = AmiBridge(ami, sandbox.ami_secret(), tracker, bus)
        tasks.append(asyncio.create_task(bridge.run()))
        return bridge, tracker, bus

    yield start
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_fifty_calls_arrive_and_hang_up(sandbox: Settings, tmp_path: Path, bridge_on) -> None:  # type: ignore[no-untyped-def]
    bridge, tracker, bus = bridge_on(sandbox.ami.port)
    sub = bus.subscribe(maxsize=100_000)
    await bridge.wait_up(10)
    callers = numbers(0, 50)
    uac = await start_uac(tmp_path, callers, rate=10, hold_ms=3000)
    result = await uac.wait(60)
    assert result.successful == 50, result.describe()
    await eventually(lambda: len(tracker) == 0, 15,
                     lambda: f"every call ended in the tracker; left: {tracker.calls()}")

    arrived: set[str] = set()
    ended: set[str] = set()
    for event in sub.drain():
        if (
            isinstance(event, ev.Newchannel)
            and event.exten == "12345"
            and event.context == "from-callers"
        ):
            arrived.add(event.caller_num)
        elif isinstance(event, CallEnded) and event.reason == "hangup":
            ended.add(event.caller_num)
    expected = {n for n, _ in callers}
    assert arrived == expected
    assert expected <= ended
    assert sub.dropped == 0
    assert asterisk_calls(sandbox) == {}


async def test_cut_connection_comes_back_and_matches_asterisk(
    sandbox: Settings, tmp_path: Path
) -> None:
    proxy = TcpProxy(sandbox.ami.host, sandbox.ami.port)
    await proxy.start()
    settings = replace(
        sandbox,
        ami=replace(
            sandbox.ami, port=proxy.port, backoff_initial=0.1, backoff_max=1.0, ping_interval=1.0
        ),
    )
    # The whole service minus the IVR: with no FastAGI server, calls fall through to the
    # general line and wait there.
    settings = replace(settings, data_dir=str(tmp_path / "var"))
    app = await build_app(settings, Parts(ivr=False, speech=False, police110=False,
                                          watch_config=False))
    client = TestClient(TestServer(app))
    await client.start_server()
    uac = None
    try:
        bridge, tracker = app[SERVICE].bridge, app[SERVICE].tracker
        await bridge.wait_up(10)
        assert (await client.get("/status")).status == 200
        uac = await start_uac(tmp_path, numbers(100, 12), rate=10, hold_ms=60_000)
        await eventually(
            lambda: sum(c.queue == GENERAL_QUEUE for c in tracker.calls()) == 12,
            20,
            "12 calls waiting in the general line",
        )

        proxy.accepting = False
        proxy.cut()
        await eventually(lambda: not bridge.status().ok, 5, "bridge notices the cut")
        status = await client.get("/status")
        assert status.status == 503
        assert (await status.json())["ami"]["ok"] is False
        # While the bridge is away, two callers hang up: it cannot see their Hangup events.
        gone = list(asterisk_calls(sandbox))[:2]
        for uniqueid in gone:
            chan = next(c for c in tracker.calls() if c.linkedid == uniqueid).channels[0]
            asterisk_rx(sandbox, f"channel request hangup {chan}")
        await eventually(
            lambda: len(asterisk_calls(sandbox)) == 10, 5, "Asterisk has 10 calls left"
        )
        await asyncio.sleep(1.0)

        proxy.accepting = True
        took = await eventually(lambda: bridge.status().ok, 5, "bridge back within 5 s")
        assert (await client.get("/status")).status == 200
        live = asterisk_calls(sandbox)
        assert len(live) == 10
        assert {c.linkedid: c.caller_num for c in tracker.calls()} == live
        assert all(c.queue == GENERAL_QUEUE for c in tracker.calls())
        assert not set(gone) & {c.linkedid for c in tracker.calls()}
        print(f"bridge back {took:.2f} s after the proxy accepted again")
    finally:
        if uac is not None:
            await uac.stop()
        asterisk_rx(sandbox, "channel request hangup all")
        await client.close()
        await proxy.stop()


async def test_junk_on_the_socket_is_counted_and_skipped(
    sandbox: Settings, tmp_path: Path, bridge_on
) -> None:  # type: ignore[no-untyped-def]
    proxy = TcpProxy(sandbox.ami.host, sandbox.ami.port)
    await proxy.start()
    try:
        bridge, tracker, bus = bridge_on(proxy.port)
        await bridge.wait_up(10)
        await proxy.inject_to_client(b"this line has no colon\r\nneither has this\r\n\r\n")
        await proxy.inject_to_client(b"Event: Huge\r\nX-Pad: " + b"z" * (1 << 20) + b"\r\n\r\n")
        await proxy.inject_to_client(bytes(range(256)) * 4 + b"\r\n\r\n")
        # Make Asterisk talk so any junk queued for a message boundary goes out.
        await bridge.send_action({"Action": "Ping"})
        await eventually(lambda: bridge.status().junk >= 4, 10, "junk counted")
        uac = await start_uac(tmp_path, numbers(200, 3), rate=10, hold_ms=1000)
        sub = bus.subscribe()
        assert (await uac.wait(30)).successful == 3
        await eventually(
            lambda: len(tracker) == 0 and tracker.calls_ended >= 3, 10, "calls tracked after junk"
        )
        assert bridge.status().connects == 1 and bridge.status().ok
        sub.close()
    finally:
        await proxy.stop()


async def test_asterisk_crash_and_restart_closes_the_calls_that_died(
    sandbox: Settings, tmp_path: Path, bridge_on
) -> None:  # type: ignore[no-untyped-def]
    bridge, tracker, bus = bridge_on(sandbox.ami.port)
    await bridge.wait_up(10)
    uac = await start_uac(tmp_path, numbers(300, 5), rate=10, hold_ms=60_000)
    try:
        await eventually(lambda: len(tracker) == 5, 20, "5 calls up")
        before = {c.linkedid for c in tracker.calls()}
        sub = bus.subscribe()
        # A crash, not a clean stop: no Hangup events reach the bridge.
        pid = sandbox_status(sandbox).pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await eventually(lambda: not bridge.status().ok, 10, "bridge sees Asterisk go")
        await asyncio.to_thread(sandbox_up, sandbox)
        await eventually(lambda: bridge.status().ok, 15, "bridge reconnects to the new Asterisk")
        await eventually(lambda: not before & {c.linkedid for c in tracker.calls()}, 5,
                         "the calls of the killed Asterisk closed")
        ended = {e.linkedid: e.reason for e in sub.drain() if isinstance(e, CallEnded)}
        # Killed, Asterisk sent no Hangup: only the resync after reconnecting can close them.
        assert {ended.get(linkedid) for linkedid in before} == {"lost-while-disconnected"}
        # sipp may retransmit an unanswered INVITE to the new Asterisk: whatever is up
        # now, the tracker lists exactly that.
        assert {c.linkedid: c.caller_num for c in tracker.calls()} == asterisk_calls(sandbox)
    finally:
        await uac.stop()
