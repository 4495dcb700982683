"""Screen-pop latency: AMI events replayed at a call rate, to the ticket drawn in Chromium.

    python -m bench.screenpop [--agents 30] [--rate 30] [--seconds 10]

One desk page per agent (each in its own browser context, logged in), the desk app served on
127.0.0.1 with in-memory tickets, in a process of its own (as in production, the browser driver
does not share the service's event loop). Each call's AgentCalled and, 200 ms later,
AgentConnect are written as raw AMI bytes and go the bridge's way: AmiStreamParser ->
decode_event -> EventBus. Latency runs from just before the bytes are parsed to the moment the
server receives the page's "rendered" message, sent right after the ticket is in the DOM: it
includes the page-to-server hop, so it overstates a little.
Prints p50/p95/p99/max per stage and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import platform
import statistics
import subprocess
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

from aiohttp import web
from argon2 import PasswordHasher

from ami_bridge.events import RawEvent, decode_event
from ami_bridge.parser import AmiStreamParser
from desk.app import build_desk_app
from desk.clock import SystemClock
from desk.config import DeskConfig
from desk.kb import load_kb
from desk.memory import InMemoryTicketStore, RecordingAmi, RecordingPolice110
from desk.ports import TicketRecord
from desk.screenpop import RenderedPop
from desk.services import DESK, DeskDeps
from desk.users import User, UserDirectory
from hotline.bus import EventBus
from tests.integration.desk.deskbrowser import CHROMIUM, DeskPage, chromium, serve

PROJECT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"
TRANSCRIPTS = [
    "俺们小区物业费今年又涨了 物业公司也不公示收费标准",
    "老板拖欠我们三个月工资不发 工地在涡阳县",
    "网上买的衣服 商家不给退货 已经七天了",
    "楼下饭店晚上十二点还在放音乐 吵得睡不着",
]
LINES = ["property", "hr_social_security", "market_regulation", "general"]


def ami_event(name: str, n: int, agent: int, extra: str = "") -> bytes:
    linkedid = f"1764122400.{n}"
    return (
        f"Event: {name}\r\nPrivilege: agent,all\r\nChannel: PJSIP/trunk-{n:08x}\r\n"
        f"ChannelState: 6\r\nChannelStateDesc: Up\r\nCallerIDNum: 139{n:08d}\r\n"
        f"CallerIDName: 张三\r\nConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\n"
        f"Language: zh\r\nAccountCode: \r\nContext: hotline-queue\r\nExten: 12345\r\n"
        f"Priority: 4\r\n"
        f"Uniqueid: {linkedid}\r\nLinkedid: {linkedid}\r\nChanVariable: TICKET_ID=B-{n:06d}\r\n"
        f"DestChannel: PJSIP/{2000 + agent}-{n:08x}\r\nDestChannelState: 5\r\n"
        f"DestChannelStateDesc: Ringing\r\nDestCallerIDNum: {2000 + agent}\r\n"
        f"DestUniqueid: {linkedid}1\r\nDestLinkedid: {linkedid}\r\n"
        f"Queue: {LINES[n % len(LINES)]}\r\nInterface: PJSIP/{2000 + agent}\r\n"
        f"MemberName: agent{agent:02d}\r\n{extra}\r\n"
    ).encode()


def machine() -> str:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        version = subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        version = "unknown"
    return f"cpu: {cpu}; cores: {os.cpu_count()}; python {platform.python_version()}; {version}"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def build(agents: int, calls: int) -> tuple[web.Application, EventBus]:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    digest = hasher.hash(PASSWORD)
    users = UserDirectory(
        [
            User(
                f"agent{i:02d}", f"坐席{i:02d}", "agent", digest, f"PJSIP/{2000 + i}", tuple(LINES)
            )
            for i in range(1, agents + 1)
        ],
        hasher=hasher,
    )
    store = InMemoryTicketStore()
    for n in range(calls):
        store.add(
            TicketRecord(
                number=f"B-{n:06d}",
                created_at=datetime.now(UTC),
                caller_number=f"139{n:08d}",
                transcript=TRANSCRIPTS[n % len(TRANSCRIPTS)],
                line=LINES[n % len(LINES)],
                kind="complaint",
                sla_days=7,
                call_id=f"1764122400.{n}",
                confidence=0.8,
                explanation=("bench",),
            )
        )
    bus = EventBus()
    deps = DeskDeps(
        tickets=store,
        bus=bus,
        ami=RecordingAmi(),
        kb=load_kb(PROJECT / "config/kb"),
        users=users,
        clock=SystemClock(),
        police110=RecordingPolice110(),
        config=DeskConfig(wrapup_s=0),
    )
    return build_desk_app(deps), bus


async def serve_and_replay(conn: Connection, agents: int, rate: float, seconds: float) -> None:
    """The service's side, in its own process: serve the desk, replay AMI, time the pops."""
    calls = int(rate * seconds)
    app, bus = build(agents, calls)
    sent_at: dict[tuple[str, str], float] = {}
    latencies: dict[str, list[float]] = {"ringing": [], "answered": []}
    done = asyncio.Event()

    def on_rendered(r: RenderedPop) -> None:
        t0 = sent_at.get((r.linkedid, r.stage))
        if t0 is not None:
            latencies[r.stage].append(time.perf_counter() - t0)
        if sum(len(v) for v in latencies.values()) >= 2 * calls:
            done.set()

    app[DESK].pops.rendered_hooks.append(on_rendered)
    parser = AmiStreamParser()
    parser.feed(b"Asterisk Call Manager/9.0.0\r\n")

    def replay(data: bytes, key: tuple[str, str]) -> None:
        sent_at[key] = time.perf_counter()  # the bytes reach the bridge
        for message in parser.feed(data).messages:
            event = decode_event(message)
            if not isinstance(event, RawEvent):
                bus.publish(event)

    loop = asyncio.get_running_loop()
    async with serve(app) as base:
        conn.send(base)
        await loop.run_in_executor(None, conn.recv)  # the pages are logged in
        print("replaying", flush=True)
        start = loop.time() + 0.5
        for n in range(calls):
            agent = n % agents + 1
            linkedid = f"1764122400.{n}"
            loop.call_at(
                start + n / rate, replay, ami_event("AgentCalled", n, agent), (linkedid, "ringing")
            )
            loop.call_at(
                start + n / rate + 0.2,
                replay,
                ami_event("AgentConnect", n, agent, "HoldTime: 3\r\nRingTime: 1\r\n"),
                (linkedid, "answered"),
            )
            loop.call_at(
                start + n / rate + 0.7,
                replay,
                ami_event(
                    "AgentComplete", n, agent, "HoldTime: 3\r\nTalkTime: 1\r\nReason: agent\r\n"
                ),
                (linkedid, "complete"),
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), seconds + 30)
        registry = app[DESK].metrics.registry
        count = registry.get_sample_value("desk_screenpop_latency_seconds_count", {"stage": "sent"})
        total = registry.get_sample_value("desk_screenpop_latency_seconds_sum", {"stage": "sent"})
        conn.send((latencies, count or 0.0, total or 0.0, os.getloadavg()))


