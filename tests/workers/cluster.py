"""A scheduler and crawl workers as real processes, for the workers' test and benchmark.

Each worker is ``newswatch worker`` with its own NEWSWATCH_HOME; all share one PostgreSQL
database, one broker and one queue (unique per cluster, so runs never meet).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage.db import Database, open_database
from storage.models import ArticleRecord, CrawlDispatch, CrawlRun
from tests.support.cli_helpers import NEWSWATCH, REPO

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
REDIS = "redis://127.0.0.1:6379/0"
#: Crawls of a loopback site need no politeness delays (those are tested elsewhere).
FAST = ("AUTOTHROTTLE_START_DELAY=0", "DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False",
        "CONCURRENT_REQUESTS_PER_DOMAIN=4")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class Cluster:
    def __init__(self, root: Path, db_url: str, broker: str, config: Path) -> None:
        self.root = root
        self.db_url = db_url
        self.broker = broker
        self.config = config
        self.queue = f"newswatch.test.{uuid.uuid4().hex[:8]}"
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.schedulers: list[subprocess.Popen[bytes]] = []
        self.db: Database = open_database(db_url)

    def env(self, home: str) -> dict[str, str]:
        path = self.root / home
        path.mkdir(exist_ok=True)
        return {
            **os.environ, "NEWSWATCH_HOME": str(path), "NEWSWATCH_DB": self.db_url,
            "NEWSWATCH_BROKER_URL": self.broker, "NEWSWATCH_BROKER_QUEUE": self.queue,
            "NEWSWATCH_CONFIG": str(self.config), "NEWSWATCH_LOCK_LEASE_S": "20",
            "NEWSWATCH_SCHEDULER_POLL_S": "0.5", "NEWSWATCH_CONTACT": "tests@example.org",
        }

    def run(self, *args: str, home: str = "cli", timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(NEWSWATCH), *args], env=self.env(home), cwd=REPO, capture_output=True,
                              text=True, timeout=timeout)

    def start_worker(self, name: str, concurrency: int = 2) -> None:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115  (closed with the process)
        settings = [arg for value in FAST for arg in ("-s", value)]
        self.workers[name] = subprocess.Popen(
            [str(NEWSWATCH), "worker", "-n", f"{name}@test", "-c", str(concurrency), *settings],
            env=self.env(name), cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for name, process in self.workers.items():
            log = self.root / f"{name}.log"
            while b" ready." not in log.read_bytes():
                assert process.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, f"{name} not ready: {log.read_text(errors='replace')}"
                time.sleep(0.2)

    def start_scheduler(self, name: str) -> None:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115
        self.schedulers.append(subprocess.Popen(
            [str(NEWSWATCH), "scheduler", "run", "--dispatch", "celery", "--wait"],
            env=self.env(name), cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        ))

    def make_due(self, outlets: list[str], at: datetime) -> None:
        """Every outlet's scheduled job is next due at ``at`` (then every hour, as configured)."""
        result = self.run("schedule", "sync")
        assert result.returncode == 0, result.stderr
        from newswatch.scheduling import job_id, job_store

        with job_store(self.db) as scheduler:
            for outlet in outlets:
                scheduler.modify_job(job_id(outlet), next_run_time=at)

    def runs(self) -> list[CrawlRun]:
        with self.db.read_session() as session:
            rows = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def articles(self) -> int:
        with self.db.read_session() as session:
            return int(session.scalar(select(func.count()).select_from(ArticleRecord)) or 0)

    def urls(self) -> list[str]:
        with self.db.read_session() as session:
            return list(session.scalars(select(ArticleRecord.url)))

    def records(self) -> dict[str, tuple[int, int | None]]:
        """url -> (article id, duplicate_of)."""
        with self.db.read_session() as session:
            rows = session.execute(select(ArticleRecord.url, ArticleRecord.id, ArticleRecord.duplicate_of))
            return {url: (id_, dup) for url, id_, dup in rows}

    def dispatches(self) -> list[str]:
        with self.db.read_session() as session:
            return list(session.scalars(select(CrawlDispatch.job_key)))

    def wait_for(self, condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not condition():
            for name, process in self.workers.items():
                if process.poll() is not None and process.returncode != -signal.SIGKILL:
                    raise AssertionError(f"worker {name} exited {process.returncode}: {self.log(name)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; runs: {[(r.id, r.worker, r.status, r.message) for r in self.runs()]}")
            time.sleep(0.3)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")[-3000:]

    def kill(self, name: str) -> None:
        self.workers[name].send_signal(signal.SIGKILL)
        self.workers[name].wait()

    def stop(self) -> None:
        for process in [*self.workers.values(), *self.schedulers]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers.values(), *self.schedulers]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.db.dispose()


def soon(seconds: float = 2.0) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
