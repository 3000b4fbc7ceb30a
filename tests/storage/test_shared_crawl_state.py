"""What crawls on several machines share through the database: validators, dispatches, dedup."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage import dispatches, validators
from storage.db import open_database
from storage.models import HttpValidator, Sighting
from storage.repository import Store
from tests.support.cli_helpers import REPO
from tests.support.factories import make_article

URL = "https://www.rfi.fr/cn/a/1"


def test_validators_keep_only_what_revalidation_needs_and_stand_for_a_stored_article(db_url: str) -> None:
    db = open_database(db_url)
    store = Store(db)
    validators.remember(db, URL, etag='"abc"', last_modified="Sun, 01 Nov 2026 08:00:00 GMT",
                        status=200, content_type="text/html")
    # No article from that page yet: no conditional request (a 304 would tell nothing).
    assert validators.conditional(db, URL) is None
    run = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="live")
    article_id = store.record(make_article(URL), run).article_id
    assert validators.conditional(db, URL) == validators.Validators('"abc"', "Sun, 01 Nov 2026 08:00:00 GMT")
    with db.read_session() as session:
        row = session.get_one(HttpValidator, validators.url_key(URL))
        columns = set(HttpValidator.__table__.columns.keys())
    assert columns == {"url_key", "url", "etag", "last_modified", "status", "content_type", "article_id", "seen_at"}
    assert row.article_id == article_id

    # A 304: an unchanged sighting of that article, at its current version.
    assert validators.record_not_modified(db, URL, run) == article_id
    with db.read_session() as session:
        outcomes = sorted(session.scalars(select(Sighting.outcome).where(Sighting.run_id == run)))
    assert outcomes == ["new", "unchanged"]
    # A 304 for a page no article came from names nothing: the caller fetches it again.
    validators.remember(db, "https://x.example/feed", etag='"f"', last_modified=None, status=200, content_type=None)
    assert validators.record_not_modified(db, "https://x.example/feed", run) is None

    # Pruned once not seen for longer than the limit.
    assert validators.prune(db, older_than_s=3600) == 0
    with db.write_session() as session, session.begin():
        session.get_one(HttpValidator, validators.url_key(URL)).seen_at = datetime.now(UTC) - timedelta(hours=2)
    assert validators.prune(db, older_than_s=3600) == 1
    assert validators.conditional(db, URL) is None
    db.dispose()


def test_a_due_time_is_dispatched_once_whoever_claims_it(db_url: str) -> None:
    db = open_database(db_url)
    due = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    results: list[str | None] = []
    start = threading.Barrier(4)

    def claim(name: str) -> None:
        start.wait()
        results.append(dispatches.claim(db, "rfi_cn", due, name))

    threads = [threading.Thread(target=claim, args=(f"scheduler-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [None, None, None, "rfi_cn@2026-11-29T12:00:00+00:00"]
    assert dispatches.claim(db, "rfi_cn", due + timedelta(minutes=30), "x") is not None
    assert [d.job_key for d in dispatches.dispatched(db, "rfi_cn")] == [
        "rfi_cn@2026-11-29T12:00:00+00:00", "rfi_cn@2026-11-29T12:30:00+00:00",
    ]
    db.dispose()


@pytest.mark.postgres
def test_two_writers_recording_two_copies_of_one_story_at_once_give_one_new_one_duplicate(
    pg_url: str, tmp_path: Path
) -> None:
    """50 pairs of near-copies, each pair recorded at the same moment by two processes."""
    open_database(pg_url).dispose()  # migrate once, before the writers race
    pairs = 50
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.near_copy_writer", pg_url, name, str(tmp_path), str(pairs)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [w.communicate(timeout=180) for w in writers]
    for writer, (_out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
    statuses: dict[int, list[str]] = {}
    for out, _err in outputs:
        for line in out.splitlines():
            i, status = line.split()
            statuses.setdefault(int(i), []).append(status)
    assert len(statuses) == pairs
    wrong = {i: s for i, s in statuses.items() if sorted(s) != ["duplicate", "new"]}
    assert not wrong, wrong
    db = open_database(pg_url)
    with db.read_session() as session:
        assert session.scalar(select(func.count()).where(Sighting.outcome == "new")) == pairs
    db.dispose()
