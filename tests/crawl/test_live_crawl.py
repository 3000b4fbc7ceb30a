"""`newswatch crawl` of every spider type against the local mirror site, with the real downloader.

One mirror serves all five outlet types through different discovery paths (RSS, Atom,
a paginated listing, a sitemap index, a plain URL list) plus the fault pages; the
crawl runs as a user runs it, and the server counts what was fetched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli_helpers import newswatch
from tests.support.mirror.site import OUTLET_LANG, Paths

# Fast against loopback; politeness settings themselves are tested elsewhere.
FAST = ["-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "DOWNLOAD_DELAY=0", "-s", "NEWSWATCH_RETRY_BACKOFF_S=0.2"]


def _config(mirror, path: Path) -> Path:
    start = {
        "rfi": mirror.url("/rfi/rss.xml"),
        "bbc": mirror.url("/bbc/atom.xml"),
        "portal": mirror.url("/portal/list/1.html"),
        "ecns": mirror.url("/ecns/sitemap.xml"),
        "wechat": mirror.url("/wechat/rss.xml"),
    }
    tables = [
        f"""
[outlets.{outlet}_local]
spider = "{outlet}"
start_urls = ["{url}"]
allowed_domains = ["127.0.0.1"]
article_patterns = ['/{outlet}/articles/']
allow_private = true
max_depth = 10
"""
        for outlet, url in start.items()
    ]
    tables.append(
        f"""
[outlets.specials]
spider = "portal"
start_urls = ["{mirror.url(Paths.special_list)}"]
allowed_domains = ["127.0.0.1"]
article_patterns = ['^http']
allow_private = true
"""
    )
    path.write_text("".join(tables), encoding="utf-8")
    return path


def _crawl(config: Path, db: str):
    result = newswatch("--config", str(config), "crawl", "--db", db, "--json", *FAST, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    return result, json.loads(result.stdout)


@pytest.fixture
def site(mirror_factory):
    # Off-site redirects go to "localhost": the same server, but not an allowed domain.
    return mirror_factory(offsite_host="localhost", bomb_inflated_size=64 * 1024 * 1024)


def test_every_spider_type_crawls_the_mirror_and_recrawls_with_304s(site, tmp_path: Path, sqlite_url: str) -> None:
    config = _config(site, tmp_path / "outlets.toml")
    first, summary = _crawl(config, sqlite_url)
    assert summary["status"] == "finished", first.stdout + first.stderr
    records = [json.loads(l) for l in newswatch("items", "export", "--db", sqlite_url).stdout.splitlines()]
    by_url = {}
    for record in records:
        assert record["url"] not in by_url, f"stored twice: {record['url']}"
        by_url[record["url"]] = record

    # /redirect/article (in the specials list) leads to the first article: a second fetch.
    redirected = site.site.articles[0].path
    for outlet in ("rfi", "bbc", "portal", "ecns", "wechat"):
        expected = {site.url(a.path) for a in site.site.outlet_articles(outlet)}
        stored = {u for u, r in by_url.items() if r["outlet"] in (f"{outlet}_local", "specials")} & expected
        # Each article page was fetched once and stored once (or dropped with a reason).
        for article in site.site.outlet_articles(outlet):
            assert site.hits(article.path) == (2 if article.path == redirected else 1), article.path
        assert stored <= expected
        assert len(stored) >= max(1, len(expected) - 1), (outlet, sorted(expected - stored))
        for url in stored:
            record = by_url[url]
            # The shortest real page is a video post with 96 characters of text.
            assert record["title"] and len(record["body"]) > 50, url
            assert record["language"] == OUTLET_LANG[outlet], url

    # The fault pages: robots.txt forbids one, one is too big, one redirects off-site.
    assert site.hits(Paths.private) == 0
    assert site.hits(Paths.secret) == 0
    assert site.url(Paths.bomb) not in by_url
    assert site.hits(Paths.flaky) == 3 and site.url(Paths.flaky) in by_url  # after 2 retries
    gbk = by_url[site.url(Paths.gbk)]
    assert gbk["title"] == site.site.gbk_title
    assert "\ufffd" not in gbk["body"]
    problems = {p["url"]: p["reason"] for p in summary["problems"]}
    assert "404" in problems[site.url(Paths.missing)]
    assert site.url(Paths.bomb) in problems
    stats = {outlet: s for outlet, s in _run_stats(sqlite_url).items()}
    assert stats["specials"].get("robotstxt/forbidden") == 1
    # Refused by Scrapy's offsite filter, or by ours when the request carried dont_filter.
    specials = stats["specials"]
    # The two retries of the flaky page waited 0.1-0.2 s and 0.2-0.4 s first.
    assert specials["newswatch/retry/backoff_count"] == 2
    assert 0.3 <= specials["newswatch/retry/backoff_seconds"] <= 0.6
    assert specials.get("offsite/filtered", 0) + specials.get("newswatch/offsite_redirect/refused", 0) == 1

    # A second crawl of the unchanged site: nothing new, and far fewer body bytes.
    first_bytes = site.bytes_sent_total
    site.reset_stats()
    second, summary2 = _crawl(config, sqlite_url)
    counts = summary2["counts"]
    assert counts["new"] == 0 and counts["changed"] == 0 and counts["duplicate"] == 0, counts
    seen_first = sum(summary["counts"][k] for k in ("new", "changed", "unchanged", "duplicate"))
    assert counts["unchanged"] == seen_first  # every sighting again, none lost
    assert site.bytes_sent_total <= 0.1 * first_bytes, (site.bytes_sent_total, first_bytes)


def _run_stats(db: str) -> dict[str, dict]:
    runs = json.loads(newswatch("runs", "list", "--db", db, "--json").stdout)
    from storage.db import open_database
    from storage.models import CrawlRun

    database = open_database(db)
    with database.read_session() as session:
        run = session.get_one(CrawlRun, runs[-1]["id"])
        return dict(run.stats or {})


def test_scrapy_crawl_runs_a_configured_outlet_and_records_its_run(mirror_factory, tmp_path: Path, sqlite_url: str) -> None:
    import subprocess
    import sys

    from tests.support.cli_helpers import REPO

    site = mirror_factory(outlets=("rfi",))
    config = tmp_path / "outlets.toml"
    config.write_text(
        f'[outlets.rfi_local]\nspider = "rfi"\nstart_urls = ["{site.url("/rfi/rss.xml")}"]\n'
        'allowed_domains = ["127.0.0.1"]\narticle_patterns = ["/rfi/articles/"]\nallow_private = true\n',
        encoding="utf-8",
    )
    scrapy = Path(sys.executable).with_name("scrapy")
    result = subprocess.run(
        [str(scrapy), "crawl", "rfi", "-a", "outlet=rfi_local", "-s", f"NEWSWATCH_CONFIG={config}",
         "-s", f"NEWSWATCH_DB={sqlite_url}", "-s", "AUTOTHROTTLE_START_DELAY=0"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [run] = json.loads(newswatch("runs", "list", "--db", sqlite_url, "--json").stdout)
    assert (run["status"], run["outlets"], run["mode"]) == ("finished", ["rfi_local"], "live")
    stored = json.loads(newswatch("items", "list", "--db", sqlite_url, "--json").stdout)
    assert {item["url"] for item in stored} == {site.url(a.path) for a in site.site.outlet_articles("rfi")}
