"""The whole TicketStore suite, unchanged, on PostgreSQL (the `store` fixture of this
folder's conftest), plus the migration checks."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.unit.tickets.schema_checks import (
    check_downgrade_removes_everything,
    check_upgrade_matches_models,
)
from tests.unit.tickets.test_store import *  # noqa: F403  (the same tests, our `store`)

pytestmark = pytest.mark.integration


def test_pg_upgrade_head_matches_models(pg_engine: Engine) -> None:
    check_upgrade_matches_models(pg_engine)


def test_pg_downgrade_and_upgrade_again(pg_engine: Engine) -> None:
    check_downgrade_removes_everything(pg_engine)


def test_pg_runs_the_shared_suite() -> None:
    # Guard against the star import silently bringing nothing.
    names = [n for n in globals() if n.startswith("test_") and not n.startswith("test_pg_")]
    assert len(names) >= 15
