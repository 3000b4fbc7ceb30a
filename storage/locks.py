"""Leases in the database: at most one holder per name, across processes and hosts.

A lease is a row of ``outlet_locks``: its name (``outlet:<outlet>`` while that outlet
is crawled, ``scheduler`` for the one active ``newswatch scheduler run``), its holder
(``host:pid:token``) and when it runs out.  Taking one is one write transaction, the
same on SQLite (``BEGIN IMMEDIATE``) and PostgreSQL (row locks, READ COMMITTED):

1. ``INSERT … ON CONFLICT DO NOTHING``: nobody held it;
2. else ``UPDATE … WHERE name = :name AND expires_at <= :now``: the holder stopped
   renewing (crashed, hung, partitioned away);
3. else ``UPDATE … WHERE name = :name AND holder = :seen`` when the holder is provably
   gone: it ran on this host, its process no longer exists, and neither does the
   crawl it attached (so a restart after ``kill -9`` need not wait out the lease).

An expired lease whose attached crawl still runs in a live process of this host is
not taken (a stopped or hung holder's child may still be crawling); across hosts
the lease is all there is.

PostgreSQL re-checks an UPDATE's WHERE clause on the newest row version once a
concurrent writer commits, and SQLite writers are serialised, so two takers never
both win.  The holder renews the lease while it works (``renew``: only its own row)
and deletes it when done (``release``).

Lease times come from the writers' clocks (UTC): hosts sharing a database need
synchronised clocks, and a lease must be far longer than any skew between them.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.db import write_transaction
from storage.models import CrawlRun, OutletLock
from storage.processes import pid_alive

if TYPE_CHECKING:
    from storage.db import Database

logger = logging.getLogger(__name__)


#: The lease of the one active scheduler of a database.
SCHEDULER = "scheduler"
_KEEP: Any = object()


def outlet_key(outlet: str) -> str:
    """The lease name of an outlet's crawl (outlet names cannot contain ':')."""
    return f"outlet:{outlet}"


def new_holder() -> str:
    """A holder id for one acquisition: ``host:pid:token``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def parse_holder(holder: str) -> tuple[str, int | None]:
    """``(host, pid)`` of a holder id (pid None when it is not one of ours)."""
    host, _, rest = holder.partition(":")
    pid, _, _ = rest.partition(":")
    return host, int(pid) if pid.isdigit() else None


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime
    run_id: int | None = None

    def describe(self) -> str:
        run = f", run {self.run_id}" if self.run_id else ""
        return f"{self.holder} (lease until {self.expires_at:%Y-%m-%d %H:%M:%S} UTC{run})"


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of :func:`acquire`."""

    acquired: bool
    #: Ours when acquired; otherwise the current holder's (None if it vanished meanwhile).
    lease: Lease | None
    #: When acquired by taking over: the previous holder, and why (``expired``, ``gone``).
    taken_from: str | None = None
    reason: str | None = None
    #: The lease taken over (its ``run_id`` is the crawl the previous holder left behind).
    previous: Lease | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def acquire(
    db: Database, name: str, holder: str, *, lease_s: float, run_id: int | None = None,
    now: datetime | None = None,
) -> Attempt:
    """Take lease ``name`` for ``holder`` unless someone else holds a live one."""

    def work(session: Session) -> Attempt:
        at = now or utcnow()
        values: dict[str, Any] = {
            "name": name, "holder": holder, "acquired_at": at, "renewed_at": at,
            "expires_at": at + timedelta(seconds=lease_s), "run_id": run_id,
        }
        for _ in range(3):
            if _insert_if_absent(session, values):
                return Attempt(True, Lease(**values))
            current = session.get(OutletLock, name, populate_existing=True)
            if current is None:
                continue  # released between our INSERT and now: try again
            seen = _lease(current)
            if seen.expires_at <= at and not _run_alive_here(session, seen):
                reason = "expired"
            elif seen.holder != holder and _holder_gone(session, seen):
                reason = "gone"
            else:
                return Attempt(False, seen)
            condition = [OutletLock.name == name, OutletLock.holder == seen.holder]
            if reason == "expired":
                condition.append(OutletLock.expires_at <= at)
            taken = session.execute(
                update(OutletLock)
                .where(*condition)
                .values(**values)
                .returning(OutletLock.name)
                .execution_options(synchronize_session=False)
            ).first()
            if taken is not None:
                return Attempt(True, Lease(**values), taken_from=seen.holder, reason=reason, previous=seen)
            # another taker won the race since we read the row: look again
        return Attempt(False, None)

    attempt = write_transaction(db, work)
    if attempt.acquired and attempt.reason:
        logger.info("lease %s taken over from %s (%s)", name, attempt.taken_from, attempt.reason)
    return attempt


