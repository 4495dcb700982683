from __future__ import annotations

import pytest

from police110.store import Police110Store
from tests.unit.police110.police110_unitkit import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock) -> Police110Store:  # type: ignore[no-untyped-def]
    s = Police110Store.from_url(f"sqlite:///{tmp_path / 'p110.db'}", clock)
    s.create_tables()
    return s
