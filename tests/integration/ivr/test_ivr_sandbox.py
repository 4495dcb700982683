"""The IVR against the sandbox Asterisk: real calls, real keys, real queues.

Each test runs the IVR's FastAGI server in-process on the settings' AGI port
(4573), places calls (sipp with RFC 4733 keys, or Local channels from AMI), and
checks what Asterisk reports over AMI.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from hotline.bus import EventBus
from hotline.settings import Settings
from ivr.record import IvrPath
from ivr.service import lang_dir
from tests.integration.ivr.harness import (
    GENERAL_QUEUE,
    ROUTES,
    SPECIALIST_QUEUES,
    AmiEvents,
    copy_ivr_yaml,
    finished_wav,
    heard_fraction,
    key_caller_scenario,
    read_wav,
    running_ivr,
    sipp_ports,
    staffed,
)
from tests.integration.sipp import start_uac

pytestmark = pytest.mark.integration

TEST_AGENT = "Local/agent@ivr-test-agent/n"
# How long a key caller stays: its last key comes at about 6.5 s, then the menu, the recording
# notice and the queue join; on a loaded 2-core machine that once took over 14 s.
KEY_CALLER_HOLD_MS = 20_000


def joined(number: str, queue: str | None = None):  # type: ignore[no-untyped-def]
    def match(e: dict[str, str]) -> bool:
        return (e.get("Event") == "QueueCallerJoin" and e.get("CallerIDNum") == number
                and (queue is None or e.get("Queue") == queue))
    return match


async def local_call(ami: AmiEvents, number: str, *, keys: str = "", delay: float = 1.5,
                     hold: float = 10, record: str = "") -> None:
    """A caller on a Local channel: presses `keys` after `delay` s, records what it hears."""
    variables = [f"IVR_TEST_KEYS={keys}", f"IVR_TEST_DELAY={delay}", f"IVR_TEST_HOLD={hold}"]
    if record:
        variables.append(f"IVR_TEST_FILE={record}")
    reply = await ami.action(
        "Originate", Channel="Local/12345@from-callers", Context="ivr-test-caller",
        Exten="listen", Priority="1", CallerID=f"测试 <{number}>", Async="true",
        Variable=",".join(variables))
    assert reply.get("Response") == "Success", reply


def unique_number() -> str:
    return "139" + str(uuid.uuid4().int)[:8]


async def test_rfc2833_keys_reach_every_queue(sandbox: Settings, tmp_path: Path) -> None:
    routes = {**ROUTES, "**1": "enterprise", "3*2": "property"}  # repeated and falling keys
    async with AmiEvents.connect(sandbox) as ami, running_ivr(sandbox), staffed(ami, TEST_AGENT):
        numbers = {}
        callers = []
        for i, (keys, queue) in enumerate(routes.items()):
            number = f"1380000{i:04d}"
            numbers[number] = (keys, queue)
            scenario = key_caller_scenario(tmp_path / f"route{i}", keys)
            sip_port, media_port = sipp_ports(i)
            callers.append(await start_uac(tmp_path, [(number, "测试")], hold_ms=KEY_CALLER_HOLD_MS,
                                           scenario=scenario, port=sip_port,
                                           media_port=media_port))
        for number, (keys, queue) in numbers.items():
            (event,) = await ami.wait_for(joined(number), 40)
            assert event["Queue"] == queue, (keys, event)
            assert event["ChanVariable(IVR_PATH)"].startswith("main:"), event
        for caller in callers:
            result = await caller.wait(40)
            assert result.failed == 0, result.describe()
    for queue in SPECIALIST_QUEUES:
        assert queue in {q for _, q in routes.items()}


async def test_invalid_keys_follow_retries_to_general(sandbox: Settings, tmp_path: Path) -> None:
    bus = EventBus()
    sub = bus.subscribe()
    async with AmiEvents.connect(sandbox) as ami, running_ivr(sandbox, bus=bus):
        number = unique_number()
        scenario = key_caller_scenario(tmp_path, "787", first_at=1.5, gap=2.0)
        caller = await start_uac(tmp_path, [(number, "测试")], hold_ms=KEY_CALLER_HOLD_MS,
                                 scenario=scenario)
        (event,) = await ami.wait_for(joined(number), 40)
        assert event["Queue"] == GENERAL_QUEUE
        assert event["ChanVariable(IVR_PATH)"] == "main:7:8:7>general"
        path = await asyncio.wait_for(sub.get(), 5)
        assert isinstance(path, IvrPath) and path.reason == "invalid"
        assert path.prompts.count("defaults-invalid") == 2
        await caller.wait(40)


async def test_silence_follows_retries_to_general(sandbox: Settings, tmp_path: Path) -> None:
    settings = copy_ivr_yaml(sandbox, tmp_path)
    yaml_path = settings.config_path / "ivr.yaml"
    text = yaml_path.read_text().replace("timeout_seconds: 6", "timeout_seconds: 1")
    text = text.replace("  default: 您好，欢迎致电幺二三四五政务服务便民热线。",
                        "  default: 您好。")
    start = text.index("    prompt: >-")
    end = text.index("    options:", start)
    yaml_path.write_text(text[:start] + "    prompt: 请按键。\n" + text[end:])
    async with AmiEvents.connect(settings) as ami, running_ivr(settings):
        number = unique_number()
        t0 = time.monotonic()
        await local_call(ami, number, hold=40)
        (event,) = await ami.wait_for(joined(number), 40)
        assert event["Queue"] == GENERAL_QUEUE
        assert event["ChanVariable(IVR_PATH)"] == "main:-:-:->general"
        # greeting, 3 x (prompt + 1 s wait) and 2 notices: the rules, not a stall
        assert time.monotonic() - t0 < 30


async def test_hangup_inside_menu_leaves_nothing_behind(sandbox: Settings) -> None:
    bus = EventBus()
    sub = bus.subscribe()
    async with AmiEvents.connect(sandbox) as ami, running_ivr(sandbox, bus=bus) as (server, _):
        number = unique_number()
        await local_call(ami, number, delay=1, hold=2)  # gone 3 s in, inside the menu
        path = await asyncio.wait_for(sub.get(), 15)
        assert isinstance(path, IvrPath)
        assert path.action == "hangup" and path.caller.number == number
        for _ in range(20):
            if server.active_calls == 0:
                break
            await asyncio.sleep(0.1)
        assert server.active_calls == 0
        leftover: list[str] = ["?"]
        for _ in range(50):  # Asterisk finishes tearing down both Local halves
            listed = await ami.action("CoreShowChannels")
            assert listed.get("Response") == "Success"
            await asyncio.sleep(0.1)
            complete = [e for e in ami.events if e.get("Event") == "CoreShowChannelsComplete"
                        and e.get("ActionID") == listed.get("ActionID")]
            assert complete, "CoreShowChannels did not complete"
            leftover = [e["Channel"] for e in ami.events if e.get("Event") == "CoreShowChannel"
                        and e.get("ActionID") == listed.get("ActionID")
                        and e.get("CallerIDNum") == number]
            if not leftover:
                break
        assert leftover == []
        assert not any(joined(number)(e) for e in ami.events)


async def test_stopping_the_ivr_mid_call_lands_in_general(sandbox: Settings) -> None:
    async with AmiEvents.connect(sandbox) as ami:
        number = unique_number()
        async with running_ivr(sandbox) as (server, _):
            await local_call(ami, number, hold=20)
            for _ in range(100):
                if server.active_calls:
                    break
                await asyncio.sleep(0.05)
            assert server.active_calls == 1, "the call never reached the IVR"
            await asyncio.sleep(1.0)  # in the greeting
            await server.close()
        (event,) = await ami.wait_for(joined(number), 10)
        assert event["Queue"] == GENERAL_QUEUE


async def test_prompts_are_heard_by_the_caller(sandbox: Settings, tmp_path: Path) -> None:
    name = f"ivr-heard-{uuid.uuid4().hex[:8]}"
    async with AmiEvents.connect(sandbox) as ami, running_ivr(sandbox) as (_, store):
        catalog = store.current.catalog
        number = unique_number()
        await local_call(ami, number, record=f"/tmp/{name}", delay=16, hold=0)
        await ami.wait_for(lambda e: e.get("Event") == "Hangup"
                           and e.get("CallerIDNum") == number, 30)
    recorded = Path(sandbox.sandbox.root) / "tmp" / f"{name}.wav"
    heard = read_wav(await finished_wav(recorded))
    for leftover in (recorded, recorded.with_name(f"{name}-both.wav")):
        leftover.unlink(missing_ok=True)
    sounds = lang_dir(sandbox)

    def prompt(key: str):  # type: ignore[no-untyped-def]
        return read_wav((sounds / f"{catalog.sound(key)}.wav").read_bytes())

    greeting, menu = prompt("greeting"), prompt("menu-main")
    g_heard, g_at = heard_fraction(heard, greeting)
    m_heard, m_at = heard_fraction(heard, menu[: 8000 * 8])  # the menu's first 8 s
    assert g_heard > 0.8, g_heard
    assert m_heard > 0.8, m_heard
    assert abs(m_at - (g_at + len(greeting))) < 8000  # the menu right after the greeting
    other, _ = heard_fraction(heard, prompt("speech-busy"))  # never played: not heard
    assert other < 0.3, other


async def test_unstaffed_line_announces_in_chinese_and_overflows(sandbox: Settings) -> None:
    name = f"ivr-wait-{uuid.uuid4().hex[:8]}"
    async with AmiEvents.connect(sandbox) as ami, running_ivr(sandbox):
        before = await ami.action("Getvar", Variable="GENERAL_EMPTY_WAIT_SECONDS")
        await ami.action("Setvar", Variable="GENERAL_EMPTY_WAIT_SECONDS", Value="12")
        try:
            number = unique_number()
            t0 = time.monotonic()
            await local_call(ami, number, keys="1", hold=40, record=f"/tmp/{name}")
            (event,) = await ami.wait_for(joined(number), 30)
            # enterprise has nobody logged in: not joined, overflowed to the general line
            assert event["Queue"] == GENERAL_QUEUE
            assert event["ChanVariable(ROUTE_QUEUE)"] in ("enterprise", "general")
            await ami.wait_for(lambda e: e.get("Event") == "QueueCallerLeave"
                               and e.get("CallerIDNum") == number, 25)
            await ami.wait_for(lambda e: e.get("Event") == "UserEvent"
                               and e.get("UserEvent") == "HotlineUnanswered"
                               and e.get("CallerIDNum") == number, 10)
            await ami.wait_for(lambda e: e.get("Event") == "Hangup"
                               and e.get("CallerIDNum") == number, 20)
            assert time.monotonic() - t0 < 45  # never held forever
        finally:
            await ami.action("Setvar", Variable="GENERAL_EMPTY_WAIT_SECONDS",
                             Value=before.get("Value") or "60")
    recorded = Path(sandbox.sandbox.root) / "tmp" / f"{name}.wav"
    heard = read_wav(await finished_wav(recorded))
    for leftover in (recorded, recorded.with_name(f"{name}-both.wav")):
        leftover.unlink(missing_ok=True)
    sounds = lang_dir(sandbox)
    for sound in ("queue-youarenext", "queue-thankyou", "hotline12345/no-agent-available"):
        audio = read_wav((sounds / f"{sound}.wav").read_bytes())
        fraction, _ = heard_fraction(heard, audio)
        assert fraction > 0.6, (sound, fraction)
    never, _ = heard_fraction(heard, read_wav((sounds / "digits/5.wav").read_bytes()))
    assert never < 0.3, never


async def test_broken_edit_refused_and_calls_keep_old_menus(sandbox: Settings,
                                                            tmp_path: Path) -> None:
    settings = copy_ivr_yaml(sandbox, tmp_path)
    yaml_path = settings.config_path / "ivr.yaml"
    async with AmiEvents.connect(settings) as ami, \
            running_ivr(settings, watch=True) as (_, store), \
            staffed(ami, TEST_AGENT, ["market_regulation", "property"]):
        await asyncio.sleep(0.5)
        lines = yaml_path.read_text().splitlines()
        n = next(i for i, line in enumerate(lines) if '"4": {action: queue' in line)
        lines[n] = '      "4": {action: queue, line: market}'
        yaml_path.write_text("\n".join(lines) + "\n")
        for _ in range(50):
            await asyncio.sleep(0.1)
            if store.last_issues:
                break
        assert [(i.file, i.line) for i in store.last_issues] == [(str(yaml_path), n + 1)]
        assert "未定义的线路" in str(store.last_issues[0])
        number = unique_number()
        await local_call(ami, number, keys="4")
        (event,) = await ami.wait_for(joined(number), 30)
        assert event["Queue"] == "market_regulation"
        # a good edit is taken at once
        lines[n] = '      "4": {action: queue, line: property}'
        yaml_path.write_text("\n".join(lines) + "\n")
        for _ in range(50):
            await asyncio.sleep(0.1)
            if store.current.config.menus["main"].options["4"].line == "property":  # type: ignore[union-attr]
                break
        number = unique_number()
        await local_call(ami, number, keys="4")
        (event,) = await ami.wait_for(joined(number), 30)
        assert event["Queue"] == "property"


async def test_a_hung_ivr_still_reaches_a_person(sandbox: Settings) -> None:
    """The IVR's lease on TIMEOUT(absolute) bounds a FastAGI server that stops answering."""
    held: list[asyncio.StreamWriter] = []

    async def frozen(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\n\n")
        writer.write(b"SET VARIABLE TIMEOUT(absolute) 3\n")  # what the IVR's lease sends
        await writer.drain()
        await reader.readline()
        held.append(writer)  # ...and then never another word, never closing

    server = await asyncio.start_server(frozen, sandbox.agi.host, sandbox.agi.port,
                                        reuse_address=True)
    try:
        async with AmiEvents.connect(sandbox) as ami:
            number = unique_number()
            t0 = time.monotonic()
            await local_call(ami, number, hold=20)
            (event,) = await ami.wait_for(joined(number), 15)
            assert event["Queue"] == GENERAL_QUEUE
            # 3 s lease + the recording notice; far below the dialplan's 300 s ceiling
            assert time.monotonic() - t0 < 10
            assert held, "Asterisk never reached the frozen FastAGI server"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_key_call_creates_its_ticket_and_queues_with_it(sandbox: Settings,
                                                              tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from ivr.ticket_port import StoreTicketPort
    from tickets.migrate import upgrade
    from tickets.store import TicketStore
    from tickets.workcalendar import WorkCalendar

    engine = create_engine(f"sqlite:///{tmp_path / 'tickets.db'}")
    upgrade(engine)
    store = TicketStore(engine, WorkCalendar())
    async with AmiEvents.connect(sandbox) as ami, \
            running_ivr(sandbox, tickets=StoreTicketPort(store)), \
            staffed(ami, TEST_AGENT, ["property"]):
        number = unique_number()
        await local_call(ami, number, keys="2")
        (event,) = await ami.wait_for(joined(number), 30)
    assert event["Queue"] == "property"
    ticket = store.get(event["ChanVariable(TICKET_ID)"])
    assert ticket.line == "property" and ticket.caller_number == number
    assert ticket.call_id == event["Uniqueid"]
    assert any(step.endswith("key 2") for step in ticket.ivr_path), ticket.ivr_path
    store.close()
