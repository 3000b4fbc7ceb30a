"""Crawl progress on stderr while a crawl runs: pages, outcomes and errors per outlet."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

OUTCOMES = ("new", "changed", "unchanged", "duplicate")


def progress_line(outlet: str, stats: dict[str, object]) -> str:
    def n(key: str) -> int:
        value = stats.get(key, 0)
        return value if isinstance(value, int) else 0

    outcomes = " ".join(f"{name} {n(f'newswatch/outcome/{name}')}" for name in OUTCOMES)
    return (
        f"[{outlet}] pages {n('response_received_count')} | {outcomes} | "
        f"dropped {n('newswatch/dropped')} errors {n('newswatch/error')}"
    )


class ProgressReporter:
    """Prints one progress line per outlet every NEWSWATCH_PROGRESS_S seconds."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.loop = task.LoopingCall(self.report)
        self.outlet = "?"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("NEWSWATCH_PROGRESS_S")
        if interval <= 0:
            raise NotConfigured
        reporter = cls(crawler, interval)
        crawler.signals.connect(reporter.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(reporter.spider_closed, signal=signals.spider_closed)
        return reporter

    def spider_opened(self, spider: Spider) -> None:
        self.outlet = getattr(spider, "outlet", spider.name)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Spider) -> None:
        if self.loop.running:
            self.loop.stop()
        self.report()

    def report(self) -> None:
        sys.stderr.write(progress_line(self.outlet, self.crawler.stats.get_stats()) + "\n")
        sys.stderr.flush()
