"""Retry delays: exponential with jitter, capped, and never shorter than Retry-After."""

from __future__ import annotations

from scrapy.utils.test import get_crawler

from crawler.middlewares.retry import BackoffRetryMiddleware
from newswatch.runs import project_settings


def _middleware() -> BackoffRetryMiddleware:
    crawler = get_crawler(settings_dict={"NEWSWATCH_RETRY_BACKOFF_S": 1.0, "NEWSWATCH_RETRY_BACKOFF_MAX_S": 10.0})
    return BackoffRetryMiddleware.from_crawler(crawler)


def test_delays_double_with_jitter_and_are_capped() -> None:
    middleware = _middleware()
    for attempt, (low, high) in {1: (0.5, 1.0), 2: (1.0, 2.0), 3: (2.0, 4.0), 6: (5.0, 10.0)}.items():
        for _ in range(50):
            assert low <= middleware.delay_for(attempt) <= high


def test_retry_after_seconds_are_honoured_up_to_the_cap() -> None:
    middleware = _middleware()
    assert middleware.delay_for(1, b"7") >= 7
    assert middleware.delay_for(1, b"3600") == 10.0
    assert middleware.delay_for(1, b"Wed, 21 Oct 2015 07:28:00 GMT") <= 1.0


def test_project_settings_use_the_backoff_middleware_instead_of_scrapys() -> None:
    middlewares = project_settings().getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert "crawler.middlewares.retry.BackoffRetryMiddleware" in middlewares
