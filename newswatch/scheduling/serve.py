"""``newswatch scheduler run``: the scheduler lease, signals, and preparing the jobs at start.

One ``scheduler run`` per database holds the ``scheduler`` lease (job stores must not
be shared); a second one refuses to start, or with ``--wait`` stands by.  The jobs
are re-read every NEWSWATCH_SCHEDULER_POLL_S seconds.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent

from crawler.outlets import ConfigError, Outlet, load_outlets
from crawler.outlets import config_path as default_config_path
from newswatch.scheduling import service as service_module
from newswatch.scheduling.deliveries import add_deliver_job
from newswatch.scheduling.dispatch import DispatchExecutor
from newswatch.scheduling.jobs import (
    _Scheduler,
    open_scheduler,
    put_job,
    scheduled_outlets,
    store_of,
    sync_jobs,
)
from newswatch.scheduling.jobstore import ENTRY_POINT, outlet_of
from newswatch.scheduling.logs import _one_line, _setup_logging, log
from newswatch.scheduling.options import Options
from newswatch.scheduling.service import Service
from newswatch.scheduling.triggers import describe_trigger, make_trigger
from storage import locks
from storage.db import Database


class SchedulerError(Exception):
    """The scheduler cannot start; the message says why and what to do."""


def serve(
    db: Database, db_url: str, config_path: Path | None, options: Options, *, wait: bool = False, sync: bool = False,
    dispatch: str = "process",
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
            return _serve_leased(service, holder, stop, sync=sync, dispatch=dispatch)
        finally:
            try:
                locks.release(db, locks.SCHEDULER, holder)
            except Exception as exc:
                log.warning("could not release the scheduler lease: %s", _one_line(exc))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve_leased(service: Service, holder: str, stop: threading.Event, *, sync: bool, dispatch: str = "process") -> int:
    db, options = service.db, service.options
    for run_id in service.store.mark_interrupted_runs():
        log.warning("run %d had no live process any more: recorded as interrupted", run_id)
    # --dispatch celery: due crawls become broker jobs (newswatch/scheduling/dispatch.py).
    executor = DispatchExecutor(service.db_url, holder) if dispatch == "celery" else None
    scheduler = open_scheduler(db, options, service=True, workers=options.workers, executor=executor)
    try:
        try:
            jobs = prepare_jobs(scheduler, service.config_path, options, sync=sync)
        except SchedulerError as exc:
            log.error("%s", exc)
            return 2
        add_deliver_job(scheduler, db, options.deliver_every_s)
        # Job threads find the service through service_for(), which reads service.py's state.
        with service_module._active_lock:
            service_module._active_service = service
        scheduler.add_listener(_on_event(options), EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        if not stop.is_set():
            scheduler.resume()
        log.info(
            "scheduler started as %s: %d job(s); job store re-read every %gs; shutdown grace %gs; "
            "watch deliveries every %gs%s",
            holder, jobs, options.poll_s, options.shutdown_grace_s, options.deliver_every_s,
            "; due crawls are sent to the broker" if executor else "",
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
        with service_module._active_lock:
            service_module._active_service = None
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
        stored_name = outlet_of(stored)
        try:
            wanted = scheduled_outlets(configured()) if stored_name else {}
        except SchedulerError:
            wanted = {}
        if stored_name is not None and stored_name in wanted:
            schedule = wanted[stored_name].schedule
            trigger = make_trigger(every_s=schedule.every_s, cron=schedule.cron, jitter_s=schedule.jitter_s)
            put_job(scheduler, stored_name, trigger, options=options, config_path=stored_config)
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
