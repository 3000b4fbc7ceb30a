"""APScheduler's job table, ``apscheduler_jobs``: every statement run on it.

Why the job-store *adapter* is here, not a few query functions that newswatch's store
calls: APScheduler's ``SQLAlchemyJobStore`` is itself SQL (insert, lookup, delete, the
due-jobs condition), so a subclass of it anywhere else would be code outside storage/
writing SQL, however few statements it spelt out.  The table is already storage's:
migration 0002 creates it and :func:`storage.browse.next_run_times` reads it.

What a job *is* stays in the application: the ``crawl:<outlet>`` ids, the entry point,
and what to do with a job that cannot be restored (keep it, repair it, log it) are in
:class:`newswatch.scheduling.jobstore.SafeJobStore`, which subclasses :class:`JobTable`
and only calls the methods below.  This module imports nothing of newswatch or crawler
(APScheduler is a library, and the table's format is its), so the direction stays
newswatch -> storage.

Beyond APScheduler's store, :class:`JobTable` offers:

* :meth:`~JobTable.job_states`: the raw rows, so that a reader can decide what to do
  with a job it cannot unpickle (APScheduler's own reader deletes it);
* :meth:`~JobTable.save_state`: an update that can be a compare-and-set on the state;
* :meth:`~JobTable.soonest_run_time`: the next run time, leaving out given jobs;
* :meth:`~JobTable.rows`: every job, raw, for listings.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime
from sqlalchemy import and_, null, select
from sqlalchemy.engine import Engine

JOBS_TABLE = "apscheduler_jobs"


class JobTable(SQLAlchemyJobStore):  # type: ignore[misc]  # APScheduler 3 has no type hints
    """``SQLAlchemyJobStore`` on ``apscheduler_jobs``, on an engine a :class:`~storage.db.Database` owns."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine=engine, tablename=JOBS_TABLE)

    def job_states(self, *conditions: Any) -> list[tuple[str, bytes]]:
        """Id and pickled state of the jobs meeting APScheduler's ``conditions``, soonest first.

        ``conditions`` are the ones APScheduler's ``get_due_jobs`` passes to ``_get_jobs``
        (none: every job).  Nothing is deleted, whatever the states hold.
        """
        query = select(self.jobs_t.c.id, self.jobs_t.c.job_state).order_by(self.jobs_t.c.next_run_time)
        if conditions:
            query = query.where(and_(*conditions))
        with self.engine.begin() as connection:
            return [(row.id, row.job_state) for row in connection.execute(query).all()]

    def save_state(
        self, job: str, next_run_time: datetime | None, state: bytes, *, over: bytes | None = None
    ) -> bool:
        """Write a job's next run time and pickled state; False if no row was written.

        With ``over``, the row is written only if its stored state is still ``over``
        (compare-and-set): False then also means another process changed or removed it.
        """
        statement = (
            self.jobs_t.update()
            .values(next_run_time=datetime_to_utc_timestamp(next_run_time), job_state=state)
            .where(self.jobs_t.c.id == job)
        )
        if over is not None:
            statement = statement.where(self.jobs_t.c.job_state == over)
        with self.engine.begin() as connection:
            return bool(connection.execute(statement).rowcount)

    def soonest_run_time(self, excluding: Collection[str] = ()) -> datetime | None:
        """The earliest next run time of the jobs not in ``excluding`` (paused ones have none)."""
        query = (
            select(self.jobs_t.c.next_run_time)
            .where(self.jobs_t.c.next_run_time != null())
            .order_by(self.jobs_t.c.next_run_time)
            .limit(1)
        )
        if excluding:
            query = query.where(self.jobs_t.c.id.not_in(list(excluding)))
        with self.engine.begin() as connection:
            when: datetime | None = utc_timestamp_to_datetime(connection.execute(query).scalar())
            return when

    def rows(self) -> list[tuple[str, datetime | None, bytes]]:
        """Every stored job, raw, by id: id, next run time, pickled state."""
        query = select(self.jobs_t.c.id, self.jobs_t.c.next_run_time, self.jobs_t.c.job_state)
        with self.engine.begin() as connection:
            return [
                (row.id, utc_timestamp_to_datetime(row.next_run_time), row.job_state)
                for row in connection.execute(query.order_by(self.jobs_t.c.id))
            ]

    def shutdown(self) -> None:
        """The Database owns the engine: do not dispose of it."""
