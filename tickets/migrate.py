"""Alembic, configured in code: no alembic.ini to keep in sync with the settings.

`upgrade(engine)` brings a database to the latest schema; the service runs it at start-up
(or the lead's `hotline db upgrade` verb). `alembic -c tickets/alembic.ini ...` works too,
for developers writing a new revision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # env.py uses this engine; passing it (not its URL) keeps passwords out of config
    # strings and avoids ConfigParser's '%' interpolation.
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
