"""Engines and sessions: SQLite (the default) and PostgreSQL, migrated on open."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from storage import search
from storage.textsearch import TOKENIZER_VERSION

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

#: Seconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30
#: How often a write transaction is tried when the database is busy or a deadlock was detected.
WRITE_ATTEMPTS = 5
# Messages of errors that go away when the transaction is simply run again.
_TRANSIENT = ("database is locked", "deadlock", "could not serialize", "busy")
T = TypeVar("T")
_WRITE_OPTION = "newswatch_write"


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message says why, in one line."""


@dataclass(frozen=True)
class Database:
    """An open, migrated database: one engine, a read and a write session factory."""

    url: str
    engine: Engine
    read_session: sessionmaker[Session]
    write_session: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


def write_transaction(db: Database, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one write transaction, retried with backoff on lock contention."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with db.write_session() as session, session.begin():
                return work(session)
        except DBAPIError as exc:
            message = str(exc.orig if exc.orig is not None else exc)
            if attempt == WRITE_ATTEMPTS or not any(m in message.lower() for m in _TRANSIENT):
                raise
            delay = 0.05 * 2**attempt
            logger.info("database busy (%s); retrying in %.2fs", message.strip().splitlines()[0], delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _parse_url(url: str) -> URL:
    """The URL as SQLAlchemy reads it, or a DatabaseError that says what is wrong with it."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {url!r} ({exc})") from None
    if parsed.drivername == "postgresql":
        # psycopg 3 is the driver we install; plain postgresql:// would ask for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect, bring the schema to the newest migration, and return session factories."""
    parsed = _parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(url)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except NoSuchModuleError:
        raise DatabaseError(f"unknown database kind {parsed.drivername!r} in {url!r}") from None
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"no driver for {parsed.drivername}: {exc.name} is not installed "
            "(pip install 'newswatch[postgres]')"
        ) from None
    if migrate:
        try:
            _migrate(engine, url)
        except Exception as exc:
            engine.dispose()
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseError(f"cannot open {parsed.render_as_string(hide_password=True)}: {first_line}") from exc
    writer = engine.execution_options(**{_WRITE_OPTION: True})
    return Database(
        url=url,
        engine=engine,
        read_session=sessionmaker(engine, expire_on_commit=False),
        write_session=sessionmaker(writer, expire_on_commit=False),
    )


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names; None for another database, ``:memory:`` or a ``file:`` URI.

    Raises :class:`DatabaseError` for a URL that is not a database URL.
    """
    parsed = _parse_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database).expanduser()


def _sqlite_engine(url: str) -> Engine:
    path = sqlite_file(url)
    if path is not None:
        try:
            # Private by default: the database holds what was crawled, and who crawled it.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        except OSError as exc:
            reason = f"{path.parent} is not a folder" if path.parent.is_file() else exc.strerror or str(exc)
            raise DatabaseError(f"cannot create the SQLite database {path}: {reason}") from None
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Take transaction control away from pysqlite, which would not BEGIN
        # before reads; we emit BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        # 32 MiB of page cache (the default is 2 MiB): index pages of a large store stay hot.
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with
        # "database is locked" when another writer committed in between: the busy
        # handler is not consulted for the lock upgrade.  Writers therefore take
        # the write lock up front.
        if connection.get_execution_options().get(_WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


def _alembic_config(url: str) -> Config:
    # alembic is imported only where a schema is migrated or checked (see _migrate).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("storage") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _migrate(engine: Engine, url: str) -> None:
    # The usual case, a database at the newest schema, is decided without alembic: importing
    # it (with mako and pygments) cost 0.13 CPU s of every short command.
    head = declared_head()
    current = _stamped_revision(engine)
    if head is not None and current == head:
        if not _search_index_current(engine):
            with _migration_lock(engine, url), engine.begin() as connection:
                search.rebuild_if_stale(connection)
        return
    from alembic import command
    from alembic.script import ScriptDirectory

    config = _alembic_config(url)
    head = ScriptDirectory.from_config(config).get_current_head()
    with _migration_lock(engine, url), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        search.rebuild_if_stale(connection)
    logger.info("database migrated from %s to %s", current or "empty", head)


_REVISION_LINE = re.compile(r"""^(revision|down_revision)\b[^=\n]*=\s*['"]([^'"\n]+)['"]""", re.MULTILINE)


@functools.cache
def declared_head() -> str | None:
    """The newest migration, read from the ``revision``/``down_revision`` lines of the files.

    None unless the files form one chain with one head: alembic decides then.  A test holds
    this to alembic's own answer.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (files("storage") / "migrations" / "versions").iterdir():
        if not script.name.endswith(".py"):
            continue
        found = dict(_REVISION_LINE.findall(script.read_text(encoding="utf-8")))
        if "revision" not in found:
            return None
        revisions.add(found["revision"])
        if "down_revision" in found:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stamped_revision(engine: Engine) -> str | None:
    """The database's schema revision; None when it has none (new) or cannot be read here."""
    try:
        with engine.connect() as connection:
            stamped = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            connection.rollback()
    except DBAPIError:
        return None  # no table yet, or a damaged file: the migration path says which
    return stamped[0] if len(stamped) == 1 else None


def _search_index_current(engine: Engine) -> bool:
    with engine.connect() as connection:
        current = search.stored_version(connection) == TOKENIZER_VERSION
        connection.rollback()
    return current


def open_readonly(url: str) -> Database:
    """Open an existing, migrated database for reading only (the web page).

    SQLite is opened with ``mode=ro`` (the file must exist; nothing can be written, not
    even by a bug); PostgreSQL sessions run every transaction READ ONLY.  The schema must
    be at the newest migration: a read-only process cannot migrate it.
    """
    parsed = _parse_url(url)
    shown = parsed.render_as_string(hide_password=True)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_readonly_engine(parsed.database or "")
        else:
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"options": "-c default_transaction_read_only=on"},
            )
    except NoSuchModuleError:
        raise DatabaseError(f"unknown database kind {parsed.drivername!r} in {url!r}") from None
    except ModuleNotFoundError as exc:
        raise DatabaseError(f"no driver for {parsed.drivername}: {exc.name} is not installed") from None
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        head = ScriptDirectory.from_config(_alembic_config(url)).get_current_head()
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            connection.rollback()
    except Exception as exc:
        engine.dispose()
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"cannot open {shown} read-only: {first_line}") from None
    if current != head:
        engine.dispose()
        raise DatabaseError(
            f"{shown} is at schema {current or 'empty'}, this newswatch needs {head}: "
            "run any writing command once (e.g. `newswatch replay`) to migrate it"
        )
    factory = sessionmaker(engine, expire_on_commit=False)
    return Database(url=url, engine=engine, read_session=factory, write_session=factory)


def _sqlite_readonly_engine(path: str) -> Engine:
    if not path or path == ":memory:" or not Path(path).expanduser().is_file():
        raise DatabaseError(f"no SQLite database at {path or '(none)'}")
    target = Path(path).expanduser().resolve()

    def connect() -> sqlite3.Connection:
        # The path goes into a file: URI: percent-encode it so '?' or '#' in a name stay literal.
        connection = sqlite3.connect(
            f"file:{quote(str(target))}?mode=ro", uri=True, check_same_thread=False,
            timeout=SQLITE_BUSY_TIMEOUT_S,
        )
        connection.isolation_level = None
        connection.execute("PRAGMA query_only=1")
        connection.execute("PRAGMA cache_size=-32768")
        return connection

    engine = create_engine("sqlite://", creator=connect)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


@contextlib.contextmanager
def _migration_lock(engine: Engine, url: str) -> Iterator[None]:
    """Serialise migrations between processes that open a new database at once."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(7412001)"))
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(7412001)"))
                connection.commit()
        return
    database = make_url(url).database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).expanduser().with_name(Path(database).name + ".migrate-lock")
    with open(lock_path, "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
