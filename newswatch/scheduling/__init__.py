"""Scheduled recurring crawls: APScheduler 3 with its job store in the newswatch database.

Design (see docs/decisions.md, "Storage and scheduling" and "One owner per run"):

* **Jobs** live in ``apscheduler_jobs`` (``SQLAlchemyJobStore`` on the project's
  writer engine, so SQLite writes take the lock up front; its statements are in
  storage/jobtable.py), one per outlet, id ``crawl:<outlet>``, always written with
  ``replace_existing=True``, an explicit ``misfire_grace_time``
  (NEWSWATCH_MISFIRE_GRACE_S), ``coalesce=True`` and ``max_instances=1``; triggers
  are in UTC.  Every job calls :func:`run_scheduled_crawl` with JSON-able keyword
  arguments only.
* **A job that cannot be restored is never deleted** (APScheduler's own store
  deletes it): :class:`SafeJobStore` keeps it; ``scheduler run`` re-points a
  ``crawl:`` job at the entry point (trigger and next run kept), re-creates it from
  the outlets config, or refuses to start naming it.
* **Each crawl is a child process** (``python -m newswatch.cli crawl OUTLET --run-id N``):
  the scheduler creates the CrawlRun (origin ``scheduler``), waits with a hard
  timeout, stops a hung child (SIGTERM, then SIGKILL) and closes the run from the
  run row, never from the exit status.  The child dies with the scheduler
  (``PR_SET_PDEATHSIG``, crawler/cli/__main__.py).
* **Never two crawls of one outlet**: ``max_instances=1`` in this process, and a
  lease in ``outlet_locks`` (storage/locks.py) across processes and hosts.  One
  ``scheduler run`` per database holds the ``scheduler`` lease (job stores must not
  be shared); a second one refuses to start, or with ``--wait`` stands by.
* ``schedule add/pause/…`` write the job store directly; the running scheduler
  re-reads it every NEWSWATCH_SCHEDULER_POLL_S seconds (APScheduler 3 only looks
  at its store when it wakes up).

Modules, one concern each:

* :mod:`~newswatch.scheduling.options`: :class:`Options`, the NEWSWATCH_* scheduling settings.
* :mod:`~newswatch.scheduling.triggers`: interval and crontab triggers (crontab day-of-week numbering).
* :mod:`~newswatch.scheduling.jobstore`: what a stored job is (id, entry point, arguments) and
  :class:`SafeJobStore`, which keeps the jobs it cannot restore.
* :mod:`~newswatch.scheduling.jobs`: the scheduler on the job store; put/find/remove/sync jobs.
* :mod:`~newswatch.scheduling.service`: :class:`Service`, one crawl in a child process under the
  outlet lock, with its timeout and the shutdown grace.
* :mod:`~newswatch.scheduling.serve`: ``newswatch scheduler run``: the scheduler lease, signals,
  preparing the jobs at start.
* :mod:`~newswatch.scheduling.logs`: the scheduler's log lines.
* :mod:`~newswatch.scheduling.deliveries`: the watches' delivery job (every
  NEWSWATCH_DELIVER_EVERY_S), in a memory job store and on an executor of its own.

This module defines :func:`run_scheduled_crawl`, the function every persisted job names
(:data:`ENTRY_POINT`), and re-exports the names the CLI and the tests use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newswatch.scheduling.jobs import (
        find_job,
        job_store,
        open_scheduler,
        put_job,
        remove_job,
        scheduled_outlets,
        store_of,
        sync_jobs,
    )
    from newswatch.scheduling.jobstore import (
        ENTRY_POINT,
        JOB_KWARGS,
        JOB_PREFIX,
        SafeJobStore,
        job_id,
        outlet_of,
    )
    from newswatch.scheduling.logs import _setup_logging, log
    from newswatch.scheduling.options import Options
    from newswatch.scheduling.serve import SchedulerError, prepare_jobs, serve
    from newswatch.scheduling.service import Service, service_for
    from newswatch.scheduling.triggers import cron_trigger, describe_trigger, make_trigger
    from storage.jobtable import JOBS_TABLE

#: The re-exported names by the module that defines them, loaded at first use: importing
#: one light submodule (``triggers``, with which the CLI checks a schedule before it
#: touches the job store) runs this file, and must not load the scheduler, the crawl
#: service and the store with it.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "newswatch.scheduling.jobs": (
        "find_job", "job_store", "open_scheduler", "put_job", "remove_job", "scheduled_outlets", "store_of", "sync_jobs",
    ),
    "newswatch.scheduling.jobstore": ("ENTRY_POINT", "JOB_KWARGS", "JOB_PREFIX", "SafeJobStore", "job_id", "outlet_of"),
    "newswatch.scheduling.logs": ("_setup_logging", "log"),
    "newswatch.scheduling.options": ("Options",),
    "newswatch.scheduling.serve": ("SchedulerError", "prepare_jobs", "serve"),
    "newswatch.scheduling.service": ("Service", "service_for"),
    "newswatch.scheduling.triggers": ("cron_trigger", "describe_trigger", "make_trigger"),
    "storage.jobtable": ("JOBS_TABLE",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    try:
        home = _HOME[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = importlib.import_module(home)
    # Every name of that module at once: loading newswatch.scheduling.serve binds this
    # package's ``serve`` to the submodule, which its function of that name must replace
    # whichever of the module's names was asked for first.
    for exported in _EXPORTS[home]:
        globals()[exported] = getattr(module, exported)
    return globals()[name]


__all__ = [
    "ENTRY_POINT",
    "JOBS_TABLE",
    "JOB_KWARGS",
    "JOB_PREFIX",
    "Options",
    "SafeJobStore",
    "SchedulerError",
    "Service",
    "_setup_logging",
    "cron_trigger",
    "describe_trigger",
    "find_job",
    "job_id",
    "job_store",
    "log",
    "make_trigger",
    "open_scheduler",
    "outlet_of",
    "prepare_jobs",
    "put_job",
    "remove_job",
    "run_scheduled_crawl",
    "scheduled_outlets",
    "serve",
    "service_for",
    "store_of",
    "sync_jobs",
]


# Defined here, not in a submodule: persisted jobs name it as ENTRY_POINT
# ("newswatch.scheduling:run_scheduled_crawl"), and APScheduler, given the function itself
# rather than that string, derives the reference from its __module__.
def run_scheduled_crawl(
    outlet: str, config_path: str | None = None, db_url: str | None = None, timeout_s: int | None = None
) -> str:
    """Crawl ``outlet`` once, as a scheduled run.  The stable entry point of every job.

    ``config_path``/``db_url`` None mean the running scheduler's own; the database
    URL is normally not stored in the job (it would put a password in the job store).
    Returns the run's status, or ``skipped``.
    """
    from newswatch.scheduling.service import service_for

    return service_for(db_url, config_path).crawl(outlet, config_path=config_path, timeout_s=timeout_s)
