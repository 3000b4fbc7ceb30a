"""RunRecorder: every crawl is a CrawlRun row, with its problems and its outcome."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from scrapy import signals
from twisted.internet import task

from crawler.deadletter import import_spool
from crawler.signals import page_problem
from storage.db import Database, open_database
from storage.dedup import DedupPolicy
from storage.repository import Store

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def shared_database(url: str) -> Database:
    """One engine per database per process, however many crawlers run in it."""
    with _databases_lock:
        if url not in _databases:
            _databases[url] = open_database(url)
        return _databases[url]


def dedup_policy(settings: Any) -> DedupPolicy:
    threshold = settings.get("NEWSWATCH_NEAR_DUPLICATE_THRESHOLD")
    return DedupPolicy() if threshold in (None, "") else DedupPolicy(threshold=float(threshold))


class RunRecorder:
    """Opens the store, owns the run unless the CLI does, and records page problems."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.store = Store(shared_database(settings["NEWSWATCH_DB"]), dedup_policy(settings))
        given = settings.get("NEWSWATCH_RUN_ID")
        #: False when the CLI created the run and will close it after all its crawlers.
        self.owns_run = given in (None, "")
        self.run_id: int | None = None if self.owns_run else int(given)
        self._heartbeat = task.LoopingCall(self._beat)
        self.storage_errors = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(recorder.page_problem, signal=page_problem)
        crawler.signals.connect(recorder.item_dropped, signal=signals.item_dropped)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        if self.owns_run:
            self.store.mark_interrupted_runs()
            mode = "replay" if self.crawler.settings.get("NEWSWATCH_REPLAY_DIR") else "live"
            outlet = getattr(spider, "outlet", spider.name)
            self.run_id = self.store.start_run(spiders=[spider.name], outlets=[outlet], mode=mode)
            import_spool(self.store, self.run_id)
        self._heartbeat.start(self.crawler.settings.getfloat("NEWSWATCH_HEARTBEAT_S"), now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._heartbeat.running:
            self._heartbeat.stop()
        if not self.owns_run or self.run_id is None:
            return
        stats = json_safe_stats(self.crawler.stats.get_stats())
        status, message = run_status(reason, stats)
        self.store.finish_run(self.run_id, status=status, message=message, stats=stats)

    def page_problem(self, url: str, reason: str, kind: str) -> None:
        assert self.run_id is not None
        try:
            self.store.record_problem(self.run_id, kind=kind, url=url, reason=reason)
        except Exception as exc:  # the database is down: the log line is all that is left
            logger.error("could not record %s of %s (%s): %s", kind, url, reason, exc)

    def item_dropped(self, item: Any, response: Any, exception: Exception, spider: Spider) -> None:
        url = getattr(item, "url", "?")
        self.page_problem(url, str(exception), kind=getattr(exception, "kind", "dropped"))

    def _beat(self) -> None:
        if self.run_id is not None:
            try:
                self.store.heartbeat(self.run_id)
            except Exception as exc:  # a missed heartbeat must not stop the crawl
                logger.warning("heartbeat of run %s failed: %s", self.run_id, exc)


def json_safe_stats(stats: dict[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, (int, float, str, bool)) or value is None:
            safe[key] = value
        elif hasattr(value, "isoformat"):
            safe[key] = value.isoformat()
    return safe


def run_status(finish_reason: str, stats: dict[str, Any]) -> tuple[str, str | None]:
    """``finished`` or ``failed``/``interrupted`` with the rule that tripped (never the exit code)."""
    if finish_reason == "shutdown":
        return "interrupted", "stopped by a signal before the crawl finished"
    if finish_reason != "finished":
        return "failed", f"crawl closed with reason {finish_reason!r}"
    if stats.get("newswatch/storage_error"):
        return "failed", f"{stats['newswatch/storage_error']} items could not be stored (dead-lettered)"
    if stats.get("spider_exceptions/count"):
        return "failed", f"{stats['spider_exceptions/count']} pages raised an error in a spider"
    if stats.get("newswatch/error") and not stats.get("item_scraped_count"):
        return "failed", f"no page could be read: {stats['newswatch/error']} download errors"
    return "finished", None
