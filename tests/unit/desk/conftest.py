"""Fixtures: the real desk app built on in-memory ports, driven through aiohttp's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from desk.app import build_desk_app
from desk.config import DeskConfig, TransferTarget
from desk.kb import load_kb
from desk.memory import InMemoryTicketStore, RecordingAmi, RecordingPolice110
from desk.ports import Entity, TicketRecord
from desk.services import DESK, Desk, DeskDeps
from desk.users import User, UserDirectory
from hotline.bus import EventBus

PROJECT = Path(__file__).resolve().parents[3]
PASSWORD = "correct horse 12345"
# Cheap argon2 parameters: the tests check the logic, not the cost.
HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


class FakeClock:
    def __init__(self) -> None:
        self.wall = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


def make_users() -> UserDirectory:
    h = HASHER.hash(PASSWORD)
    return UserDirectory(
        [
            User("agent1001", "坐席 张敏", "agent", h, "PJSIP/1001", ("property", "general")),
            User(
                "agent1002",
                "坐席 李静",
                "agent",
                h,
                "PJSIP/1002",
                ("hr_social_security", "general"),
            ),
            User("supervisor", "班长 陈红", "supervisor", h),
            User("admin", "管理员", "admin", h),
        ],
        hasher=HASHER,
    )


def make_ticket(
    number: str = "20261126-0001",
    call_id: str = "1764122400.10",
    caller: str = "13800138000",
    **kw: object,
) -> TicketRecord:
    values: dict[str, object] = dict(
        number=number,
        created_at=datetime(2026, 11, 26, 1, 59, tzinfo=UTC),
        caller_number=caller,
        transcript="俺们小区物业费今年又涨了 物业公司乱收费 也不公示收费标准",
        line="property",
        kind="complaint",
        sla_days=7,
        call_id=call_id,
        confidence=0.86,
        explanation=("物业费 -> property (+3.0)", "乱收费 -> complaint"),
        entities=(Entity("address", "谯城区幸福路阳光小区"),),
        address="谯城区幸福路阳光小区",
        ivr_path="1>speech",
    )
    values.update(kw)
    return TicketRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tickets() -> InMemoryTicketStore:
    store = InMemoryTicketStore()
    store.add(make_ticket())
    # An earlier call from the same number: the pop must show it as history.
    store.add(
        make_ticket(
            "20261120-0042",
            "1763600000.1",
            transcript="楼上漏水 物业不管",
            created_at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
            status="dispatched",
        )
    )
    return store


@pytest.fixture
def ami() -> RecordingAmi:
    return RecordingAmi()


@pytest.fixture
def police110() -> RecordingPolice110:
    return RecordingPolice110()


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def deps(
    tickets: InMemoryTicketStore,
    ami: RecordingAmi,
    police110: RecordingPolice110,
    bus: EventBus,
    clock: FakeClock,
    tmp_path: Path,
) -> DeskDeps:
    return DeskDeps(
        tickets=tickets,
        bus=bus,
        ami=ami,
        kb=load_kb(PROJECT / "config" / "kb"),
        users=make_users(),
        clock=clock,
        police110=police110,
        config=DeskConfig(
            wrapup_s=0.05,
            specialists=(TransferTarget("legal", "法律咨询专席", "desk-transfer", "2001"),),
        ),
        recordings_dir=tmp_path,
    )


@pytest.fixture
async def app_client(deps: DeskDeps) -> AsyncIterator[TestClient[object, object]]:
    app = build_desk_app(deps)
    client: TestClient[object, object] = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


def desk_of(client: TestClient[object, object]) -> Desk:
    return client.server.app[DESK]  # type: ignore[union-attr]


async def login(client: TestClient[object, object], username: str, password: str = PASSWORD) -> str:
    """Log in; returns the CSRF token."""
    resp = await client.post("/api/login", json={"username": username, "password": password})
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["csrf"])


@asynccontextmanager
async def another_client(
    client: TestClient[object, object], username: str
) -> AsyncIterator[TestClient[object, object]]:
    """A second browser (own cookies) on the same running server, logged in as `username`."""
    other: TestClient[object, object] = TestClient(client.server)
    await other.start_server()  # no-op: the server is already running
    try:
        await login(other, username)
        yield other
    finally:
        await other.session.close()  # not other.close(): that would stop the shared server
