"""Deliveries sent by the running scheduler, without any crawl: retries and digest windows.

Real ``newswatch scheduler run`` processes (their delivery job every second, via
NEWSWATCH_DELIVER_EVERY_S), a real webhook receiver and a real SMTP server on 127.0.0.1.
Nothing here sleeps and then counts: every wait polls for an event with a generous
deadline.  That the scheduler went on ticking after a delivery (so a repeat would have
been seen) is shown by a run recorded without its watch evaluation: a tick marks it
watched.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import open_database
from storage.models import CrawlRun
from storage.repository import Store
from tests.alerts.receivers import SmtpSink, WebhookReceiver, smtp, webhook  # noqa: F401
from tests.support.cli_helpers import FIXTURES, NEWSWATCH, REPO, newswatch, newswatch_json
from tests.support.waiting import wait_until

TICK = {"NEWSWATCH_DELIVER_EVERY_S": "1", "NEWSWATCH_SCHEDULER_POLL_S": "0.5", "NEWSWATCH_LOCK_LEASE_S": "8"}




class Schedulers:
    """``newswatch scheduler run`` processes on one database; each is killed at the end."""

    def __init__(self, directory: Path, db_url: str) -> None:
        self.directory = directory
        self.db_url = db_url
        self.config = directory / "outlets.toml"
        # One outlet and no schedule: the scheduler has no crawl job, only its delivery job.
        self.config.write_text(
            '[outlets.idle]\nspider = "rfi"\nstart_urls = ["http://127.0.0.1:9/"]\n'
            'allowed_domains = ["127.0.0.1"]\nallow_private = true\n',
            encoding="utf-8",
        )
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log_path = self.directory / f"scheduler-{len(self.processes) + 1}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(NEWSWATCH), "--config", str(self.config), "scheduler", "run", "--db", self.db_url],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                env={**os.environ, **TICK, "NEWSWATCH_HOME": str(self.directory / "home")},
            )
        self.processes.append((process, log_path))
        wait_until(lambda: "scheduler started" in log_path.read_text(errors="replace") or process.poll() is not None,
                   timeout=60, what="the scheduler to start")
        assert process.poll() is None, log_path.read_text(errors="replace")
        return process

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace") for _, path in self.processes)

    def kill_all(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def schedulers(tmp_path: Path, sqlite_url: str) -> Iterator[Schedulers]:
    group = Schedulers(tmp_path, sqlite_url)
    yield group
    group.kill_all()


def _ok(*args: str) -> str:
    result = newswatch(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _deliveries(name: str, db: str) -> list[dict]:
    return list(newswatch_json("watch", "show", name, "--db", db)["deliveries"])


def wait_for_ticks(db_url: str, count: int = 2) -> None:
    """Return once the running scheduler has ticked ``count`` more times (each marks a run watched)."""
    db = open_database(db_url)
    store = Store(db)
    try:
        for _ in range(count):
            run_id = store.start_run(spiders=["none"], outlets=["idle"], mode="replay")
            store.finish_run(run_id, status="finished")

            def watched(run_id: int = run_id) -> bool:
                with db.read_session() as session:
                    return session.scalar(select(CrawlRun.watched_at).where(CrawlRun.id == run_id)) is not None

            wait_until(watched, timeout=60, what=f"a delivery tick to evaluate run {run_id}")
    finally:
        db.dispose()


@pytest.mark.slow
def test_receiver_down_then_up_is_delivered_by_the_scheduler_once_across_a_restart(
    sqlite_url: str, schedulers: Schedulers
) -> None:
    receiver = WebhookReceiver()  # not started: connections are refused
    _ok("replay", str(FIXTURES), "--db", sqlite_url)
    # --backfill queues the stored match without sending it: the first try is the scheduler's.
    _ok("watch", "add", "down", "--query", "张又侠", "--outlet", "rfi", "--backfill", "--notify", receiver.url, "--db", sqlite_url)
    assert [(d["status"], d["attempts"]) for d in _deliveries("down", sqlite_url)] == [("pending", 0)]

    first = schedulers.start()
    tried = wait_until(lambda: [d for d in _deliveries("down", sqlite_url) if d["attempts"] >= 1],
                       timeout=60, what="the scheduler's first attempt")
    assert tried[0]["status"] == "failed" and "cannot reach" in tried[0]["last_error"]
    first.kill()  # SIGKILL: the retry is in the database only
    first.wait(timeout=10)

    receiver.start()
    try:
        schedulers.start()
        # The retry is due one minute (the first backoff step) after the failed attempt.
        wait_until(lambda: receiver.hits, timeout=150, what="the retried delivery")
        wait_for_ticks(sqlite_url)
        assert len(receiver.hits) == 1 and receiver.hits[0].status == 200
        assert receiver.hits[0].json["event"] == "new" and receiver.hits[0].json["watch"] == "down"
        (delivery,) = _deliveries("down", sqlite_url)
        assert delivery["status"] == "sent" and delivery["attempts"] == 2
        assert [t["ok"] for t in delivery["tries"]] == [False, True]
        failed_at = datetime.fromisoformat(delivery["tries"][0]["at"])
        assert receiver.hits[0].at >= failed_at + timedelta(minutes=1)
        assert "watch deliveries: 0 new match(es); sent 1" in schedulers.logs()
    finally:
        receiver.stop()


def _boundary_after(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


@pytest.mark.slow
def test_digest_goes_out_when_its_window_closes_in_one_message_per_channel(
    sqlite_url: str, schedulers: Schedulers, smtp: SmtpSink, webhook: WebhookReceiver  # noqa: F811
) -> None:
    _ok("watch", "add", "daily", "--query", "普京", "--digest", "1m", "--notify", webhook.url, "--notify", smtp.url,
        "--db", sqlite_url)
    first = schedulers.start()
    # Start the window early in a minute, so the replay and a scheduler restart end before it closes.
    wait_until(lambda: 2 <= datetime.now(UTC).second <= 30, timeout=70, what="the start of a minute")
    replayed_at = datetime.now(UTC)
    _ok("replay", str(FIXTURES), "--db", sqlite_url)
    closes = _boundary_after(replayed_at)

    queued = _deliveries("daily", sqlite_url)
    assert len(queued) == 6  # three matches, two channels
    assert {(d["status"], datetime.fromisoformat(d["next_attempt_at"])) for d in queued} == {("pending", closes)}
    assert webhook.hits == [] and smtp.messages == []  # the run itself sent nothing
    # A restart inside the window: the window's matches are in the database, not in the process.
    first.kill()
    first.wait(timeout=10)
    schedulers.start()

    wait_until(lambda: webhook.hits and smtp.messages, timeout=120, what="the digest on both channels")
    wait_for_ticks(sqlite_url)
    (hit,) = webhook.hits
    (mail,) = smtp.messages
    assert hit.at >= closes and smtp.received_at[0] >= closes
    payload = hit.json
    assert payload["schema"] == "newswatch.watch-digest/1" and payload["watch"] == "daily"
    assert hit.headers["Idempotency-Key"] == payload["idempotency_key"]
    matches = newswatch_json("watch", "show", "daily", "--db", sqlite_url)["matches"]
    assert sorted(e["article_id"] for e in payload["events"]) == sorted(m["article_id"] for m in matches)
    assert len(payload["events"]) == 3 and {e["event"] for e in payload["events"]} == {"new"}
    assert " ".join(mail["Subject"].split()) == "[daily] digest: 3 events"
    body = mail.get_content()
    for event in payload["events"]:
        assert event["url"] in body
    assert {(d["status"], d["attempts"]) for d in _deliveries("daily", sqlite_url)} == {("sent", 1)}
