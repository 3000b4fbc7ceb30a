"""Scheduled recurring crawls: APScheduler 3 with its job store in the newswatch database.

Design (see ../shared/design/reliability-anchors.md §0.6-0.8, §2, §3):

* **Jobs** live in ``apscheduler_jobs`` (``SQLAlchemyJobStore`` on the project's
  writer engine, so SQLite writes take the lock up front), one per outlet, id
  ``crawl:<outlet>``, always written with ``replace_existing=True``, an explicit
  ``misfire_grace_time`` (NEWSWATCH_MISFIRE_GRACE_S), ``coalesce=True`` and
  ``max_instances=1``; triggers are in UTC.  Every job calls
  :func:`run_scheduled_crawl` with JSON-able keyword arguments only.
* **A job that cannot be restored is never deleted** (APScheduler's own store
  deletes it, §0.6): :class:`SafeJobStore` keeps it; ``scheduler run`` re-points a
  ``crawl:`` job at the entry point (trigger and next run kept), re-creates it from
  the outlets config, or refuses to start naming it.
* **Each crawl is a child process** (``python -m crawler.cli crawl OUTLET --run-id N``):
  the scheduler creates the CrawlRun (origin ``scheduler``), waits with a hard
  timeout, stops a hung child (SIGTERM, then SIGKILL) and closes the run from the
  run row, never from the exit status (§0.8).  The child dies with the scheduler
  (``PR_SET_PDEATHSIG``, crawler/cli/__main__.py).
* **Never two crawls of one outlet**: ``max_instances=1`` in this process, and a
  lease in ``outlet_locks`` (storage/locks.py) across processes and hosts.  One
  ``scheduler run`` per database holds the ``scheduler`` lease (job stores must not
  be shared); a second one refuses to start, or with ``--wait`` stands by.
* ``schedule add/pause/…`` write the job store directly; the running scheduler
  re-reads it every NEWSWATCH_SCHEDULER_POLL_S seconds (APScheduler 3 only looks
  at its store when it wakes up).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime
from sqlalchemy import and_, null, select

from crawler.outlets import ConfigError, Outlet, config_path as default_config_path, format_duration, load_outlets
from storage import locks
from storage.db import Database, open_database
from storage.queries import RunDetail, run_detail
from storage.repository import Store

log = logging.getLogger("newswatch.scheduler")

#: The function every persisted job names.  Keep its module, name and signature.
ENTRY_POINT = "crawler.scheduling:run_scheduled_crawl"
JOB_PREFIX = "crawl:"
JOBS_TABLE = "apscheduler_jobs"
#: The keyword arguments a job may carry (all JSON-able).
JOB_KWARGS = ("outlet", "config_path", "db_url", "timeout_s")


def run_scheduled_crawl(
    outlet: str, config_path: str | None = None, db_url: str | None = None, timeout_s: int | None = None
) -> str:
    """Crawl ``outlet`` once, as a scheduled run.  The stable entry point of every job.

    ``config_path``/``db_url`` None mean the running scheduler's own; the database
    URL is normally not stored in the job (it would put a password in the job store).
    Returns the run's status, or ``skipped``.
    """
    return service_for(db_url, config_path).crawl(outlet, config_path=config_path, timeout_s=timeout_s)


class SchedulerError(Exception):
    """The scheduler cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class Options:
    misfire_grace_s: int
    shutdown_grace_s: float
    kill_wait_s: float
    poll_s: float
    lease_s: float
    workers: int

    @classmethod
    def from_settings(cls, **overrides: Any) -> Options:
        """The NEWSWATCH_* scheduling settings, with the non-None ``overrides`` applied."""
        from crawler import settings

        values = {
            "misfire_grace_s": settings.NEWSWATCH_MISFIRE_GRACE_S,
            "shutdown_grace_s": settings.NEWSWATCH_SHUTDOWN_GRACE_S,
            "kill_wait_s": settings.NEWSWATCH_KILL_WAIT_S,
            "poll_s": settings.NEWSWATCH_SCHEDULER_POLL_S,
            "lease_s": settings.NEWSWATCH_LOCK_LEASE_S,
            "workers": settings.NEWSWATCH_SCHEDULER_WORKERS,
        }
        known = {f.name for f in fields(cls)}
        values.update({k: v for k, v in overrides.items() if k in known and v is not None})
        return cls(**values)


# -- jobs and triggers ----------------------------------------------------------------


def job_id(outlet: str) -> str:
    return JOB_PREFIX + outlet


def outlet_of(job: str) -> str | None:
    return job[len(JOB_PREFIX):] if job.startswith(JOB_PREFIX) else None


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_day_of_week(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) in day names.

    APScheduler 3 reads day numbers with 0 = Monday (its docs call this a historical
    mistake, apscheduler #286): ``1-5`` would mean Tuesday to Saturday.  Names mean the
    same to both, so numbers are translated to names.
    """
    if not any(ch.isdigit() for ch in field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if step_text and not step_text.isdigit():
            raise ValueError(f"day of week {field!r}: bad step {step_text!r}")
        step = int(step_text) if step_text else 1

        def day(token: str) -> int:
            if token.isdigit() and int(token) <= 7:
                return int(token)
            if token.lower() in _DAYS:
                return _DAYS.index(token.lower())
            raise ValueError(f"day of week {field!r}: {token!r} is not 0-7 or a day name")

        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            low, high = (day(token) for token in base.split("-", 1))
        else:
            low = day(base)
            high = 6 if step_text else low
        if low > high or step < 1:
            raise ValueError(f"day of week {field!r}: empty range {part!r}")
        days.update(d % 7 for d in range(low, high + 1, step))
    return ",".join(_DAYS[d] for d in sorted(days))


def cron_trigger(expression: str, *, jitter_s: int = 0) -> CronTrigger:
    """A five-field crontab line, in UTC, with crontab's day-of-week numbering."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(f"{expression!r} is not a five-field crontab line like '*/15 * * * *'")
    parts[4] = _crontab_day_of_week(parts[4])
    trigger = CronTrigger.from_crontab(" ".join(parts), timezone=UTC)
    trigger.jitter = jitter_s or None
    return trigger


def make_trigger(*, every_s: int | None = None, cron: str | None = None, jitter_s: int = 0) -> BaseTrigger:
    if cron:
        return cron_trigger(cron, jitter_s=jitter_s)
    if not every_s or every_s < 1:
        raise ValueError("a schedule needs an interval (every) or a crontab line (cron)")
    return IntervalTrigger(seconds=every_s, timezone=UTC, jitter=jitter_s or None)


def describe_trigger(trigger: BaseTrigger) -> str:
    if isinstance(trigger, IntervalTrigger):
        return f"every {format_duration(int(trigger.interval_length))}"
    if isinstance(trigger, CronTrigger):
        by_name = {f.name: str(f) for f in trigger.fields}
        return "cron " + " ".join(by_name[n] for n in ("minute", "hour", "day", "month", "day_of_week"))
    return str(trigger)


def _trigger_key(trigger: BaseTrigger) -> tuple[Any, ...]:
    jitter = getattr(trigger, "jitter", None) or 0
    if isinstance(trigger, IntervalTrigger):
        return ("interval", trigger.interval_length, jitter)
    return (type(trigger).__name__, str(trigger), jitter)


def _repaired_state(state: Mapping[str, Any], job: str) -> dict[str, Any]:
    """A job's pickled state re-pointed at the entry point, with only known arguments."""
    old = state.get("kwargs") if isinstance(state.get("kwargs"), Mapping) else {}
    kwargs = {key: old[key] for key in JOB_KWARGS if key in old}
    kwargs["outlet"] = outlet_of(job)
    return {**state, "id": job, "func": ENTRY_POINT, "args": (), "kwargs": kwargs}


class SafeJobStore(SQLAlchemyJobStore):
    """``SQLAlchemyJobStore`` that never deletes a job it cannot restore.

    APScheduler's store logs "Unable to restore job … -- removing it" and deletes the
    row (reliability-anchors §0.6).  This one keeps the row and reports it in
    :attr:`broken`; with ``repair`` (the running scheduler) it re-points a ``crawl:``
    job at :data:`ENTRY_POINT` and saves it.  Broken jobs are left out of the due and
    next-run-time queries, so they cannot make the scheduler spin.
    """

    def __init__(self, engine: Any, *, repair: bool = False, yield_to_others: bool = False) -> None:
        super().__init__(engine=engine, tablename=JOBS_TABLE)
        self.repair = repair
        self.yield_to_others = yield_to_others
        #: job id -> why it cannot be restored.
        self.broken: dict[str, str] = {}
        #: job id -> the pickled state this store last read or wrote.
        self._seen: dict[str, bytes] = {}
        self._seen_lock = threading.Lock()

    def _reconstitute_job(self, job_state: bytes) -> Job:
        job = super()._reconstitute_job(job_state)
        with self._seen_lock:
            self._seen[job.id] = job_state
        return job

    def update_job(self, job: Job) -> None:
        """Save ``job``; with ``yield_to_others``, only over the state this store last saw.

        The running scheduler reads a due job, submits it and writes its next run time
        back.  A ``schedule pause/add/remove`` committed in between would be overwritten
        by that write; instead the scheduler's write is dropped (compare-and-set on the
        stored state) and the command's version stands.
        """
        state = pickle.dumps(job.__getstate__(), self.pickle_protocol)
        with self._seen_lock:
            seen = self._seen.get(job.id) if self.yield_to_others else None
        statement = (
            self.jobs_t.update()
            .values(next_run_time=datetime_to_utc_timestamp(job.next_run_time), job_state=state)
            .where(self.jobs_t.c.id == job.id)
        )
        if seen is not None:
            statement = statement.where(self.jobs_t.c.job_state == seen)
        with self.engine.begin() as connection:
            updated = connection.execute(statement).rowcount
        if updated:
            with self._seen_lock:
                self._seen[job.id] = state
            return
        if seen is None:
            raise JobLookupError(job.id)
        with self._seen_lock:
            self._seen.pop(job.id, None)
        log.info("job %s was changed or removed by another process meanwhile: the stored version stands", job.id)

    def _get_jobs(self, *conditions: Any) -> list[Job]:
        query = select(self.jobs_t.c.id, self.jobs_t.c.job_state).order_by(self.jobs_t.c.next_run_time)
        if conditions:
            query = query.where(and_(*conditions))
        with self.engine.begin() as connection:
            rows = connection.execute(query).all()
        jobs: list[Job] = []
        fixed: list[Job] = []
        for row in rows:
            if row.id in self.broken and not self.repair:
                continue
            try:
                jobs.append(self._reconstitute_job(row.job_state))
                self.broken.pop(row.id, None)
                continue
            except Exception as exc:
                reason = _one_line(exc)
            job = self.repaired_job(row.id, row.job_state) if self.repair else None
            if job is not None:
                log.warning(
                    "job %s named a function that cannot be imported (%s): re-registered with %s, "
                    "its schedule and next run time kept", row.id, reason, ENTRY_POINT,
                )
                jobs.append(job)
                fixed.append(job)
            elif row.id not in self.broken:
                self.broken[row.id] = reason
                if self.repair:
                    log.error(
                        "job %s cannot be restored (%s); it is kept but does not run: "
                        "`newswatch schedule sync` or `newswatch schedule remove` fixes it", row.id, reason,
                    )
        for job in fixed:  # after the read transaction: SQLite would wait on ourselves
            self.update_job(job)
        return jobs

    def get_due_jobs(self, now: datetime) -> list[Job]:
        jobs = super().get_due_jobs(now)
        return [job for job in jobs if job.id not in self.broken]

    def get_next_run_time(self) -> datetime | None:
        query = (
            select(self.jobs_t.c.next_run_time)
            .where(self.jobs_t.c.next_run_time != null())
            .order_by(self.jobs_t.c.next_run_time)
            .limit(1)
        )
        if self.broken:
            query = query.where(self.jobs_t.c.id.not_in(list(self.broken)))
        with self.engine.begin() as connection:
            return utc_timestamp_to_datetime(connection.execute(query).scalar())

    def rows(self) -> list[tuple[str, datetime | None, bytes]]:
        """Every stored job, raw: id, next run time, pickled state."""
        query = select(self.jobs_t.c.id, self.jobs_t.c.next_run_time, self.jobs_t.c.job_state)
        with self.engine.begin() as connection:
            return [
                (row.id, utc_timestamp_to_datetime(row.next_run_time), row.job_state)
                for row in connection.execute(query.order_by(self.jobs_t.c.id))
            ]

    def restore(self, job_state: bytes) -> Job:
        return self._reconstitute_job(job_state)

    def repaired_job(self, job: str, job_state: bytes) -> Job | None:
        """The ``crawl:`` job re-pointed at the entry point, or None if that cannot be done."""
        if outlet_of(job) is None:
            return None
        try:
            state = pickle.loads(job_state)
            if not isinstance(state, dict):
                return None
            fixed = _repaired_state(state, job)
            fixed["jobstore"] = self
            restored = Job.__new__(Job)
            restored.__setstate__(fixed)
        except Exception:
            return None
        restored._scheduler = self._scheduler
        restored._jobstore_alias = self._alias
        return restored

    def shutdown(self) -> None:
        """The Database owns the engine: do not dispose of it."""


class _Scheduler(BackgroundScheduler):
    def _process_jobs(self) -> float | None:
        # APScheduler 3 processes jobs once more after shutdown() (it only skips when
        # *paused*): a CLI command's paused scheduler would then submit due jobs to a
        # closed executor and move their next run times on.
        if self.state != STATE_RUNNING:
            return None
        # A database error outside APScheduler's own try (get_next_run_time,
        # update_job of a job removed meanwhile) would end the scheduler thread.
        try:
            return super()._process_jobs()
        except Exception as exc:
            self._logger.error("error while looking for due jobs (retrying): %s", _one_line(exc))
            return self.jobstore_retry_interval


def open_scheduler(db: Database, options: Options, *, service: bool = False, workers: int = 1) -> _Scheduler:
    """A scheduler on the database's job store, started paused: it runs nothing until resumed.

    The CLI's ``schedule`` commands use it to read and write jobs (APScheduler only
    writes to a store once started); ``scheduler run`` resumes it.
    """
    store = SafeJobStore(db.write_session.kw["bind"], repair=service, yield_to_others=service)
    scheduler = _Scheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"misfire_grace_time": options.misfire_grace_s, "coalesce": True, "max_instances": 1},
        timezone=UTC,
        jobstore_retry_interval=max(options.poll_s, 1),
    )
    scheduler.start(paused=True)
    return scheduler


