"""Engines for the ticket store: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

WRITE_OPTION = "hotline_write"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalize_url(url: str | URL) -> URL:
    """`postgresql://` means psycopg 3 here (psycopg2 is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_setup(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (below); pysqlite's own implicit BEGIN is deferred,
        # which makes a read-then-write transaction fail with "database is locked"
        # instead of waiting for busy_timeout.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (waiting up to busy_timeout); readers never
        # block anyone under WAL.
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def make_engine(url: str | URL, *, sqlite_synchronous: str = "FULL", echo: bool = False) -> Engine:
    """An engine with our connection settings.

    SQLite: journal_mode=WAL, foreign_keys=ON, busy_timeout, synchronous (FULL by default:
    a committed ticket survives a power cut; NORMAL is faster and only risks the last
    commits on power loss, never corruption).
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)  # e.g. ./var
        if sqlite_synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"bad synchronous mode {sqlite_synchronous!r}")
        engine = create_engine(parsed, echo=echo)
        _sqlite_setup(engine, sqlite_synchronous.upper())
        return engine
    return create_engine(parsed, echo=echo, pool_pre_ping=True)


def writer(engine: Engine) -> Engine:
    """The same engine (shared pool) whose transactions take the write lock at BEGIN."""
    return engine.execution_options(**{WRITE_OPTION: True})


def reader(engine: Engine) -> Engine:
    """The engine for read-only methods.

    PostgreSQL: autocommit, so a lookup is one round trip instead of BEGIN, SELECT,
    COMMIT (each statement still sees a consistent snapshot). SQLite: unchanged (a
    deferred BEGIN costs nothing there and never blocks under WAL).
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine
