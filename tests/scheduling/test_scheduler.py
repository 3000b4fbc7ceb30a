"""Scheduled crawls: real `newswatch scheduler run` processes, a real database, the mirror site.

The process tests use second-scale intervals and a fast poll (NEWSWATCH_SCHEDULER_POLL_S)
and assert from the runs table and the job store, not from exit statuses alone.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from storage import locks
from storage.db import Database, open_database
from storage.models import CrawlRun
from storage.repository import Store
from tests.support.cli_helpers import NEWSWATCH, REPO, newswatch
from tests.support.waiting import wait_until

#: Fast settings for the scheduler processes of these tests.
FAST = {
    "NEWSWATCH_SCHEDULER_POLL_S": "0.5",
    "NEWSWATCH_KILL_WAIT_S": "2",
    "NEWSWATCH_LOCK_LEASE_S": "8",
}


# -- helpers ------------------------------------------------------------------------




def outlet_toml(name: str, url: str, *, every: str | None = None, cron: str | None = None,
                timeout: str = "20s", enabled: bool = True) -> str:
    lines = [
        f"[outlets.{name}]", 'spider = "rfi"', f'start_urls = ["{url}"]', 'allowed_domains = ["127.0.0.1"]',
        "allow_private = true", f'timeout = "{timeout}"',
    ]
    if every:
        lines.append(f'every = "{every}"')
    if cron:
        lines.append(f'cron = "{cron}"')
    if not enabled:
        lines.append("enabled = false")
    return "\n".join(lines) + "\n\n"


@dataclass
class Site:
    """One database and one outlets config (in a directory of its own)."""

    directory: Path
    config: Path
    db_url: str
    _db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_database(self.db_url)
        return self._db

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return newswatch("--config", str(self.config), *args, "--db", self.db_url,
                         env={"NEWSWATCH_HOME": str(self.directory / "home")})

    def runs(self, outlet: str | None = None) -> list[CrawlRun]:
        with self.db.read_session() as session:
            rows = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
        return [run for run in rows if outlet is None or outlet in run.outlets]

    def job_rows(self) -> dict[str, bytes]:
        with self.db.read_session() as session:
            return dict(session.execute(text("SELECT id, job_state FROM apscheduler_jobs")).all())


def add_job(site: Site, outlet: str, every_s: int = 1) -> None:
    """Schedule ``outlet`` from this process (the CLI has its own test; a process costs a second)."""
    from newswatch.scheduling import Options, job_store, make_trigger, put_job

    options = Options.from_settings()
    with job_store(site.db, options) as scheduler:
        put_job(scheduler, outlet, make_trigger(every_s=every_s), options=options)


def make_site(directory: Path, outlets: str) -> Site:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "outlets.toml"
    config.write_text(outlets, encoding="utf-8")
    return Site(directory, config, f"sqlite:///{directory / 'newswatch.db'}")


@dataclass
class SchedulerProcess:
    site: Site
    proc: subprocess.Popen[bytes]
    log_path: Path
    started_at: datetime

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, pattern: str, *, timeout: float = 30) -> re.Match[str]:
        return wait_until(lambda: re.search(pattern, self.log()), timeout=timeout, what=f"{pattern!r} in\n{self.log()}")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@dataclass
class Schedulers:
    started: list[SchedulerProcess] = field(default_factory=list)

    def start(self, site: Site, *args: str, env: dict[str, str] | None = None) -> SchedulerProcess:
        log_path = site.directory / f"scheduler-{len(self.started) + 1}.log"
        started_at = datetime.now(UTC)
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [str(NEWSWATCH), "--config", str(site.config), "scheduler", "run", "--db", site.db_url, *args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                env={**os.environ, **FAST, "NEWSWATCH_HOME": str(site.directory / "home"), **(env or {})},
            )
        process = SchedulerProcess(site, proc, log_path, started_at)
        self.started.append(process)
        return process


@pytest.fixture
def schedulers() -> Iterator[Schedulers]:
    group = Schedulers()
    yield group
    for process in group.started:
        process.kill()


def assert_no_overlap(runs: list[CrawlRun]) -> None:
    spans = sorted((run.started_at, run.finished_at or datetime.max.replace(tzinfo=UTC), run.id) for run in runs)
    for (_, end, first), (start, _, second) in zip(spans, spans[1:], strict=False):
        assert end <= start, f"runs {first} and {second} overlap"


# -- the lock -------------------------------------------------------------------------


def test_lock_acquire_renew_release(db_url: str) -> None:
    db = open_database(db_url)
    a, b = locks.new_holder(), locks.new_holder()
    key = locks.outlet_key("rfi")
    first = locks.acquire(db, key, a, lease_s=60)
    assert first.acquired and first.lease and first.lease.holder == a
    second = locks.acquire(db, key, b, lease_s=60)
    assert not second.acquired and second.lease and second.lease.holder == a  # who holds it, for the log
    assert locks.renew(db, key, a, lease_s=60, run_id=7)
    assert not locks.renew(db, key, b, lease_s=60)
    lease = locks.get(db, key)
    assert lease is not None and lease.run_id == 7 and "run 7" in lease.describe()
    assert not locks.release(db, key, b)
    assert locks.release(db, key, a)
    assert locks.get(db, key) is None
    assert locks.acquire(db, key, b, lease_s=60).acquired
    # Other names are independent.
    assert locks.acquire(db, locks.SCHEDULER, a, lease_s=60).acquired


def test_lock_expiry_and_takeover(db_url: str) -> None:
    db = open_database(db_url)
    a, b = locks.new_holder(), locks.new_holder()
    key = locks.outlet_key("bbc")
    now = datetime.now(UTC)
    assert locks.acquire(db, key, a, lease_s=10, now=now).acquired
    assert not locks.acquire(db, key, b, lease_s=10, now=now + timedelta(seconds=9)).acquired
    # A renewal pushes the expiry on ...
    assert locks.renew(db, key, a, lease_s=10, now=now + timedelta(seconds=9))
    assert not locks.acquire(db, key, b, lease_s=10, now=now + timedelta(seconds=15)).acquired
    # ... and once it has run out, anyone takes it over, and the old holder has lost it.
    taken = locks.acquire(db, key, b, lease_s=10, now=now + timedelta(seconds=20))
    assert taken.acquired and taken.taken_from == a and taken.reason == "expired"
    assert not locks.renew(db, key, a, lease_s=10)
    assert not locks.release(db, key, a)
    assert locks.get(db, key).holder == b  # type: ignore[union-attr]
    # An expired lease whose crawl still runs in a live process of this host is not taken.
    store, other = Store(db), locks.outlet_key("wechat")
    run_id = store.start_run(spiders=["wechat"], outlets=["wechat"], mode="live", origin="scheduler")  # pid: ours
    assert locks.acquire(db, other, a, lease_s=10, now=now).acquired
    assert locks.renew(db, other, a, lease_s=10, run_id=run_id, now=now)
    assert not locks.acquire(db, other, b, lease_s=10, now=now + timedelta(seconds=20)).acquired
    store.finish_run(run_id, status="finished")
    taken = locks.acquire(db, other, b, lease_s=10, now=now + timedelta(seconds=20))
    assert taken.acquired and taken.previous is not None and taken.previous.run_id == run_id


def test_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(db_url: str) -> None:
    db = open_database(db_url)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = locks.new_holder().split(":")[0]
    ghost, live = f"{host}:{dead.pid}:feedbeef", locks.new_holder()
    key = locks.outlet_key("ecns")
    assert locks.acquire(db, key, ghost, lease_s=3600).acquired
    # The dead holder had attached a run that a live process still runs: not gone yet.
    run_id = Store(db).start_run(spiders=["ecns"], outlets=["ecns"], mode="live", origin="scheduler")
    assert locks.renew(db, key, ghost, lease_s=3600, run_id=run_id)
    assert not locks.acquire(db, key, live, lease_s=60).acquired
    Store(db).finish_run(run_id, status="interrupted", message="test")
    taken = locks.acquire(db, key, live, lease_s=60)
    assert taken.acquired and taken.taken_from == ghost and taken.reason == "gone"
    # A holder on another host is only taken over when its lease runs out.
    assert locks.release(db, key, live)
    assert locks.acquire(db, key, f"elsewhere:{dead.pid}:feedbeef", lease_s=3600).acquired
    assert not locks.acquire(db, key, live, lease_s=60).acquired


def test_lock_race_has_one_winner(db_url: str) -> None:
    databases = [open_database(db_url) for _ in range(6)]
    holders = [locks.new_holder() for _ in databases]
    barrier = threading.Barrier(len(databases))
    results: list[bool] = []

    def take(db: Database, holder: str) -> None:
        barrier.wait()
        results.append(locks.acquire(db, locks.outlet_key("race"), holder, lease_s=60).acquired)

    threads = [threading.Thread(target=take, args=pair) for pair in zip(databases, holders, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]


# -- triggers and repairs, in process ------------------------------------------------


def test_crontab_day_numbers_mean_what_crontab_says() -> None:
    from newswatch.scheduling import cron_trigger, describe_trigger

    # APScheduler 3 alone reads "1-5" as Tuesday-Saturday.
    assert describe_trigger(cron_trigger("0 6 * * 1-5")) == "cron 0 6 * * mon,tue,wed,thu,fri"
    assert describe_trigger(cron_trigger("0 6 * * 0")) == "cron 0 6 * * sun"
    assert describe_trigger(cron_trigger("0 6 * * 7")) == "cron 0 6 * * sun"
    assert describe_trigger(cron_trigger("*/15 * * * *")) == "cron */15 * * * *"
    assert describe_trigger(cron_trigger("0 0 * * sat,sun")) == "cron 0 0 * * sat,sun"
    monday = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
    assert cron_trigger("30 6 * * 1").get_next_fire_time(None, monday) == monday.replace(hour=6, minute=30)
    with pytest.raises(ValueError):
        cron_trigger("0 6 * * 9")


def test_unrestorable_job_is_recreated_from_the_config(tmp_path: Path) -> None:
    from newswatch.scheduling import (
        ENTRY_POINT,
        Options,
        job_store,
        make_trigger,
        open_scheduler,
        prepare_jobs,
        put_job,
    )

    site = make_site(tmp_path, outlet_toml("rfi_local", "http://127.0.0.1:9/rss.xml", every="2h"))
    options = Options.from_settings()
    with job_store(site.db, options) as scheduler:
        put_job(scheduler, "rfi_local", make_trigger(every_s=60), options=options)
    with site.db.write_session() as session, session.begin():
        session.execute(text("UPDATE apscheduler_jobs SET job_state = :s"), {"s": b"\x80\x04garbage"})
    scheduler = open_scheduler(site.db, options, service=True)
    try:
        assert prepare_jobs(scheduler, site.config, options) == 1
        job = scheduler.get_job("crawl:rfi_local")
        assert job.func_ref == ENTRY_POINT and job.trigger.interval_length == 7200
    finally:
        scheduler.shutdown(wait=False)


# -- the CLI --------------------------------------------------------------------------


@pytest.mark.slow
def test_schedule_commands(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/rss.xml"
    site = make_site(tmp_path, outlet_toml("a", url, every="30m") + outlet_toml("b", url, cron="*/15 * * * *")
                     + outlet_toml("c", url, every="1h", enabled=False) + outlet_toml("d", url))

    def ok(result: subprocess.CompletedProcess[str]) -> Any:
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if "--json" in result.args else result.stdout

    # Independent commands run side by side (each is a process of its own).
    added_d, added_a, refused = together(
        ("schedule", "add", "d", "--every", "45m", "--jitter", "1m", "--timeout", "5m", "--json"),
        ("schedule", "add", "a", "--cron", "0 6 * * 1-5", "--json"),
        ("schedule", "add", "c", "--every", "1h"),
        site=site,
    )
    added = ok(added_d)
    assert (added["job_id"], added["schedule"], added["jitter"], added["timeout"], added["action"]) == (
        "crawl:d", "every 45m", "1m", "5m", "added")
    added = ok(added_a)
    assert added["schedule"] == "cron 0 6 * * mon,tue,wed,thu,fri" and added["next_run_at"].endswith("+00:00")
    assert refused.returncode == 2 and "disabled" in refused.stderr

    paused, missing = together(("schedule", "pause", "d"), ("schedule", "remove", "b"), site=site)
    ok(paused)
    assert missing.returncode == 1 and "no scheduled job" in missing.stderr
    listing, table = together(("schedule", "list", "--json"), ("schedule", "list"), site=site)
    listed = {job["outlet"]: job for job in ok(listing)}
    assert set(listed) == {"a", "d"}
    assert (listed["d"]["state"], listed["d"]["next_run_at"]) == ("paused", None)
    assert listed["a"]["state"] == "scheduled" and listed["a"]["last_run"] is None and listed["a"]["crawling"] is None
    assert (listed["a"]["config"], listed["d"]["config"]) == ("scheduled", "unscheduled")
    lines = ok(table)
    assert "Scheduled crawls" in lines and "every 45m" in lines and "paused" in lines

    resumed, removed = together(("schedule", "resume", "d"), ("schedule", "remove", "a"), site=site)
    assert "resumed; next run 20" in ok(resumed)
    assert "crawl:a: removed" in ok(removed)

    report = {(r["outlet"], r["action"], r["detail"]) for r in ok(site.cli("schedule", "sync", "--json"))}
    assert report == {("a", "added", "every 30m"), ("b", "added", "cron */15 * * * *"),
                      ("d", "removed", "no schedule in the config")}
    assert set(site.job_rows()) == {"crawl:a", "crawl:b"}


def together(*commands: tuple[str, ...], site: Site) -> list[subprocess.CompletedProcess[str]]:
    results: list[Any] = [None] * len(commands)

    def run(index: int) -> None:
        results[index] = site.cli(*commands[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(commands))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# -- real scheduler processes ---------------------------------------------------------


@pytest.mark.slow
def test_job_runs_repeatedly_and_each_run_is_recorded(mirror_factory: Any, tmp_path: Path, schedulers: Schedulers) -> None:
    mirror = mirror_factory(outlets=("rfi",))
    site = make_site(tmp_path, outlet_toml("quick", mirror.url("/slow?seconds=0")))
    scheduler = schedulers.start(site)
    scheduler.wait_log("scheduler started")
    # Added while the scheduler runs (by another process): it must notice the job store changed.
    add_job(site, "quick")

    def two_finished() -> list[CrawlRun] | None:
        finished = [run for run in site.runs("quick") if run.status == "finished"]
        return finished[:2] if len(finished) >= 2 else None

    finished = wait_until(two_finished, timeout=40, what="two finished scheduled runs")
    for run in finished:
        assert (run.origin, run.mode, run.outlets) == ("scheduler", "live", ["quick"])
        assert run.finished_at is not None
        # The scheduler logs each start and end, with the run id, outlet, status and counts.
        scheduler.wait_log(rf"end run {run.id} outlet quick: finished \(new \d+ changed \d+ ", timeout=10)
        assert f"start run {run.id} outlet quick" in scheduler.log()
    listed = site.cli("runs", "list", "--json")
    assert listed.returncode == 0
    assert {run.id for run in finished} <= {r["id"] for r in json.loads(listed.stdout) if r["origin"] == "scheduler"}
    assert_no_overlap(site.runs("quick"))


@pytest.mark.slow
def test_sigkill_restart_keeps_jobs_and_catches_up_once(mirror_factory: Any, tmp_path: Path, schedulers: Schedulers) -> None:
    from newswatch.scheduling import job_store

    mirror = mirror_factory(outlets=("rfi",))
    site = make_site(tmp_path, outlet_toml("quick", mirror.url("/slow?seconds=0")))
    add_job(site, "quick")
    first = schedulers.start(site)
    killed_run = wait_until(lambda: next(iter(site.runs("quick")), None), timeout=90, what="a first run")
    first.kill()  # SIGKILL, mid-crawl: its crawl process dies with it (PR_SET_PDEATHSIG)
    killed_at = time.monotonic()
    assert "crawl:quick" in site.job_rows()  # still persisted
    time.sleep(max(0.0, killed_at + 3.5 - time.monotonic()))  # down for more than 3 intervals

    second = schedulers.start(site)
    missed = int(second.wait_log(r"catch-up: job crawl:quick missed (\d+) scheduled run").group(1))
    assert missed >= 3
    catch_up = wait_until(lambda: next((r for r in site.runs("quick") if r.started_at >= second.started_at), None),
                          timeout=90, what="the catch-up run")
    # Pause at once: a coalesced catch-up is one run; a burst of the missed runs would go on.
    with job_store(site.db) as store:  # from another process, as `newswatch schedule pause` does
        store.pause_job("crawl:quick")
    done = wait_until(lambda: next((r for r in site.runs("quick") if r.id == catch_up.id and r.finished_at), None),
                      timeout=30, what="the end of the catch-up run")
    time.sleep(2)
    after = [run for run in site.runs("quick") if run.started_at >= second.started_at]
    assert [(run.id, run.status) for run in after] == [(done.id, "finished")]
    # The run the kill cut short was closed when the scheduler came back, before the catch-up.
    before = next(run for run in site.runs("quick") if run.id == killed_run.id)
    assert before.status == "interrupted" and before.finished_at <= done.started_at
    assert_no_overlap(site.runs("quick"))


@pytest.mark.slow
def test_two_schedulers_never_overlap_a_crawl_of_one_outlet(mirror_factory: Any, tmp_path: Path, schedulers: Schedulers) -> None:
    # The first crawl's page answers only after 300 s, so that crawl surely still holds its
    # lease while other CLI processes start and try the outlet (a start takes 2 s on a quiet
    # machine, 20 s on a busy one); the takeover's crawls then get a 1-second page.
    mirror = mirror_factory(outlets=("rfi",))
    site = make_site(tmp_path, outlet_toml("slow", mirror.url("/slow?seconds=300"), timeout="10m"))
    add_job(site, "slow")
    active = schedulers.start(site)
    active.wait_log("scheduler started")
    standby = schedulers.start(site, "--wait", "--grace", "0s")
    refused = schedulers.start(site)
    assert refused.wait(timeout=90) == 1
    assert "another scheduler is running against this database" in refused.log()
    standby.wait_log("standing by")
    wait_until(lambda: site.runs("slow"), timeout=90, what="a first run")

    # Any other process that tries to crawl the outlet now is turned away by the outlet lock.
    other = site.cli("schedule", "run-now", "slow")
    assert other.returncode == 1, other.stderr
    assert re.search(r"skipped: outlet slow is being crawled by \S+:\d+:\w+ \(lease until .*, run \d+\)", other.stderr)

    # Each crawl reads the outlets file when it starts: the takeover's crawls get a fast page.
    site.config.write_text(outlet_toml("slow", mirror.url("/slow?seconds=1"), timeout="10m"), encoding="utf-8")
    active.kill()  # mid-crawl: the standby takes over, and must not crawl beside a leftover
    standby.wait_log("took over the scheduler lease")
    # The killed scheduler's own crawl may still finish (or be closed as interrupted):
    # wait for a run that started after it, i.e. one of the standby's, to finish.
    first_run_id = site.runs("slow")[0].id
    wait_until(
        lambda: any(r.id > first_run_id and r.status == "finished" for r in site.runs("slow")),
        timeout=90,
        what="a finished run of the second scheduler",
    )
    standby.signal(signal.SIGTERM)
    assert standby.wait(timeout=30) == 0
    runs = site.runs("slow")
    assert len(runs) >= 2 and all(run.finished_at for run in runs)
    assert_no_overlap(runs)
    assert len(runs) == len(set(run.id for run in runs))


@pytest.mark.slow
def test_hung_crawl_is_killed_at_its_timeout_and_recorded_failed(mirror_factory: Any, tmp_path: Path, schedulers: Schedulers) -> None:
    mirror = mirror_factory(outlets=("rfi",))
    site = make_site(tmp_path, outlet_toml("hang", mirror.url("/slow?seconds=60"), timeout="2s"))
    add_job(site, "hang")
    scheduler = schedulers.start(site)
    runs = wait_until(lambda: (r := site.runs("hang")) and len(r) >= 2 and r[0].finished_at and r,
                      timeout=30, what="a killed run and a later one")
    hung, later = runs[0], runs[1]
    assert (hung.status, hung.message, hung.origin) == ("failed", "killed after 2s timeout", "scheduler")
    took = (hung.finished_at - hung.started_at).total_seconds()
    # Not before its 2 s timeout; and killed, not waited for: the page takes 60 s.  The
    # upper bound is generous (a loaded CI machine), the kill itself is proven by the message.
    assert 2 <= took < 30
    assert later.started_at >= hung.finished_at  # the scheduler went on
    assert "outlet hang: no end after 2s: stopping it" in scheduler.log()


@pytest.mark.slow
def test_sigterm_during_a_crawl_exits_cleanly(mirror_factory: Any, tmp_path: Path, schedulers: Schedulers) -> None:
    mirror = mirror_factory(outlets=("rfi",))
    # Within the grace the crawl finishes; past it, it is stopped and recorded interrupted.
    patient = make_site(tmp_path / "patient", outlet_toml("p", mirror.url("/slow?seconds=1")))
    hurried = make_site(tmp_path / "hurried", outlet_toml("h", mirror.url("/slow?seconds=60")))
    add_job(patient, "p")
    add_job(hurried, "h")
    waiting = schedulers.start(patient, "--grace", "20s")
    cut = schedulers.start(hurried, "--grace", "1s")
    for process, name in ((waiting, "p"), (cut, "h")):
        process.wait_log(rf"start run \d+ outlet {name}")
        process.signal(signal.SIGTERM)
    sent = time.monotonic()

    # Stopped after its 1 s grace (+ the kill wait), long before its 60 s page would end;
    # the bound is generous for a loaded machine, the message below says why it stopped.
    assert cut.wait(timeout=40) == 0
    assert time.monotonic() - sent < 40
    [stopped] = hurried.runs("h")
    assert (stopped.status, stopped.message) == ("interrupted", "stopped by scheduler shutdown after 1s grace")

    assert waiting.wait(timeout=20 + 5) == 0
    [run] = patient.runs("p")  # and no new crawl started after the signal
    assert run.status == "finished" and run.finished_at is not None
    log = waiting.log()
    assert "stopping: no new crawls; waiting up to 20s for 1 running crawl(s)" in log
    assert log.rstrip().endswith("scheduler stopped")


@pytest.mark.slow
def test_job_whose_function_was_renamed_is_repaired_not_deleted(mirror_factory: Any, tmp_path: Path, schedulers: Schedulers) -> None:
    from newswatch.scheduling import ENTRY_POINT, job_store, store_of

    mirror = mirror_factory(outlets=("rfi",))
    site = make_site(tmp_path, outlet_toml("quick", mirror.url("/slow?seconds=0")))
    add_job(site, "quick")
    # As after a release that renamed the job function: APScheduler alone would delete the job.
    state = pickle.loads(site.job_rows()["crawl:quick"])
    state["func"] = "newswatch.scheduling:run_scheduled_crawl_v0"
    with site.db.write_session() as session, session.begin():
        session.execute(text("UPDATE apscheduler_jobs SET job_state = :s"), {"s": pickle.dumps(state)})

    with job_store(site.db) as scheduler:  # what `schedule list` reads
        assert scheduler.get_jobs() == []
        assert "run_scheduled_crawl_v0" in store_of(scheduler).broken["crawl:quick"]
    assert "crawl:quick" in site.job_rows()  # reading deleted nothing

    scheduler = schedulers.start(site)
    scheduler.wait_log(f"job crawl:quick named a function that cannot be imported .* re-registered with {ENTRY_POINT}")
    wait_until(lambda: any(run.status == "finished" for run in site.runs("quick")), timeout=30, what="a finished run")
    assert pickle.loads(site.job_rows()["crawl:quick"])["func"] == ENTRY_POINT


def test_job_that_cannot_be_restored_stops_the_scheduler_loudly(tmp_path: Path, schedulers: Schedulers) -> None:
    site = make_site(tmp_path, outlet_toml("quick", "http://127.0.0.1:9/rss.xml"))
    with site.db.write_session() as session, session.begin():
        session.execute(
            text("INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES ('crawl:gone', :t, :s)"),
            {"t": time.time(), "s": b"not a pickle"},
        )
    scheduler = schedulers.start(site)
    assert scheduler.wait(timeout=90) == 2
    assert re.search(r"cannot restore scheduled job\(s\) crawl:gone .*nothing was deleted", scheduler.log())
    assert "crawl:gone" in site.job_rows()


@pytest.mark.slow
def test_a_manual_crawl_longer_than_its_lease_keeps_the_outlet_to_itself(mirror_factory: Any, tmp_path: Path) -> None:
    # A manual crawl holds the outlet's lease for the outlet's timeout (3 s here); given a
    # longer --timeout (or a download still in flight at its deadline) it outlasts that
    # first lease, so it must renew it: a second crawl may not take the outlet meanwhile.
    mirror = mirror_factory(outlets=("rfi",))
    site = make_site(tmp_path, outlet_toml("long", mirror.url("/slow?seconds=60"), timeout="3s"))
    env = {**os.environ, "NEWSWATCH_HOME": str(site.directory / "home")}
    with open(site.directory / "first.log", "wb") as log:
        first = subprocess.Popen(
            [str(NEWSWATCH), "--config", str(site.config), "crawl", "long", "--timeout", "60s", "--db", site.db_url],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env,
        )
    try:
        lease = wait_until(lambda: locks.get(site.db, locks.outlet_key("long")), timeout=30, what="the first crawl's lease")
        assert lease is not None
        wait_until(lambda: datetime.now(UTC) > lease.expires_at + timedelta(seconds=1), timeout=30,
                   what="the end of the first lease")
        assert first.poll() is None, (site.directory / "first.log").read_text(errors="replace")
        second = site.cli("crawl", "long", "--timeout", "5s")
        assert second.returncode == 1, second.stdout + second.stderr
        assert f"outlet long is being crawled by {lease.holder}" in second.stderr
        assert [run.status for run in site.runs("long")] == ["running"]
    finally:
        first.kill()
        first.wait(timeout=10)


def test_schedule_list_shows_a_manual_crawl_in_progress_without_a_run_of_none(tmp_path: Path) -> None:
    # A manual `newswatch crawl` holds the outlet's lease without a run id attached to it.
    site = make_site(tmp_path, outlet_toml("a", "http://127.0.0.1:9/rss.xml", every="30m"))
    assert site.cli("schedule", "sync").returncode == 0
    holder = locks.new_holder()
    assert locks.acquire(site.db, locks.outlet_key("a"), holder, lease_s=60).acquired
    listed = site.cli("schedule", "list")
    assert listed.returncode == 0, listed.stderr
    assert "(crawling)" in listed.stdout and "None" not in listed.stdout, listed.stdout
