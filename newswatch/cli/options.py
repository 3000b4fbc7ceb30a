"""Options shared by every command, declared once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from storage.db import Database, DatabaseError, sqlite_file

_DB_HELP = "SQLAlchemy database URL (default: an SQLite file; see `newswatch info`)."
#: ``newswatch --db URL COMMAND``: the root reads NEWSWATCH_DB when no --db is typed.
RootDbOption = Annotated[
    str | None, typer.Option("--db", envvar="NEWSWATCH_DB", help=_DB_HELP, show_default=False)
]
#: ``newswatch COMMAND --db URL``: typed only.  Were NEWSWATCH_DB read here as well, its
#: value would override a --db typed before the command (which the root already holds).
DbOption = Annotated[
    str | None,
    typer.Option("--db", help=f"{_DB_HELP} [env var: NEWSWATCH_DB]", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
#: Largest id a database row can have (a signed 64-bit integer in SQLite and PostgreSQL):
#: a bigger one is refused by the option parser, naming the value, before any query.
MAX_ID = 2**63 - 1


def _id_in_range(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_ID:
        raise typer.BadParameter(f"{value} is not an id (ids are 1 to {MAX_ID})")
    return value


IdArgument = Annotated[int, typer.Argument(metavar="ID", callback=_id_in_range)]


@dataclass
class AppState:
    db_url: str
    config_path: Path | None
    verbose: bool
    _db: Database | None = None

    def database(self, *, existing: bool = False) -> Database:
        """The open, migrated database, or a clean exit with the reason.

        ``existing``, for commands that only read: an SQLite file that is not there is
        refused rather than created empty, since it is most often a mistyped --db.
        """
        if self._db is None:
            from newswatch.cli.render import fail
            from newswatch.databases import database

            try:
                if existing and (path := sqlite_file(self.db_url)) and not path.exists():
                    fail(f"no database at {path}: nothing has been recorded there "
                         "(`newswatch replay` or `newswatch crawl` creates it)")  # fmt: skip
                    raise typer.Exit(2)
                self._db = database(self.db_url)
            except DatabaseError as exc:
                fail(str(exc))
                raise typer.Exit(2) from None
        return self._db


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState)
    return obj


def with_db(ctx: typer.Context, db: str | None) -> AppState:
    """The app state, with a command-level --db applied over the root one."""
    current = state(ctx)
    if db:
        current.db_url = db
    return current


@contextmanager
def storage_errors() -> Iterator[None]:
    """A database that fails mid-command (locked, full, gone) ends it with one line, exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from newswatch.cli.render import fail

    try:
        yield
    except SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
        fail(f"database error: {first}")
        raise typer.Exit(2) from None


@contextmanager
def output_errors(path: Path) -> Iterator[None]:
    """Writing ``--output`` (a missing folder, a directory, a full disk) fails with one line, exit 2."""
    from newswatch.cli.render import fail

    try:
        yield
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
        raise typer.Exit(2) from None
