"""``scheduler run --dispatch celery``: at each due time, a crawl job for the broker.

APScheduler stays the one scheduler (its lease keeps it single) and keeps its job store,
triggers, misfire grace and coalescing; only the executor changes.  Instead of a thread
starting a crawl child, :class:`DispatchExecutor` claims ``outlet@due`` in the database
(storage/dispatches.py) and publishes one job (newswatch/workers/tasks.py): a due time
already claimed, by this scheduler or another, is not sent again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.base import BaseExecutor

from newswatch.scheduling.logs import _one_line, log

#: How the scheduler starts a due crawl: in a child process here, or as a broker job.
DISPATCH_MODES = ("process", "celery")


class DispatchExecutor(BaseExecutor):  # type: ignore[misc]
    """Publishes each due run of a ``crawl:`` job instead of running it."""

    def __init__(self, db_url: str, dispatcher: str) -> None:
        super().__init__()
        self.db_url = db_url
        self.dispatcher = dispatcher

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        from newswatch.workers.tasks import enqueue

        events = []
        for run_time in run_times:  # one, as jobs coalesce
            late = datetime.now(UTC) - run_time
            if job.misfire_grace_time is not None and late > timedelta(seconds=job.misfire_grace_time):
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, job._jobstore_alias, run_time))
                continue
            outlet = job.kwargs.get("outlet", "?")
            try:
                key = enqueue(
                    self.db_url, outlet, due_at=run_time, dispatcher=self.dispatcher,
                    config_path=job.kwargs.get("config_path"), timeout_s=job.kwargs.get("timeout_s"),
                )
            except Exception as exc:
                log.error("dispatch of outlet %s due at %s failed: %s", outlet, f"{run_time:%H:%M:%S}", _one_line(exc))
                events.append(JobExecutionEvent(EVENT_JOB_ERROR, job.id, job._jobstore_alias, run_time, exception=exc))
                continue
            if key is None:
                log.info("not sent: outlet %s due at %s was dispatched already", outlet, run_time.isoformat())
                result = "already dispatched"
            else:
                log.info("dispatched job %s", key)
                result = key
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time, retval=result))
        self._run_job_success(job.id, events)
