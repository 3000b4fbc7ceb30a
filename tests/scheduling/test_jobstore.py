"""The job table's statements (storage/jobtable.py) under SafeJobStore, on SQLite and PostgreSQL.

The scheduler tests run their processes on SQLite; these pin, on both databases, what
the store relies on: rows kept whatever they hold, the next run time leaving out the
broken jobs, and the compare-and-set that lets a ``schedule`` command win over the
running scheduler's write-back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from newswatch.scheduling import Options, SafeJobStore, job_store, make_trigger, put_job, store_of
from storage.db import Database, open_database


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    try:
        yield database
    finally:
        database.dispose()


def _schedule(db: Database, every: dict[str, int]) -> None:
    options = Options.from_settings()
    with job_store(db, options) as scheduler:
        for outlet, seconds in every.items():
            put_job(scheduler, outlet, make_trigger(every_s=seconds), options=options)


def test_rows_next_run_time_and_due_jobs(db: Database) -> None:
    _schedule(db, {"b": 60, "a": 3600})
    with job_store(db) as scheduler:
        store = store_of(scheduler)
        rows = store.rows()
        assert [row[0] for row in rows] == ["crawl:a", "crawl:b"]  # by id
        runs = {job: when for job, when, _state in rows}
        assert all(when is not None and when.tzinfo is not None for when in runs.values())
        assert [job for job, _state in store.job_states()] == ["crawl:b", "crawl:a"]  # soonest first
        assert store.get_next_run_time() == store.soonest_run_time() == runs["crawl:b"]
        assert store.soonest_run_time(excluding=["crawl:b"]) == runs["crawl:a"]
        assert store.soonest_run_time(excluding=["crawl:a", "crawl:b"]) is None
        due = store.get_due_jobs(datetime.now(UTC) + timedelta(minutes=5))
        assert [job.id for job in due] == ["crawl:b"]
        scheduler.pause_job("crawl:b")  # paused: no next run time
        assert store.soonest_run_time() == runs["crawl:a"]


def test_a_job_that_cannot_be_restored_is_kept_and_left_out(db: Database) -> None:
    _schedule(db, {"a": 60, "b": 3600})
    with job_store(db) as scheduler:
        store = store_of(scheduler)
        when_b = dict((job, when) for job, when, _state in store.rows())["crawl:b"]
        assert store.save_state("crawl:a", datetime.now(UTC), b"not a pickle")
        assert [job.id for job in scheduler.get_jobs()] == ["crawl:b"]
        assert "crawl:a" in store.broken
        assert store.get_next_run_time() == when_b  # the broken job cannot make it spin
        assert store.get_due_jobs(datetime.now(UTC) + timedelta(minutes=5)) == []
        assert [row[0] for row in store.rows()] == ["crawl:a", "crawl:b"]  # nothing deleted
    assert not store.save_state("crawl:gone", None, b"x")


def test_compare_and_set_lets_a_command_win_over_the_schedulers_write_back(db: Database) -> None:
    _schedule(db, {"a": 60})
    engine = db.write_session.kw["bind"]
    running = SafeJobStore(engine, yield_to_others=True)  # as `scheduler run` has it
    with job_store(db) as scheduler:
        store = store_of(scheduler)
        [(_, _, before)] = store.rows()
        assert not store.save_state("crawl:a", None, b"x", over=b"some other state")
        assert store.rows()[0][2] == before
        running.start(scheduler, "default")
        [job] = running.get_due_jobs(datetime.now(UTC) + timedelta(minutes=5))
        scheduler.pause_job("crawl:a")  # `schedule pause`, committed in between
        paused = store.rows()[0][2]
        job._modify(next_run_time=datetime.now(UTC) + timedelta(minutes=1))
        running.update_job(job)  # dropped, not an error: the pause stands
        assert store.rows()[0][1:] == (None, paused)
        # Without yield_to_others (a `schedule` command) the same write goes through.
        plain = SafeJobStore(engine)
        plain.start(scheduler, "default")
        [job] = plain.get_all_jobs()
        job._modify(next_run_time=datetime.now(UTC) + timedelta(minutes=1))
        plain.update_job(job)
        assert store.rows()[0][1] is not None