@contextlib.contextmanager
def job_store(db: Database, options: Options | None = None) -> Iterator[_Scheduler]:
    scheduler = open_scheduler(db, options or Options.from_settings())
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)


def store_of(scheduler: BackgroundScheduler) -> SafeJobStore:
    store = scheduler._lookup_jobstore("default")
    assert isinstance(store, SafeJobStore)
    return store


def find_job(scheduler: BackgroundScheduler, outlet: str) -> tuple[Job | None, str | None]:
    """The outlet's job, or (None, why it cannot be restored), or (None, None) if there is none."""
    store = store_of(scheduler)
    for job, _next_run, state in store.rows():
        if job == job_id(outlet):
            try:
                return store.restore(state), None
            except Exception as exc:
                return None, _one_line(exc)
    return None, None


def put_job(
    scheduler: BackgroundScheduler,
    outlet: str,
    trigger: BaseTrigger,
    *,
    options: Options,
    config_path: str | None = None,
    timeout_s: int | None = None,
) -> tuple[Job, str]:
    """Add or replace ``crawl:<outlet>``: ``added``, ``updated``, ``repaired`` or ``unchanged``.

    A paused job stays paused; a job whose trigger did not change keeps its next run
    time (re-syncing at every restart must not push a 6-hourly crawl back each time).
    """
    existing, broken = find_job(scheduler, outlet)
    kwargs = {"outlet": outlet, "config_path": config_path, "timeout_s": timeout_s}
    settings = {"misfire_grace_time": options.misfire_grace_s, "coalesce": True, "max_instances": 1}
    extra: dict[str, Any] = {}
    if existing is not None:
        same_trigger = _trigger_key(existing.trigger) == _trigger_key(trigger)
        same_rest = (
            existing.func_ref == ENTRY_POINT and dict(existing.kwargs) == kwargs and not existing.args
            and all(getattr(existing, key) == value for key, value in settings.items())
        )
        if same_trigger and same_rest:
            return existing, "unchanged"
        if existing.next_run_time is None:
            extra["next_run_time"] = None
        elif same_trigger:
            extra["next_run_time"] = existing.next_run_time
    job = scheduler.add_job(
        ENTRY_POINT, trigger=trigger, kwargs=kwargs, id=job_id(outlet), name=f"crawl {outlet}",
        replace_existing=True, **settings, **extra,
    )
    action = "repaired" if broken else "added" if existing is None else "updated"
    return job, action


