"""The watches' deliveries as a scheduler job: what the outbox has due goes out without a crawl.

After each run the run owner evaluates the watches and sends what is due
(:func:`newswatch.alerts.after_run`), but a retry whose backoff runs out, or a digest
whose window closes, falls between runs: a webhook that was down would wait for the next
crawl of some outlet.  ``scheduler run`` therefore runs :func:`deliver_tick` every
NEWSWATCH_DELIVER_EVERY_S seconds: it evaluates runs that ended without their watch
evaluation (a crawl process killed after its commit), then sends every due outbox row.

The job is not persisted: it lives in a memory job store of the running scheduler and is
re-created at each start (nothing about it needs to survive a restart: the outbox is the
state, and it is in the database).  It has an executor of its own, so busy crawl threads,
or ``--dispatch celery`` (whose executor only publishes crawls), never hold it back.
Two schedulers on one database cannot both run it (one holds the scheduler lease), and
even then the outbox claims each row for one sender only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from newswatch.scheduling.logs import _one_line, log
from storage.db import Database

#: The job's id, its job store and its executor (all in memory, see open_scheduler).
DELIVER_JOB = "watches:deliver"
LOCAL_STORE = "local"
DELIVER_EXECUTOR = "deliveries"


def deliver_tick(db: Database) -> str:
    """Catch up on unwatched runs, then send what is due; a one-line summary, never raises."""
    from newswatch.alerts import deliver, evaluate

    now = datetime.now(UTC)
    try:
        added = evaluate.catch_up(db, now=now)
        report = deliver.deliver_due(db, now=now)
    except Exception as exc:  # the database is away: the next tick tries again
        log.warning("watch deliveries: %s (retried in the next tick)", _one_line(exc))
        return "error"
    summary = f"{added} new match(es); sent {report.sent}, failed {report.failed}, dead {report.dead}"
    if added or report.sent or report.failed or report.dead:
        log.info("watch deliveries: %s", summary)
        for error in report.errors[:5]:
            log.info("watch deliveries: %s", error)
    return summary


def add_deliver_job(scheduler: object, db: Database, every_s: float) -> None:
    """Schedule :func:`deliver_tick` every ``every_s`` seconds, the first one now."""
    seconds = max(every_s, 0.5)
    scheduler.add_job(  # type: ignore[attr-defined]
        deliver_tick,
        trigger=IntervalTrigger(seconds=seconds, timezone=UTC),
        args=[db],
        id=DELIVER_JOB,
        name="send the watches' due deliveries",
        jobstore=LOCAL_STORE,
        executor=DELIVER_EXECUTOR,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        # A tick that is late (a slow send took longer than the interval) still runs.
        misfire_grace_time=max(int(seconds) * 10, 60),
        next_run_time=datetime.now(UTC) + timedelta(seconds=1),
    )
