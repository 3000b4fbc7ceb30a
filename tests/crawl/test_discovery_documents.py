"""Feeds and sitemaps as sites really publish them, read by a real crawl of a local site.

Each test serves a few discovery documents and articles from 127.0.0.1 and checks
which article pages the crawl fetched, and what the run listed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_site import SiteHandler, crawl_local, serving

ARTICLE_TEXT = "A sentence of an ordinary article, long enough to be kept as one. " * 10
#: path -> (content type, body); "{base}" in a body is the site's address, and a body
#: given as a function gets that address and returns the bytes to send.
Documents = dict[str, tuple[str, "str | Callable[[str], bytes]"]]


class _Site(SiteHandler):
    documents: Documents = {}
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).hits.append(self.path)
        base = f"http://{self.headers['Host']}"
        if self.path in self.documents:
            content_type, body = self.documents[self.path]
            data = body.replace("{base}", base).encode() if isinstance(body, str) else body(base)
            self.reply(200, data, content_type)
        elif self.path.startswith("/a/"):
            page = f"<html lang='en'><head><title>{self.path}</title></head><body><article><h1>{self.path}</h1><p>{ARTICLE_TEXT}</p></article></body></html>"
            self.reply(200, page.encode(), "text/html; charset=utf-8")
        else:
            self.reply(404, b"not here", "text/plain")


Crawl = Callable[..., tuple[str, dict[str, Any]]]


@pytest.fixture
def crawl_site(tmp_path: Path, sqlite_url: str) -> Crawl:
    """``crawl_site(documents, start_path)``: serve them, crawl, return (base URL, JSON summary)."""

    def crawl(documents: Documents, start: str, *, spider: str = "portal") -> tuple[str, dict[str, Any]]:
        _Site.documents, _Site.hits = documents, []
        with serving(_Site) as host:
            base = f"http://{host}"
            result = crawl_local(tmp_path, sqlite_url, f"{base}{start}", spider=spider, extra="max_depth = 2\n")
        return base, json.loads(result.stdout)

    return crawl


def articles_fetched() -> list[str]:
    return sorted(path for path in _Site.hits if path.startswith("/a/") or path.startswith("/img/"))


def test_a_sitemap_with_image_entries_fetches_only_the_pages(crawl_site: Crawl) -> None:
    sitemap = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc>{base}/a/story</loc><image:image><image:loc>{base}/img/story.jpg</image:loc></image:image></url>
</urlset>"""
    crawl_site({"/sitemap.xml": ("application/xml", sitemap)}, "/sitemap.xml", spider="ecns")
    assert articles_fetched() == ["/a/story"]


def test_relative_atom_links_resolve_against_xml_base(crawl_site: Crawl) -> None:
    # RFC 4287 §2: relative references resolve against xml:base, the entry's over the feed's.
    feed = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{base}/a/">
  <title>t</title>
  <entry><title>one</title><link rel="alternate" href="one"/></entry>
  <entry xml:base="world/"><title>two</title><link href="two"/></entry>
</feed>"""
    crawl_site({"/feeds/atom.xml": ("application/atom+xml", feed)}, "/feeds/atom.xml")
    assert articles_fetched() == ["/a/one", "/a/world/two"]


def test_an_empty_feed_response_is_listed_not_passed_over(crawl_site: Crawl) -> None:
    # A 200 with no body where the feed should be: the run must say so, not end quietly with nothing.
    base, summary = crawl_site({"/feeds/rss.xml": ("application/rss+xml", " \n")}, "/feeds/rss.xml")
    problems = {p["url"]: p for p in summary["problems"]}
    assert problems[f"{base}/feeds/rss.xml"]["kind"] == "dropped"
    assert "empty" in problems[f"{base}/feeds/rss.xml"]["reason"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_sitemap_is_read_as_a_sitemap(encoding: str, crawl_site: Crawl) -> None:
    # Sitemaps written by .NET and Windows tools come in UTF-16, with a byte-order mark.
    def sitemap(base: str) -> bytes:
        text = (f'<?xml version="1.0" encoding="UTF-16"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<url><loc>{base}/a/wide</loc></url></urlset>")
        return "\ufeff".encode(encoding) + text.encode(encoding)

    crawl_site({"/sitemap.xml": ("application/xml", sitemap)}, "/sitemap.xml", spider="ecns")
    assert articles_fetched() == ["/a/wide"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_url_list_with_a_byte_order_mark_keeps_its_first_url(encoding: str, crawl_site: Crawl) -> None:
    # Notepad and PowerShell save text with a byte-order mark.
    def url_list(base: str) -> bytes:
        return f"{base}/a/first\n{base}/a/second\n".encode(encoding)

    crawl_site({"/urls.txt": ("text/plain", url_list)}, "/urls.txt")
    assert articles_fetched() == ["/a/first", "/a/second"]


@pytest.mark.parametrize("kind", ["rss", "sitemap", "url-list"])
def test_one_malformed_link_is_listed_and_the_others_are_fetched(kind: str, crawl_site: Crawl) -> None:
    # An unclosed IPv6 bracket or a port out of range makes urljoin (and scrapy.Request) raise.
    bad = ["http://[2001:db8::1/a/bracket", "http://127.0.0.1:99999/a/port", "http://127.0.0.1:x/a/port"]
    links = ["{base}/a/before", *bad, "{base}/a/after"]
    documents: dict[str, Documents] = {
        "rss": {"/feed.xml": ("application/rss+xml", "<rss><channel>" + "".join(
            f"<item><link>{link}</link></item>" for link in links) + "</channel></rss>")},
        "sitemap": {"/feed.xml": ("application/xml", '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
            f"<url><loc>{link}</loc></url>" for link in links) + "</urlset>")},
        "url-list": {"/feed.xml": ("text/plain", "\n".join(links))},
    }
    _, summary = crawl_site(documents[kind], "/feed.xml")
    assert articles_fetched() == ["/a/after", "/a/before"]
    problems = {p["url"]: p for p in summary["problems"]}
    for link in bad:
        assert problems[link]["kind"] == "dropped" and "not a valid URL" in problems[link]["reason"], problems


@pytest.mark.parametrize("declared", [
    '<link rel="canonical" href="http://[2001:db8::1/story">',
    '<link rel="canonical" href="https://127.0.0.1:99999/a/story">',
    '<meta property="og:url" content="//[::1/a/story">',
])
def test_an_article_declaring_a_malformed_canonical_url_is_stored(declared: str, crawl_site: Crawl) -> None:
    # The declaration is the page's to get wrong: the article is kept under its own address.
    page = (f"<html lang='en'><head><title>Story</title>{declared}</head>"
            f"<body><article><h1>Story</h1><p>{ARTICLE_TEXT}</p></article></body></html>")
    base, summary = crawl_site({"/list.txt": ("text/plain", "{base}/story.html"), "/story.html": ("text/html", page)}, "/list.txt")
    assert summary["problems"] == []
    assert summary["counts"]["new"] == 1


def test_listing_links_resolve_against_the_pages_base_element(crawl_site: Crawl) -> None:
    # HTML §4.2.3: a <base href> sets the document base URL for every relative link.
    listing = ('<html><head><base href="{base}/news/2026/"></head><body>'
               '<a href="story-1.html">One</a> <a href="/a/rooted">Two</a></body></html>')
    crawl_site({"/section/index.html": ("text/html", listing)}, "/section/index.html")
    assert _Site.hits.count("/news/2026/story-1.html") == 1
    assert "/section/story-1.html" not in _Site.hits
    assert articles_fetched() == ["/a/rooted"]


@pytest.mark.parametrize("head", [
    "<feed-list class='latest'>",  # a custom element whose name starts like Atom's root
    "<script>const help = 'paste your <rss> or <urlset> address';</script>",
])
def test_an_html_listing_that_mentions_feed_tags_is_read_as_a_listing(head: str, crawl_site: Crawl) -> None:
    listing = f'<!doctype html><html><head><title>Latest</title></head><body>{head}<a href="/a/one">One</a></body></html>'
    crawl_site({"/latest.html": ("text/html", listing)}, "/latest.html")
    assert articles_fetched() == ["/a/one"]


def test_a_feed_after_a_server_warning_is_still_a_feed(crawl_site: Crawl) -> None:
    # PHP notices printed before the XML are a classic broken feed; its entries are still readable.
    feed = "<br />\n<b>Notice</b>: Undefined index in feed.php<br />\n<?xml version='1.0'?><rss><channel><item><link>{base}/a/noted</link></item></channel></rss>"
    crawl_site({"/feed.php": ("application/rss+xml", feed)}, "/feed.php")
    assert articles_fetched() == ["/a/noted"]
