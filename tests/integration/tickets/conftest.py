"""PostgreSQL for the ticket store tests: the server scripts/postgres-test.sh starts,
named by HOTLINE_TEST_PG_URL (postgresql+psycopg://postgres@127.0.0.1:55432/hotline_test).

No URL means the test FAILS (never skips): CI must run these against a real server.
The tests work in a database of their own (created on that server, dropped at the end)
so resetting the schema between tests never touches other suites' tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from tests.unit.tickets.storekit import FakeClock, build_store
from tickets.engine import make_engine
from tickets.store import TicketStore

PG_ENV = "HOTLINE_TEST_PG_URL"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    url = os.environ.get(PG_ENV, "")
    if not url:
        pytest.fail(f"{PG_ENV} is not set: start PostgreSQL with scripts/postgres-test.sh "
                    f"(sourced by scripts/test.sh), which exports {PG_ENV}", pytrace=False)
    name = f"hotline_tickets_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"cannot create a test database on {PG_ENV}: {exc}", pytrace=False)
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(pg_engine: Engine, clock: FakeClock) -> Iterator[TicketStore]:
    s = build_store(pg_engine, clock)
    yield s
    s.close()
