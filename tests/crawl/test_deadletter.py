"""A storage failure mid-run loses no article: it is spooled and recorded by the next run."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import make_url

from tests.support.cli_helpers import FIXTURES, newswatch, newswatch_json


def test_articles_that_cannot_be_stored_are_spooled_then_recorded_next_run(tmp_path: Path, sqlite_url: str) -> None:
    assert newswatch("runs", "list", "--db", sqlite_url).returncode == 0  # creates and migrates the database
    path = make_url(sqlite_url).database
    with sqlite3.connect(path) as connection:  # a real write failure inside record()
        connection.execute(
            "CREATE TRIGGER refuse_versions BEFORE INSERT ON article_versions "
            "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded (test trigger)'); END"
        )

    failed = newswatch("replay", str(FIXTURES), "--db", sqlite_url, "--json")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    summary = __import__("json").loads(failed.stdout)
    assert summary["status"] == "failed" and summary["counts"]["error"] == 5
    assert all("spooled to" in p["reason"] for p in summary["problems"])
    spool = Path(os.environ["NEWSWATCH_HOME"]) / "dead-letter" / f"run-{summary['id']}.jsonl"
    assert len(spool.read_text(encoding="utf-8").splitlines()) == 5
    assert newswatch_json("items", "list", "--db", sqlite_url) == []  # nothing half-written

    with sqlite3.connect(path) as connection:
        connection.execute("DROP TRIGGER refuse_versions")
    empty = tmp_path / "nothing-to-replay"
    empty.mkdir()
    recovered = newswatch_json("replay", str(empty), "--db", sqlite_url)
    assert recovered["counts"]["new"] == 5
    assert not spool.exists()
    assert len(newswatch_json("items", "list", "--db", sqlite_url)) == 5
