"""Item pipelines, one concern each: validate, canonicalise, store."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from scrapy.exceptions import DropItem, NotConfigured

from crawler.items import Article
from crawler.deadletter import spool
from crawler.urls import canonical_url, strip_secrets

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

LANGUAGES = frozenset({"zh", "en"})


class ItemDropped(DropItem):
    """A dropped item, with the kind the run records it under."""

    def __init__(self, message: str, kind: str = "dropped") -> None:
        super().__init__(message, log_level="WARNING")
        self.kind = kind


class ValidationPipeline:
    """Refuses an article that breaks the item contract, with the field that is wrong."""

    def process_item(self, item: Any) -> Article:
        if not isinstance(item, Article):
            raise ItemDropped(f"not an Article: {type(item).__name__}")
        problems = []
        if not item.title.strip():
            problems.append("empty title")
        if not item.body.strip():
            problems.append("empty body")
        if item.language not in LANGUAGES:
            problems.append(f"language {item.language!r} not one of {sorted(LANGUAGES)}")
        for name in ("published_at", "fetched_at"):
            value = getattr(item, name)
            if value is not None and not _is_iso(value):
                problems.append(f"{name} {value!r} is not ISO 8601")
        if problems:
            raise ItemDropped("invalid article: " + "; ".join(problems))
        return item


class CanonicalUrlPipeline:
    """Strips session secrets from the URL and files the article under its canonical URL."""

    def process_item(self, item: Article) -> Article:
        url = strip_secrets(item.url)
        declared = strip_secrets(item.declared_canonical_url) if item.declared_canonical_url else None
        return item.replace(
            url=url, declared_canonical_url=declared, canonical_url=canonical_url(url, declared)
        )


@runtime_checkable
class ArticleSink(Protocol):
    """Where stored articles go: the run owner's extension (``newswatch.runs.RunRecorder``).

    The crawler names no application class: any enabled extension with this shape is the sink.
    """

    @property
    def run_id(self) -> int | None: ...

    def record_article(self, article: Article) -> str: ...


class StoragePipeline:
    """Records each article through storage; an item that cannot be stored is spooled, not lost."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.sink: ArticleSink | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        assert self.crawler.extensions is not None
        sinks = [ext for ext in self.crawler.extensions.middlewares if isinstance(ext, ArticleSink)]
        if len(sinks) != 1:
            raise NotConfigured(f"StoragePipeline needs exactly one article sink extension, found {len(sinks)}")
        self.sink = sinks[0]

    def process_item(self, item: Article) -> Article:
        assert self.sink is not None
        stats = self.crawler.stats
        try:
            outcome = self.sink.record_article(item)
        except Exception as exc:
            stats.inc_value("newswatch/storage_error")
            path = spool(item, self.sink.run_id)
            reason = f"storage failed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); spooled to {path}"
            logger.error("could not store %s: %s", item.url, reason)
            raise ItemDropped(reason, kind="error") from None
        stats.inc_value(f"newswatch/outcome/{outcome}")
        return item


def _is_iso(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
