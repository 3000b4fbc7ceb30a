"""robots.txt per RFC 9309 (docs/decisions.md, Crawling safety).

Unit tests drive ``RobotsPolicyMiddleware.process_request`` with a stub engine that
answers the robots.txt download (the middleware is real); one real crawl runs
against four mirrors whose robots.txt answers 503, Disallow, 404 and a
connection reset, and asserts at each server what was fetched.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest, NotConfigured
from scrapy.http import Request, TextResponse
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError

from crawler.middlewares.robots import (
    RobotsPolicyMiddleware,
    RobotsUnreachable,
    Unreachable,
    classify_status,
)
from tests.support.crawl_subprocess import run_crawl
from tests.support.mirror import MirrorServer, Paths

ROBOTS_BODY = b"User-agent: *\nDisallow: /private/\n"


class StubEngine:
    """Answers the robots.txt download: a (status, body) pair or an exception."""

    def __init__(self, outcome: tuple[int, bytes] | Exception):
        self.outcome = outcome
        self.requests: list[Request] = []

    async def download_async(self, request: Request) -> TextResponse:
        self.requests.append(request)
        await asyncio.sleep(0)  # let concurrent callers queue up behind the first
        if isinstance(self.outcome, Exception):
            raise self.outcome
        status, body = self.outcome
        return TextResponse(request.url, status=status, body=body, request=request)


def make(outcome: tuple[int, bytes] | Exception, **settings: Any):
    crawler = get_crawler(scrapy.Spider, {"ROBOTSTXT_OBEY": True, **settings})
    crawler.spider = crawler._create_spider("robots_probe")
    crawler.engine = StubEngine(outcome)  # type: ignore[assignment]
    mw = build_from_crawler(RobotsPolicyMiddleware, crawler)
    return mw, crawler


async def _run(mw: RobotsPolicyMiddleware, urls: list[str]) -> list[BaseException | None]:
    results = await asyncio.gather(
        *(mw.process_request(Request(u)) for u in urls), return_exceptions=True
    )
    return list(results)


def run(mw: RobotsPolicyMiddleware, *urls: str) -> list[BaseException | None]:
    return asyncio.run(_run(mw, list(urls)))


# -------------------------------------------------------------------- unit


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, "parse"), (204, "parse"), (301, "unavailable"), (304, "unavailable"),
     (401, "unavailable"), (403, "unavailable"), (404, "unavailable"), (410, "unavailable"),
     (429, "unreachable"), (500, "unreachable"), (503, "unreachable"), (599, "unreachable"),
     (100, "unreachable"),
     # The edges of each class: the last 2xx, the first and last 3xx, 400, the last 4xx.
     (299, "parse"), (300, "unavailable"), (399, "unavailable"), (400, "unavailable"),
     (499, "unavailable"), (199, "unreachable"), (600, "unreachable")],
)
def test_status_classes(status: int, verdict: str) -> None:
    assert classify_status(status) == verdict


def test_it_replaces_scrapys_middleware() -> None:
    assert issubclass(RobotsPolicyMiddleware, RobotsTxtMiddleware)
    with pytest.raises(NotConfigured):
        make((200, b""), ROBOTSTXT_OBEY=False)


def test_2xx_rules_are_obeyed() -> None:
    mw, crawler = make((200, ROBOTS_BODY))
    allowed, forbidden = run(mw, "http://a.example/news/1.html", "http://a.example/private/x")
    assert allowed is None
    assert isinstance(forbidden, IgnoreRequest) and not isinstance(forbidden, RobotsUnreachable)
    assert "Forbidden by robots.txt" in str(forbidden)
    assert crawler.stats.get_value("robotstxt/forbidden") == 1
    assert crawler.stats.get_value("newswatch/robots/unreachable") is None


def test_every_concurrent_waiter_gets_the_rules() -> None:
    """Regression: awaiting one shared Deferred gave waiters 2+ "allow all"."""
    mw, crawler = make((200, ROBOTS_BODY))
    results = run(mw, *(f"http://a.example/private/{n}" for n in range(5)))
    assert all(isinstance(r, IgnoreRequest) for r in results)
    assert crawler.stats.get_value("robotstxt/forbidden") == 5
    assert len(crawler.engine.requests) == 1


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_4xx_allows_everything(status: int) -> None:
    mw, crawler = make((status, b"<html>not here</html>"))
    assert run(mw, "http://a.example/private/x", "http://a.example/") == [None, None]
    assert crawler.stats.get_value("newswatch/robots/unavailable") == 1
    assert crawler.stats.get_value(f"robotstxt/response_status_count/{status}") == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_5xx_and_429_disallow_the_host_for_the_run(status: int, caplog) -> None:
    mw, crawler = make((status, b"<html><h1>Service Unavailable</h1></html>"))
    with caplog.at_level(logging.INFO):
        results = run(mw, "http://a.example/", "http://a.example/news/1.html")
        results += run(mw, "http://a.example/later.html")
    assert all(isinstance(r, RobotsUnreachable) for r in results)
    assert f"HTTP {status}" in str(results[0])
    assert len(crawler.engine.requests) == 1  # one robots.txt download for the host
    assert crawler.stats.get_value("newswatch/robots/unreachable") == 1
    assert crawler.stats.get_value("newswatch/robots/refused_unreachable") == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "a.example" in warnings[0].getMessage()
    assert "disallowing every request" in warnings[0].getMessage()


@pytest.mark.parametrize(
    "error",
    [DownloadTimeoutError("took longer than 5.0 seconds"), ConnectionRefusedError("refused")],
)
def test_network_error_disallows_without_traceback(error: Exception, caplog) -> None:
    mw, crawler = make(error)
    with caplog.at_level(logging.INFO):
        (result,) = run(mw, "http://a.example/x")
    assert isinstance(result, RobotsUnreachable)
    assert type(error).__name__ in result.reason
    assert crawler.stats.get_value("newswatch/robots/unreachable") == 1
    assert all(r.exc_info is None for r in caplog.records)  # no traceback spam
    assert [r.levelname for r in caplog.records].count("WARNING") == 1


def test_ignored_robots_request_allows_like_scrapy() -> None:
    mw, crawler = make(IgnoreRequest("offsite redirect"))
    assert run(mw, "http://a.example/x") == [None]
    assert crawler.stats.get_value("newswatch/robots/unreachable") is None


def test_policy_is_per_host() -> None:
    mw, crawler = make((503, b""))
    run(mw, "http://a.example/x")
    crawler.engine.outcome = (200, ROBOTS_BODY)
    assert run(mw, "http://b.example/x") == [None]
    assert isinstance(run(mw, "http://a.example:8080/x")[0], BaseException) is False
    assert isinstance(mw._parsers["a.example"], Unreachable)
    assert len(crawler.engine.requests) == 3


def test_dont_obey_robotstxt_meta_still_bypasses() -> None:
    mw, _ = make((503, b""))
    request = Request("http://a.example/x", meta={"dont_obey_robotstxt": True})
    assert asyncio.run(mw.process_request(request)) is None


def test_the_robots_request_bypasses_robots_and_goes_first() -> None:
    """robots.txt is fetched from the page's own scheme, host and port, ahead of the
    queue, without asking robots.txt about itself, and its response is not handed to
    the spider's callback (Scrapy's conventions for the robots request)."""
    mw, crawler = make((200, ROBOTS_BODY))
    run(mw, "https://a.example:8443/news/1.html?x=1")
    [robots] = crawler.engine.requests
    assert robots.url == "https://a.example:8443/robots.txt"
    assert robots.priority == RobotsTxtMiddleware.DOWNLOAD_PRIORITY == 1000
    assert robots.meta.get("dont_obey_robotstxt") is True
    assert robots.callback is NO_CALLBACK


def test_robots_stats_count_requests_and_responses() -> None:
    mw, crawler = make((200, ROBOTS_BODY))
    run(mw, "http://a.example/1", "http://a.example/2", "http://b.example/1")
    assert crawler.stats.get_value("robotstxt/request_count") == 2  # one per host
    assert crawler.stats.get_value("robotstxt/response_count") == 2
    assert crawler.stats.get_value("robotstxt/response_status_count/200") == 2


def test_network_error_is_counted_by_exception_type() -> None:
    mw, crawler = make(DownloadTimeoutError("took longer than 5.0 seconds"))
    run(mw, "http://a.example/x")
    assert crawler.stats.get_value("robotstxt/request_count") == 1
    assert crawler.stats.get_value(
        f"robotstxt/exception_count/{DownloadTimeoutError}"
    ) == 1


def test_unreachable_refusal_names_url_host_and_reason(caplog) -> None:
    mw, crawler = make(ConnectionRefusedError("refused"))
    with caplog.at_level(logging.DEBUG, logger="crawler.middlewares.robots"):
        (result,) = run(mw, "http://user:pw@a.example:8080/x?token=s3cret&id=7")
    assert isinstance(result, RobotsUnreachable)
    assert result.netloc == "user:pw@a.example:8080"  # the host key, as Scrapy keys it
    assert "pw" not in result.url and "s3cret" not in result.url
    assert result.url.startswith("http://a.example:8080/x")
    assert result.reason.startswith("ConnectionRefusedError: ")
    assert str(result) == f"robots.txt of {result.netloc} unreachable ({result.reason}); refused {result.url}"
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert (
        "WARNING",
        f"robots.txt of {result.netloc} unreachable ({result.reason}): "
        f"disallowing every request to {result.netloc} for this run",
    ) in messages
    [debug] = [m for level, m in messages if level == "DEBUG" and m.startswith("Refused")]
    assert debug.startswith("Refused (robots.txt unreachable): <GET http://")
    assert isinstance(mw._parsers[result.netloc], Unreachable)
    assert mw._parsers[result.netloc] == Unreachable(result.netloc, result.reason)


def test_allow_all_outcomes_are_logged_with_the_reason(caplog) -> None:
    mw, _ = make((404, b""))
    with caplog.at_level(logging.INFO, logger="crawler.middlewares.robots"):
        run(mw, "http://a.example/x")
    mw2, _ = make(IgnoreRequest("offsite redirect"))
    with caplog.at_level(logging.INFO, logger="crawler.middlewares.robots"):
        run(mw2, "http://b.example/x")
    assert [r.getMessage() for r in caplog.records] == [
        "robots.txt of a.example answered 404: allowing all",
        "robots.txt of b.example not fetched (offsite redirect): allowing all",
    ]


def test_robots_parsed_signal_carries_the_parser_and_the_request() -> None:
    # Scrapy's robots_parsed signal: extensions (e.g. sitemap discovery) read the parser.
    mw, crawler = make((200, ROBOTS_BODY))
    seen: list[dict[str, Any]] = []

    def on_parsed(**kw: Any) -> None:  # a named function: signal receivers are weak references
        seen.append(kw)

    crawler.signals.connect(on_parsed, signal=signals.robots_parsed)
    run(mw, "http://a.example/news/1.html")
    [event] = seen
    assert event["signal"] is signals.robots_parsed
    assert event["request"].url == "http://a.example/news/1.html"
    assert event["robotparser"] is mw._parsers["a.example"]
    assert not event["robotparser"].allowed("http://a.example/private/x", "*")


# ------------------------------------------------------------- real crawl


class RobotsProbeSpider(scrapy.Spider):
    name = "robots_probe"

    def parse(self, response):
        yield {"url": response.url, "status": response.status}


PROBE_PATHS = ("/rfi/list/1.html", "/rfi/articles/003-1e4486f85b861131.html", Paths.private)


@pytest.fixture(scope="module")
def robots_crawl():
    """One crawl over four mirrors, one per robots.txt behaviour."""
    modes = ("503", "disallow", "404", "reset")
    mirrors = {mode: MirrorServer(robots=mode, outlets=("rfi",)).start() for mode in modes}
    try:
        urls = [m.url(p) for m in mirrors.values() for p in PROBE_PATHS]
        result = run_crawl(
            RobotsProbeSpider,
            {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": ["127.0.0.1"]},
            spider_kwargs={"start_urls": urls},
        )
        yield mirrors, result
    finally:
        for m in mirrors.values():
            m.stop()


def test_crawl_robots_503_blocks_the_host(robots_crawl) -> None:
    mirrors, result = robots_crawl
    m = mirrors["503"]
    assert m.hits("/robots.txt") == 3  # retried (RETRY_TIMES=2), still 503
    assert set(m.stats()) == {"/robots.txt"}  # nothing else fetched from the host
    assert f"robots.txt of {m.netloc} unreachable (HTTP 503)" in result.log


def test_crawl_robots_network_error_blocks_the_host(robots_crawl) -> None:
    mirrors, result = robots_crawl
    m = mirrors["reset"]
    assert m.hits("/robots.txt") == 3
    assert set(m.stats()) == {"/robots.txt"}
    assert f"robots.txt of {m.netloc} unreachable (" in result.log


def test_crawl_robots_unreachable_stats(robots_crawl) -> None:
    _, result = robots_crawl
    assert result.stat("newswatch/robots/unreachable") == 2
    assert result.stat("newswatch/robots/refused_unreachable") == 2 * len(PROBE_PATHS)


def test_crawl_robots_disallow_is_honoured(robots_crawl) -> None:
    mirrors, result = robots_crawl
    m = mirrors["disallow"]
    assert m.hits(Paths.private) == 0
    assert m.hits(PROBE_PATHS[0]) == 1 and m.hits(PROBE_PATHS[1]) == 1
    assert result.stat("robotstxt/forbidden") == 1


def test_crawl_robots_404_allows_everything(robots_crawl) -> None:
    mirrors, result = robots_crawl
    m = mirrors["404"]
    assert all(m.hits(p) == 1 for p in PROBE_PATHS)
    assert result.stat("newswatch/robots/unavailable") == 1
    fetched = {item["url"] for item in result.items}
    assert m.url(Paths.private) in fetched
