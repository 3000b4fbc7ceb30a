"""The mirror site itself, and the fault behaviours a real Scrapy crawl meets on it.

The first half talks to the server with ``http.client`` (what it serves, its
statistics, conditional requests, shutdown); the second half runs real crawls
(child process, real engine) for reliability-anchors rows 1, 3, 6 and 14:
503 twice then 200, a connection reset, a gzip bomb and a conditional re-crawl.
"""

from __future__ import annotations

import gzip
import http.client
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import scrapy
from scrapy.http import HtmlResponse

from tests.support.crawl_subprocess import run_crawl
from tests.support.mirror import SECRET_BODY, MirrorConfig, MirrorServer, MirrorSite, Paths
from tests.support.mirror.fixtures import mirror, mirror_factory  # noqa: F401
from tests.support.mirror.site import CORPUS_DIR, DEFAULT_PAGES, OUTLETS, SEEDS_DIR

needs_corpus = pytest.mark.skipif(not CORPUS_DIR.is_dir(), reason=f"{CORPUS_DIR} is absent")


def get(server: MirrorServer, path: str, headers: dict[str, str] | None = None,
        method: str = "GET", host: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    hdrs = dict(headers or {})
    if host:
        hdrs["Host"] = f"{host}:{server.port}"
    conn.request(method, path, headers=hdrs)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


# ------------------------------------------------------------------ content


def test_every_outlet_has_articles_listing_feeds_and_sitemaps(mirror) -> None:
    for outlet in OUTLETS:
        articles = mirror.site.outlet_articles(outlet)
        assert articles, outlet
        for path in (f"/{outlet}/list/1.html", f"/{outlet}/rss.xml", f"/{outlet}/atom.xml",
                     f"/{outlet}/sitemap.xml", f"/{outlet}/sitemap-news.xml", articles[0].path):
            assert get(mirror, path)[0] == 200, path


def test_pagination_reaches_every_article_once(mirror) -> None:
    outlet = "portal"
    seen: list[str] = []
    path: str | None = f"/{outlet}/list/1.html"
    pages = 0
    while path:
        status, _, body = get(mirror, path)
        assert status == 200
        text = body.decode()
        seen += re.findall(r'class="headline" href="([^"]+)"', text)
        found = re.search(r'<a class="next" rel="next" href="([^"]+)"', text)
        path = found.group(1) if found else None
        pages += 1
    assert pages == mirror.site.listing_pages(outlet) >= 2
    assert seen == [a.path for a in mirror.site.outlet_articles(outlet)]


def test_rss_and_atom_feeds_list_the_articles_with_absolute_links(mirror) -> None:
    articles = mirror.site.outlet_articles("bbc")
    _, headers, body = get(mirror, "/bbc/rss.xml", host="localhost")
    assert headers["content-type"].startswith("application/rss+xml")
    channel = ET.fromstring(body).find("channel")
    assert channel is not None
    links = [item.findtext("link") for item in channel.findall("item")]
    assert links == [f"http://localhost:{mirror.port}{a.path}" for a in articles]
    assert all(item.findtext("pubDate") for item in channel.findall("item"))

    _, headers, body = get(mirror, "/bbc/atom.xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = ET.fromstring(body).findall("a:entry", ns)
    assert [e.find("a:link", ns).get("href") for e in entries] == [mirror.url(a.path) for a in articles]
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == [a.title for a in articles]


def test_sitemap_index_and_news_sitemap(mirror) -> None:
    sm = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    news = "{http://www.google.com/schemas/sitemap-news/0.9}"
    index = ET.fromstring(get(mirror, "/sitemap.xml")[2])
    locs = [e.findtext(f"{sm}loc") for e in index.findall(f"{sm}sitemap")]
    assert mirror.url("/rfi/sitemap-news.xml") in locs and len(locs) == 2 * len(OUTLETS)
    urlset = ET.fromstring(get(mirror, "/rfi/sitemap-news.xml")[2])
    entries = urlset.findall(f"{sm}url")
    assert [e.findtext(f"{sm}loc") for e in entries] == [
        mirror.url(a.path) for a in mirror.site.outlet_articles("rfi")
    ]
    assert entries[0].find(f"{news}news/{news}publication_date").text.startswith("2023-11-08")


@needs_corpus
def test_corpus_pages_are_served_byte_for_byte(mirror) -> None:
    for outlet, pages in DEFAULT_PAGES.items():
        for relative in pages:
            source = CORPUS_DIR / relative
            article = next(a for a in mirror.site.articles if a.source == str(source))
            assert get(mirror, article.path)[2] == source.read_bytes()


def test_seed_fragments_are_wrapped_in_html(mirror) -> None:
    rfi = mirror.site.outlet_articles("rfi")[0]
    body = get(mirror, rfi.path)[2].decode()
    seed = next((SEEDS_DIR / "rfi").glob("*.txt")).read_text(encoding="utf-8")
    fragment = seed.split("------\n", 1)[1].strip()
    assert body.startswith("<!DOCTYPE html>") and fragment in body
    assert "<title>张又侠今见普京</title>" in body
    assert 'content="2023-11-08T15:45:01+00:00"' in body


def test_gbk_page_has_no_charset_and_scrapy_decodes_it(mirror) -> None:
    status, headers, body = get(mirror, Paths.gbk)
    assert status == 200 and headers["content-type"] == "text/html"
    assert b"charset" not in body.lower()
    text = body.decode("gbk")
    assert f"<title>{mirror.site.gbk_title}</title>" in text and "&#" not in text
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    response = HtmlResponse(mirror.url(Paths.gbk), body=body, headers={"Content-Type": "text/html"})
    assert response.encoding == "gb18030"
    assert response.css("title::text").get() == mirror.site.gbk_title


# ------------------------------------------------------- conditional requests


def test_etag_and_last_modified_give_304_without_body(mirror) -> None:
    path = mirror.site.articles[0].path
    status, headers, body = get(mirror, path)
    assert status == 200 and headers["etag"] and headers["last-modified"]
    assert headers["cache-control"] == "max-age=0"
    assert get(mirror, path, {"If-None-Match": headers["etag"]})[:1] == (304,)
    assert get(mirror, path, {"If-None-Match": f'W/{headers["etag"]}, "other"'})[0] == 304
    assert get(mirror, path, {"If-Modified-Since": headers["last-modified"]})[0] == 304
    assert get(mirror, path, {"If-None-Match": '"stale"'})[0] == 200
    assert get(mirror, path, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
    assert get(mirror, path, {"If-None-Match": '"stale"',
                              "If-Modified-Since": headers["last-modified"]})[0] == 200
    assert mirror.hits(path) == 7
    assert mirror.bytes_sent(path) == 4 * len(body)  # the 304s sent no body


def test_head_sends_headers_only(mirror) -> None:
    path = mirror.site.articles[0].path
    status, headers, body = get(mirror, path, method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    assert mirror.bytes_sent(path) == 0


def test_statistics_and_reset(mirror) -> None:
    get(mirror, "/missing.html")
    get(mirror, "/rfi/rss.xml")
    stats = mirror.stats()
    assert stats["/missing.html"].statuses == {404: 1}
    assert stats["/rfi/rss.xml"].hits == 1 and stats["/rfi/rss.xml"].bytes > 0
    assert mirror.bytes_sent_total == sum(s.bytes for s in stats.values())
    assert [r.path for r in mirror.requests] == ["/missing.html", "/rfi/rss.xml"]
    mirror.reset_stats()
    assert mirror.bytes_sent_total == 0 and mirror.stats() == {}


def test_site_is_deterministic() -> None:
    a, b = MirrorSite(), MirrorSite()
    assert [(x.path, x.title, x.published, x.body) for x in a.articles] == [
        (x.path, x.title, x.published, x.body) for x in b.articles
    ]
    a.port = b.port = 1
    for path in ("/portal/rss.xml", "/sitemap.xml", "/wechat/list/2.html"):
        assert a.respond("GET", path, {"Host": "h:1"}).body == b.respond("GET", path, {"Host": "h:1"}).body


# ------------------------------------------------------------------ special paths


def test_robots_modes(mirror_factory) -> None:
    disallow = mirror_factory(outlets=("rfi",))
    body = get(disallow, "/robots.txt")[2].decode()
    assert "Disallow: /private/" in body and f"Sitemap: {disallow.base_url}/sitemap.xml" in body
    assert get(disallow, Paths.private)[0] == 200
    assert get(mirror_factory(robots="503", outlets=("rfi",)), "/robots.txt")[0] == 503
    assert get(mirror_factory(robots="404", outlets=("rfi",)), "/robots.txt")[0] == 404
    assert "Disallow:\n" in get(mirror_factory(robots="allow", outlets=("rfi",)), "/robots.txt")[2].decode()


def test_redirects_secret_and_404(mirror) -> None:
    first = mirror.site.articles[0].path
    assert get(mirror, Paths.redirect_article)[:2][0] == 302
    assert get(mirror, Paths.redirect_article)[1]["location"] == first
    assert get(mirror, Paths.redirect_permanent)[0] == 301
    status, headers, _ = get(mirror, Paths.redirect_offsite, host="localhost")
    assert status == 302 and headers["location"] == f"http://127.0.0.1:{mirror.port}{Paths.secret}"
    assert get(mirror, Paths.secret)[2] == SECRET_BODY
    assert get(mirror, Paths.missing)[0] == 404
    assert get(mirror, "/no/such/page")[0] == 404


def test_flaky_503_twice_then_200_and_counter_reset(mirror) -> None:
    assert [get(mirror, Paths.flaky)[0] for _ in range(4)] == [503, 503, 200, 200]
    assert [get(mirror, "/flaky?fail=1&status=500")[0] for _ in range(2)] == [500, 200]
    mirror.reset_counters()
    assert get(mirror, Paths.flaky)[0] == 503


def test_slow_page_sleeps(mirror) -> None:
    started = time.monotonic()
    assert get(mirror, "/slow?seconds=0.4")[0] == 200
    assert time.monotonic() - started >= 0.4


def test_connection_reset_mid_response(mirror) -> None:
    with pytest.raises((ConnectionResetError, http.client.IncompleteRead)):
        get(mirror, Paths.reset)
    deadline = time.monotonic() + 2
    while mirror.hits(Paths.reset) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert mirror.bytes_sent(Paths.reset) == 1024
    assert get(mirror, "/reset?fail=0")[0] == 200


def test_gzip_bomb_is_small_on_the_wire(mirror_factory) -> None:
    server = mirror_factory(bomb_inflated_size=4 * 1024 * 1024)
    status, headers, body = get(server, Paths.bomb)
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert len(body) < 10_000
    assert len(gzip.decompress(body)) == 4 * 1024 * 1024


def test_configurable_pieces(mirror_factory) -> None:
    server = mirror_factory(outlets=("rfi",), faults=False, feeds=("atom",), sitemaps=False)
    assert get(server, "/rfi/atom.xml")[0] == 200
    for path in ("/rfi/rss.xml", "/portal/list/1.html", "/sitemap.xml", Paths.flaky, Paths.secret):
        assert get(server, path)[0] == 404, path
    with pytest.raises(ValueError):
        MirrorConfig(robots="maybe")
    with pytest.raises(ValueError):
        MirrorConfig(outlets=("nyt",))


def test_stop_is_clean_even_with_a_slow_request_in_flight(mirror_factory) -> None:
    server = mirror_factory(slow_seconds=30)
    thread = threading.Thread(target=lambda: _swallow(get, server, Paths.slow), daemon=True)
    thread.start()
    time.sleep(0.2)
    port = server.port
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def _swallow(fn, *args):
    try:
        fn(*args)
    except Exception:
        pass


# ------------------------------------------------------------------ real crawls


class FetchSpider(scrapy.Spider):
    name = "mirror_fetch"

    def parse(self, response):
        yield {"url": response.url, "status": response.status, "size": len(response.body)}


ALLOW_LOCAL = {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": ["127.0.0.1"]}


def test_crawl_503_twice_then_200_is_fetched_after_retries(mirror) -> None:
    """Row 1: RetryMiddleware retries the 503s; the 200 reaches the spider."""
    result = run_crawl(FetchSpider, ALLOW_LOCAL, spider_kwargs={"start_urls": [mirror.url(Paths.flaky)]})
    assert mirror.stats()[Paths.flaky].statuses == {503: 2, 200: 1}
    assert [item["status"] for item in result.items] == [200]
    assert result.stat("retry/count") == 2
    assert result.stat("retry/reason_count/503 Service Unavailable") == 2
    assert result.stat("retry/max_reached") == 0


def test_crawl_connection_reset_is_retried_and_counted(mirror) -> None:
    """Row 3: a reset mid-body is retried; always-reset fails after the retries,
    reset-once recovers; both are counted; the partial body is never parsed."""
    urls = [mirror.url(Paths.reset), mirror.url("/reset?fail=1")]
    result = run_crawl(FetchSpider, ALLOW_LOCAL, spider_kwargs={"start_urls": urls})
    assert mirror.hits(Paths.reset) == 3  # 1 + RETRY_TIMES
    assert mirror.hits("/reset?fail=1") == 2
    assert [item["url"] for item in result.items] == [mirror.url("/reset?fail=1")]
    assert result.stat("retry/count") == 3
    assert result.stat("retry/max_reached") == 1
    reasons = result.stats_under("retry/reason_count/")
    assert sum(reasons.values()) == 3, reasons
    assert "Gave up retrying" in result.log


def test_crawl_gzip_bomb_is_refused_by_download_maxsize(mirror) -> None:
    """Row 6: 16 KiB of gzip inflating to 16 MiB stops at DOWNLOAD_MAXSIZE=1 MiB."""
    result = run_crawl(
        FetchSpider,
        {**ALLOW_LOCAL, "DOWNLOAD_MAXSIZE": 1024 * 1024},
        spider_kwargs={"start_urls": [mirror.url(Paths.bomb)]},
    )
    assert mirror.hits(Paths.bomb) == 1  # not retried
    assert mirror.bytes_sent(Paths.bomb) < 64 * 1024
    assert result.items == []
    assert "exceeded DOWNLOAD_MAXSIZE (1048576 B) during decompression" in result.log
    assert result.stat("httpcompression/response_count") == 0


def test_crawl_conditional_recrawl_downloads_far_fewer_bytes(mirror, tmp_path: Path) -> None:
    """Row 14's server side: a second crawl with Scrapy's RFC 2616 cache revalidates
    every page (If-None-Match) and gets 304s: >= 90 % fewer body bytes."""
    urls = [mirror.url(a.path) for a in mirror.site.articles]
    settings = {
        **ALLOW_LOCAL,
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.RFC2616Policy",
        "HTTPCACHE_DIR": str(tmp_path / "cache"),
    }
    first = run_crawl(FetchSpider, settings, spider_kwargs={"start_urls": urls})
    first_bytes = mirror.bytes_sent_total
    mirror.reset_stats()
    second = run_crawl(FetchSpider, settings, spider_kwargs={"start_urls": urls})
    assert len(first.items) == len(second.items) == len(urls)
    assert second.stat("httpcache/revalidate") == len(urls) + 1  # + robots.txt
    assert all(r.headers.get("if-none-match") for r in mirror.requests if r.path != "/robots.txt")
    assert mirror.bytes_sent_total <= 0.10 * first_bytes