def server_process(conn: Connection, agents: int, rate: float, seconds: float) -> None:
    asyncio.run(serve_and_replay(conn, agents, rate, seconds))


async def browse(conn: Connection, agents: int) -> None:
    """The agents' side: one logged-in desk page per agent, then wait for the server."""
    base = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    async with chromium() as browser:
        pages = []
        for i in range(1, agents + 1):
            page = await DeskPage.open(browser, base)
            await page.login(f"agent{i:02d}", PASSWORD)
            pages.append(page)
        conn.send("go")
        result = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        for page in pages:
            await page.close()
    report(*result)


def report(
    latencies: dict[str, list[float]],
    sent_n: float,
    sent_sum: float,
    load: tuple[float, float, float],
) -> None:
    print(machine())
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in load)}")
    if sent_n:
        print(
            f"server side (event at the desk -> queued to the page's socket): "
            f"mean {1000 * sent_sum / sent_n:.2f} ms over {int(sent_n)} pops"
        )
    for stage, values in latencies.items():
        if not values:
            print(f"{stage}: no pops rendered")
            continue
        ms = [v * 1000 for v in values]
        print(
            f"{stage:9s} rendered {len(ms)}: p50 {pct(ms, 50):.1f} ms, "
            f"p95 {pct(ms, 95):.1f} ms, p99 {pct(ms, 99):.1f} ms, max {max(ms):.1f} ms, "
            f"mean {statistics.fmean(ms):.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--rate", type=float, default=30.0, help="calls per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(
        f"{args.agents} desks, {int(args.rate * args.seconds)} calls at {args.rate:g} calls/s",
        flush=True,
    )
    # The service runs in its own process, as in production: the browser driver must not
    # share its event loop.
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=server_process, args=(theirs, args.agents, args.rate, args.seconds), daemon=True
    )
    server.start()
    try:
        asyncio.run(browse(ours, args.agents))
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    main()
