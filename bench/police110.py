"""How fast the exchange takes signed referrals and drains its outbox on this machine.

    python -m bench.police110 [--n 500]

Runs the real sub-application and a local partner on loopback, SQLite (WAL, synchronous
FULL) in a temporary folder; prints the figures and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import secrets
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from aiohttp import web

from hotline.settings import Secret
from police110.http import Police110Deps, build_police110_app
from police110.messages import OutboundReferral
from police110.partners import ExchangeConfig, Limits, OutboxPolicy, Partner
from police110.service import Exchange
from police110.store import PENDING, Police110Store

KEY = secrets.token_hex(20)


class Tickets:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_incident: dict[str, str] = {}

    def create_from_referral(self, incident_no: str, payload: Mapping[str, str]) -> str:
        with self.lock:
            return self.by_incident.setdefault(incident_no, f"T{len(self.by_incident):08d}")

    def apply_feedback(self, ticket_number: str, *, status: str, seq: int, note: str,
                       occurred_at: str, source: str) -> bool:
        return True


def _headers(path: str, body: bytes) -> dict[str, str]:
    ts, nonce = str(int(time.time())), secrets.token_hex(12)
    canonical = (f"HOTLINE-HMAC-SHA256-V1\nPOST\n{path}\n{ts}\n{nonce}\n"
                 f"{hashlib.sha256(body).hexdigest()}")
    return {"X-Partner-Id": "city-110", "X-Timestamp": ts, "X-Nonce": nonce,
            "X-Signature": hmac.new(KEY.encode(), canonical.encode(), "sha256").hexdigest(),
            "Content-Type": "application/json"}


async def _partner() -> tuple[web.AppRunner, str]:
    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"incident_no": "J" + secrets.token_hex(4)})

    app = web.Application()
    app.router.add_post("/p/referrals", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/p"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    return (f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f}")


async def main(n: int) -> None:
    partner_runner, partner_url = await _partner()
    with tempfile.TemporaryDirectory() as tmp:
        store = Police110Store.from_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.create_tables()
        config = ExchangeConfig("hotline12345", Secret(KEY),
                                {"city-110": Partner("city-110", "110", partner_url, Secret(KEY))},
                                Limits(), OutboxPolicy(batch_size=50, concurrency=8))
        exchange = Exchange(config, store, Tickets())
        root = web.Application()
        root.add_subapp("/api/110", build_police110_app(Police110Deps(exchange, run_sender=False)))
        runner = web.AppRunner(root)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/110/referrals"
        gate = asyncio.Semaphore(16)
        async with aiohttp.ClientSession() as session:
            async def refer(i: int) -> None:
                body = json.dumps({"incident_no": f"J{i}", "summary": "噪音"}).encode()
                async with gate, session.post(url, data=body,
                                              headers=_headers("/api/110/referrals", body)) as r:
                    assert r.status == 201, await r.text()

            t0 = time.perf_counter()
            await asyncio.gather(*(refer(i) for i in range(n)))
            inbound = time.perf_counter() - t0

        t0 = time.perf_counter()
        for i in range(n):
            await exchange.push_referral("city-110", OutboundReferral(f"P{i}", "盗窃", "正在发生"))
        enqueue = time.perf_counter() - t0
        from police110.outbox import OutboxSender
        async with aiohttp.ClientSession() as session:
            sender = OutboxSender(config, store, session)
            t0 = time.perf_counter()
            while store.outbox_counts()[PENDING]:
                await sender.run_once()
            drain = time.perf_counter() - t0
        await runner.cleanup()
    await partner_runner.cleanup()
    print(machine())
    print(f"inbound signed referrals: {n} in {inbound:.2f}s = {n / inbound:.0f}/s (16 concurrent)")
    print(f"outbox enqueue: {n} in {enqueue:.2f}s = {n / enqueue:.0f}/s")
    print(f"outbox drain to a local partner: {n} in {drain:.2f}s = {n / drain:.0f}/s "
          f"(batch 50, concurrency 8)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    asyncio.run(main(parser.parse_args().n))
