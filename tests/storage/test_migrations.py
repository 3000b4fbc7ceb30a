"""The Alembic migrations build exactly the schema the models declare, and can be undone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import _alembic_config, declared_head, open_database
from storage.models import Base
from storage.search import is_index_table


def _schema_diff(db) -> list:  # type: ignore[no-untyped-def]
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, *_: not (
                    type_ == "table" and (name == "apscheduler_jobs" or is_index_table(name))
                ),
            },
        )
        return compare_metadata(context, Base.metadata)


def test_migrations_match_the_models_and_downgrade_cleanly(db_url: str) -> None:
    db = open_database(db_url)
    assert _schema_diff(db) == []
    config = _alembic_config(db_url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.dispose()
    again = open_database(db_url)  # and back up on the next open
    assert _schema_diff(again) == []
    again.dispose()


def test_the_head_read_from_the_files_is_alembics(db_url: str) -> None:
    """open_database's fast path (no alembic import) decides "newest schema" as alembic would."""
    head = ScriptDirectory.from_config(_alembic_config(db_url)).get_current_head()
    assert declared_head() == head
    db = open_database(db_url)
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
    db.dispose()


def test_a_database_one_migration_behind_is_brought_to_the_head(db_url: str) -> None:
    db = open_database(db_url)
    config = _alembic_config(db_url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() != declared_head()
    db.dispose()
    again = open_database(db_url)
    with again.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == declared_head()
    assert _schema_diff(again) == []
    again.dispose()