def remove_job(scheduler: BackgroundScheduler, outlet: str) -> bool:
    """Delete ``crawl:<outlet>`` (restorable or not); False if there was none."""
    try:
        scheduler.remove_job(job_id(outlet))
    except JobLookupError:
        return False
    store_of(scheduler).broken.pop(job_id(outlet), None)
    return True


def scheduled_outlets(outlets: Mapping[str, Outlet]) -> dict[str, Outlet]:
    return {
        name: o for name, o in outlets.items() if o.enabled and (o.schedule.every_s or o.schedule.cron)
    }


def sync_jobs(
    scheduler: BackgroundScheduler, outlets: Mapping[str, Outlet], *, options: Options,
    config_path: str | None = None,
) -> list[tuple[str, str, str]]:
    """Make the ``crawl:`` jobs match the config: ``(outlet, action, schedule or reason)`` each.

    Enabled outlets with ``every``/``cron`` get a job (added, updated, repaired or
    unchanged); the jobs of outlets that are disabled, unscheduled or gone are removed.
    Jobs that are not ``crawl:`` jobs are left alone.
    """
    report: list[tuple[str, str, str]] = []
    wanted = scheduled_outlets(outlets)
    for name, outlet in wanted.items():
        schedule = outlet.schedule
        trigger = make_trigger(every_s=schedule.every_s, cron=schedule.cron, jitter_s=schedule.jitter_s)
        _job, action = put_job(scheduler, name, trigger, options=options, config_path=config_path)
        report.append((name, action, describe_trigger(trigger)))
    for stored, _next_run, _state in store_of(scheduler).rows():
        name = outlet_of(stored)
        if name is None or name in wanted:
            continue
        remove_job(scheduler, name)
        if name not in outlets:
            reason = "not in the config"
        elif not outlets[name].enabled:
            reason = "disabled in the config"
        else:
            reason = "no schedule in the config"
        report.append((name, "removed", reason))
    return report


