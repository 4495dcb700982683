"""IVR load on the sandbox: `python -m bench.ivr_load [--calls 200] [--rate 20] [--hold 18]`.

Real SIP callers (sipp, one process per key route) press RFC 4733 keys through the
real menus of config/ivr.yaml, served by the IVR's FastAGI server running in this
process; every queue is staffed with a stand-in agent so each call must join the
queue its keys lead to. Printed: failed calls (sipp failures, calls that never
joined a queue, calls in the wrong queue), peak simultaneous calls, p50/p95 of SIP
set-up time (INVITE -> 200 OK), new channel -> IVR and answer -> queue join, CPU seconds of
Asterisk, this process (IVR + AMI reader) and sipp, with the machine it ran on.
Needs `hotline sandbox up` first (as root).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from hotline.keycalls import key_caller_scenario
from hotline.sandbox import sandbox_status
from hotline.settings import Settings, load_settings
from tests.integration.ivr.harness import (
    ROUTES,
    AmiEvents,
    running_ivr,
    sipp_ports,
    staffed,
)
from tests.integration.sipp import SippProcess, _spawn, write_callers_csv

AGENT = "Local/agent@ivr-test-agent/n"
BENCH_ROUTES = {**ROUTES, "**1": "enterprise", "3*2": "property"}


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def start_route(tmp: Path, index: int, keys: str, numbers: list[str], rate: float,
                      hold_ms: int) -> SippProcess:
    workdir = tmp / f"route{index}"
    scenario = key_caller_scenario(workdir / "pcap", keys, duration=hold_ms / 1000)
    write_callers_csv(workdir / "callers.csv", [(n, "压测") for n in numbers])
    sip_port, media_port = sipp_ports(index)
    return await _spawn(f"route{index}", workdir, [
        "127.0.0.1:5060", "-sf", str(scenario), "-inf", str(workdir / "callers.csv"),
        "-s", "12345", "-i", "127.0.0.1", "-p", str(sip_port), "-mp", str(media_port),
        "-m", str(len(numbers)), "-l", str(len(numbers)), "-r", f"{rate:.3f}", "-rp", "1000",
        "-d", str(hold_ms), "-trace_rtt", "-rtt_freq", "1",
    ])


def sip_setup_ms(workdir: Path) -> list[float]:
    """Per-call INVITE -> 200 OK times from sipp's -trace_rtt files."""
    out: list[float] = []
    for path in workdir.glob("*_rtt.csv"):
        for line in path.read_text().splitlines()[1:]:
            parts = line.split(";")
            with contextlib.suppress(IndexError, ValueError):
                out.append(float(parts[1]))
    return out


