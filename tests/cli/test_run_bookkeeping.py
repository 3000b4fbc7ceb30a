"""A run killed with -9 is shown stale at once, with the progress it had flushed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage.db import open_database
from storage.models import CrawlRun
from tests.support.cli_helpers import NEWSWATCH, REPO, newswatch


def _config(directory: Path, mirror: Any) -> Path:
    host = mirror.url("/").split("/")[2]
    config = directory / "outlets.toml"
    config.write_text(
        f'[outlets.stuck]\nspider = "rfi"\nallowed_domains = ["{host.split(":")[0]}"]\nallow_private = true\n'
        f'start_urls = ["{mirror.url("/rfi/rss.xml")}", "{mirror.url("/slow?seconds=120")}"]\n'
        'article_patterns = ["/articles/"]\ntimeout = "10m"\n',
        encoding="utf-8",
    )
    return config


def test_a_killed_run_is_stale_at_once_with_its_counts_so_far(tmp_path: Path, sqlite_url: str, mirror_factory: Any) -> None:
    mirror = mirror_factory(outlets=("rfi",))
    config = _config(tmp_path, mirror)
    crawl = subprocess.Popen(
        [str(NEWSWATCH), "--config", str(config), "crawl", "stuck", "--db", sqlite_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
        env={**os.environ, "NEWSWATCH_HEARTBEAT_S": "0.5", "RETRY_TIMES": "0"},
    )
    db = open_database(sqlite_url)
    try:
        deadline = time.monotonic() + 120
        while True:  # wait until the run has stored something and a heartbeat flushed it
            with db.read_session() as session:
                run = session.scalars(select(CrawlRun)).first()
            if run is not None and run.new_count > 0:
                break
            assert crawl.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "no progress flushed by the heartbeat"
            time.sleep(0.3)
    finally:
        crawl.send_signal(signal.SIGKILL)
        crawl.wait(30)
    assert run.status == "running"  # the stored row: counts flushed mid-run, still "running"

    listed = newswatch("runs", "list", "--db", sqlite_url, "--json")
    assert listed.returncode == 0, listed.stderr
    record = json.loads(listed.stdout)[0]
    assert record["status"] == "stale" and "process is gone" in record["message"]
    assert record["counts"]["new"] >= run.new_count > 0
    shown = newswatch("runs", "show", str(record["id"]), "--db", sqlite_url, "--json")
    assert json.loads(shown.stdout)["status"] == "stale"
    # The schedule's view of the outlet's last run says the same.
    added = newswatch("--config", str(config), "schedule", "add", "stuck", "--every", "1h", "--db", sqlite_url)
    assert added.returncode == 0, added.stderr
    scheduled = newswatch("--config", str(config), "schedule", "list", "--json", "--db", sqlite_url)
    assert [job["last_run"]["status"] for job in json.loads(scheduled.stdout)] == ["stale"], scheduled.stdout