# -- running crawls -------------------------------------------------------------------

_active_service: Service | None = None
_active_lock = threading.Lock()


def service_for(db_url: str | None = None, config_path: str | None = None) -> Service:
    """The running scheduler's service, or a one-off one (a job function called directly)."""
    with _active_lock:
        if _active_service is not None:
            return _active_service
    from crawler import settings

    url = db_url or settings.NEWSWATCH_DB
    return Service(open_database(url), url, Path(config_path) if config_path else None, Options.from_settings())


class Service:
    """Runs one outlet's crawl at a time per outlet, each in a child process.

    Shared by the job threads of ``scheduler run`` (and used alone by
    ``schedule run-now``): the outlet lease, the run record, the child, its timeout,
    and the shutdown grace.
    """

    def __init__(self, db: Database, db_url: str, config_path: Path | None, options: Options) -> None:
        self.db = db
        self.db_url = db_url
        self.config_path = config_path
        self.options = options
        self.store = Store(db)
        self.stopping = threading.Event()
        self._stop_deadline: float | None = None
        self._forced = False
        self._active = 0
        self._lock = threading.Lock()

    # -- shutdown -----------------------------------------------------------------

    def begin_shutdown(self, grace_s: float) -> None:
        """Start no new crawl; running ones are stopped once ``grace_s`` has passed."""
        self._stop_deadline = time.monotonic() + grace_s
        self.stopping.set()

    def force_stop(self) -> None:
        self._forced = True
        self._stop_deadline = time.monotonic()
        self.stopping.set()

    def active(self) -> int:
        with self._lock:
            return self._active

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        with self._lock:
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1

    # -- one crawl ------------------------------------------------------------------

    def crawl(self, outlet_name: str, *, config_path: str | None = None, timeout_s: int | None = None) -> str:
        """Crawl one outlet now unless it is being crawled: the run's status, or ``skipped``."""
        if self.stopping.is_set():
            log.info("skipped: outlet %s: the scheduler is stopping", outlet_name)
            return "skipped"
        config = Path(config_path) if config_path else (self.config_path or default_config_path())
        try:
            outlet = load_outlets(config).get(outlet_name)
        except ConfigError as exc:
            log.error("skipped: outlet %s: %s", outlet_name, _safe(exc))
            return "skipped"
        if outlet is None:
            log.warning(
                "skipped: outlet %s is not in %s (`newswatch schedule sync` or `schedule remove %s`)",
                outlet_name, config, outlet_name,
            )
            return "skipped"
        if not outlet.enabled:
            log.warning("skipped: outlet %s is disabled in %s", outlet_name, config)
            return "skipped"
        key, holder = locks.outlet_key(outlet_name), locks.new_holder()
        with self._tracked():
            attempt = locks.acquire(self.db, key, holder, lease_s=self.options.lease_s)
            if not attempt.acquired:
                who = attempt.lease.describe() if attempt.lease else "another process"
                log.warning("skipped: outlet %s is being crawled by %s", outlet_name, who)
                return "skipped"
            try:
                if attempt.previous is not None:
                    log.warning("outlet %s: took over the lock of %s (%s)", outlet_name, attempt.taken_from, attempt.reason)
                    self._close_left_behind(attempt.previous, attempt.reason or "gone")
                if self.stopping.is_set():
                    log.info("skipped: outlet %s: the scheduler is stopping", outlet_name)
                    return "skipped"
                return self._crawl_locked(outlet, config, timeout_s or outlet.timeout_s, key, holder)
            finally:
                try:
                    locks.release(self.db, key, holder)
                except Exception as exc:  # it runs out by itself
                    log.warning("could not release the lock of outlet %s: %s", outlet_name, _one_line(exc))

    def _close_left_behind(self, previous: locks.Lease, reason: str) -> None:
        """Close the run a dead lock holder left ``running``, before a new run starts."""
        if previous.run_id is None:
            return
        with self.db.read_session() as session:
            detail = run_detail(session, previous.run_id, problem_limit=0)
        if detail is None or detail.run.status != "running":
            return
        why = "stopped renewing its lock" if reason == "expired" else "is gone"
        message = f"its scheduler ({previous.holder}) {why}; the outlet's lock was taken over"
        self.store.finish_run(previous.run_id, status="interrupted", message=message, stats=detail.run.stats)
        log.warning("run %d was left running by %s: recorded as interrupted", previous.run_id, previous.holder)

    def _crawl_locked(self, outlet: Outlet, config: Path, timeout_s: int, key: str, holder: str) -> str:
        run_id = self.store.start_run(spiders=[outlet.spider], outlets=[outlet.name], mode="live", origin="scheduler")
        locks.renew(self.db, key, holder, lease_s=self.options.lease_s, run_id=run_id)
        log_path = _log_dir() / f"{outlet.name}.log"
        env = {
            **os.environ,
            "NEWSWATCH_DB": self.db_url,
            "NEWSWATCH_CONFIG": str(config.resolve()),
            "NEWSWATCH_DIE_WITH_PARENT": str(os.getpid()),
        }
        command = [sys.executable, "-m", "crawler.cli", "crawl", outlet.name, "--run-id", str(run_id)]
        started = time.monotonic()
        try:
            with open(log_path, "wb") as output:
                # Own session: a Ctrl-C in the terminal reaches the scheduler only, which
                # lets the crawl finish within the grace.
                child = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                    env=env, start_new_session=True,
                )
        except OSError as exc:
            message = f"could not start the crawl process: {_one_line(exc)}"
            self.store.finish_run(run_id, status="failed", message=message)
            log.error("end run %d outlet %s: failed: %s", run_id, outlet.name, message)
            return "failed"
        log.info(
            "start run %d outlet %s (pid %d, timeout %s, log %s)",
            run_id, outlet.name, child.pid, format_duration(timeout_s), log_path,
        )
        returncode, stopped_for = self._wait(child, outlet.name, key, holder, timeout_s)
        detail = self._close(run_id, returncode, stopped_for, timeout_s, log_path)
        run = detail.run
        counts = " ".join(f"{name} {value}" for name, value in detail.counts.items())
        line = f"end run {run_id} outlet {outlet.name}: {run.status} ({counts}) in {time.monotonic() - started:.1f}s"
        if run.message:
            line += f": {_safe(run.message)}"
        (log.info if run.status == "finished" else log.warning)("%s", line)
        return run.status

    def _wait(
        self, child: subprocess.Popen[bytes], outlet: str, key: str, holder: str, timeout_s: int
    ) -> tuple[int, str | None]:
        """Wait for the child, renewing the lease; stop it on timeout, shutdown or a lost lease."""
        start = time.monotonic()
        renew_every = max(self.options.lease_s / 4, 0.5)
        next_renew = start + renew_every
        stopped_for: str | None = None
        term_sent_at: float | None = None
        while True:
            try:
                return child.wait(timeout=0.25), stopped_for
            except subprocess.TimeoutExpired:
                pass
            except KeyboardInterrupt:  # `schedule run-now` in a terminal
                stopped_for = stopped_for or "interrupt"
                self.stopping.set()
                self._stop_deadline = time.monotonic()
            now = time.monotonic()
            if now >= next_renew:
                next_renew = now + renew_every
                try:
                    if not locks.renew(self.db, key, holder, lease_s=self.options.lease_s):
                        if stopped_for is None:
                            log.error("outlet %s: lost its lock to another process; stopping this crawl", outlet)
                            stopped_for = "lost-lock"
                except Exception as exc:
                    log.warning("outlet %s: could not renew its lock: %s", outlet, _one_line(exc))
            if stopped_for is None:
                if now - start >= timeout_s:
                    stopped_for = "timeout"
                    log.warning("outlet %s: no end after %s: stopping it", outlet, format_duration(timeout_s))
                elif self._stop_deadline is not None and now >= self._stop_deadline:
                    stopped_for = "shutdown"
            if stopped_for is not None and term_sent_at is None:
                term_sent_at = now
                _signal(child, signal.SIGTERM)
            elif term_sent_at is not None and now - term_sent_at >= self.options.kill_wait_s:
                _signal(child, signal.SIGKILL)

    def _close(self, run_id: int, returncode: int, stopped_for: str | None, timeout_s: int, log_path: Path) -> RunDetail:
        """Record how the run ended, from the run row (the exit status is only a hint)."""
        detail = self._detail(run_id)
        run = detail.run
        status, message = run.status, None
        if stopped_for == "timeout" and run.status != "finished":
            status, message = "failed", f"killed after {format_duration(timeout_s)} timeout"
        elif stopped_for == "lost-lock" and run.status != "finished":
            status, message = "failed", "stopped: another process took over the outlet's lock"
        elif stopped_for in ("shutdown", "interrupt") and run.status in ("running", "interrupted"):
            status = "interrupted"
            if stopped_for == "interrupt":
                message = "stopped by an interrupt"
            elif self._forced:
                message = "stopped by scheduler shutdown (second signal)"
            else:
                grace_s = self.options.shutdown_grace_s
                grace = format_duration(int(grace_s)) if grace_s >= 1 else f"{grace_s:g}s"
                message = f"stopped by scheduler shutdown after {grace} grace"
        elif run.status == "running":
            status = "failed"
            message = f"crawl process {_exit_text(returncode)} without closing its run"
            if last := _last_line(log_path):
                message += f": {last}"
        if message is None:
            return detail
        self.store.finish_run(run_id, status=status, message=message, stats=run.stats)
        return self._detail(run_id)

    def _detail(self, run_id: int) -> RunDetail:
        with self.db.read_session() as session:
            detail = run_detail(session, run_id, problem_limit=0)
        assert detail is not None, run_id
        return detail


