"""Alembic environment: runs on the connection storage.db hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from storage.models import Base
from storage.search import is_index_table

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # `alembic` command line (development): open our own connection.
        engine = engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        with engine.begin() as connection:
            _run(connection)
        return
    _run(connection)


# APScheduler owns this table's layout; migration 0002 only creates it early.
_FOREIGN_TABLES = {"apscheduler_jobs"}


def _include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    # The search index is raw DDL (FTS5 / tsvector), built by migration 0012, not a model.
    return not (type_ == "table" and (name in _FOREIGN_TABLES or is_index_table(name)))


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        # SQLite cannot ALTER most things in place; batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
