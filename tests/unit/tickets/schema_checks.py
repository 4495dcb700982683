"""Schema checks shared by the SQLite and PostgreSQL tests."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, MetaData, String, inspect

from tickets.migrate import alembic_config, current_revision, upgrade
from tickets.models import Base


def schema_diff(engine: Engine, metadata: MetaData = Base.metadata) -> list[Any]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                     "compare_server_default": True})
        return list(compare_metadata(ctx, metadata))


def check_upgrade_matches_models(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == "0001"
    assert schema_diff(engine) == []
    # The comparison can see a difference: a model with one more column is reported.
    extended = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        copy = table.to_metadata(extended)
        if table.name == "tickets":
            copy.append_column(Column("not_migrated", String(8)))
    diff = schema_diff(engine, extended)
    assert [d[0] for d in diff] == ["add_column"]
    assert diff[0][3].name == "not_migrated"


def check_downgrade_removes_everything(engine: Engine) -> None:
    from alembic import command

    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)  # and back
    assert schema_diff(engine) == []
