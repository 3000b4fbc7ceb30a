"""The validators-only conditional requests: what is kept, what a 304 records, no cache on disk."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from sqlalchemy import select

from crawler.middlewares.conditional import remove_old_cache
from storage.db import open_database
from storage.models import HttpValidator
from tests.support.cli_helpers import newswatch
from tests.workers.newsroom import Site, outlets_toml

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]


def test_recrawl_sends_validators_from_the_database_and_records_304s_as_unchanged(tmp_path: Path, sqlite_url: str) -> None:
    site = Site("cookies", 6).start()
    try:
        config = tmp_path / "outlets.toml"
        config.write_text(outlets_toml([site]), encoding="utf-8")
        first = newswatch("--config", str(config), "crawl", "--db", sqlite_url, "--json", *FAST, timeout=300)
        assert json.loads(first.stdout)["counts"]["new"] == 6, first.stderr
        second = newswatch("--config", str(config), "crawl", "--db", sqlite_url, "--json", *FAST, timeout=300)
        summary = json.loads(second.stdout)
        assert summary["status"] == "finished" and summary["counts"]["unchanged"] == 6, second.stdout
        for path in site.article_paths():  # one body, then a 304
            assert (site.hits(path, 200), site.hits(path, 304)) == (1, 1), path
        assert site.hits("/feed.xml", 200) == 2  # discovery pages are always read in full
    finally:
        site.stop()
    db = open_database(sqlite_url)
    with db.read_session() as session:
        rows = list(session.scalars(select(HttpValidator)))
    kept = " ".join(f"{r.url} {r.etag} {r.last_modified} {r.content_type}" for r in rows)
    assert "secret" not in kept  # the site's Set-Cookie is nowhere
    assert sum(r.article_id is not None for r in rows) == 6
    home = Path(os.environ["NEWSWATCH_HOME"])
    assert not (home / "httpcache").exists() and not list(tmp_path.rglob("httpcache"))


def test_the_old_file_cache_is_removed(tmp_path: Path) -> None:
    old = tmp_path / "httpcache" / "rfi" / "ab"
    old.mkdir(parents=True)
    (old / "response_headers").write_bytes(b"Set-Cookie: session=secret")
    assert remove_old_cache(tmp_path) is True
    assert not (tmp_path / "httpcache").exists()
    assert remove_old_cache(tmp_path) is False
    assert stat.S_ISDIR(tmp_path.stat().st_mode)