# -- the service: `newswatch scheduler run` -------------------------------------------


def serve(
    db: Database, db_url: str, config_path: Path | None, options: Options, *, wait: bool = False, sync: bool = False,
) -> int:
    """Run the jobs until SIGINT/SIGTERM; 0 after a clean stop."""
    _setup_logging()
    service = Service(db, db_url, config_path, options)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        received.append(signum)
        name = signal.Signals(signum).name
        if len(received) == 1:
            log.info("%s: stopping (send it again to stop running crawls now)", name)
        else:
            log.warning("%s again: stopping running crawls now", name)
            service.force_stop()
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    holder = locks.new_holder()
    try:
        standing_by = False
        while True:
            attempt = locks.acquire(db, locks.SCHEDULER, holder, lease_s=options.lease_s)
            if attempt.acquired:
                break
            who = attempt.lease.describe() if attempt.lease else "another scheduler"
            if not wait:
                log.error(
                    "another scheduler is running against this database: %s. Job stores must not be "
                    "shared between schedulers: stop it first, or start this one with --wait to take "
                    "over when it stops.", who,
                )
                return 1
            if not standing_by:
                log.info("standing by: %s holds the scheduler lease; taking over when it stops", who)
                standing_by = True
            if stop.wait(min(options.poll_s, options.lease_s / 4)):
                log.info("scheduler stopped (it was standing by)")
                return 0
        if attempt.taken_from:
            log.warning("took over the scheduler lease of %s (%s)", attempt.taken_from, attempt.reason)
        try:
            return _serve_leased(service, holder, stop, sync=sync)
        finally:
            try:
                locks.release(db, locks.SCHEDULER, holder)
            except Exception as exc:
                log.warning("could not release the scheduler lease: %s", _one_line(exc))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve_leased(service: Service, holder: str, stop: threading.Event, *, sync: bool) -> int:
    global _active_service
    db, options = service.db, service.options
    for run_id in service.store.mark_interrupted_runs():
        log.warning("run %d had no live process any more: recorded as interrupted", run_id)
    scheduler = open_scheduler(db, options, service=True, workers=options.workers)
    try:
        try:
            jobs = prepare_jobs(scheduler, service.config_path, options, sync=sync)
        except SchedulerError as exc:
            log.error("%s", exc)
            return 2
        with _active_lock:
            _active_service = service
        scheduler.add_listener(_on_event(options), EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        if not stop.is_set():
            scheduler.resume()
        log.info(
            "scheduler started as %s: %d job(s); job store re-read every %gs; shutdown grace %gs",
            holder, jobs, options.poll_s, options.shutdown_grace_s,
        )
        code = 0
        renew = _lease_renewer(db, holder, options)
        while not stop.wait(options.poll_s):
            scheduler.wakeup()
            if renew() is False:
                code = 1
                break
        scheduler.pause()
        service.begin_shutdown(options.shutdown_grace_s)
        if count := service.active():
            log.info(
                "stopping: no new crawls; waiting up to %gs for %d running crawl(s)", options.shutdown_grace_s, count,
            )
        while service.active():
            time.sleep(0.1)
            renew()
        scheduler.shutdown(wait=True)
        log.info("scheduler stopped")
        return code
    finally:
        with _active_lock:
            _active_service = None
        if scheduler.running:
            scheduler.shutdown(wait=False)


def _lease_renewer(db: Database, holder: str, options: Options) -> Callable[[], bool | None]:
    """A function renewing the scheduler lease when due: False once it was lost."""
    every = options.lease_s / 4
    next_at = time.monotonic() + every
    lost = False

    def renew() -> bool | None:
        nonlocal next_at, lost
        if lost or time.monotonic() < next_at:
            return None if not lost else False
        next_at = time.monotonic() + every
        try:
            if locks.renew(db, locks.SCHEDULER, holder, lease_s=options.lease_s):
                return True
        except Exception as exc:
            log.warning("could not renew the scheduler lease (retrying): %s", _one_line(exc))
            return None
        current = locks.get(db, locks.SCHEDULER)
        log.error(
            "lost the scheduler lease to %s: stopping (crawls running now finish under their outlet locks)",
            current.describe() if current else "nobody",
        )
        lost = True
        return False

    return renew


def prepare_jobs(scheduler: _Scheduler, config_path: Path | None, options: Options, *, sync: bool = False) -> int:
    """Before the first wakeup: sync, repair or re-create unrestorable jobs, apply the settings.

    Raises SchedulerError, deleting nothing, when a job can be neither restored nor
    re-created from the config.  Returns the number of jobs.
    """
    config = config_path or default_config_path()
    outlets: dict[str, Outlet] | None = None

    def configured() -> dict[str, Outlet]:
        nonlocal outlets
        if outlets is None:
            try:
                outlets = load_outlets(config)
            except ConfigError as exc:
                raise SchedulerError(str(exc)) from None
        return outlets

    stored_config = str(config_path.resolve()) if config_path else None
    if sync:
        for name, action, detail in sync_jobs(scheduler, configured(), options=options, config_path=stored_config):
            log.info("sync: outlet %s: %s (%s)", name, action, detail)
    store = store_of(scheduler)
    problems: list[str] = []
    for stored, _next_run, state in store.rows():
        try:
            store.restore(state)
            continue
        except Exception as exc:
            reason = _one_line(exc)
        job = store.repaired_job(stored, state)
        if job is not None:
            store.update_job(job)
            log.warning(
                "job %s named a function that cannot be imported (%s): re-registered with %s, "
                "its schedule and next run time kept", stored, reason, ENTRY_POINT,
            )
            continue
        name = outlet_of(stored)
        try:
            wanted = scheduled_outlets(configured()) if name else {}
        except SchedulerError:
            wanted = {}
        if name in wanted:
            schedule = wanted[name].schedule
            trigger = make_trigger(every_s=schedule.every_s, cron=schedule.cron, jitter_s=schedule.jitter_s)
            put_job(scheduler, name, trigger, options=options, config_path=stored_config)
            log.warning("job %s could not be restored (%s): re-created from %s (%s)", stored, reason, config, describe_trigger(trigger))
            continue
        problems.append(f"{stored} ({reason})")
    if problems:
        fix = "give the outlet a schedule in the config and run `newswatch schedule sync`, or `newswatch schedule remove OUTLET`"
        raise SchedulerError(f"cannot restore scheduled job(s) {'; '.join(problems)}; nothing was deleted: {fix}")
    store.broken.clear()
    jobs = scheduler.get_jobs()
    now = datetime.now(UTC)
    for job in jobs:
        wanted_settings = {"misfire_grace_time": options.misfire_grace_s, "coalesce": True, "max_instances": 1}
        changes = {key: value for key, value in wanted_settings.items() if getattr(job, key) != value}
        if changes:
            scheduler.modify_job(job.id, **changes)
            job._modify(**changes)
        if job.next_run_time is None:
            log.info("job %s is paused", job.id)
            continue
        missed = job._get_run_times(now)
        if len(missed) > 0 and (now - missed[0]).total_seconds() > 1:
            late = (now - missed[-1]).total_seconds()
            if late <= job.misfire_grace_time:
                log.info(
                    "catch-up: job %s missed %d scheduled run(s) while no scheduler ran (due since %s); "
                    "it runs once now (coalesced)", job.id, len(missed), f"{missed[0]:%Y-%m-%d %H:%M:%S} UTC",
                )
            else:
                log.warning(
                    "job %s missed %d scheduled run(s); the last one is %.0fs late, beyond the misfire "
                    "grace (%ss): none runs now", job.id, len(missed), late, job.misfire_grace_time,
                )
    return len(jobs)


def _on_event(options: Options) -> Callable[[Any], None]:
    def listener(event: Any) -> None:
        if isinstance(event, JobExecutionEvent) and event.code == EVENT_JOB_MISSED:
            log.warning(
                "missed: job %s due at %s is later than the misfire grace (%ss); skipped until its next time",
                event.job_id, f"{event.scheduled_run_time:%Y-%m-%d %H:%M:%S} UTC", options.misfire_grace_s,
            )
        elif isinstance(event, JobExecutionEvent) and event.code == EVENT_JOB_ERROR:
            log.error("job %s failed: %s", event.job_id, _one_line(event.exception))

    return listener


# -- helpers ----------------------------------------------------------------------------


def _setup_logging() -> None:
    """Timestamped (UTC) lines on stderr: ours at INFO, others at the CLI's level."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    for root_handler in logging.root.handlers:
        root_handler.setFormatter(formatter)


def _log_dir() -> Path:
    from crawler.settings import data_dir

    directory = data_dir() / "logs" / "scheduler"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _signal(child: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        child.send_signal(sig)


def _exit_text(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


def _last_line(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(handle.tell() - 4096, 0))
            lines = [line.strip() for line in handle.read().decode("utf-8", "replace").splitlines()]
    except OSError:
        return None
    lines = [line for line in lines if line]
    return _safe(lines[-1])[:200] if lines else None


def _safe(value: object) -> str:
    from crawler.cli.render import safe

    return safe(value)


def _one_line(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = str(exc).strip().splitlines()
    return _safe(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__)
