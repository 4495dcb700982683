"""The whole chain on the sandbox: a sipp caller presses a key in the IVR, the call
joins the property line, agent 1001's sipp phone rings and answers, and the ticket
pops up in agent 1001's desk in Chromium; the agent edits and dispatches it and the
database holds the change with its audit trail.

The service is the real composition root (`build_app`), minus speech and the 110
exchange, which have their own tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from ami_bridge import events as ev
from hotline.app import SERVICE, Parts, Service, build_app
from hotline.asterisk_config import GENERAL_QUEUE
from hotline.bus import Subscription
from hotline.sandbox import asterisk_rx
from hotline.settings import Settings
from recordings.settings import recordings_path
from tests.integration.desk.deskbrowser import DeskPage, chromium, serve
from tests.integration.ivr.harness import key_caller_scenario, sipp_ports
from tests.integration.sipp import start_uac, uas_phone

pytestmark = pytest.mark.integration

CALLER = "13905581234"


@dataclass
class AnsweredCall:
    """A sipp caller who pressed 2 and is talking to agent 1001, whose desk is open."""

    settings: Settings
    service: Service
    desk: DeskPage
    events: Subscription
    connect: ev.AgentConnect
    pop_latency: float  # AgentConnect reaching the bridge -> ticket in the page, seconds


@asynccontextmanager
async def answered_call(
    sandbox: Settings, tmp_path: Path, number: str, name: str, index: int, hold_ms: int
) -> AsyncIterator[AnsweredCall]:
    settings = replace(sandbox, data_dir=str(tmp_path / "var"), database_url="")
    app = await build_app(settings, Parts(speech=False, police110=False, watch_config=False))
    service = app[SERVICE]
    events = service.bus.subscribe(maxsize=100_000)
    async with serve(app) as base, chromium() as browser:
        await service.bridge.wait_up(10)
        desk = await DeskPage.open(browser, base + "desk/")
        try:
            await desk.login("agent1001", "demo12345")
            await desk.join_line("property")
            popped = asyncio.create_task(_answered_ticket_shown(desk))
            async with uas_phone(tmp_path, port=5081, user="1001", ring_ms=1500):
                sip_port, media_port = sipp_ports(index)
                scenario = key_caller_scenario(tmp_path / "caller", "2", duration=hold_ms / 1000)
                caller = await start_uac(
                    tmp_path,
                    [(number, name)],
                    scenario=scenario,
                    hold_ms=hold_ms,
                    port=sip_port,
                    media_port=media_port,
                )
                try:
                    connect = await _next(events, ev.AgentConnect, timeout=40)
                    answered_at = time.monotonic()
                    await popped
                    latency = time.monotonic() - answered_at
                    yield AnsweredCall(settings, service, desk, events, connect, latency)
                finally:
                    await caller.stop()
            assert not desk.errors
        finally:
            await desk.close()
            events.close()


async def test_key_call_pops_on_agent_desk_and_is_dispatched(
    sandbox: Settings, tmp_path: Path
) -> None:
    async with answered_call(sandbox, tmp_path, CALLER, "王女士", 0, 30_000) as call:
        desk, store = call.desk, call.service.store
        number = await desk.page.get_attribute("#ticket", "data-number")
        assert number, "no ticket number on the page"
        assert await desk.field("#f-line") == "property"
        await desk.screenshot("desk-sandbox-screenpop.png")
        print(f"ticket {number} on the page {call.pop_latency * 1000:.0f} ms after AgentConnect")
        assert call.pop_latency <= 1.0
        assert call.connect.interface == "PJSIP/1001"
        message = await desk.edit_and_dispatch("市住房和城乡建设局", kind="complaint")
        assert number in message or "派" in message
    ticket = store.get(number)
    assert ticket.status.value == "dispatched"
    assert ticket.department == "市住房和城乡建设局" and ticket.kind == "complaint"
    assert ticket.line == "property" and ticket.caller_number == CALLER
    assert ticket.answer_to_dispatch_s is not None and ticket.answer_to_dispatch_s > 0
    trail = {(e.field, e.who) for e in store.audit_trail(number)}
    assert ("status", "agent1001") in trail and ("department", "agent1001") in trail
    assert ("kind", "agent1001") in trail
    assert any(step.endswith("key 2") for step in ticket.ivr_path), ticket.ivr_path
    # The conversation was recorded (MixMonitor) and the file is linked to the ticket.
    recordings = store.recordings(number)
    assert [r.kind.value for r in recordings] == ["call"], recordings
    wav = recordings_path(call.settings) / recordings[0].path
    for _ in range(50):
        if wav.exists() and wav.stat().st_size > 44:
            break
        await asyncio.sleep(0.1)
    assert wav.stat().st_size > 44, f"{wav} is empty"


async def test_hold_unhold_and_transfer_from_the_desk(sandbox: Settings, tmp_path: Path) -> None:
    """Call control from the desk on the real Asterisk: the caller hears music on hold, is
    bridged back to the agent, then is transferred to another line's queue."""
    number = "13905587766"
    async with answered_call(sandbox, tmp_path, number, "赵先生", 1, 60_000) as call:
        desk, events, settings = call.desk, call.events, call.settings
        await desk.page.click("#hold-button")
        await _until(
            lambda: _caller_application(settings, number) == "MusicOnHold",
            10,
            "caller on music on hold",
        )
        events.drain()
        await desk.page.click("#hold-button")  # 恢复通话
        await _until(
            lambda: _caller_application(settings, number) != "MusicOnHold",
            10,
            "caller taken off hold",
        )
        joined = await _next(events, ev.BridgeEnter, timeout=10)
        assert joined.bridge_id
        events.drain()
        await desk.page.select_option("#transfer-target", "enterprise")
        await desk.page.click("#transfer-button")
        join = await _next(events, ev.QueueCallerJoin, timeout=15)
        assert join.caller_num == number and join.queue in ("enterprise", GENERAL_QUEUE)


async def _answered_ticket_shown(desk: DeskPage) -> None:
    """Returns once a ticket is on the page and marked as in the call (polled every 10 ms;
    the desk's CSP forbids the string evaluation wait_for_function would need)."""
    await desk.page.wait_for_selector("#ticket[data-number]", timeout=60_000)
    while await desk.page.text_content("#ticket-stage") != "通话中":  # noqa: ASYNC110 (the page is polled)
        await asyncio.sleep(0.01)


async def _next(sub, kind: type, timeout: float):  # type: ignore[no-untyped-def]
    async def find():  # type: ignore[no-untyped-def]
        while True:
            event = await sub.get()
            if isinstance(event, kind):
                return event

    return await asyncio.wait_for(find(), timeout)


def _caller_application(settings: Settings, caller_number: str) -> str:
    """The dialplan application the caller's channel is running now ("" if none)."""
    for line in asterisk_rx(settings, "core show channels concise").splitlines():
        fields = line.split("!")
        if (
            len(fields) > 7
            and fields[0].startswith("PJSIP/callers-")
            and fields[7] == caller_number
        ):
            return fields[5]
    return ""


async def _until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.1)
