"""Routing latency: p50/p99 of Router.route() over the dev set, warm.

    python -m bench.routing [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from hotline.settings import Settings
from routing.evaluate import read_rows
from routing.service import DEV_SET, build_router


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    router = build_router(Settings())
    built = time.perf_counter() - started
    started = time.perf_counter()
    router.warm()
    warmed = time.perf_counter() - started
    texts = [row["text"] for row in read_rows(DEV_SET)]
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(args.rounds):
        for text in texts:
            c0 = time.process_time()
            t0 = time.perf_counter()
            router.route(text)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"router built in {built:.2f} s, warmed in {warmed:.2f} s")
    print(f"route(): {len(wall)} calls over {len(texts)} utterances x {args.rounds} rounds")
    # Wall time includes waiting for a core on a shared machine; CPU time does not.
    for name, values in (("wall", wall), ("cpu ", cpu)):
        values.sort()
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"{name}: p50 {statistics.median(values):.2f} ms   p99 {p99:.2f} ms   "
              f"max {values[-1]:.2f} ms")


if __name__ == "__main__":
    main()
