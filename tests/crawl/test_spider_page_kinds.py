"""What a spider does with a page that is not an article: listings feed discovery, the rest is counted.

Real Scrapy spider and crawler objects, real corpus pages; no network (the
article requests a listing yields are checked, not fetched).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler import settings
from crawler.replay import REPLAY_FILE
from crawler.signals import page_problem
from crawler.spiders.outlets import BbcSpider, WechatSpider
from tests.support.parser_cases import CORPUS

PAGES = CORPUS / "pages"
if not PAGES.is_dir():
    pytest.skip(f"shared corpus not found at {PAGES}", allow_module_level=True)


def _spider(cls: type[scrapy.Spider]) -> scrapy.Spider:
    # A replay directory setting keeps the spider off the outlets config; requests
    # below carry no replay file, so the spider treats them as live pages.
    project = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
    crawler = get_crawler(
        cls, settings_dict={**project, "NEWSWATCH_REPLAY_DIR": "/nonexistent", "NEWSWATCH_PARSE_WORKERS": 0}
    )
    return cls.from_crawler(crawler)


def _parsed(results: AsyncIterator[Any]) -> list[Any]:
    """Everything the async ``parse_article`` yields, drained on an asyncio loop (0 parse workers)."""

    async def drain() -> list[Any]:
        return [item async for item in results]

    return asyncio.run(drain())


def _response(url: str, path: Path, **meta: str) -> HtmlResponse:
    request = Request(url, meta={"newswatch_page_url": url, **meta})
    return HtmlResponse(url, body=path.read_bytes(), request=request, headers={"Content-Type": "text/html"})


def test_a_listing_reached_as_an_article_yields_its_article_links() -> None:
    spider = _spider(BbcSpider)
    url = "https://www.bbc.com/zhongwen/topics/c1ez1k4emn0t/trad"
    out = _parsed(spider.parse_article(_response(url, PAGES / "bbc/radarflow_topic_c1ez1k4emn0t.html")))
    assert out and all(isinstance(request, scrapy.Request) for request in out)
    urls = {request.url for request in out}
    assert len(urls) == 24
    assert all("/zhongwen/articles/" in u for u in urls)
    stats = spider.crawler.stats.get_stats()
    assert stats["newswatch/page_kind/listing"] == 1


def test_a_replayed_listing_never_leads_to_the_network() -> None:
    spider = _spider(BbcSpider)
    url = "https://www.bbc.com/zhongwen/topics/c1ez1k4emn0t/trad"
    page = PAGES / "bbc/radarflow_topic_c1ez1k4emn0t.html"
    assert _parsed(spider.parse_article(_response(url, page, **{REPLAY_FILE: str(page)}))) == []
    assert spider.crawler.stats.get_value("newswatch/page_kind/listing") == 1


@pytest.mark.parametrize(
    ("name", "kind"),
    [("eve-tools_wx_article_param_error.html", "error"), ("j-lab-10404_wechat_article_verify.html", "interstitial")],
)
def test_error_and_check_pages_are_counted_by_kind_and_reported(name: str, kind: str) -> None:
    spider = _spider(WechatSpider)
    problems: list[dict[str, str]] = []

    def record(**problem: str) -> None:
        problems.append(problem)

    spider.crawler.signals.connect(record, signal=page_problem, weak=False)
    url = "https://mp.weixin.qq.com/s/abc"
    assert _parsed(spider.parse_article(_response(url, PAGES / "wechat" / name))) == []
    assert spider.crawler.stats.get_value(f"newswatch/page_kind/{kind}") == 1
    assert len(problems) == 1 and problems[0]["kind"] == "dropped"
    assert problems[0]["reason"].startswith(f"{kind}: ")
