"""What a stored job is, and :class:`SafeJobStore`, which never deletes one it cannot restore.

Every job is ``crawl:<outlet>`` calling :data:`ENTRY_POINT`
(:func:`newswatch.scheduling.run_scheduled_crawl`) with :data:`JOB_KWARGS` only.

The statements on the job table are storage's (:class:`storage.jobtable.JobTable`, which
says why the adapter lives there): this module decides what to do with the rows.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError

from newswatch.scheduling.logs import _one_line, log
from storage.jobtable import JobTable

#: The function every persisted job names.  Keep its module, name and signature.
ENTRY_POINT = "newswatch.scheduling:run_scheduled_crawl"
JOB_PREFIX = "crawl:"
#: The keyword arguments a job may carry (all JSON-able).
JOB_KWARGS = ("outlet", "config_path", "db_url", "timeout_s")


def job_id(outlet: str) -> str:
    return JOB_PREFIX + outlet


def outlet_of(job: str) -> str | None:
    return job[len(JOB_PREFIX):] if job.startswith(JOB_PREFIX) else None


def _repaired_state(state: Mapping[str, Any], job: str) -> dict[str, Any]:
    """A job's pickled state re-pointed at the entry point, with only known arguments."""
    given = state.get("kwargs")
    old: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    kwargs = {key: old[key] for key in JOB_KWARGS if key in old}
    kwargs["outlet"] = outlet_of(job)
    return {**state, "id": job, "func": ENTRY_POINT, "args": (), "kwargs": kwargs}


class SafeJobStore(JobTable):
    """APScheduler's ``SQLAlchemyJobStore`` (as :class:`JobTable`), never deleting a job it cannot restore.

    APScheduler's store logs "Unable to restore job … -- removing it" and deletes the
    row (docs/decisions.md).  This one keeps the row and reports it in
    :attr:`broken`; with ``repair`` (the running scheduler) it re-points a ``crawl:``
    job at :data:`ENTRY_POINT` and saves it.  Broken jobs are left out of the due and
    next-run-time queries, so they cannot make the scheduler spin.
    """

    def __init__(self, engine: Any, *, repair: bool = False, yield_to_others: bool = False) -> None:
        super().__init__(engine)
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
        if self.save_state(job.id, job.next_run_time, state, over=seen):
            with self._seen_lock:
                self._seen[job.id] = state
            return
        if seen is None:
            raise JobLookupError(job.id)
        with self._seen_lock:
            self._seen.pop(job.id, None)
        log.info("job %s was changed or removed by another process meanwhile: the stored version stands", job.id)

    def _get_jobs(self, *conditions: Any) -> list[Job]:
        jobs: list[Job] = []
        fixed: list[Job] = []
        for stored, job_state in self.job_states(*conditions):
            if stored in self.broken and not self.repair:
                continue
            try:
                jobs.append(self._reconstitute_job(job_state))
                self.broken.pop(stored, None)
                continue
            except Exception as exc:
                reason = _one_line(exc)
            job = self.repaired_job(stored, job_state) if self.repair else None
            if job is not None:
                log.warning(
                    "job %s named a function that cannot be imported (%s): re-registered with %s, "
                    "its schedule and next run time kept", stored, reason, ENTRY_POINT,
                )
                jobs.append(job)
                fixed.append(job)
            elif stored not in self.broken:
                self.broken[stored] = reason
                if self.repair:
                    log.error(
                        "job %s cannot be restored (%s); it is kept but does not run: "
                        "`newswatch schedule sync` or `newswatch schedule remove` fixes it", stored, reason,
                    )
        for job in fixed:  # after the read transaction: SQLite would wait on ourselves
            self.update_job(job)
        return jobs

    def get_due_jobs(self, now: datetime) -> list[Job]:
        jobs = super().get_due_jobs(now)
        return [job for job in jobs if job.id not in self.broken]

    def get_next_run_time(self) -> datetime | None:
        return self.soonest_run_time(excluding=self.broken)

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
