"""Test-wide fixtures: the network guard, databases (SQLite always, PostgreSQL when named)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

REPO = Path(__file__).resolve().parents[1]
NETGUARD = Path(__file__).resolve().parent / "support" / "netguard"

# Every process the tests start inherits the guard; this one installs it now.
os.environ["NEWSWATCH_NETGUARD"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(NETGUARD), *filter(None, [os.environ.get("PYTHONPATH")])]
)
sys.path.insert(0, str(NETGUARD))
import sitecustomize as _netguard  # noqa: E402  (tests/netguard/sitecustomize.py)

_netguard.install()

from tests.support.corpus_guard import (  # noqa: E402,F401  (the hook is a plugin of this conftest)
    corpus_missing,
    in_ci,
    pytest_make_collect_report,
    shared_path,
)
from tests.support.mirror.fixtures import mirror, mirror_factory  # noqa: E402,F401  (shared fixtures)

#: PostgreSQL admin URL from the environment, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test
PG_URL = os.environ.get("NEWSWATCH_TEST_PG")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's real database or dead-letter spool."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("NEWSWATCH_HOME", str(home))
    monkeypatch.delenv("NEWSWATCH_DB", raising=False)
    # Parse in the crawl process unless a test asks for workers: every replay and crawl the
    # suite starts would otherwise start a forkserver and a worker per core, which costs the
    # 2-core CI machine more than the parsing.  The pool itself, its deadline, crash
    # isolation and the 0-vs-N identity are tested in tests/crawl/test_parse_workers.py.
    monkeypatch.setenv("NEWSWATCH_PARSE_WORKERS", os.environ.get("NEWSWATCH_TEST_PARSE_WORKERS", "0"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'newswatch.db'}"


def _pg_admin_url() -> str:
    assert PG_URL
    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_databases() -> Iterator[Callable[[], str]]:
    """Makes fresh, empty PostgreSQL databases, as many as the test asks for (``pg_url`` is
    the first; a test comparing two databases asks for another), all dropped afterwards."""
    if not PG_URL:
        pytest.skip("NEWSWATCH_TEST_PG is not set (.ci/run sets it)")
    with ExitStack() as databases:
        yield lambda: databases.enter_context(_fresh_pg_database())


@pytest.fixture
def pg_url(pg_databases: Callable[[], str]) -> str:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    return pg_databases()


@contextmanager
def _fresh_pg_database() -> Iterator[str]:
    """A new, empty database on the NEWSWATCH_TEST_PG server; its URL. Dropped on exit."""
    admin_url = _pg_admin_url()
    name = f"newswatch_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each storage test runs on SQLite and, when NEWSWATCH_TEST_PG is set, on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def shared_dir() -> Path:
    reason = corpus_missing()
    if reason is not None:
        if in_ci():
            pytest.fail(f"{reason}, and CI=true: the corpus tests must run in CI", pytrace=False)
        pytest.skip(reason)
    return shared_path()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say once, in one line, that the corpus-backed tests did not run and why."""
    reason = corpus_missing()
    if reason is None or in_ci():  # in CI those tests failed, each saying why
        return
    skipped = len(terminalreporter.stats.get("skipped", []))
    terminalreporter.write_line(
        f"{reason}: corpus-backed tests were skipped "
        f"({skipped} skips in all); README.md, 'Tests', says where it comes from",
        yellow=True,
    )
