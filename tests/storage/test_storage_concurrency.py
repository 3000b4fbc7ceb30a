"""Two processes writing one database: no duplicate article, no lost version; kill -9 safety."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from storage.db import open_database
from storage.models import ArticleRecord, ArticleVersion, CrawlRun, Sighting
from storage.repository import Store
from tests.support.cli_helpers import REPO

URLS = 60


def _spawn(db_url: str, worker: str, start: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.storage_worker", db_url, worker, str(start), str(URLS), *extra],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _check_consistent(db_url: str) -> dict[str, int]:
    """Every article has versions 1..n with n == version_count, and sightings point at them."""
    db = open_database(db_url)
    try:
        with db.read_session() as session:
            if db.is_sqlite:
                assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            per_article = session.execute(
                select(
                    ArticleRecord.id,
                    ArticleRecord.version_count,
                    func.count(ArticleVersion.id),
                    func.min(ArticleVersion.version),
                    func.max(ArticleVersion.version),
                )
                .join(ArticleVersion, ArticleVersion.article_id == ArticleRecord.id, isouter=True)
                .group_by(ArticleRecord.id, ArticleRecord.version_count)
            ).all()
            for article_id, version_count, n, low, high in per_article:
                assert (n, low, high) == (version_count, 1, version_count), article_id
            writes = session.scalar(
                select(func.count()).where(Sighting.outcome.in_(["new", "changed", "duplicate"]))
            )
            return {
                "articles": len(per_article),
                "versions": session.scalar(select(func.count()).select_from(ArticleVersion)),
                "sightings": session.scalar(select(func.count()).select_from(Sighting)),
                "writes": writes,
                "urls": session.scalar(select(func.count(func.distinct(ArticleRecord.canonical_url)))),
            }
    finally:
        db.dispose()


def test_two_writers_create_no_duplicate_and_lose_no_version(db_url: str, tmp_path: Path) -> None:
    open_database(db_url).dispose()  # migrate once, as the CLI would
    start = tmp_path / "go"
    workers = [_spawn(db_url, name, start) for name in ("A", "B")]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip().isdigit()
    start.touch()
    for worker in workers:
        _, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err
    totals = _check_consistent(db_url)
    assert totals["articles"] == totals["urls"] == URLS
    # Each record() call left exactly one sighting, and each write a version: none lost.
    assert totals["sightings"] == 2 * 2 * URLS
    assert totals["writes"] == totals["versions"]
    # Both writers' own edits are among the versions of every article.
    db = open_database(db_url)
    with db.read_session() as session:
        for i in (0, URLS - 1):
            bodies = set(session.scalars(
                select(ArticleVersion.body).join(ArticleRecord)
                .where(ArticleRecord.canonical_url == f"https://www.rfi.fr/cn/race/{i}")
            ))
            assert any("写入者A-0" in b for b in bodies) and any("写入者B-0" in b for b in bodies)
    db.dispose()


@pytest.mark.parametrize("iteration", range(4))
def test_kill_9_mid_write_leaves_the_database_consistent(sqlite_url: str, tmp_path: Path, iteration: int) -> None:
    open_database(sqlite_url).dispose()
    start = tmp_path / "go"
    start.touch()
    worker = _spawn(sqlite_url, f"K{iteration}", start, "--forever")
    assert worker.stdout is not None
    run_id = int(worker.stdout.readline())
    time.sleep(random.uniform(0.3, 1.2))
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    totals = _check_consistent(sqlite_url)
    assert totals["articles"] >= 1 and totals["writes"] == totals["versions"]

    store = Store(open_database(sqlite_url))
    assert run_id in store.mark_interrupted_runs()
    with store.db.read_session() as session:
        assert session.get_one(CrawlRun, run_id).status == "interrupted"
