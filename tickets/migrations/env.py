"""Alembic environment: the engine comes from tickets.migrate or HOTLINE_DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Engine

from tickets.engine import make_engine
from tickets.models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    url = os.environ.get("HOTLINE_DATABASE_URL", "")
    if not url:
        raise SystemExit("set HOTLINE_DATABASE_URL (e.g. sqlite:///var/hotline.db)")
    return make_engine(url)


def run_migrations_offline() -> None:
    context.configure(url=os.environ.get("HOTLINE_DATABASE_URL", "sqlite://"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds the table.
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
