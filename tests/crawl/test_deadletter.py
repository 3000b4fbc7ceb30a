"""A storage failure mid-run loses no article: it is spooled and recorded by the next run."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from sqlalchemy import make_url

from crawler.deadletter import spool_dir
from storage.db import open_database
from tests.support.cli_helpers import FIXTURES, newswatch, newswatch_json


def test_articles_that_cannot_be_stored_are_spooled_then_recorded_next_run(tmp_path: Path, sqlite_url: str) -> None:
    open_database(sqlite_url).dispose()  # creates and migrates the database
    path = make_url(sqlite_url).database
    assert Path(path).stat().st_mode & 0o777 == 0o600  # crawled text is not world-readable
    with sqlite3.connect(path) as connection:  # a real write failure inside record()
        connection.execute(
            "CREATE TRIGGER refuse_versions BEFORE INSERT ON article_versions "
            "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded (test trigger)'); END"
        )

    failed = newswatch("replay", str(FIXTURES), "--db", sqlite_url, "--json")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    summary = json.loads(failed.stdout)
    assert summary["status"] == "failed" and summary["counts"]["error"] == 5
    assert all("spooled to" in p["reason"] for p in summary["problems"])
    spool = Path(newswatch_json("info", "--db", sqlite_url)["dead_letter"]) / f"run-{summary['id']}.jsonl"
    assert spool.parent.parent == Path(os.environ["NEWSWATCH_HOME"]) / "dead-letter"
    assert spool.stat().st_mode & 0o777 == 0o600 and spool.parent.stat().st_mode & 0o777 == 0o700
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


def _refuse_versions(sqlite_url: str) -> str:
    # Created and migrated in-process: the test above does it through the CLI.
    open_database(sqlite_url).dispose()
    path = make_url(sqlite_url).database
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TRIGGER refuse_versions BEFORE INSERT ON article_versions "
            "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded (test trigger)'); END"
        )
    return path


def test_a_torn_line_is_quarantined_and_the_good_lines_are_recorded_once(tmp_path: Path, sqlite_url: str) -> None:
    path = _refuse_versions(sqlite_url)
    failed = newswatch_json_any("replay", str(FIXTURES), "--db", sqlite_url)
    spool = spool_dir(sqlite_url) / f"run-{failed['id']}.jsonl"  # what `info` shows (first test)
    lines = spool.read_bytes().splitlines(keepends=True)
    assert len(lines) == 5
    spool.write_bytes(b"".join(lines[:4]) + lines[4][: len(lines[4]) // 2])  # the last write was cut off
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TRIGGER refuse_versions")

    empty = tmp_path / "nothing"
    empty.mkdir()
    recovered = newswatch_json("replay", str(empty), "--db", sqlite_url)
    again = newswatch_json("replay", str(empty), "--db", sqlite_url)
    assert recovered["counts"]["new"] == 4
    assert sum(again["counts"].values()) == 0  # not imported a second time
    assert not spool.exists()
    torn = spool.with_name(spool.name + ".torn")
    assert torn.read_bytes() == lines[4][: len(lines[4]) // 2] + b"\n"
    assert torn.stat().st_mode & 0o777 == 0o600


def test_each_database_has_its_own_spool(tmp_path: Path, sqlite_url: str) -> None:
    _refuse_versions(sqlite_url)
    newswatch_json_any("replay", str(FIXTURES), "--db", sqlite_url)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    empty = tmp_path / "nothing"
    empty.mkdir()
    assert sum(newswatch_json("replay", str(empty), "--db", other)["counts"].values()) == 0
    assert newswatch_json("items", "list", "--db", other) == []


def test_items_that_cannot_be_spooled_are_reported_lost_not_saved(tmp_path: Path, sqlite_url: str) -> None:
    _refuse_versions(sqlite_url)
    spool_folder = spool_dir(sqlite_url)  # what `info` shows (first test)
    spool_folder.parent.mkdir(parents=True, exist_ok=True)
    spool_folder.write_text("a file where the spool folder should be: every spool write fails")

    result = newswatch("replay", str(FIXTURES), "--db", sqlite_url, "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed" and "LOST" in summary["message"]
    assert summary["counts"]["error"] == 5
    assert all("LOST" in p["reason"] and "spooled to" not in p["reason"] for p in summary["problems"])


def newswatch_json_any(*args: str) -> dict:
    """``--json`` output of a command expected to fail (exit 1), checked for a clean exit."""
    result = newswatch(*args, "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)
