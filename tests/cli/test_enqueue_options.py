"""``newswatch crawl --enqueue``: options that only a crawl on this machine can apply are refused."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from storage.models import CrawlDispatch
from tests.scheduling.test_scheduler import make_site, outlet_toml
from tests.support.cli_helpers import newswatch


def test_settings_for_an_enqueued_crawl_are_refused_not_dropped(tmp_path: Path) -> None:
    # A worker applies only its own `newswatch worker -s`: a --set given here would be lost.
    site = make_site(tmp_path, outlet_toml("a", "http://127.0.0.1:9/rss.xml"))
    result = newswatch(
        "--config", str(site.config), "crawl", "a", "--enqueue", "-s", "DOWNLOAD_DELAY=5", "--db", site.db_url,
        env={"NEWSWATCH_HOME": str(tmp_path / "home"), "NEWSWATCH_BROKER_URL": "amqp://guest:guest@127.0.0.1:9//"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "--set" in errors[0] and "newswatch worker -s" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    with site.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(CrawlDispatch)) == 0


def test_a_disabled_outlet_is_refused_not_enqueued_for_a_worker_that_skips_it(tmp_path: Path) -> None:
    # A worker never crawls a disabled outlet ("skipped: outlet … is disabled"): sending its job
    # and printing "enqueued" would report a crawl that never happens.
    site = make_site(tmp_path, outlet_toml("off", "http://127.0.0.1:9/rss.xml", enabled=False))
    result = newswatch(
        "--config", str(site.config), "crawl", "off", "--enqueue", "--db", site.db_url,
        env={"NEWSWATCH_HOME": str(tmp_path / "home"), "NEWSWATCH_BROKER_URL": "amqp://guest:guest@127.0.0.1:9//"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: outlet off is disabled in the config (enabled = false): a worker would not crawl it"]
    with site.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(CrawlDispatch)) == 0
