from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tickets.engine import make_engine
from tickets.store import TicketStore

from .storekit import FakeClock, build_store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tickets.db'}"


@pytest.fixture
def store(db_url: str, clock: FakeClock) -> Iterator[TicketStore]:
    s = build_store(make_engine(db_url), clock)
    yield s
    s.close()
