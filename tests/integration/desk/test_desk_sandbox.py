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
from dataclasses import replace
from pathlib import Path

import pytest

from ami_bridge import events as ev
from hotline.app import SERVICE, Parts, build_app
from hotline.settings import Settings
from recordings.settings import recordings_path
from tests.integration.desk.deskbrowser import DeskPage, chromium, serve
from tests.integration.ivr.harness import key_caller_scenario, sipp_ports
from tests.integration.sipp import start_uac, uas_phone

pytestmark = pytest.mark.integration

CALLER = "13905581234"


async def test_key_call_pops_on_agent_desk_and_is_dispatched(
    sandbox: Settings, tmp_path: Path
) -> None:
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
                sip_port, media_port = sipp_ports(0)
                scenario = key_caller_scenario(tmp_path / "caller", "2", duration=30)
                caller = await start_uac(
                    tmp_path,
                    [(CALLER, "王女士")],
                    scenario=scenario,
                    hold_ms=30_000,
                    port=sip_port,
                    media_port=media_port,
                )
                try:
                    connect = await _next(events, ev.AgentConnect, timeout=40)
                    answered_at = time.monotonic()
                    await popped
                    pop_latency = time.monotonic() - answered_at
                    number = await desk.page.get_attribute("#ticket", "data-number")
                    assert number, "no ticket number on the page"
                    assert await desk.field("#f-line") == "property"
                    await desk.screenshot("desk-sandbox-screenpop.png")
                    ms = pop_latency * 1000
                    print(f"ticket {number} on the page {ms:.0f} ms after AgentConnect")
                    assert pop_latency <= 1.0
                    assert connect.interface == "PJSIP/1001"

                    message = await desk.edit_and_dispatch("市住房和城乡建设局", kind="complaint")
                    assert number in message or "派" in message
                finally:
                    await caller.stop()
            ticket = service.store.get(number)
            assert ticket.status.value == "dispatched"
            assert ticket.department == "市住房和城乡建设局" and ticket.kind == "complaint"
            assert ticket.line == "property" and ticket.caller_number == CALLER
            assert ticket.answer_to_dispatch_s is not None and ticket.answer_to_dispatch_s > 0
            trail = {(e.field, e.who) for e in service.store.audit_trail(number)}
            assert ("status", "agent1001") in trail and ("department", "agent1001") in trail
            assert ("kind", "agent1001") in trail
            assert any(step.endswith("key 2") for step in ticket.ivr_path), ticket.ivr_path
            # The conversation was recorded (MixMonitor) and the file is linked to the ticket.
            recordings = service.store.recordings(number)
            assert [r.kind.value for r in recordings] == ["call"], recordings
            wav = recordings_path(settings) / recordings[0].path
            for _ in range(50):
                if wav.exists() and wav.stat().st_size > 44:
                    break
                await asyncio.sleep(0.1)
            assert wav.stat().st_size > 44, f"{wav} is empty"
            assert not desk.errors
        finally:
            await desk.close()
    events.close()


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