def renew(
    db: Database, name: str, holder: str, *, lease_s: float, run_id: Any = _KEEP,
    now: datetime | None = None,
) -> bool:
    """Extend ``holder``'s lease (and attach ``run_id``); False if it is not theirs any more."""

    def work(session: Session) -> bool:
        at = now or utcnow()
        values: dict[str, Any] = {"renewed_at": at, "expires_at": at + timedelta(seconds=lease_s)}
        if run_id is not _KEEP:
            values["run_id"] = run_id
        row = session.execute(
            update(OutletLock)
            .where(OutletLock.name == name, OutletLock.holder == holder)
            .values(**values)
            .returning(OutletLock.name)
            .execution_options(synchronize_session=False)
        ).first()
        return row is not None

    return write_transaction(db, work)


def release(db: Database, name: str, holder: str) -> bool:
    """Give the lease up; False if ``holder`` did not hold it (any more)."""

    def work(session: Session) -> bool:
        row = session.execute(
            delete(OutletLock)
            .where(OutletLock.name == name, OutletLock.holder == holder)
            .returning(OutletLock.name)
            .execution_options(synchronize_session=False)
        ).first()
        return row is not None

    return write_transaction(db, work)


def get(db: Database, name: str) -> Lease | None:
    with db.read_session() as session:
        row = session.get(OutletLock, name)
        return None if row is None else _lease(row)


def leases(db: Database, prefix: str = "") -> list[Lease]:
    """Every lease whose name starts with ``prefix``, live or expired."""
    with db.read_session() as session:
        query = select(OutletLock).order_by(OutletLock.name)
        if prefix:
            query = query.where(OutletLock.name.startswith(prefix, autoescape=True))
        return [_lease(row) for row in session.scalars(query)]


# -- reads for the scheduler's listings -----------------------------------------


def last_runs(db: Database, outlets: Iterable[str], *, scan: int = 5000) -> dict[str, CrawlRun]:
    """The newest run covering each of ``outlets`` (among the newest ``scan`` runs)."""
    wanted = set(outlets)
    found: dict[str, CrawlRun] = {}
    if not wanted:
        return found
    with db.read_session() as session:
        query = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(scan).execution_options(yield_per=200)
        for run in session.scalars(query):
            for outlet in run.outlets or ():
                if outlet in wanted and outlet not in found:
                    found[outlet] = run
            if len(found) == len(wanted):
                break
        for run in found.values():
            session.expunge(run)
    return found


# -- plumbing -------------------------------------------------------------------


def _lease(row: OutletLock) -> Lease:
    return Lease(row.name, row.holder, row.acquired_at, row.renewed_at, row.expires_at, row.run_id)


def _insert_if_absent(session: Session, values: dict[str, Any]) -> bool:
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        module: Any = postgresql if dialect == "postgresql" else sqlite
        stmt = module.insert(OutletLock).values(**values).on_conflict_do_nothing(index_elements=["name"])
        return session.execute(stmt.returning(OutletLock.name)).first() is not None
    try:  # other databases: a savepoint, so a duplicate key does not end the transaction
        with session.begin_nested():
            session.execute(insert(OutletLock).values(**values))
        return True
    except IntegrityError:
        return False


def _holder_gone(session: Session, lease: Lease) -> bool:
    """The holder ran on this host and is dead, and so is the crawl it attached."""
    host, pid = parse_holder(lease.holder)
    here = socket.gethostname()
    if host != here or pid is None or pid_alive(pid):
        return False
    if lease.run_id is None:
        return True
    run = session.get(CrawlRun, lease.run_id)
    if run is None or run.status != "running":
        return True
    return run.host == here and not pid_alive(run.pid)


def _run_alive_here(session: Session, lease: Lease) -> bool:
    """The lease's crawl still runs in a live process of this host (so it is not over)."""
    if lease.run_id is None:
        return False
    run = session.get(CrawlRun, lease.run_id)
    return bool(run and run.status == "running" and run.host == socket.gethostname() and pid_alive(run.pid))
