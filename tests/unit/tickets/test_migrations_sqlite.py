"""Alembic on an empty SQLite file gives exactly the models' schema; connection pragmas."""

from __future__ import annotations

from sqlalchemy import text

from tickets.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine

from .schema_checks import check_downgrade_removes_everything, check_upgrade_matches_models


def test_upgrade_head_matches_models(db_url: str) -> None:
    check_upgrade_matches_models(make_engine(db_url))


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    check_downgrade_removes_everything(make_engine(db_url))


def test_sqlite_pragmas_on_every_connection(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_foreign_keys_enforced(db_url: str) -> None:
    import datetime as dt

    import pytest
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from tickets.migrate import upgrade
    from tickets.models import AuditEntry

    engine = make_engine(db_url)
    upgrade(engine)
    with pytest.raises(IntegrityError), Session(engine) as s, s.begin():
        s.add(AuditEntry(ticket_id=12345, who="x", at=dt.datetime.now(dt.UTC), field="f"))
