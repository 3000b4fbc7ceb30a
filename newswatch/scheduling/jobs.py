"""The scheduler on the job store, and the job helpers: find, put, remove, sync with the config."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import UTC
from typing import Any

from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.base import BaseTrigger

from crawler.outlets import Outlet
from newswatch.scheduling.deliveries import DELIVER_EXECUTOR, LOCAL_STORE
from newswatch.scheduling.jobstore import ENTRY_POINT, SafeJobStore, job_id, outlet_of
from newswatch.scheduling.logs import _one_line
from newswatch.scheduling.options import Options
from newswatch.scheduling.triggers import _trigger_key, describe_trigger, make_trigger, never_fires
from storage.db import Database


class _Scheduler(BackgroundScheduler):  # type: ignore[misc]  # APScheduler 3 has no type hints
    def _process_jobs(self) -> float | None:
        # APScheduler 3 processes jobs once more after shutdown() (it only skips when
        # *paused*): a CLI command's paused scheduler would then submit due jobs to a
        # closed executor and move their next run times on.
        if self.state != STATE_RUNNING:
            return None
        # A database error outside APScheduler's own try (get_next_run_time,
        # update_job of a job removed meanwhile) would end the scheduler thread.
        try:
            wait: float | None = super()._process_jobs()
            return wait
        except Exception as exc:
            self._logger.error("error while looking for due jobs (retrying): %s", _one_line(exc))
            retry: float = self.jobstore_retry_interval
            return retry


def open_scheduler(
    db: Database, options: Options, *, service: bool = False, workers: int = 1, executor: BaseExecutor | None = None
) -> _Scheduler:
    """A scheduler on the database's job store, started paused: it runs nothing until resumed.

    The CLI's ``schedule`` commands use it to read and write jobs (APScheduler only
    writes to a store once started); ``scheduler run`` resumes it.
    """
    store = SafeJobStore(db.write_session.kw["bind"], repair=service, yield_to_others=service)
    jobstores: dict[str, Any] = {"default": store}
    executors: dict[str, BaseExecutor] = {"default": executor or ThreadPoolExecutor(max_workers=workers)}
    if service:
        # The watches' delivery job (scheduling/deliveries.py): in memory, on a thread of its own.
        jobstores[LOCAL_STORE] = MemoryJobStore()
        executors[DELIVER_EXECUTOR] = ThreadPoolExecutor(max_workers=1)
    scheduler = _Scheduler(
        jobstores=jobstores,
        executors=executors,
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
        if existing.next_run_time is None and not never_fires(existing.trigger):
            # Paused by a person: stays paused.  (A job whose old trigger could never
            # fire was stopped by that, not by anyone: the new schedule starts it.)
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
        stored_name = outlet_of(stored)
        if stored_name is None or stored_name in wanted:
            continue
        remove_job(scheduler, stored_name)
        if stored_name not in outlets:
            reason = "not in the config"
        elif not outlets[stored_name].enabled:
            reason = "disabled in the config"
        else:
            reason = "no schedule in the config"
        report.append((stored_name, "removed", reason))
    return report
