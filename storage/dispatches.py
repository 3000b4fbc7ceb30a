"""Crawl jobs handed to the broker: claimed once per outlet and due time, in the database.

The scheduler claims ``outlet@due`` before it publishes the job: a second scheduler (a
stand-by that took over, a mistaken second instance) finds the claim and sends nothing.
Workers read the key back to drop a redelivered job whose run already finished.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.db import Database, write_transaction
from storage.models import CrawlDispatch, CrawlRun


def job_key(outlet: str, due_at: datetime) -> str:
    return f"{outlet}@{due_at.astimezone(UTC).isoformat(timespec='seconds')}"


def claim(db: Database, outlet: str, due_at: datetime, dispatcher: str) -> str | None:
    """The job key if this caller is the first to dispatch ``outlet`` for ``due_at``, else None."""
    key = job_key(outlet, due_at)
    values = {
        "job_key": key, "outlet": outlet, "due_at": due_at, "dispatched_at": datetime.now(UTC),
        "dispatcher": dispatcher[:255],
    }

    def work(session: Session) -> bool:
        module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = module.insert(CrawlDispatch).values(**values).on_conflict_do_nothing(index_elements=["job_key"])
        return session.execute(stmt.returning(CrawlDispatch.job_key)).first() is not None

    return key if write_transaction(db, work) else None


def sent(db: Database, key: str, task_id: str) -> None:
    write_transaction(
        db,
        lambda s: s.execute(update(CrawlDispatch).where(CrawlDispatch.job_key == key).values(task_id=task_id)),
    )


def unclaim(db: Database, key: str) -> None:
    """The broker refused the job: let the next attempt (or scheduler) send it."""
    write_transaction(db, lambda s: s.execute(delete(CrawlDispatch).where(CrawlDispatch.job_key == key)))


def finished_run(db: Database, key: str) -> int | None:
    """The id of a ``finished`` run of this job, if one exists (a redelivery to drop)."""
    with db.read_session() as session:
        return session.scalar(
            select(CrawlRun.id).where(CrawlRun.job_key == key, CrawlRun.status == "finished").limit(1)
        )


def dispatched(db: Database, outlet: str | None = None) -> list[CrawlDispatch]:
    with db.read_session() as session:
        query = select(CrawlDispatch).order_by(CrawlDispatch.due_at, CrawlDispatch.job_key)
        if outlet:
            query = query.where(CrawlDispatch.outlet == outlet)
        rows = list(session.scalars(query))
        for row in rows:
            session.expunge(row)
        return rows