async def run(settings: Settings, calls: int, rate: float, hold: float) -> int:
    status = sandbox_status(settings)
    if not status.up or status.pid is None:
        print("the sandbox Asterisk is not running: run `hotline sandbox up` (as root) first")
        return 2
    routes = list(BENCH_ROUTES.items())
    per_route: list[list[str]] = [[] for _ in routes]
    expected: dict[str, str] = {}
    for i in range(calls):
        r = i % len(routes)
        number = f"1370{i:07d}"
        per_route[r].append(number)
        expected[number] = routes[r][1]
    with TemporaryDirectory(prefix="ivr-load-") as tmp_name:
        tmp = Path(tmp_name)
        async with AmiEvents.connect(settings) as ami, running_ivr(settings), \
                staffed(ami, AGENT):
            ast0, me0 = proc_cpu_seconds(status.pid), time.process_time()
            t0 = time.monotonic()
            sipps = []
            for index, ((keys, _), numbers) in enumerate(zip(routes, per_route, strict=True)):
                if numbers:
                    sipps.append(await start_route(tmp, index, keys, numbers,
                                                   rate * len(numbers) / calls,
                                                   int(hold * 1000)))
                    await asyncio.sleep(1 / rate)
            results = [await s.wait(calls / rate + hold + 120) for s in sipps]
            wall = time.monotonic() - t0
            await asyncio.sleep(1)
            ast_cpu = proc_cpu_seconds(status.pid) - ast0
            me_cpu = time.process_time() - me0
            events = list(ami.events)
        sipp_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        setup = [v for s in sipps for v in sip_setup_ms(s.workdir)]

    joins: dict[str, dict[str, str]] = {}
    born: dict[str, float] = {}
    agi_at: dict[str, float] = {}
    ended: dict[str, float] = {}
    for e in events:
        number = e.get("CallerIDNum", "")
        if number not in expected or not e.get("Channel", "").startswith("PJSIP/callers"):
            continue
        stamp = float(e.get("Timestamp", "0"))
        if e.get("Event") == "Newchannel":
            born[number] = stamp
        elif e.get("Event") == "QueueCallerJoin" and number not in joins:
            joins[number] = e
        elif e.get("Event") == "Newexten" and e.get("Application") == "AGI":
            agi_at.setdefault(number, stamp)
        elif e.get("Event") == "Hangup":
            ended[number] = stamp
    wrong = [n for n, e in joins.items() if e.get("Queue") != expected[n]]
    missing = [n for n in expected if n not in joins]
    sipp_failed = sum(r.failed for r in results)
    to_agi = [(agi_at[n] - born[n]) * 1000 for n in agi_at if n in born]
    to_queue = [float(joins[n]["Timestamp"]) - born[n] for n in joins if n in born]
    marks = sorted([(t, 1) for t in born.values()] + [(t, -1) for t in ended.values()])
    live = peak = 0
    for _, step in marks:
        live += step
        peak = max(peak, live)

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{status.version.split(' built')[0]}")
    print(f"calls: {calls} at {rate:g}/s over {len(sipps)} key routes, each held {hold:g} s; "
          f"wall {wall:.1f} s")
    print(f"failed calls: {sipp_failed + len(missing) + len(wrong)} "
          f"(sipp failed {sipp_failed}, never joined a queue {len(missing)}, "
          f"wrong queue {len(wrong)})")
    print(f"peak simultaneous calls: {peak}")
    print(f"SIP set-up INVITE->200 OK ms: p50 {pct(setup, 0.5):.1f}  p95 {pct(setup, 0.95):.1f}"
          f"  (n={len(setup)})")
    print(f"new channel->IVR (AGI) ms: p50 {pct(to_agi, 0.5):.1f}  p95 {pct(to_agi, 0.95):.1f}")
    print(f"answer->queue join s (keys at 1.5 s/+2.5 s, transfer and recording notices "
          f"included): p50 {pct(to_queue, 0.5):.2f}  p95 {pct(to_queue, 0.95):.2f}  "
          f"max {max(to_queue, default=float('nan')):.2f}")
    by_route = {}
    for (keys, queue), numbers in zip(routes, per_route, strict=True):
        times = [float(joins[n]["Timestamp"]) - born[n] for n in numbers
                 if n in joins and n in born]
        by_route[keys] = f"{queue} {statistics.median(times):.2f}s" if times else f"{queue} -"
    print("median per route: " + ", ".join(f"{k}->{v}" for k, v in by_route.items()))
    print(f"CPU s: asterisk {ast_cpu:.1f}, this process (IVR+AMI reader) {me_cpu:.1f}, "
          f"sipp {sipp_cpu.ru_utime + sipp_cpu.ru_stime:.1f}")
    for result in results:
        if not result.ok:
            print(result.describe())
    return 0 if sipp_failed + len(missing) + len(wrong) == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--hold", type=float, default=18.0,
                        help="seconds each caller stays on after the answer")
    args = parser.parse_args()
    path = os.environ.get("HOTLINE_CONFIG")
    settings = load_settings(Path(path) if path else None)
    raise SystemExit(asyncio.run(run(settings, args.calls, args.rate, args.hold)))


if __name__ == "__main__":
    main()
