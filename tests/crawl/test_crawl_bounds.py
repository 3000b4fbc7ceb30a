"""What one crawl may cost: a cap on what discovery enqueues, and a deadline for the run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli_helpers import newswatch
from tests.support.local_site import SiteHandler, serving

SITEMAP_URLS = 3000


class _SitemapSite(SiteHandler):
    """A sitemap of 3,000 article URLs; every article is a 404 (cheap to crawl)."""

    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).hits.append(self.path)
        if self.path == "/sitemap.xml":
            host = self.headers["Host"]
            urls = "".join(f"<url><loc>http://{host}/a/{n}.html</loc></url>" for n in range(SITEMAP_URLS))
            body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            self.reply(200, body.encode(), "application/xml")
        else:
            self.reply(404, b"not here", "text/plain")


@pytest.fixture
def sitemap_site() -> Iterator[str]:
    _SitemapSite.hits = []
    with serving(_SitemapSite) as host:
        yield host


def _config(directory: Path, name: str, start_url: str, host: str, timeout: str) -> Path:
    config = directory / "outlets.toml"
    config.write_text(
        f'[outlets.{name}]\nspider = "rfi"\nstart_urls = ["{start_url}"]\nallowed_domains = ["{host.split(":")[0]}"]\n'
        f'allow_private = true\ntimeout = "{timeout}"\narticle_patterns = ["/a/"]\n',
        encoding="utf-8",
    )
    return config


def test_a_huge_sitemap_enqueues_only_up_to_the_cap_and_says_what_it_cut(
    tmp_path: Path, sqlite_url: str, sitemap_site: str
) -> None:
    config = _config(tmp_path, "big", f"http://{sitemap_site}/sitemap.xml", sitemap_site, "5m")
    result = newswatch(
        "--config", str(config), "crawl", "big", "--db", sqlite_url, "--json",
        env={"NEWSWATCH_MAX_ENQUEUE_PER_PAGE": "40", "RETRY_TIMES": "0"}, timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    articles = [path for path in _SitemapSite.hits if path.startswith("/a/")]
    assert len(articles) == 40, len(articles)
    assert f"cut {SITEMAP_URLS - 40} of {SITEMAP_URLS} links found on http://{sitemap_site}/sitemap.xml" in result.stderr
    assert "per-page enqueue limit" in result.stderr


def test_a_manual_crawl_ends_interrupted_at_its_deadline(tmp_path: Path, sqlite_url: str, mirror_factory: Any) -> None:
    mirror = mirror_factory(outlets=("rfi",))
    host = mirror.url("/").split("/")[2]
    config = _config(tmp_path, "trickle", mirror.url("/slow?seconds=60"), host, "20m")
    started = time.monotonic()
    result = newswatch("--config", str(config), "crawl", "trickle", "--timeout", "3s", "--db", sqlite_url, "--json", timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "interrupted" and "deadline" in summary["message"]
    assert elapsed < 45, elapsed  # not the 60 s the server takes, nor 4 x 30 s of retries

    bad = newswatch("--config", str(config), "crawl", "trickle", "--timeout", "forever", "--db", sqlite_url)
    assert bad.returncode == 2 and "'forever'" in bad.stderr and "Traceback" not in bad.stderr
