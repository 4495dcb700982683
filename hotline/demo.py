"""`hotline demo`: a few calls into the sandbox, so a newcomer watches tickets pop up.

With `hotline run` running and agent1001 logged in to the desk (http://127.0.0.1:8080/desk/,
password demo12345, lines ticked), the demo starts sipp phones for agents 1001 and 1002
that answer after two rings, then places calls whose callers press the keys of one line
each. Each call goes through the IVR, gets its ticket, and rings the agent: the ticket
pops up on the desk.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import tempfile
import urllib.request
from pathlib import Path

from hotline.keycalls import UAS_SCENARIO, key_caller_scenario
from hotline.settings import Settings

# (keys pressed, line reached, caller number, caller name)
DEMO_CALLS = [
    ("2", "property", "13905581234", "王女士"),
    ("1", "enterprise", "13805587788", "亳州药业李经理"),
    ("31", "hr_social_security", "15055889900", "张师傅"),
    ("4", "market_regulation", "18655883344", "刘先生"),
]
AGENT_PHONES = [("1001", 5081), ("1002", 5082)]


def _service_up(settings: Settings) -> bool:
    url = f"http://{settings.http.host}:{settings.http.port}/status"
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


async def _sipp(*args: str) -> asyncio.subprocess.Process:
    sipp = shutil.which("sipp")
    if sipp is None:
        raise SystemExit("sipp not found: apt-get install sip-tester")
    return await asyncio.create_subprocess_exec(
        sipp,
        *args,
        "-nostdin",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def run_demo(settings: Settings, calls: int, gap: float) -> int:
    if not _service_up(settings):
        print("服务未运行: 请先运行 hotline run (service not running: start `hotline run` first)")
        return 1
    print("请在浏览器打开 http://127.0.0.1:8080/desk/ ，以 agent1001 / demo12345 登录并勾选专线。")
    print("(open the desk, log in as agent1001 / demo12345 and tick the lines)")
    with tempfile.TemporaryDirectory(prefix="hotline-demo-") as tmp:
        work = Path(tmp)
        phones = [
            await _sipp(
                "-sf",
                str(UAS_SCENARIO),
                "-s",
                user,
                "-i",
                "127.0.0.1",
                "-p",
                str(port),
                "-mp",
                str(6600 + 4 * i),
                "-d",
                "2000",
            )
            for i, (user, port) in enumerate(AGENT_PHONES)
        ]
        callers = []
        try:
            for i, (keys, line, number, name) in enumerate(DEMO_CALLS[:calls]):
                scenario = key_caller_scenario(work / f"call{i}", keys, duration=25)
                csv = work / f"call{i}" / "caller.csv"
                csv.write_text(f"SEQUENTIAL\n{number};{name}\n", encoding="utf-8")
                print(f"来电 {i + 1}: {name} 按 {keys} -> {line}")
                callers.append(
                    await _sipp(
                        "127.0.0.1:5060",
                        "-sf",
                        str(scenario),
                        "-inf",
                        str(csv),
                        "-s",
                        "12345",
                        "-i",
                        "127.0.0.1",
                        "-p",
                        str(5300 + i),
                        "-mp",
                        str(7600 + 4 * i),
                        "-m",
                        "1",
                        "-d",
                        "20000",
                    )
                )
                await asyncio.sleep(gap)
            await asyncio.gather(*(c.wait() for c in callers))
        finally:
            for proc in phones + callers:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGUSR1)
            await asyncio.gather(*(p.wait() for p in phones + callers), return_exceptions=True)
    print("演示结束 (demo finished): 工单见坐席工作台 / tickets are on the desk")
    return 0


def demo_main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="hotline demo")
    parser.add_argument("--calls", type=int, default=len(DEMO_CALLS))
    parser.add_argument("--gap", type=float, default=8.0, help="seconds between calls")
    args = parser.parse_args(argv)
    return asyncio.run(run_demo(settings, args.calls, args.gap))
