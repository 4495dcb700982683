"""AMI ingest throughput: our whole path vs panoramisk 1.4's own protocol, same capture, same run.

    python -m bench.ami_ingest [--capture FILE] [--rounds N] [--chunk 4096]

Ours: bytes -> AmiStreamParser -> decode_event (frozen dataclasses) -> CallTracker ->
EventBus. Panoramisk: bytes -> AMIProtocol.data_received -> Message -> a no-op dispatch
(parse only). Both run pinned to one core, interleaved round by round so machine noise
hits both alike; the ratio is what to read.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from panoramisk.ami_protocol import AMIProtocol

from ami_bridge.events import RawEvent, decode_event
from ami_bridge.parser import AmiStreamParser
from ami_bridge.tracker import CallTracker
from hotline.bus import EventBus

DEFAULT_CAPTURE = Path(__file__).resolve().parent.parent / "tests/fixtures/ami/sandbox-calls.ami"


def chunks_of(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def ours(chunks: list[bytes]) -> int:
    parser = AmiStreamParser()
    tracker = CallTracker(time.monotonic)
    bus = EventBus()
    sub = bus.subscribe(maxsize=100_000)
    count = 0
    for chunk in chunks:
        for message in parser.feed(chunk).messages:
            event = decode_event(message)
            tracker.apply(event)
            if not isinstance(event, RawEvent):
                bus.publish(event)
            count += 1
    sub.close()
    return count


class _NullFactory:
    """What AMIProtocol needs of a Manager to parse."""

    save_stream = None


class _NullTransport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def panoramisk_parse_only(chunks: list[bytes]) -> int:
    proto = AMIProtocol()
    proto.connection_made(_NullTransport())
    proto.factory = _NullFactory()
    proto.encoding = "utf8"
    proto.log.disabled = True
    parsed: list[Any] = []
    # Parse only: every Message it builds is counted, none is dispatched.
    proto.handle_message = parsed.append
    for chunk in chunks:
        proto.data_received(chunk)
    return len(parsed)


def timed(fn: Callable[[list[bytes]], int], chunks: list[bytes]) -> tuple[int, float]:
    start = time.perf_counter()
    n = fn(chunks)
    return n, time.perf_counter() - start


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}; {os.cpu_count()} cores; Python {platform.python_version()}; {platform.platform()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture", type=Path, default=DEFAULT_CAPTURE)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=20, help="capture copies per round")
    ap.add_argument("--chunk", type=int, default=4096)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    data = args.capture.read_bytes()
    banner_end = data.find(b"\r\n") + 2 if data.startswith(b"Asterisk Call Manager/") else 0
    body = data[banner_end:]
    chunks = chunks_of(data[:banner_end] + body * args.repeat, args.chunk)
    rates: dict[str, list[float]] = {"ours": [], "panoramisk": []}
    counts: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, fn in (("ours", ours), ("panoramisk", panoramisk_parse_only)):
            n, secs = timed(fn, chunks)
            counts[name] = n
            rates[name].append(n / secs)
    print(f"machine: {machine()}")
    print(
        f"capture: {args.capture.name}, {len(data)} bytes x {args.repeat}, "
        f"{args.chunk}-byte reads, {args.rounds} rounds, one core"
    )
    print(f"messages per round: ours {counts['ours']}, panoramisk events {counts['panoramisk']}")
    for name in ("ours", "panoramisk"):
        med = statistics.median(rates[name])
        low, high = min(rates[name]), max(rates[name])
        print(f"{name:>11}: median {med:,.0f} msg/s (min {low:,.0f}, max {high:,.0f})")
    ratio = statistics.median(rates["ours"]) / statistics.median(rates["panoramisk"])
    print("ratio ours(parse+decode+track+publish) / panoramisk(parse only): "
          f"{ratio:.2f}x (target >= 2x)")


if __name__ == "__main__":
    main()
