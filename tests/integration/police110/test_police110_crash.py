"""The stand-alone sender killed with SIGKILL mid-send loses nothing once restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from police110.messages import OutboundReferral
from police110.store import DEAD, DELIVERED, PENDING, Police110Store
from tests.integration.police110.police110_testkit import (
    PARTNER_ID,
    PARTNER_KEY,
    SELF_KEY,
    Fake110,
    Faults,
)

PROJECT = Path(__file__).resolve().parents[3]
N = 30

PARTNERS_YAML = """\
self:
  id: hotline12345
  key_env: TEST_SELF_KEY
outbox:
  max_attempts: 50
  backoff_initial_s: 0.1
  backoff_max_s: 0.5
  request_timeout_s: 1.5
  batch_size: 4
  concurrency: 2
  poll_interval_s: 0.2
partners:
  - id: city-110
    name: 测试110
    base_url: http://127.0.0.1:9/unused
    key_env: TEST_PARTNER_KEY
"""


def _start_worker(db_url: str, partners: Path, partner_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TEST_SELF_KEY": SELF_KEY, "TEST_PARTNER_KEY": PARTNER_KEY}
    return subprocess.Popen(
        [sys.executable, "-m", "police110.worker_main", "--db", db_url, "--partners",
         str(partners), "--partner-url", f"{PARTNER_ID}={partner_url}", "--log-level",
         "WARNING"],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


async def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen[bytes]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise AssertionError(f"worker exited with {proc.returncode} while waiting for "
                                 f"{what}:\n{out}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.mark.integration
async def test_sigkill_mid_send_then_restart_delivers_everything(tmp_path):
    partner = Fake110(Faults(slow_s=0.4))
    await partner.start()
    db_url = f"sqlite:///{tmp_path / 'exchange.db'}"
    partners = tmp_path / "partners.yaml"
    partners.write_text(PARTNERS_YAML, encoding="utf-8")
    store = Police110Store.from_url(db_url)
    store.create_tables()
    for i in range(N):
        store.enqueue_referral(PARTNER_ID, f"P{i:05d}",
                               OutboundReferral(f"P{i:05d}", "盗窃", f"正在发生 {i}").body)
    worker = _start_worker(db_url, partners, partner.base_url)
    try:
        # Kill while requests are in flight and after some were delivered.
        await _wait(lambda: len(partner.applied) >= 4 and partner.in_flight > 0, 30,
                    "sends in flight", worker)
        in_flight_at_kill = {k for k, n in partner.received.items() if k not in partner.applied}
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert worker.returncode == -signal.SIGKILL
        assert in_flight_at_kill, "the kill should land in the middle of a send"
        assert store.outbox_counts()[PENDING] > 0, "the kill came too late to prove anything"

        worker = _start_worker(db_url, partners, partner.base_url)
        await _wait(lambda: store.outbox_counts()[PENDING] == 0, 60, "the outbox to drain",
                    worker)
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
        assert worker.returncode == 0

        assert store.outbox_counts() == {PENDING: 0, DELIVERED: N, DEAD: 0}
        ids = {m.message_id for m in store.messages()}
        assert set(partner.applied) == ids
        assert set(partner.apply_count.values()) == {1}
        # What was in flight when the process died was sent again after the restart.
        assert all(partner.received[k] >= 2 for k in in_flight_at_kill)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        await partner.stop()
