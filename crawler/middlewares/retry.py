"""Retries spaced out: exponential backoff with jitter, and the server's Retry-After.

Scrapy retries at once, which turns a struggling server's 503 into a burst of
three requests.  This keeps Scrapy's retry rules (RETRY_TIMES, RETRY_HTTP_CODES,
RETRY_EXCEPTIONS) and only waits before handing the retry back, without blocking
the reactor: other requests go on meanwhile.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.http import Response
    from scrapy.settings import BaseSettings


class BackoffRetryMiddleware(RetryMiddleware):
    """Wait ``base * 2**(n-1)`` seconds (jittered, capped) before the n-th retry."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base_s = settings.getfloat("NEWSWATCH_RETRY_BACKOFF_S")
        self.max_s = settings.getfloat("NEWSWATCH_RETRY_BACKOFF_MAX_S")

    async def process_response(self, request: Request, response: Response, spider: object = None) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._pause(result, retry_after=response.headers.get("Retry-After"))
        return result

    async def process_exception(self, request: Request, exception: Exception, spider: object = None) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._pause(result)
        return result

    def delay_for(self, attempt: int, retry_after: bytes | None = None) -> float:
        delay = min(self.max_s, self.base_s * 2 ** max(attempt - 1, 0)) * random.uniform(0.5, 1.0)
        asked = retry_after_seconds(retry_after) if retry_after else None
        if asked is not None:
            delay = max(delay, min(self.max_s, asked))
        return float(delay)

    async def _pause(self, retry: Request, retry_after: bytes | None = None) -> None:
        delay = self.delay_for(retry.meta.get("retry_times", 1), retry_after)
        if delay <= 0:
            return
        stats = self.crawler.stats
        stats.inc_value("newswatch/retry/backoff_count")
        stats.inc_value("newswatch/retry/backoff_seconds", round(delay, 3))  # type: ignore[arg-type]  # Scrapy sums floats too
        from twisted.internet import reactor  # the crawl's reactor, installed by now

        await maybe_deferred_to_future(task.deferLater(reactor, delay, lambda: None))


def retry_after_seconds(value: bytes) -> float | None:
    """Seconds a Retry-After asks for: ``120`` or an HTTP date (RFC 9110 §10.2.3); None if neither."""
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; an obsolete form may come without a zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
